"""The stored texts stay byte for byte what the plain encoder writes.

The codec writes histories by hand, reuses the text of a task run's earlier
histories, and writes a value's envelope around the value's own encoding:
readers (the decode side, search, other versions of Lanner) rely on the exact
texts, so each shortcut is compared here with the documented shape encoded by
``json`` on many values.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import types
from typing import Any

import pytest

from lanner.engine.execution import Attempt, ErrorInfo, History, Phase, TaskRun, evolve
from lanner.errors import StoreError
from lanner.model.states import State
from lanner.store import codec, sqliterows, sqlitesql

STATES = list(State)
ZONES: list[dt.tzinfo | None] = [
    dt.UTC,
    None,
    dt.timezone(dt.timedelta(hours=1)),
    dt.timezone(dt.timedelta(hours=-7, minutes=-30)),
    dt.timezone(dt.timedelta(0), "Z"),
]


def _plain(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=codec._default)


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _items(histories: tuple[History, ...]) -> list[list[str]]:
    return [[h.state.value, _iso(h.date)] for h in histories]


def _histories_doc(histories: tuple[History, ...]) -> str:
    return _plain({"v": 1, "h": _items(histories)})


def _attempts_doc(attempts: tuple[Attempt, ...]) -> str | None:
    if not attempts:
        return None
    return _plain({"v": 1, "a": [[a.state.value, _items(a.histories)] for a in attempts]})


def _history(rng: random.Random) -> History:
    moment = dt.datetime(2020, 1, 1) + dt.timedelta(
        seconds=rng.randrange(10**9), microseconds=rng.randrange(10**6)
    )
    return History(rng.choice(STATES), moment.replace(tzinfo=rng.choice(ZONES)))


def _task_run(rng: random.Random, task_run_id: str) -> TaskRun:
    return TaskRun(
        task_run_id, "e", f"t{rng.randrange(9)}", None, None, None, Phase.MAIN, 0, State.CREATED, ()
    )


def test_histories_and_attempts_are_the_plain_encoders_texts() -> None:
    rng = random.Random(8)
    for _ in range(500):
        histories = tuple(_history(rng) for _ in range(rng.randrange(6)))
        attempts = tuple(
            Attempt(rng.choice(STATES), tuple(_history(rng) for _ in range(rng.randrange(4))))
            for _ in range(rng.randrange(3))
        )
        assert codec.dump_histories(histories) == _histories_doc(histories)
        assert codec.dump_attempts(attempts) == _attempts_doc(attempts)


def test_a_task_runs_histories_encoded_from_its_earlier_text_are_the_same() -> None:
    """A task run's life: histories and attempts grow, a retry adds an attempt, a
    restart replaces them; equal but distinct History objects; the memo's bound."""
    rng = random.Random(7)
    memo = codec.JsonMemo()
    runs = {f"run{i}": _task_run(rng, f"run{i}") for i in range(60)}
    for step in range(6000):
        key = rng.choice(list(runs))
        t = runs[key]
        move = rng.random()
        if move < 0.5:
            t = evolve(t, histories=(*t.histories, _history(rng)))
        if 0.3 < move < 0.7:
            attempts = t.attempts or (Attempt(State.CREATED, ()),)
            last = attempts[-1]
            grown = evolve(
                last, state=rng.choice(STATES), histories=(*last.histories, _history(rng))
            )
            t = evolve(t, attempts=(*attempts[:-1], grown))
        elif move < 0.8:
            t = evolve(t, attempts=(*t.attempts, Attempt(State.RUNNING, (_history(rng),))))
        elif move < 0.85:  # equal values, other objects
            t = evolve(t, histories=tuple(History(h.state, h.date) for h in t.histories))
        elif move < 0.9:  # not a continuation of what was written
            t = evolve(t, histories=tuple(_history(rng) for _ in range(rng.randrange(4))))
        elif move < 0.93:
            t = evolve(t, histories=(), attempts=())
        runs[key] = t
        if step % 1000 == 999:  # new task runs past the memo's bound
            for i in range(codec._MEMO_LIMIT + 10):
                memo.task_run_histories(_task_run(rng, f"other{step}-{i}"))
        histories_text, attempts_text = memo.task_run_histories(t)
        assert histories_text == _histories_doc(t.histories)
        assert attempts_text == _attempts_doc(t.attempts)
        row = codec.task_run_params(t, memo)
        assert row[9:11] == (histories_text, attempts_text)
        # An update of a stored row binds what the upsert's conflict sets, then the id.
        assert codec.task_run_update_params(t, memo) == (*row[8:], row[0])


