"""How the parts of an Execution become JSON text in a store, and back.

Dialect-neutral: SQLite and PostgreSQL store the same documents. Every
document is a versioned envelope (``{"v": 1, ...}``) so that rows written by
an older Lanner stay readable after a shape changes: a decoder dispatches on
``v`` and a new shape gets a new number. Never pickle.

Shapes (version 1):

- histories: ``{"v":1,"h":[[state, iso-date], ...]}``
- attempts: ``{"v":1,"a":[[state, [[state, iso-date], ...]], ...]}``
- error: ``{"v":1,"message":...,"type":...,"task_id":...,"task_run_id":...}``
- any JSON value (inputs, outputs, labels, variables, trigger, memo,
  job and event payloads, secret input names): ``{"v":1,"d":value}``

Secret values (``lanner.expr.taint``) are sealed with the instance key in
every JSON document and in a task run's ``value`` column, and come back
tainted (``lanner.store.sealdocs``); error and log texts are stored with the
secrets this process knows masked.

Dates in documents are ISO-8601 with microseconds in UTC
(``2025-01-02T10:30:15.123456+00:00``); date-time columns hold epoch
microseconds (:func:`to_micros`). Decoded dates are always timezone-aware UTC;
a naive date given to an encoder is taken as UTC.
"""

from __future__ import annotations

import functools
import json
import json.scanner
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lanner.engine.execution import ROOT, Attempt, ErrorInfo, Execution, History, Phase, TaskRun
from lanner.errors import StoreError
from lanner.expr import taint
from lanner.model.states import State
from lanner.store import sealdocs
from lanner.store.base import (
    FlowRecord,
    Job,
    LogRecord,
    NewEvent,
    NewJob,
    ProcessRecord,
    Renewal,
    RunningJob,
)

VERSION = 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A dict lookup is several times faster than State(value) on the load path.
_STATES: dict[str, State] = {s.value: s for s in State}


def _default(value: Any) -> Any:
    # Task outputs may carry dates; they are stored as ISO text, as Kestra
    # serialises them. Anything else that is not JSON is a bug upstream.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# One encoder object: json.dumps() with keyword arguments builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default)
# The C scanner under json.loads, built once and called directly: json.loads, then the
# decoder's decode and raw_decode, are three Python frames and a regular expression per
# document, and a cycle decodes its events', a read its task runs' documents. A text
# whose value does not end it (whitespace after it), or that the scanner rejects, goes
# through json.loads, which reads it or fails as it always did.
_MAKE_C_SCANNER: Any = getattr(json.scanner, "c_make_scanner", None)
_C_SCAN: Any = None if _MAKE_C_SCANNER is None else _MAKE_C_SCANNER(json.JSONDecoder())


def _decode(text: Any) -> Any:
    """``json.loads(text)``."""
    if _C_SCAN is not None and type(text) is str:
        try:
            value, end = _C_SCAN(text, 0)
        except (StopIteration, ValueError, RecursionError):
            pass  # read again below, failing as it always did
        else:
            if end == len(text):
                return value
    return json.loads(text)


def _decode_doc(text: str) -> Any:
    """``sealdocs.decode(text)``: the same, without its frame when nothing is sealed."""
    if sealdocs.MARK in text:
        return sealdocs.decode(text)
    return _decode(text)


