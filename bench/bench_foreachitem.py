"""ForEachItem benchmark (issue 11): what one child execution per batch costs.

A flow writes N rows to a file and runs a ForEachItem over it, one row a batch,
each child reading its batch file and returning it as an output; the merge
gathers the N outputs. Run through the real runtime (executor thread, worker
threads, SQLite store) from the parent's creation to its end, children
included. Medians of several rounds, measured interleaved after a warm-up.

    .venv/bin/python -m bench.bench_foreachitem [--rounds N]   (from the checkout's root)
"""

from __future__ import annotations

import argparse
import tempfile

from bench.bench_run import Lanner, interleaved

CHILD = """
id: batch
namespace: bench
inputs:
  - id: rows
    type: FILE
tasks:
  - id: noop
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.rows }}"
outputs:
  - id: rows
    type: STRING
    value: "{{ read(inputs.rows) | trim }}"
"""


def parent(n: int) -> str:
    rows = "\\n".join(f"row {i}" for i in range(n))
    return f"""
id: each_{n}
namespace: bench
tasks:
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "{rows}\\n"
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{{{ outputs.write.uri }}}}"
    namespace: bench
    flowId: batch
    inputs:
      rows: "{{{{ taskrun.items }}}}"
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        runtime = Lanner(directory)
        try:
            runtime.store.deploy_flow("bench", "batch", CHILD)
            sizes = (10, 100)
            medians = interleaved(args.rounds, *(runtime.deploy(parent(n)) for n in sizes))
            for n, median in zip(sizes, medians, strict=True):
                print(f"ForEachItem over {n:4d} batches: {median * 1000:8.1f} ms median")
        finally:
            runtime.close()


if __name__ == "__main__":
    main()
