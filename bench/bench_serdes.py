"""CsvToIon then IonToCsv of a generated CSV file (100 MB by default), through the
real tasks, a real storage folder and a real TaskContext.

Each conversion runs in a child process of its own, so that its peak RSS is its
own. Printed: the median of each step and of the round trip in MB/s of CSV, the
peak RSS, and beside them amazon-ion's own writer and reader (its C extension
when installed) on the same rows, measured in the same run. Bars: the round
trip at >= 10 MB/s, each process at <= 200 MB RSS.

Each time is given in wall-clock seconds and in CPU seconds of the converting
process (user + system): on a loaded machine the wall time measures the load as
much as the code, the CPU time much less so. `--baseline SRC` runs the same
conversions with another tree's `src` folder (say main's, from `git worktree add`)
alternately with this one's, so that both see the same load.

    .venv/bin/python -m bench.bench_serdes [--mb 100] [--runs 3] [--baseline ../main/src]
"""

from __future__ import annotations

import argparse
import filecmp
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BAR_MB_PER_S = 10.0
BAR_RSS_MB = 200.0
COLUMNS = ["id", "name", "email", "city", "amount", "created_at", "comment", "flag"]


def make_csv(path: Path, megabytes: int, seed: int = 7) -> int:
    """Realistic rows (quoted fields with commas and quotes here and there); its size."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]
    cities = ["Paris", "Lyon", "Zürich", "São Paulo", "New York", "Kraków"]
    target = megabytes * 1_000_000
    size = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(COLUMNS) + "\n")
        i = 0
        while size < target:
            lines = []
            for _ in range(1000):
                i += 1
                comment = " ".join(rng.choices(words, k=rng.randint(1, 8)))
                if i % 7 == 0:
                    comment = f'"{comment}, with a comma and ""quotes"""'
                lines.append(
                    f"{i},{rng.choice(words).title()} {rng.choice(words).title()},"
                    f"user{i}@example.com,{rng.choice(cities)},{rng.randint(0, 10**6) / 100},"
                    f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00Z,"
                    f"{comment},{'true' if i % 2 else 'false'}\n"
                )
            chunk = "".join(lines)
            out.write(chunk)
            size += len(chunk.encode("utf-8"))
    return path.stat().st_size


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: a child started by vfork and
    exec inherits the parent's peak in it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- child processes ----------------------------------------------------------------------------


def _child(step: str, storage: str, source: str) -> dict[str, Any]:
    from lanner.storage import LocalStorage
    from lanner.tasks.serdes.csv_ion import CsvToIon, IonToCsv, run_csv_to_ion, run_ion_to_csv
    from tests.support.task_context import LocalTaskContext

    ctx = LocalTaskContext(storage=LocalStorage(storage), task_id=step)
    cpu = _cpu()
    started = time.perf_counter()
    if step == "amazon-ion":
        return _amazon_child(source, started)
    if step == "floor":
        return _floor_child(source, started, cpu)
    if step == "csv-to-ion":
        task: Any = CsvToIon.model_validate({"id": step, "type": "t", "from": source})
        outcome = run_csv_to_ion(task, ctx)
    else:
        task = IonToCsv.model_validate({"id": step, "type": "t", "from": source})
        outcome = run_ion_to_csv(task, ctx)
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu
    assert outcome.error is None, outcome.error
    return {"seconds": seconds, "cpu": cpu, "rss_mb": _peak_rss_mb(), "uri": outcome.outputs["uri"]}


def _amazon_child(csv_path: str, started: float) -> dict[str, Any]:
    """amazon-ion writing the same rows CsvToIon writes, then reading them back."""
    import csv

    from amazon.ion import simpleion

    ion_path = Path(csv_path).with_suffix(".amazon.ion")
    # Its C extension writes bytes, text Ion included.
    with open(csv_path, encoding="utf-8", newline="") as f, ion_path.open("wb") as out:
        reader = csv.reader(f)
        names = next(reader)
        for record in reader:
            simpleion.dump(
                dict(zip(names, record, strict=False)), out, binary=False, omit_version_marker=True
            )
            out.write(b"\n")
    wrote = time.perf_counter()
    count = 0
    with ion_path.open("rb") as f:
        for _ in simpleion.load(f, single_value=False, parse_eagerly=False):
            count += 1
    read = time.perf_counter()
    ion_path.unlink()
    return {"write": wrote - started, "read": read - wrote, "rss_mb": _peak_rss_mb(), "rows": count}


def _floor_child(csv_path: str, started: float, cpu: float) -> dict[str, Any]:
    """The floor: the same passes with no task around them (csv module and orjson, local
    files, no storage, no checks)."""
    import csv

    import orjson

    ion_path = Path(csv_path).with_suffix(".floor.ion")
    with open(csv_path, encoding="utf-8", newline="") as f, ion_path.open("wb") as out:
        reader = csv.reader(f)
        names = next(reader)
        for record in reader:
            out.write(
                orjson.dumps(
                    dict(zip(names, record, strict=False)), option=orjson.OPT_APPEND_NEWLINE
                )
            )
    wrote = time.perf_counter()
    back = ion_path.with_suffix(".csv")
    with ion_path.open("rb") as f, back.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        for line in f:
            writer.writerow(orjson.loads(line).values())
    read = time.perf_counter()
    ion_path.unlink()
    back.unlink()
    return {
        "write": wrote - started,
        "read": read - wrote,
        "cpu": _cpu() - cpu,
        "rss_mb": _peak_rss_mb(),
    }