# The C encoder _ENCODER.encode builds at each call, built once and called directly
# (a third of the cost of a job's payload). It keeps no markers: no look for circular
# values (stateless, so shared by threads); what it cannot encode is encoded again by
# _ENCODER, which fails the same way it always did.
_MAKE_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER: Any = (
    None
    if _MAKE_C_ENCODER is None
    else _MAKE_C_ENCODER(
        None, _default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
)


def _encode(doc: Any) -> str:
    if taint.is_active():  # a process that never met a secret has none to seal
        doc = sealdocs.seal(doc)
    if _C_ENCODER is not None:
        try:
            return "".join(_C_ENCODER(doc, 0))
        except (TypeError, ValueError, RecursionError):
            pass
    try:
        return _ENCODER.encode(doc)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot store a value as JSON: {exc}") from exc


# What precedes a value in its envelope, as the encoder writes {"v": VERSION, "d": value}.
_ENVELOPE_HEAD = f'{{"v":{VERSION},"d":'


def _enveloped(value: Any) -> str:
    """``_encode({"v": VERSION, "d": value})``, the same text: the value is encoded alone
    and the envelope written around it, without a dict built and walked per call."""
    if _C_ENCODER is not None and not taint.is_active():
        try:
            return _ENVELOPE_HEAD + "".join(_C_ENCODER(value, 0)) + "}"
        except (TypeError, ValueError, RecursionError):
            pass  # encoded again below, failing as it always did
    return _encode({"v": VERSION, "d": value})


def json_text(value: Any) -> str:
    """`value` as this module's encoder writes it (no sealing): what a search looks for."""
    return _ENCODER.encode(value)


def _check(doc: Any, what: str) -> Any:
    if type(doc) is not dict or doc.get("v") != VERSION:
        version = doc.get("v") if isinstance(doc, dict) else None
        raise StoreError(f"unsupported {what} document (version {version!r})")
    return doc


# -- dates ---------------------------------------------------------------------


def to_micros(moment: datetime) -> int:
    """Epoch microseconds (exact, unlike float timestamps)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # The timedelta's own fields: a quarter cheaper than dividing it by a microsecond.
    d = moment - _EPOCH
    return (d.days * 86400 + d.seconds) * 1000000 + d.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def opt_micros(moment: datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


def opt_from_micros(micros: int | None) -> datetime | None:
    return None if micros is None else from_micros(micros)


@functools.lru_cache(maxsize=8192)
def history_date(moment: datetime) -> str:
    # Cached: a task run's histories are encoded again at each of its updates.
    if moment.tzinfo is UTC:
        # isoformat(timespec="microseconds")'s text, a quarter cheaper (no keyword,
        # no utcoffset call); an f-string with format specs costs more than either.
        return "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00" % (  # noqa: UP031
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
            moment.microsecond,
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


# -- histories and attempts ----------------------------------------------------


def _histories_from(items: list[list[str]]) -> tuple[History, ...]:
    parse = datetime.fromisoformat
    return tuple(History(_STATES[s], parse(d)) for s, d in items)


def _history_json(histories: tuple[History, ...]) -> str:
    # Written by hand: state names and ISO dates need no escaping, and this runs for
    # every task run a cycle writes. The text is the one _ENCODER would produce.
    # A loop, not a comprehension: in this Python a comprehension is a function object
    # and a frame of its own, more than the few items here cost.
    if len(histories) == 1:  # most often what a task run's update adds
        h = histories[0]
        return f'["{h.state._value_}","{history_date(h.date)}"]'
    items = []
    for h in histories:
        items.append(f'["{h.state._value_}","{history_date(h.date)}"]')
    return ",".join(items)


def dump_histories(histories: tuple[History, ...]) -> str:
    return f'{{"v":{VERSION},"h":[{_history_json(histories)}]}}'


def load_histories(text: str) -> tuple[History, ...]:
    return _histories_from(_check(_decode(text), "histories")["h"])


def dump_attempts(attempts: tuple[Attempt, ...]) -> str | None:
    if not attempts:
        return None
    items = ",".join([f'["{a.state._value_}",[{_history_json(a.histories)}]]' for a in attempts])
    return f'{{"v":{VERSION},"a":[{items}]}}'


def load_attempts(text: str | None) -> tuple[Attempt, ...]:
    if text is None:
        return ()
    items = _check(_decode(text), "attempts")["a"]
    return tuple(Attempt(_STATES[s], _histories_from(h)) for s, h in items)


# -- errors --------------------------------------------------------------------


def dump_error(error: ErrorInfo | None) -> str | None:
    if error is None:
        return None
    return _encode(
        {
            "v": VERSION,
            "message": taint.mask(error.message),
            "type": error.type,
            "task_id": error.task_id,
            "task_run_id": error.task_run_id,
        }
    )


def load_error(text: str | None) -> ErrorInfo | None:
    if text is None:
        return None
    doc = _check(_decode(text), "error")
    return ErrorInfo(doc["message"], doc["type"], doc.get("task_id"), doc.get("task_run_id"))


# -- plain JSON values ---------------------------------------------------------


def dump_value(value: Any) -> str:
    """Any JSON value in its envelope (None is stored as ``{"v":1,"d":null}``)."""
    return _enveloped(value)


def load_value(text: str) -> Any:
    return _check(_decode_doc(text), "value")["d"]


def dump_opt(value: Any) -> str | None:
    """None stays SQL NULL (an absent outputs/memo/trigger)."""
    return None if value is None else _enveloped(value)


def load_opt(text: str | None) -> Any:
    return None if text is None else _check(_decode_doc(text), "value")["d"]


def load_mapping(text: str | None) -> dict[str, Any]:
    """A mapping column whose absence means empty (inputs, labels, variables)."""
    if text is None:
        return {}
    value = _check(_decode_doc(text), "value")["d"]
    return value if isinstance(value, dict) else {}


def dump_names(names: frozenset[str]) -> str | None:
    return None if not names else _enveloped(sorted(names))


def load_names(text: str | None) -> frozenset[str]:
    return frozenset() if text is None else frozenset(load_value(text))


def dump_mapping(value: Mapping[str, Any]) -> str | None:
    return None if not value else _enveloped(value)


# -- rows ----------------------------------------------------------------------
# Column lists and row tuples shared by every dialect (one logical schema).

EXECUTION_COLUMNS = (
    "id, namespace, flow_id, flow_revision, state, state_history, inputs, outputs, labels,"
    " variables, trigger, error, secret_inputs, parent_execution_id, created_at, terminal_at,"
    " finalized_at, version, parent_task_run_id, parent_attempt, original_id, attempt_number,"
    " original_created_at"
)
EXECUTION_COLUMN_COUNT = 23
TASK_RUN_COLUMNS = (
    "id, execution_id, seq, task_id, parent_id, value, iteration, phase, state, histories,"
    " attempts, outputs, error, memo, generation"
)
_PHASES: dict[str, Phase] = {p.value: p for p in Phase}
_MEMO_LIMIT = 2048


class JsonMemo:
    """Remembers the JSON of values by identity, so an unchanged value is not re-encoded.

    Executions and task runs are frozen and changed with ``replace()``, which
    keeps the very same objects for the fields that did not change: a cycle
    that moves one task run rewrites the execution row without encoding its
    inputs, variables and labels again, and a ForEach's large memo is encoded
    once. The memo holds a reference to each value, so an ``id()`` cannot be
    reused while its entry lives. Not thread-safe: one per thread.
    """

    __slots__ = ("_attempt", "_histories", "_seen")

    def __init__(self) -> None:
        self._seen: dict[int, tuple[object, str | None]] = {}
        # By task run id: the histories last encoded (the run's own, those of its last
        # attempt) and their items' text. A task run's histories only grow, keeping
        # the same History objects, so its next update encodes just the new ones.
        self._histories: dict[str, tuple[tuple[History, ...], str]] = {}
        self._attempt: dict[str, tuple[tuple[History, ...], str]] = {}

    def wrote(self, task_run_id: str) -> bool:
        """Whether a task run of this id was encoded before (and so, most likely, is
        stored: its transaction may have rolled back, or the memo forgotten it)."""
        return task_run_id in self._histories

    def task_run_histories(self, t: TaskRun) -> tuple[str, str | None]:
        """``dump_histories(t.histories)`` and ``dump_attempts(t.attempts)``, the same
        texts, encoding only the histories that were not there at the last call."""
        histories = f'{{"v":{VERSION},"h":[{_grown(self._histories, t.id, t.histories)}]}}'
        attempts = t.attempts
        if not attempts:
            return histories, None
        last = attempts[-1]
        items = _grown(self._attempt, t.id, last.histories)
        if len(attempts) == 1:
            return histories, f'{{"v":{VERSION},"a":[["{last.state._value_}",[{items}]]]}}'
        earlier = [f'["{a.state._value_}",[{_history_json(a.histories)}]]' for a in attempts[:-1]]
        earlier.append(f'["{last.state._value_}",[{items}]]')
        return histories, f'{{"v":{VERSION},"a":[{",".join(earlier)}]}}'

    def opt(self, value: Any) -> str | None:
        if value is None:
            return None
        return self._lookup(value, dump_opt)

    def mapping(self, value: Mapping[str, Any]) -> str | None:
        if not value:
            return None
        return self._lookup(value, dump_mapping)

    def _lookup(self, value: Any, dump: Callable[[Any], str | None]) -> str | None:
        hit = self._seen.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        text = dump(value)
        if len(self._seen) >= _MEMO_LIMIT:
            self._seen.clear()  # cheaper than LRU bookkeeping; it refills in one cycle
        self._seen[id(value)] = (value, text)
        return text


def _grown(
    memo: dict[str, tuple[tuple[History, ...], str]], key: str, histories: tuple[History, ...]
) -> str:
    """``_history_json(histories)``, from the text memo[key] holds for a prefix of them."""
    last = memo.get(key)
    if last is not None:
        old, text = last
        if histories is old:
            return text
        n = len(old)
        # The prefix compares by identity first (the engine appends to the same objects);
        # an equal History has the same text anyway.
        if n and len(histories) > n and histories[:n] == old:
            text = f"{text},{_history_json(histories[n:])}"
        else:
            text = _history_json(histories)
    else:
        text = _history_json(histories)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()  # as JsonMemo's: it refills within a cycle or two
    memo[key] = (histories, text)
    return text


def _secret_inputs(inputs: Mapping[str, Any], names: frozenset[str]) -> Mapping[str, Any]:
    """SECRET inputs are tainted: sealed in the store, masked wherever shown."""
    if not names:
        return inputs
    return {
        k: taint.mark(v, forms=True) if k in names and isinstance(v, str) else v
        for k, v in inputs.items()
    }


def execution_params(execution: Execution, version: int, memo: JsonMemo) -> tuple[Any, ...]:
    """The execution as a row in EXECUTION_COLUMNS order, with `version` as its version."""
    e = execution
    created = e.histories[0].date if e.histories else datetime.now(UTC)
    return (
        e.id,
        e.namespace,
        e.flow_id,
        e.flow_revision,
        e.state._value_,
        dump_histories(e.histories),
        memo.mapping(_secret_inputs(e.inputs, e.secret_inputs)),
        memo.opt(e.outputs),
        memo.mapping(e.labels),
        memo.mapping(e.variables),
        memo.opt(e.trigger),
        dump_error(e.error),
        dump_names(e.secret_inputs),
        e.parent_execution_id,
        to_micros(created),
        opt_micros(e.terminal_at),
        opt_micros(e.finalized_at),
        version,
        e.parent_task_run_id,
        e.parent_attempt,
        e.original_id,
        e.attempt_number,
        opt_micros(e.original_created_date),
    )


# The columns an execution UPDATE may set (version aside), one bit each in this order.
EXECUTION_UPDATED = (
    "state",
    "state_history",
    "inputs",
    "outputs",
    "labels",
    "variables",
    "trigger",
    "error",
    "secret_inputs",
    "terminal_at",
    "finalized_at",
)


def execution_changes(stored: Execution, new: Execution, memo: JsonMemo) -> tuple[int, list[Any]]:
    """The columns of `new`'s row that differ from `stored`'s (the execution its row
    holds): a bit mask over EXECUTION_UPDATED and their values in that order.

    Fields are compared by identity (dates by value): ``replace()`` keeps the very
    objects of the fields that did not change, so most cycles encode nothing here.
    A field that is equal but not the same object is written again, as the same text;
    so is an error, as :func:`execution_params` does.
    """
    mask = 0
    values: list[Any] = []
    if new.state is not stored.state:
        mask = 1
        values.append(new.state._value_)
    if new.histories is not stored.histories:
        mask |= 2
        values.append(dump_histories(new.histories))
    if new.inputs is not stored.inputs or new.secret_inputs is not stored.secret_inputs:
        mask |= 4
        values.append(memo.mapping(_secret_inputs(new.inputs, new.secret_inputs)))
    if new.outputs is not stored.outputs:
        mask |= 8
        values.append(memo.opt(new.outputs))
    if new.labels is not stored.labels:
        mask |= 16
        values.append(memo.mapping(new.labels))
    if new.variables is not stored.variables:
        mask |= 32
        values.append(memo.mapping(new.variables))
    if new.trigger is not stored.trigger:
        mask |= 64
        values.append(memo.opt(new.trigger))
    if new.error is not stored.error or new.error is not None:
        # Always written again when set: its message is masked with the secrets known now.
        mask |= 128
        values.append(dump_error(new.error))
    if new.secret_inputs is not stored.secret_inputs:
        mask |= 256
        values.append(dump_names(new.secret_inputs))
    if new.terminal_at != stored.terminal_at:
        mask |= 512
        values.append(opt_micros(new.terminal_at))
    if new.finalized_at != stored.finalized_at:
        mask |= 1024
        values.append(opt_micros(new.finalized_at))
    return mask, values


def task_run_params(t: TaskRun, memo: JsonMemo) -> tuple[Any, ...]:
    """The task run as a row in TASK_RUN_COLUMNS order."""
    return (
        t.id,
        t.execution_id,
        t.seq,
        t.task_id,
        t.parent_id,
        t.value if t.value is None else sealdocs.seal_text(t.value),
        t.iteration,
        # _value_: .value is a Python-level property of enums, looked up at each call.
        t.phase._value_,
        t.state._value_,
        *memo.task_run_histories(t),
        memo.opt(t.outputs),
        dump_error(t.error),
        memo.opt(t.memo),
        t.generation,
    )


def task_run_update_params(t: TaskRun, memo: JsonMemo) -> tuple[Any, ...]:
    """The last seven values of :func:`task_run_params` (what an update of a stored task
    run sets: state, histories, attempts, outputs, error, memo, generation), then its id;
    the same texts, without the columns an update leaves alone."""
    return (
        t.state._value_,
        *memo.task_run_histories(t),
        memo.opt(t.outputs),
        dump_error(t.error),
        memo.opt(t.memo),
        t.generation,
        t.id,
    )


def task_run_from_row(row: Sequence[Any]) -> TaskRun:
    (id_, execution_id, seq, task_id, parent_id, value, iteration, phase, state) = row[:9]
    histories, attempts, outputs, error, memo, generation = row[9:]
    return TaskRun(
        id_,
        execution_id,
        task_id,
        parent_id,
        sealdocs.unseal_text(value),
        iteration,
        _PHASES[phase],
        seq,
        _STATES[state],
        load_histories(histories),
        load_attempts(attempts),
        load_opt(outputs),
        load_error(error),
        load_opt(memo),
        generation,
    )


def execution_from_row(row: Sequence[Any], task_run_rows: Iterable[Sequence[Any]]) -> Execution:
    """An Execution from its row and its task runs' rows (in seq order)."""
    task_runs: dict[str, TaskRun] = {}
    grouped: dict[tuple[str, Phase], list[str]] = {}
    for task_run_row in task_run_rows:
        t = task_run_from_row(task_run_row)
        task_runs[t.id] = t
        key = (t.parent_id or ROOT, t.phase)
        ids = grouped.get(key)
        if ids is None:
            grouped[key] = [t.id]
        else:
            ids.append(t.id)
    (id_, namespace, flow_id, revision, state, history, inputs, outputs, labels) = row[:9]
    (variables, trigger, error, secrets, parent, _created, terminal, final, version) = row[9:18]
    secret_inputs = load_names(secrets)
    parent_task_run_id, parent_attempt, original_id, attempt_number, original = row[18:23]
    return Execution(
        id=id_,
        namespace=namespace,
        flow_id=flow_id,
        flow_revision=revision,
        state=_STATES[state],
        histories=load_histories(history),
        inputs=_secret_inputs(load_mapping(inputs), secret_inputs),
        outputs=load_opt(outputs),
        labels=load_mapping(labels),
        variables=load_mapping(variables),
        trigger=load_opt(trigger),
        task_runs=task_runs,
        children={key: tuple(ids) for key, ids in grouped.items()},
        error=load_error(error),
        terminal_at=opt_from_micros(terminal),
        finalized_at=opt_from_micros(final),
        secret_inputs=secret_inputs,
        parent_execution_id=parent,
        parent_task_run_id=parent_task_run_id,
        parent_attempt=parent_attempt,
        original_id=original_id,
        attempt_number=attempt_number,
        original_created_date=opt_from_micros(original),
        version=version,
    )


def event_params(e: NewEvent) -> tuple[Any, ...]:
    """execution_id, kind, payload, visible_at, dedup_key."""
    return (e.execution_id, e.kind, _enveloped(e.payload), to_micros(e.visible_at), e.dedup_key)


def job_params(j: NewJob) -> tuple[Any, ...]:
    """task_run_id, attempt, execution_id, payload, run_after."""
    return (j.task_run_id, j.attempt, j.execution_id, _enveloped(j.payload), to_micros(j.run_after))


def claimed_jobs(rows: list[Any], expires: datetime) -> list[Job]:
    """Jobs from the rows a claim returned, in claim order: (run_after, id) lead each row,
    since RETURNING has no order of its own."""
    rows.sort()
    return [
        Job(task_run_id, execution_id, attempt, load_value(payload), token, n, expires)
        for _, _, task_run_id, attempt, execution_id, payload, token, n in rows
    ]


def renewal(tokens: Iterable[str], renewed: Iterable[Sequence[Any]]) -> Renewal:
    """The Renewal from the (claim_token, task_run_id, cancel_requested) rows a renewal
    returned: a given token that renewed nothing no longer holds a claim."""
    held: set[str] = set()
    cancelled: set[str] = set()
    for token, task_run_id, cancel in renewed:
        held.add(token)
        if cancel:
            cancelled.add(task_run_id)
    return Renewal(frozenset(cancelled), frozenset(tokens) - held)


def claimed_job_params(j: NewJob) -> tuple[Any, ...]:
    """job_params, then claim_token, claimed_by, lease_expires_at: a job written claimed."""
    lease = j.lease_expires_at
    return (
        j.task_run_id,
        j.attempt,
        j.execution_id,
        _enveloped(j.payload),
        to_micros(j.run_after),
        j.claim_token,
        j.claimed_by,
        None if lease is None else to_micros(lease),
    )


def log_params(r: LogRecord) -> tuple[Any, ...]:
    """execution_id, task_id, task_run_id, attempt, timestamp, level, message."""
    t = to_micros(r.timestamp)
    message = taint.mask(r.message) if taint.is_active() else r.message
    return (r.execution_id, r.task_id, r.task_run_id, r.attempt, t, r.level, message)


def log_from_row(row: Sequence[Any]) -> LogRecord:
    e, task_id, task_run_id, attempt, ts, level, message = row
    return LogRecord(e, task_id, task_run_id, attempt, from_micros(ts), level, message)


def flow_from_row(row: Sequence[Any]) -> FlowRecord:
    """namespace, id, revision, source, updated_at."""
    return FlowRecord(row[0], row[1], int(row[2]), row[3], from_micros(row[4]))


# Columns of a job read back whole (expired_jobs), in the order job_from_row takes.
JOB_COLUMNS = "task_run_id, execution_id, attempt, payload, claim_token, claims, lease_expires_at"


def job_from_row(row: Sequence[Any]) -> Job:
    task_run_id, execution_id, attempt, payload, token, claims, lease = row
    return Job(
        task_run_id, execution_id, attempt, load_value(payload), token, claims, from_micros(lease)
    )


# worker rows, then the claimed jobs listed with them.
PROCESS_COLUMNS = "id, role, host, pid, started_at, heartbeat_at, info"
RUNNING_JOB_COLUMNS = "claimed_by, execution_id, task_run_id, attempt, payload, lease_expires_at"


def processes_from_rows(
    rows: Iterable[Sequence[Any]], job_rows: Iterable[Sequence[Any]]
) -> list[ProcessRecord]:
    """ProcessRecords in the order of `rows`, each with its jobs from `job_rows` (in order)."""
    jobs: dict[str, list[RunningJob]] = {}
    for claimed_by, execution_id, task_run_id, attempt, payload, lease in job_rows:
        doc = load_value(payload)
        task_id = doc.get("taskId") if isinstance(doc, dict) else None
        jobs.setdefault(claimed_by, []).append(
            RunningJob(execution_id, task_run_id, attempt, str(task_id or ""), from_micros(lease))
        )
    return [
        ProcessRecord(
            id_,
            role,
            host,
            int(pid),
            from_micros(started),
            from_micros(beat),
            load_mapping(info),
            tuple(jobs.get(id_, ())),
        )
        for id_, role, host, pid, started, beat, info in rows
    ]


# Row counts for tests and the crash suite's invariant checker; the same SQL on
# both dialects. "finalized" counts executions whose afterExecution is done.
COUNTED: dict[str, str] = {
    "execution": "execution",
    "finalized": "execution WHERE finalized_at IS NOT NULL",
    "task_run": "task_run",
    "job": "job",
    "execution_event": "execution_event",
    "log": "log",
}
COUNTS_SQL = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in COUNTED.values())
