"""How long `load_flow` (parse + validate) takes on a 200-task flow.

Beside it, a floor measured in the same run: plain ``yaml.load`` of the same
text with the C loader, which no validation can beat. The bar is absolute:
the median must stay under 50 ms.

    .venv/bin/python bench/bench_parse.py [--runs 30] [--tasks 200] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import yaml

from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry

BAR_MS = 50.0

LOG = "io.kestra.plugin.core.log.Log"
RETRIES = [
    {"type": "constant", "interval": "PT1S", "maxAttempts": 3},
    {"type": "exponential", "interval": "PT1S", "maxInterval": "PT30S", "maxDuration": "PT5M"},
    {"type": "random", "minInterval": "PT1S", "maxInterval": "PT5S", "maxAttempt": 2},
]


class _Ids:
    def __init__(self) -> None:
        self.count = 0

    def next(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count}"


def _log(ids: _Ids, i: int) -> dict[str, Any]:
    task: dict[str, Any] = {
        "id": ids.next("log"),
        "type": LOG,
        "message": f"step {i}: {{{{ inputs.name }}}} {{{{ outputs['prev-task'].value ?? '' }}}}",
    }
    if i % 3 == 0:
        task["retry"] = RETRIES[i % len(RETRIES)]
    if i % 4 == 0:
        task["runIf"] = "{{ inputs.enabled }}"
    if i % 5 == 0:
        task["timeout"] = "PT1M"
        task["level"] = "DEBUG"
    return task


def build_flow(n_tasks: int = 200) -> str:
    """A flow with `n_tasks` tasks in all: Log tasks grouped under Sequential,
    Parallel, If and ForEach containers, with retries and runIf on some of them."""
    ids = _Ids()
    tasks: list[dict[str, Any]] = []
    made = 0
    kinds = ["seq", "par", "if", "each", "plain"]
    k = 0
    while made < n_tasks:
        kind = kinds[k % len(kinds)]
        k += 1
        left = n_tasks - made
        if kind == "plain" or left < 4:
            tasks.append(_log(ids, made))
            made += 1
            continue
        children = [_log(ids, made + j) for j in range(3)]
        made += 4
        if kind == "seq":
            tasks.append(
                {
                    "id": ids.next("seq"),
                    "type": "io.kestra.plugin.core.flow.Sequential",
                    "tasks": children,
                    "retry": RETRIES[0],
                }
            )
        elif kind == "par":
            tasks.append(
                {
                    "id": ids.next("par"),
                    "type": "io.kestra.plugin.core.flow.Parallel",
                    "concurrent": 2,
                    "tasks": children,
                }
            )
        elif kind == "if":
            tasks.append(
                {
                    "id": ids.next("if"),
                    "type": "io.kestra.plugin.core.flow.If",
                    "condition": "{{ inputs.enabled }}",
                    "then": children[:2],
                    "else": children[2:],
                    "runIf": "{{ true }}",
                }
            )
        else:
            tasks.append(
                {
                    "id": ids.next("each"),
                    "type": "io.kestra.plugin.core.flow.ForEach",
                    "values": ["a", "b", "c"],
                    "concurrencyLimit": 0,
                    "tasks": children,
                }
            )
    flow = {
        "id": "bench_parse",
        "namespace": "company.bench",
        "labels": {"team": "bench"},
        "inputs": [
            {"id": "name", "type": "STRING", "defaults": "world"},
            {"id": "enabled", "type": "BOOL", "defaults": True},
        ],
        "tasks": tasks,
        "errors": [{"id": "on_error", "type": LOG, "message": "failed"}],
        "pluginDefaults": [{"type": "io.kestra.plugin.core.log", "values": {"level": "INFO"}}],
    }
    return yaml.safe_dump(flow, sort_keys=False)


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm up: imports, pydantic schema caches
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args()

    registry = TaskRegistry.from_entry_points()
    text = build_flow(args.tasks)
    flow = load_flow(text, registry, file="bench.yml")
    count = sum(1 for _ in flow.all_tasks()) - len(flow.errors or ())
    assert count == args.tasks, count

    floor = median_ms(lambda: yaml.load(text, Loader=yaml.CSafeLoader), args.runs)
    full = median_ms(lambda: load_flow(text, registry, file="bench.yml"), args.runs)

    print(f"flow: {args.tasks} tasks, {len(text.splitlines())} lines, {len(text)} bytes")
    print(f"yaml.load (CSafeLoader) floor: {floor:8.2f} ms  (median of {args.runs})")
    print(f"load_flow (parse+validate):    {full:8.2f} ms  (median of {args.runs})")
    print(f"ratio to floor: {full / floor:.1f}x")
    verdict = "holds" if full < BAR_MS else "DOES NOT hold"
    print(f"bar < {BAR_MS:.0f} ms: {verdict}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            load_flow(text, registry, file="bench.yml")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