def test_a_task_run_updates_values_are_its_rows_last_seven_then_its_id() -> None:
    """Outputs, an error, a memo and a generation too: the same values as the row's."""
    rng = random.Random(9)
    memo = codec.JsonMemo()
    for i in range(300):
        t = evolve(
            _task_run(rng, f"run{i % 40}"),
            state=rng.choice(STATES),
            histories=tuple(_history(rng) for _ in range(rng.randrange(4))),
            outputs=rng.choice([None, {"value": _value(rng)}]),
            error=rng.choice([None, ErrorInfo("it failed é", "ValueError", "t1", f"run{i}")]),
            memo=rng.choice([None, {"index": i}]),
            generation=rng.randrange(3),
        )
        update = codec.task_run_update_params(t, memo)
        row = codec.task_run_params(t, memo)
        assert update == (*row[8:], row[0])
        assert len(update) == sqlitesql.RUN_UPDATE.count("?")


def _value(rng: random.Random, depth: int = 0) -> Any:
    leaves: list[Any] = [
        None,
        True,
        False,
        0,
        -1,
        2**70,
        1.5,
        -0.0,
        1e300,
        math.inf,
        "",
        "plain",
        'quo"te\\ \n\t\x00 \u2028 é 😀',
        dt.date(2025, 1, 2),
        dt.datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        dt.time(1, 2, 3),
    ]
    if depth > 3 or rng.random() < 0.4:
        return rng.choice(leaves)
    kind = rng.randrange(5)
    children = [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 0:
        return children
    if kind == 1:
        return tuple(children)
    if kind == 2:
        return frozenset(str(c) for c in children)
    keyed = {f"k{i}é": c for i, c in enumerate(children)}
    return keyed if kind == 3 else types.MappingProxyType(keyed)


def test_values_in_their_envelope_are_the_plain_encoders_texts() -> None:
    rng = random.Random(9)
    for _ in range(2000):
        value = _value(rng)
        assert codec.dump_value(value) == _plain({"v": 1, "d": value})
        if value is not None:
            assert codec.dump_opt(value) == _plain({"v": 1, "d": value})
        if isinstance(value, dict) and value:
            assert codec.dump_mapping(value) == _plain({"v": 1, "d": value})
    assert codec.dump_value(math.nan) == '{"v":1,"d":NaN}'
    assert codec.dump_names(frozenset({"b", "a"})) == '{"v":1,"d":["a","b"]}'


def test_a_value_that_is_not_json_is_still_a_store_error() -> None:
    looped: list[Any] = []
    looped.append(looped)
    for bad in ({"x": object()}, [1, {2: {3, object()}}], looped):
        with pytest.raises(StoreError, match="cannot store a value as JSON"):
            codec.dump_value(bad)


def test_a_scopes_json_is_made_once_per_tuple_and_never_kept_for_a_list() -> None:
    scope = ("a", "b")
    assert sqliterows.scope_json(scope) == '["a", "b"]'
    assert sqliterows.scope_json(scope) is sqliterows.scope_json(scope)
    ids = ["a"]
    assert sqliterows.scope_json(ids) == '["a"]'
    ids.append("c")  # changed in place: read again
    assert sqliterows.scope_json(ids) == '["a", "c"]'
    assert sqliterows.scope_json(("x",)) == '["x"]'


def test_documents_decode_as_json_loads_reads_them() -> None:
    """The scanner called directly reads what json.loads reads, and fails where it fails."""
    rng = random.Random(11)
    texts = [codec.dump_value(_value(rng)) for _ in range(500)]
    texts += [codec.dump_histories((_history(rng),)), '{"v":1,"d":"$secret"}']
    texts += ['{"v": 1, "d": [1, 2]}', ' {"v":1} ', '{"v":1}\n', "[1e400, -0.0, 2e-5]"]
    texts += ["NaN", "Infinity", '"\\ud83d\\ude00 \\u00e9"', "[" * 100 + "]" * 100]
    for text in texts:
        assert codec._decode(text) == json.loads(text) or text == "NaN"
    for bad in ["", " ", "{", '{"v":1} x', "\ufeff{}", "[1,]", "nul", "[" * 100000]:
        with pytest.raises((ValueError, RecursionError)) as expected:
            json.loads(bad)
        with pytest.raises(expected.type) as got:
            codec._decode(bad)
        assert str(got.value) == str(expected.value)
    assert codec._decode(b'{"v":1}') == {"v": 1}
