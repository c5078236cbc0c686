"""Batch trigger throughput on RabbitMQ: how fast one evaluation of
`io.kestra.plugin.amqp.Trigger` turns a queue's messages into one execution's Ion file
(docs/tasks-brokers.md, "Batch triggers").

For each of --runs runs: --messages messages are published to a fresh queue on the
machine's RabbitMQ (127.0.0.1:5672, guest/guest), then

- the floor: pika alone consumes them (manual acknowledgements, prefetch N, one
  `basic.ack` multiple at the end), and they are published again;
- the trigger: one tick of the trigger runtime (fresh SQLite store, local internal
  storage, no executor) consumes them, writes the Ion file, commits the execution
  and acknowledges.

Prints each run's rates and the medians.

    .venv/bin/python bench/bench_broker_batch.py [--messages N] [--runs R]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pika

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.storage import LocalStorage
from lanner.store import open_store

FLOW = """
id: batch
namespace: bench
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.count }}}}"
triggers:
  - id: amqp
    type: io.kestra.plugin.amqp.Trigger
    host: 127.0.0.1
    port: 5672
    queue: {queue}
    maxRecords: {messages}
"""


def _connect() -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))


def _publish(channel: Any, queue: str, messages: int) -> None:
    for n in range(messages):
        channel.basic_publish("", queue, f'{{"n": {n}}}'.encode())


def _floor(queue: str, messages: int) -> float:
    connection = _connect()
    channel = connection.channel()
    channel.basic_qos(prefetch_count=min(messages, 65535))  # the whole batch ahead
    start = time.perf_counter()
    last = None
    stream = channel.consume(queue, inactivity_timeout=1.0)
    for count, (method, _properties, _body) in enumerate(stream, start=1):
        if method is None:
            break
        last = method.delivery_tag
        if count == messages:
            break
    channel.basic_ack(delivery_tag=last, multiple=True)
    elapsed = time.perf_counter() - start
    channel.cancel()
    connection.close()
    return messages / elapsed


def one_run(messages: int) -> tuple[float, float]:
    queue = f"lanner-bench-{secrets.token_hex(6)}"
    connection = _connect()
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    _publish(channel, queue, messages)
    floor = _floor(queue, messages)
    _publish(channel, queue, messages)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite://{Path(tmp) / 'lanner.db'}")
        store.migrate()
        store.deploy_flow("bench", "batch", FLOW.format(queue=queue, messages=messages))
        storage = LocalStorage(Path(tmp) / "storage")
        runtime = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config(), storage=storage)
        try:
            start = time.perf_counter()
            fired = runtime.tick()
            elapsed = time.perf_counter() - start
            assert fired == 1, "the evaluation started no execution"
        finally:
            runtime.close()
            store.close()
    left = channel.queue_declare(queue, passive=True).method.message_count
    assert left == 0, f"{left} messages left in the queue"
    channel.queue_delete(queue)
    connection.close()
    return floor, messages / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    floors, rates = [], []
    for run in range(args.runs):
        floor, rate = one_run(args.messages)
        floors.append(floor)
        rates.append(rate)
        print(f"run {run + 1}: pika alone {floor:,.0f} messages/s, trigger {rate:,.0f}")
    print(
        f"median: pika alone {statistics.median(floors):,.0f} messages/s,"
        f" one batch evaluation {statistics.median(rates):,.0f} messages/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
