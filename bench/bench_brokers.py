"""Realtime trigger throughput on RabbitMQ (issue 11: "≥ 500 messages/s committed as
CREATED executions on SQLite").

For each of --runs runs: a fresh SQLite store and a fresh queue on the machine's
RabbitMQ (127.0.0.1:5672, guest/guest); --messages messages (each with a message id)
are published first, then the trigger runtime (runtime/triggers.py, in this process,
no executor: the executions stay CREATED) starts its listener; the rate is messages
over the time from the listener's start to the last execution committed. Prints each
run's rate and the median.

    .venv/bin/python bench/bench_brokers.py [--messages N] [--runs R]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import pika

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.store import open_store

FLOW = """
id: stream
namespace: bench
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.data }}}}"
triggers:
  - id: amqp
    type: io.kestra.plugin.amqp.RealtimeTrigger
    host: 127.0.0.1
    port: 5672
    queue: {queue}
"""


def _connect() -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))


def one_run(messages: int) -> float:
    queue = f"lanner-bench-{secrets.token_hex(6)}"
    connection = _connect()
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    for n in range(messages):
        props = pika.BasicProperties(message_id=f"n-{n}")
        channel.basic_publish("", queue, f'{{"n": {n}}}'.encode(), props)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite://{Path(tmp) / 'lanner.db'}")
        store.migrate()
        store.deploy_flow("bench", "stream", FLOW.format(queue=queue))
        runtime = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())
        try:
            start = time.perf_counter()
            runtime.tick()
            while runtime.fired < messages:
                time.sleep(0.005)
            elapsed = time.perf_counter() - start
        finally:
            runtime.close()
            store.close()
    channel.queue_delete(queue)
    connection.close()
    return messages / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rates = []
    for run in range(args.runs):
        rate = one_run(args.messages)
        rates.append(rate)
        print(f"run {run + 1}: {rate:,.0f} messages/s")
    median = statistics.median(rates)
    print(f"median: {median:,.0f} messages/s committed as CREATED executions (target >= 500)")
    return 0 if median >= 500 else 1


if __name__ == "__main__":
    raise SystemExit(main())
