"""The store contract: one logical schema behind SQLite and PostgreSQL.

The store is the engine (DESIGN.md): executors consume an execution's
events and write every effect of a cycle in one transaction; workers claim
jobs under a lease and complete them with a fenced write. Nothing above
this package imports a database driver; driver errors become StoreError.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lanner.engine.execution import Execution, TaskRun, fast_init
from lanner.model.kvtypes import KVEntry
from lanner.store.search import ExecutionPage, ExecutionSearch

# The executions a process works on: their events, their cycles, their jobs.
# None: every execution of the store (servers, executors, workers). A `lanner
# run` passes the ids of its own execution and of the Subflow children its
# cycles started, so that it never takes (and then abandons) another run's work.
Scope = Sequence[str] | None


@dataclass(frozen=True)
class FlowRecord:
    namespace: str
    id: str
    revision: int
    source: str
    updated_at: datetime


@fast_init  # one per event a cycle reads: dataclasses' __init__ sets each field apart
@dataclass(frozen=True)
class EventRow:
    id: int
    execution_id: str
    kind: str  # the planner event's class name: Start, Kill, TaskResult, ...
    payload: Mapping[str, Any]
    visible_at: datetime


@fast_init  # one per start event of a waiting job (most tasks of a wide Parallel)
@dataclass(frozen=True)
class NewEvent:
    execution_id: str
    kind: str
    payload: Mapping[str, Any]
    visible_at: datetime
    dedup_key: str | None = None  # a second event with the same key is dropped


@fast_init  # one per task run: dataclasses' __init__ sets each field apart
@dataclass(frozen=True)
class NewJob:
    task_run_id: str
    execution_id: str
    attempt: int
    payload: Mapping[str, Any]
    run_after: datetime
    # Set when the executor hands the job straight to a worker of its own
    # process: the job is written already claimed, under a lease, and the
    # worker's result comes back through the executor's next cycle.
    claim_token: str | None = None
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None


@fast_init  # one per task run: dataclasses' __init__ sets each field apart
@dataclass(frozen=True)
class Job:
    task_run_id: str
    execution_id: str
    attempt: int
    payload: Mapping[str, Any]
    claim_token: str
    claims: int  # how many times it was claimed (1 on the first claim)
    lease_expires_at: datetime


@fast_init  # one per log line: dataclasses' __init__ sets each field apart
@dataclass(frozen=True)
class LogRecord:
    execution_id: str
    task_id: str | None
    task_run_id: str | None
    attempt: int | None
    timestamp: datetime
    level: str
    message: str


@dataclass(frozen=True)
class Renewal:
    """What a lease renewal tells a worker about the claims it holds."""

    cancelled: frozenset[str]  # task run ids whose cancel was requested
    lost: frozenset[str]  # the given tokens that no longer hold a claim: stop that work


@dataclass(frozen=True)
class RunningJob:
    """A job a process holds a claim on (see ProcessRecord)."""

    execution_id: str
    task_run_id: str
    attempt: int
    task_id: str  # the job payload's "taskId"
    lease_expires_at: datetime


@dataclass(frozen=True)
class ProcessRecord:
    """A live Lanner process, as its last heartbeat described it."""

    id: str
    role: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    info: Mapping[str, Any]
    jobs: tuple[RunningJob, ...]  # the jobs claimed by this process, by execution then task run


@fast_init  # one per cycle: dataclasses' __init__ sets each field apart
@dataclass(frozen=True)
class CycleWrite:
    """Everything one executor cycle changes, committed together."""

    execution: Execution  # the new execution row (its task runs are written from upserts)
    expected_version: int  # the version the cycle started from (optimistic check)
    upsert_task_runs: Sequence[TaskRun] = ()
    delete_task_runs: Sequence[str] = ()
    new_jobs: Sequence[NewJob] = ()
    cancel_jobs: Sequence[str] = ()  # task run ids whose jobs get cancel_requested
    new_events: Sequence[NewEvent] = ()
    consumed_events: Sequence[int] = ()
    logs: Sequence[LogRecord] = ()
    new_executions: Sequence[Execution] = field(default_factory=tuple)


class ExecutorTx(Protocol):
    """One executor transaction (the single writer on SQLite, a row lock on PostgreSQL)."""

    def next_execution(self, now: datetime, scope: Scope = None) -> str | None:
        """An execution (of `scope`, when given) that has events visible at `now`,
        oldest event first."""
        ...

    def events(self, execution_id: str, now: datetime) -> list[EventRow]:
        """Its events visible at `now`, in insertion order."""
        ...

    def load(self, execution_id: str, cached: Execution | None = None) -> Execution | None:
        """The execution with all its task runs; `cached` is returned as is when its version is current."""
        ...

    def write(self, cycle: CycleWrite) -> None:
        """Apply the cycle. Raises StoreError if the execution's version moved."""
        ...

    def drop_events(self, event_ids: Sequence[int]) -> None:
        """Delete events that no cycle can consume: their execution is gone (purged)."""
        ...

    def take_jobs(self, claims: Sequence[tuple[str, int, str]]) -> list[bool]:
        """Fenced completion inside the cycle: delete each job (task_run_id, attempt,
        claim_token) whose claim is still that token; False for a zombie's claim."""
        ...

    # -- flow concurrency --
    def slots_taken(self, namespace: str, flow_id: str, excluding: str) -> int:
        """How many executions of the flow, other than `excluding`, hold a concurrency slot:
        state not CREATED or QUEUED, and not finalized. Serialised per flow until the
        transaction ends, so that two executors cannot both take the last slot."""
        ...

    def oldest_queued(self, namespace: str, flow_id: str) -> str | None:
        """The id of the flow's oldest QUEUED execution (created_at, then id). Serialised
        with slots_taken: call it in the cycle that frees a slot."""
        ...

    # -- flow-trigger state --
    def trigger_state(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> Mapping[str, Any] | None: ...

    def put_trigger_state(
        self,
        namespace: str,
        flow_id: str,
        trigger_id: str,
        data: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        """Save the trigger's state document; None deletes it."""
        ...


# -- the trigger runtime's state (migration 0004, docs/triggers.md) --


@dataclass(frozen=True)
class TriggerContext:
    """One trigger's stored state, as Kestra's trigger context: when it is next
    evaluated, what fired last, whether it is disabled, and who holds its lock."""

    namespace: str
    flow_id: str
    trigger_id: str
    type: str  # the trigger's canonical Kestra type name
    next_date: datetime | None  # the next date to evaluate; None: nothing is left
    last_date: datetime | None = None  # the last date that fired
    data: Mapping[str, Any] = field(default_factory=dict)  # the trigger type's own state
    disabled: bool = False
    execution_id: str | None = None  # the last execution it created
    locked_by: str | None = None
    locked_until: datetime | None = None
    version: int = 0  # fences every change (see TriggerStoreMethods.advance_trigger)
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.flow_id, self.trigger_id)


@dataclass(frozen=True)
class NewExecution:
    """An execution a trigger creates, with its events (its Start)."""

    execution: Execution
    events: Sequence[NewEvent]


class TriggerStore(Protocol):
    """The trigger runtime's store methods (implemented in store/triggersql.py)."""

    def list_trigger_contexts(self, namespace: str | None = None) -> list[TriggerContext]:
        """Every stored trigger context (of `namespace`, when given), by key."""
        ...

    def get_trigger_context(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> TriggerContext | None: ...

    def init_trigger_context(self, context: TriggerContext, now: datetime) -> bool:
        """Insert the context unless one exists for its key; True if inserted."""
        ...

    def delete_trigger_context(self, namespace: str, flow_id: str, trigger_id: str) -> bool: ...

    def advance_trigger(
        self,
        before: TriggerContext,
        after: TriggerContext,
        executions: Sequence[NewExecution],
        now: datetime,
    ) -> bool:
        """Fenced on `before.version`: save `after` (version + 1) and create the executions,
        in one transaction. False (nothing written) when another process changed the
        context since `before` was read. An execution whose id exists is not created again."""
        ...

    def lock_trigger(
        self,
        namespace: str,
        flow_id: str,
        trigger_id: str,
        owner: str,
        until: datetime,
        now: datetime,
    ) -> bool:
        """Take (or extend) the trigger's lock until `until`: free, expired or held by `owner`."""
        ...

    def unlock_trigger(
        self, namespace: str, flow_id: str, trigger_id: str, owner: str | None = None
    ) -> bool:
        """Release the lock (held by `owner`, or by anyone when None); True if it was held."""
        ...


class Store(TriggerStore, Protocol):
    url: str
    # Whether cycles of different executions can commit side by side (PostgreSQL's
    # row locks) rather than one at a time (SQLite's single writer).
    concurrent_writers: bool

    def migrate(self) -> None: ...

    def close(self) -> None: ...

    # -- flows --
    def deploy_flow(self, namespace: str, flow_id: str, source: str) -> tuple[int, bool]:
        """Save a new revision when `source` changed; returns (revision, created)."""
        ...

    def get_flow(
        self, namespace: str, flow_id: str, revision: int | None = None
    ) -> FlowRecord | None: ...

    def list_flows(self) -> list[FlowRecord]: ...

    def delete_flow(self, namespace: str, flow_id: str) -> bool: ...

    # -- executions --
    def create_execution(self, execution: Execution, events: Sequence[NewEvent]) -> None: ...

    def get_execution(self, execution_id: str) -> Execution | None: ...

    def get_execution_head(self, execution_id: str) -> Execution | None:
        """The execution without its task runs (none are read): its id, flow,
        state, inputs and labels, for what needs no more (a log answer)."""
        ...

    def list_executions(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        limit: int = 50,
        state: str | None = None,
    ) -> list[Execution]:
        """Most recent first; task runs are not loaded. `state` is a State value ("RUNNING")."""
        ...

    def search_executions(self, search: ExecutionSearch) -> ExecutionPage:
        """One page of the executions matching every condition, and how many match."""
        ...

    def purge_executions(self, before: datetime, limit: int = 1000) -> int:
        """Delete the executions finalized before `before`, with their task runs, jobs,
        events and logs, `limit` executions per transaction; returns how many."""
        ...

    def delete_execution(self, execution_id: str) -> bool:
        """Delete one finalized execution with its task runs, jobs, events and logs;
        False when there is no finalized execution with that id."""
        ...

    # -- selective purges (store/purgesql.py; PurgeExecutions, PurgeLogs) --
    def select_executions(
        self,
        *,
        before: datetime,
        after: datetime | None = None,
        namespace: str | None = None,
        flow_id: str | None = None,
        states: Sequence[str] | None = None,
    ) -> list[tuple[str, str, str]]:
        """(id, namespace, flow id) of the finalized executions created in [after, before),
        of `namespace` or below (its own only with `flow_id`), in `states`; oldest first."""
        ...

    def delete_executions(self, ids: Sequence[str], *, rows: bool, logs: bool) -> tuple[int, int]:
        """Delete the logs (`logs`) and the rows (`rows`) of these finalized executions in
        one transaction; (executions deleted, log lines deleted)."""
        ...

    def delete_logs(
        self,
        *,
        before: datetime,
        after: datetime | None = None,
        namespace: str | None = None,
        flow_id: str | None = None,
        execution_id: str | None = None,
        levels: Sequence[str] | None = None,
    ) -> int:
        """Delete the log lines written in [after, before) of the executions named (namespace
        as a prefix unless `flow_id`), at `levels`; how many."""
        ...

    def add_event(self, event: NewEvent) -> bool:
        """Insert an event outside a cycle (kill, resume); False if its dedup key exists."""
        ...

    def has_due_events(self, now: datetime, scope: Scope = None) -> bool:
        """A cheap read-only hint: is there anything for an executor (of `scope`) to do?"""
        ...

    def executor_tx(self) -> AbstractContextManager[ExecutorTx]: ...

    def data_version(self) -> int:
        """Changes whenever another connection committed (a wake-up hint, SQLite PRAGMA data_version)."""
        ...

    # -- jobs --
    def claim_jobs(
        self,
        process_id: str,
        limit: int,
        lease_seconds: float,
        now: datetime,
        scope: Scope = None,
    ) -> list[Job]:
        """Claim up to `limit` due unclaimed jobs, oldest first, under a lease; with
        `scope`, only jobs of those executions."""
        ...

    def renew_leases(
        self, process_id: str, tokens: Sequence[str], lease_seconds: float, now: datetime
    ) -> Renewal:
        """Extend the leases of these claims (held by `process_id`); tells which were
        cancelled and which tokens no longer hold a claim."""
        ...

    def complete_job(self, job: Job, event: NewEvent, logs: Sequence[LogRecord] = ()) -> bool:
        """Fenced: delete the job only if its claim token is still `job.claim_token`, and insert
        the result event and logs in the same transaction. False (nothing written) for a zombie."""
        ...

    def job_started(self, job: Job, event: NewEvent) -> bool:
        """Fenced like complete_job, keeps the job; records that the attempt is RUNNING."""
        ...

    def expired_jobs(self, now: datetime, limit: int) -> list[Job]:
        """Claimed jobs whose lease expired before `now`, oldest lease first."""
        ...

    def requeue_job(self, job: Job, event: NewEvent, now: datetime) -> bool:
        """Fenced on `job.claim_token`: unclaim the job (claims kept), due at `now`, and insert
        `event` in the same transaction. False (nothing written) if the claim changed."""
        ...

    def release_jobs(self, tokens: Sequence[str]) -> int:
        """Unclaim the jobs still held by these tokens (claims kept); returns how many."""
        ...

    # -- processes --
    def heartbeat_process(
        self,
        process_id: str,
        role: str,
        host: str,
        pid: int,
        info: Mapping[str, Any],
        now: datetime,
    ) -> None:
        """Record that the process is alive (started_at is set by the first heartbeat)."""
        ...

    def list_processes(self) -> list[ProcessRecord]:
        """Every recorded process with the jobs it holds, by role then id."""
        ...

    def remove_process(self, process_id: str) -> None: ...

    def prune_processes(self, before: datetime) -> int:
        """Delete the processes whose last heartbeat is older than `before`; returns how many."""
        ...

    def counts(self) -> Mapping[str, int]:
        """Rows of execution, task_run, job, execution_event and log (tests, invariant checks)."""
        ...

    # -- logs --
    def append_logs(self, records: Sequence[LogRecord]) -> None: ...

    def get_logs(self, execution_id: str) -> list[LogRecord]: ...

    def iter_error_logs(self, execution_id: str) -> Iterator[LogRecord]: ...

    # -- the KV store (docs/kv.md); an expired pair reads as missing --
    def kv_get(self, namespace: str, key: str, now: datetime) -> KVEntry | None:
        """The pair of `key` in `namespace` (that namespace only), unless missing or expired."""
        ...

    def kv_list(self, namespace: str, now: datetime) -> list[KVEntry]:
        """The pairs of `namespace` not expired at `now`, by key."""
        ...

    def kv_put(
        self, entry: KVEntry, now: datetime, *, overwrite: bool = True, writer: str | None = None
    ) -> bool:
        """Save the pair (`updated_at` defaults to `now`). With `overwrite` False, a pair
        that exists and is not expired is left alone and False is returned, unless
        `writer` (a task run attempt's idempotency key) wrote it: a resubmitted attempt."""
        ...

    def kv_delete(self, namespace: str, key: str, now: datetime) -> bool:
        """Delete the pair; True if it existed and was not expired."""
        ...

    def kv_index(self) -> list[tuple[str, str, datetime | None]]:
        """Every stored pair, expired ones too, as (namespace, key, expires_at)."""
        ...

    def kv_delete_many(
        self, pairs: Sequence[tuple[str, str]], expired_at: datetime | None = None
    ) -> int:
        """Delete these (namespace, key) pairs in one transaction; with `expired_at`, only
        those expired at that instant (one set again meanwhile is kept). Returns how many."""
        ...

    def kv_purge_expired(self, now: datetime) -> int:
        """Delete every pair expired at `now`; returns how many."""
        ...
