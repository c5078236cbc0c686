"""How many real Kestra flows `lanner validate` accepts (issue 11's "at least half").

The flows are not part of Lanner: check out the repositories and commits that
`shared/real-flows.md` lists and point this script at the folders, each one a
set of its own:

    .venv/bin/python bench/real_flows.py valids=PATH blueprints=PATH [...] [--failures]

It prints each set's pass rate, then which missing types would let the most
failing flows through (each flow counted once, for the first type whose
addition leaves it with no unknown type), and with `--failures` every failure's
first line. Blueprint files carry a top-level `extend:` block (their
catalogue entry), which is dropped before validation, as the published flows
do not have it.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lanner.errors import FlowValidationError, InputError
from lanner.model.validate import load_flow_files
from lanner.plugin import TaskRegistry

# From `extend:` to the next top-level key (its block scalars may hold
# unindented lines, such as Markdown code fences).
EXTEND_BLOCK = re.compile(r"(?ms)^extend:\n.*?(?=^[A-Za-z_]\w*:)")
UNKNOWN_TYPE = re.compile(r"unknown (?:task |trigger |condition )?type '([^']+)'")


@dataclass(frozen=True)
class Failure:
    set_name: str
    file: str
    message: str
    unknown_types: frozenset[str]
    other_problems: bool


def validate_set(
    name: str, folder: Path, registry: TaskRegistry, work: Path
) -> tuple[int, list[Failure]]:
    passed = 0
    failures: list[Failure] = []
    for path in sorted(folder.glob("*.y*ml")):
        text = EXTEND_BLOCK.sub("", path.read_text())
        copy = work / name / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(text)
        try:
            load_flow_files(copy, registry, [])
        except (FlowValidationError, InputError) as exc:
            types = frozenset(UNKNOWN_TYPE.findall(exc.message))
            problems = [
                line
                for line in exc.message.splitlines()[1:]
                if line.strip() and not UNKNOWN_TYPE.search(line)
            ]
            failures.append(Failure(name, path.name, exc.message, types, bool(problems)))
        else:
            passed += 1
    return passed, failures


def unlocking_types(failures: list[Failure]) -> list[tuple[str, int]]:
    """Greedily, the missing type whose addition lets the most failing flows pass."""
    have: set[str] = set()
    order: list[tuple[str, int]] = []
    candidates = [f for f in failures if f.unknown_types and not f.other_problems]
    while True:
        gains: Counter[str] = Counter()
        for failure in candidates:
            missing = failure.unknown_types - have
            if len(missing) == 1:
                gains[next(iter(missing))] += 1
        if not gains:
            return order
        best, count = gains.most_common(1)[0]
        have.add(best)
        order.append((best, count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", metavar="NAME=PATH")
    parser.add_argument(
        "--failures", action="store_true", help="print each failure's first problem"
    )
    parser.add_argument("--top", type=int, default=40, help="how many unlocking types to print")
    args = parser.parse_args()
    registry = TaskRegistry.from_entry_points()
    total = passed_all = 0
    failures: list[Failure] = []
    with tempfile.TemporaryDirectory() as work:
        for spec in args.sets:
            name, _, folder = spec.partition("=")
            passed, failed = validate_set(name, Path(folder), registry, Path(work))
            count = passed + len(failed)
            print(f"{name}: {passed}/{count} valid ({100 * passed / max(count, 1):.0f}%)")
            total += count
            passed_all += passed
            failures += failed
    print(f"all: {passed_all}/{total} valid ({100 * passed_all / max(total, 1):.0f}%)")
    print("\nmissing types, by flows each would let through:")
    for type_name, count in unlocking_types(failures)[: args.top]:
        print(f"  {count:4d}  {type_name}")
    if args.failures:
        print("\nfailures:")
        for failure in failures:
            lines = failure.message.splitlines()
            first = lines[1].strip() if len(lines) > 1 else lines[0]
            print(f"  {failure.set_name}/{failure.file}: {first[:300]}", file=sys.stdout)


if __name__ == "__main__":
    main()
