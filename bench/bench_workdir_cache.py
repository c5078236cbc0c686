"""WorkingDirectory `cache` benchmark: what putting a cached folder back in a new
directory, and writing it again, costs against copying the same files with
`cp -r` (the floor: the files must be written somewhere either way).

A folder of N small files in nested folders (a `node_modules`-like tree) is cached
to the local internal storage once; each round then times, on the real code
(runtime/workdircache.py): `restore` into a fresh directory, and `save` of that
directory when every file changed (the archive written again); and `cp -r` of the
tree into a fresh directory. Medians of the rounds, interleaved.

    .venv/bin/python -m bench.bench_workdir_cache [--rounds N] [--files N] [--size BYTES]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from lanner.runtime.workdircache import DirectoryCache
from lanner.storage.local import LocalStorage


def _tree(root: Path, files: int, size: int) -> None:
    payload = os.urandom(size // 2).hex().encode()[:size]
    for i in range(files):
        folder = root / "node_modules" / f"pkg{i // 50}" / "lib"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.js").write_bytes(payload)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as base:
        work = Path(base)
        source = work / "source"
        _tree(source, args.files, args.size)
        storage = LocalStorage(work / "storage")

        def cache() -> DirectoryCache:
            return DirectoryCache.of(
                storage, "bench", "cache", "wdir", None, ["node_modules/**"], None, lambda *_: None
            )

        cache().save(source)
        times: dict[str, list[float]] = {"restore": [], "save": [], "cp": []}
        for n in range(args.rounds):
            target = work / f"restore{n}"
            target.mkdir()
            c = cache()
            start = time.perf_counter()
            c.restore(target)
            times["restore"].append(time.perf_counter() - start)
            c.restored_at = 0.0  # every file counts as changed: the archive is written again
            start = time.perf_counter()
            c.save(target)
            times["save"].append(time.perf_counter() - start)
            copy = work / f"copy{n}"
            start = time.perf_counter()
            subprocess.run(["cp", "-r", str(source), str(copy)], check=True)
            times["cp"].append(time.perf_counter() - start)
            shutil.rmtree(target)
            shutil.rmtree(copy)
        total = args.files * args.size / 1e6
        print(f"{args.files} files, {total:.1f} MB, medians of {args.rounds} rounds:")
        for name, values in times.items():
            print(f"  {name:8} {statistics.median(values) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