def _run_child(step: str, storage: Path, source: str, src: str | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if src:  # another tree's lanner package first on the path
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_serdes", "--child", step, str(storage), source],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "STORAGE", "SOURCE"))
    parser.add_argument("--no-amazon", action="store_true", help="skip amazon-ion's run")
    parser.add_argument("--amazon-rows", type=int, default=100_000)
    parser.add_argument(
        "--baseline", metavar="SRC", help="another tree's src folder, run alternately with this one"
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return

    from lanner.storage import LocalStorage
    from tests.support.task_context import LocalTaskContext

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="lanner-bench-serdes-") as tmp:
        folder = Path(tmp)
        csv_path = folder / "data.csv"
        size = make_csv(csv_path, args.mb)
        mb = size / 1e6
        ctx = LocalTaskContext(storage=LocalStorage(folder / "storage"), task_id="input")
        uri = ctx.put_file(csv_path)
        trees = {"this tree": None} | ({"baseline": args.baseline} if args.baseline else {})
        steps: dict[str, dict[str, list[dict[str, Any]]]] = {
            name: {"to_ion": [], "to_csv": []} for name in trees
        }
        floors: list[dict[str, Any]] = []
        rss: list[float] = []
        same = True
        ion_mb = 0.0
        for _ in range(args.runs):
            floors.append(_run_child("floor", folder / "storage", str(csv_path)))
            for name, src in trees.items():
                first = _run_child("csv-to-ion", folder / "storage", uri, src)
                second = _run_child("ion-to-csv", folder / "storage", first["uri"], src)
                steps[name]["to_ion"].append(first)
                steps[name]["to_csv"].append(second)
                if src is None:
                    rss += [first["rss_mb"], second["rss_mb"]]
                    back = folder / "storage" / _path(second["uri"])
                    same = same and filecmp.cmp(back, csv_path, shallow=False)
                    ion_mb = (folder / "storage" / _path(first["uri"])).stat().st_size / 1e6
        print(
            f"CSV {mb:.1f} MB -> Ion {ion_mb:.1f} MB, {args.runs} runs, medians"
            f" (load average {load:.1f} at the start; MB/s of CSV, wall and CPU):"
        )
        floor_wall = statistics.median(f["write"] + f["read"] for f in floors)
        floor_cpu = statistics.median(f["cpu"] for f in floors)
        round_trip = 0.0
        for name in trees:
            to_ion, to_csv = steps[name]["to_ion"], steps[name]["to_csv"]
            print(f" {name}{' (' + args.baseline + ')' if trees[name] else ''}:")
            for label, runs in (("CsvToIon", to_ion), ("IonToCsv", to_csv)):
                wall = statistics.median(r["seconds"] for r in runs)
                cpu = statistics.median(r["cpu"] for r in runs)
                print(
                    f"  {label:10} {wall:6.2f} s {mb / wall:6.1f} MB/s   CPU {cpu:6.2f} s"
                    f" {mb / cpu:6.1f} MB/s"
                )
            wall = statistics.median(
                a["seconds"] + b["seconds"] for a, b in zip(to_ion, to_csv, strict=True)
            )
            cpu = statistics.median(
                a["cpu"] + b["cpu"] for a, b in zip(to_ion, to_csv, strict=True)
            )
            verdict = "ok" if mb / wall >= BAR_MB_PER_S else "MISSED"
            print(
                f"  round trip {wall:6.2f} s {mb / wall:6.1f} MB/s   CPU {cpu:6.2f} s"
                f" {mb / cpu:6.1f} MB/s (bar >= {BAR_MB_PER_S} MB/s) {verdict}:"
                f" {wall / floor_wall:.2f}x the floor's wall time, {cpu / floor_cpu:.2f}x its CPU"
            )
            if trees[name] is None:
                round_trip = wall
        print(
            f" floor (csv + orjson, no task) {floor_wall:5.2f} s {mb / floor_wall:6.1f} MB/s"
            f"   CPU {floor_cpu:6.2f} s {mb / floor_cpu:6.1f} MB/s"
        )
        peak = max(rss)
        verdict = "ok" if peak <= BAR_RSS_MB else "MISSED"
        print(f" peak RSS of a conversion {peak:.0f} MB (bar <= {BAR_RSS_MB:.0f}) {verdict}")
        print(f" CSV written back identical to the original: {same}")
        if not args.no_amazon:
            # The same rows, fewer of them: amazon-ion is several times slower.
            head = folder / "head.csv"
            with csv_path.open("rb") as full, head.open("wb") as part:
                part.writelines(itertools.islice(full, args.amazon_rows + 1))
            mb = head.stat().st_size / 1e6
            amazon = _run_child("amazon-ion", folder / "storage", str(head))
            both = amazon["write"] + amazon["read"]
            round_trip *= mb / (size / 1e6)  # Lanner's time for that many MB, at its median speed
            print(
                f"amazon-ion (simpleion, C extension) on the first {amazon['rows']} rows"
                f" ({mb:.1f} MB), one run:"
            )
            print(
                f"  write {amazon['write']:6.2f} s, read {amazon['read']:6.2f} s,"
                f" together {mb / both:5.1f} MB/s of CSV; Lanner's round trip is"
                f" {both / round_trip:.1f}x faster (with the CSV parsing and writing included)"
            )


def _path(uri: str) -> str:
    from lanner.storage.uris import storage_path

    return storage_path(uri)


if __name__ == "__main__":
    main()
