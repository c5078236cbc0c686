"""io.kestra.plugin.nats.* tasks against the machine's NATS with JetStream (a stream of
each test's own)."""

from __future__ import annotations

from lanner.model.states import State
from lanner.storage import LocalStorage
from lanner.tasks.nats.model import Consume, Produce
from lanner.tasks.nats.tasks import run_consume, run_produce
from tests.support.broker_tasks import ctx_fixture, make, storage_fixture, stored_rows  # noqa: F401
from tests.support.nats_server import NatsServer, nats_server_fixture  # noqa: F401 (fixture)
from tests.support.task_context import LocalTaskContext


def test_produce_then_consume(
    nats_server: NatsServer, ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    subject = nats_server.subject("orders")
    produce = make(
        Produce,
        url=nats_server.url,
        subject=subject,
        **{
            "from": [
                {"headers": {"k": "v"}, "data": "hello {{ inputs.who }}"},
                {"data": "two"},
            ]
        },
    )
    out = run_produce(produce, ctx)
    assert out.state is State.SUCCESS, out.error
    assert out.outputs == {"messagesCount": 2}
    consume = make(
        Consume,
        url=nats_server.url,
        subject=nats_server.prefix + ".>",
        durableId="consumer1",
        maxRecords=2,
        pollDuration="PT1S",
    )
    outcome = run_consume(consume, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["messagesCount"] == 2
    rows = stored_rows(storage, outcome.outputs["uri"])
    assert [r["data"] for r in rows] == ["hello Ada", "two"]
    assert rows[0]["headers"] == {"k": "v"} and rows[0]["subject"] == subject
    assert nats_server.pending("consumer1") == 0
    again = run_consume(
        consume.model_copy(update={"maxRecords": None, "maxDuration": "PT0.5S"}), ctx
    )
    assert again.outputs["messagesCount"] == 0  # the durable consumer read them already


def test_an_unreachable_server_fails_the_task(ctx: LocalTaskContext) -> None:
    from tests.support.ports import free_port

    port = free_port()
    produce = make(Produce, url=f"nats://127.0.0.1:{port}", subject="s", **{"from": {"data": "x"}})
    outcome = run_produce(produce, ctx)
    assert outcome.state is State.FAILED
    assert f"NATS server 127.0.0.1:{port}" in str(outcome.error)


def test_a_task_runs_in_a_thread_whose_event_loop_is_running(
    nats_server: NatsServer, ctx: LocalTaskContext
) -> None:
    """The session's loop has a thread of its own: a caller inside a running event loop
    (playwright's sync API keeps one in the main thread) still runs NATS tasks."""
    import asyncio
    import threading

    subject = nats_server.subject("x")
    produce = make(Produce, url=nats_server.url, subject=subject, **{"from": {"data": "x"}})
    states: list[State] = []

    async def inside() -> None:
        states.append(run_produce(produce, ctx).state)

    # A thread of its own, whose loop runs while the task does (this test's thread
    # may run playwright's loop already, where asyncio.run would refuse to start).
    caller = threading.Thread(target=asyncio.run, args=(inside(),))
    caller.start()
    caller.join(60)
    assert states == [State.SUCCESS]
