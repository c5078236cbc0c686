"""Test-only crash points: SIGKILL this process at a named place.

The crash suite starts real processes with ``LANNER_CRASH_AT`` set, e.g.
``LANNER_CRASH_AT=executor.before_commit:3`` (die the third time that point
is reached) or several separated by commas. Without the variable every
`crash_point` call is one dictionary lookup on an empty dict.

The points, one before and one after every kind of commit:

- ``executor.before_commit`` / ``executor.after_commit``: an executor cycle
  (the body of the transaction is written, the COMMIT is not / is done)
- ``worker.before_complete`` / ``worker.after_complete``: a worker's fenced
  completion of a job; ``worker.mid_task``: a task has started running;
  ``worker.mid_child``: a task of a WorkingDirectory's job has started (its
  start event is committed)
- ``reaper.before_commit`` / ``reaper.after_commit``: re-queuing or failing a
  job whose lease expired
- ``heartbeat.before_commit`` / ``heartbeat.after_commit``: lease renewal
- ``backfill.before_commit`` / ``backfill.after_commit``: a step of a Schedule's
  backfill (its executions and its moved `currentDate`)
- ``poll.before_commit`` / ``poll.after_commit``: a polling trigger's firing that
  starts an execution (a batch broker trigger has consumed, not acknowledged)
"""

from __future__ import annotations

import os
import signal
import threading

_ENV = "LANNER_CRASH_AT"


def _parse(text: str) -> dict[str, int]:
    points: dict[str, int] = {}
    for part in text.split(","):
        name, _, count = part.strip().partition(":")
        if name:
            points[name] = int(count) if count else 1
    return points


_points = _parse(os.environ.get(_ENV, ""))
_hits: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if `name` is armed and reached its count."""
    if name not in _points:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        if _hits[name] == _points[name]:
            os.kill(os.getpid(), signal.SIGKILL)
