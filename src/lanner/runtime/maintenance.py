"""Maintenance of a `lanner` process: its heartbeat row (``lanner workers
list``), the lease reaper and retention (old executions; expired KV pairs).

The reaper runs in every executor: a job whose lease expired lost its worker
(killed, frozen, cut off). It goes back to the queue, recorded as
RESUBMITTED in its attempt's history, up to ``executor.maxClaims`` claims;
then it ends FAILED with the error type ``WorkerLost``, which the planner
handles like any failure (retry policy, ``errors``). Re-queuing and giving
up are fenced on the claim token, so two reapers never double either.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from lanner.config import Config, open_storage
from lanner.engine.events import Resubmitted, TaskResult
from lanner.errors import LannerError
from lanner.model.common import parse_duration
from lanner.model.states import State
from lanner.runtime import eventcodec
from lanner.runtime.crashpoints import crash_point
from lanner.runtime.filepurge import purge_executions
from lanner.storage.base import Storage
from lanner.store.base import Job, LogRecord, Store

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(minutes=10)
PRUNE_EVERY = timedelta(minutes=1)


class Maintenance:
    def __init__(
        self,
        store: Store,
        config: Config,
        process_id: str,
        role: str,
        *,
        reaper: bool,
        info: Callable[[], Mapping[str, Any]] = dict,
        storage: Storage | None = None,
    ) -> None:
        """`storage`: where purged executions' files are (default: the configured one)."""
        self.store = store
        self.config = config
        self.process_id = process_id
        self.role = role
        self.reaper = reaper
        self.info = info
        self._storage = storage
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._next_prune = datetime.min.replace(tzinfo=UTC)
        self._next_purge = datetime.min.replace(tzinfo=UTC)
        self._next_kv_purge = datetime.min.replace(tzinfo=UTC)

    def tick(self, now: datetime) -> None:
        """One round: heartbeat, reap, and from time to time prune and purge."""
        try:
            self.store.heartbeat_process(
                self.process_id, self.role, self.host, self.pid, self.info(), now
            )
            if self.reaper:
                self.reap(now)
                if now >= self._next_prune:
                    self._next_prune = now + PRUNE_EVERY
                    # A process that missed its heartbeats for 5 leases is gone.
                    gone = timedelta(seconds=5 * self.config.worker.leaseSeconds)
                    self.store.prune_processes(now - gone)
            older = self.config.retention.olderThan
            if self.reaper and older is not None and now >= self._next_purge:
                self._next_purge = now + PURGE_EVERY
                if self._storage is None:
                    self._storage = open_storage(self.config)
                purge_executions(self.store, self._storage, now - parse_duration(older))
            if self.reaper and now >= self._next_kv_purge:
                self._next_kv_purge = now + PURGE_EVERY
                # Expired KV pairs already read as missing: this only frees their rows.
                self.store.kv_purge_expired(now)
        except LannerError as exc:  # the store is down: try again next round
            log.warning("%s", exc.message)

    def reap(self, now: datetime) -> int:
        """Re-queue or fail every job whose lease expired; returns how many."""
        done = 0
        for job in self.store.expired_jobs(now, 100):
            if job.claims >= self.config.executor.maxClaims:
                ok = self._give_up(job, now)
            else:
                event = eventcodec.encode(
                    job.execution_id,
                    Resubmitted(job.task_run_id, job.attempt),
                    now,
                    f"resubmit:{job.task_run_id}:{job.attempt}:{job.claims}",
                )
                crash_point("reaper.before_commit")
                ok = self.store.requeue_job(job, event, now)
                crash_point("reaper.after_commit")
                if ok:
                    self.store.append_logs([self._log(job, now, "WARN", self._lost(job, True))])
            done += ok
        return done

    def _give_up(self, job: Job, now: datetime) -> bool:
        message = self._lost(job, False)
        result = TaskResult(job.task_run_id, job.attempt, State.FAILED, {}, message, "WorkerLost")
        key = eventcodec.result_key(job.task_run_id, job.attempt)
        event = eventcodec.encode(job.execution_id, result, now, key)
        crash_point("reaper.before_commit")
        ok = self.store.complete_job(job, event, [self._log(job, now, "ERROR", message)])
        crash_point("reaper.after_commit")
        return ok

    def _lost(self, job: Job, requeued: bool) -> str:
        claims = self.config.executor.maxClaims
        if requeued:
            return (
                f"Worker lost (lease expired, claim {job.claims} of {claims}): "
                "the task run is resubmitted"
            )
        return f"Worker lost: the lease expired {job.claims} times (maxClaims {claims})"

    def _log(self, job: Job, now: datetime, level: str, message: str) -> LogRecord:
        task_id = job.payload.get("taskId")
        return LogRecord(
            job.execution_id,
            str(task_id) if task_id is not None else None,
            job.task_run_id,
            job.attempt,
            now,
            level,
            message,
        )
