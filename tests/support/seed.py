"""The seed flows: the three flows the project was specified with, kept
byte-for-byte unchanged in `examples/flows/` beside the other examples.

The tests read them only from the checkout (never from a directory beside it),
so a fresh clone runs the whole suite. `SEED_SHA256` holds the digests of the
originals: a test checks the copies were not edited.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = ROOT / "examples" / "flows"
SEED_SHA256 = {
    "after_execution_errors.yml": "9d9dcb93fb19c5bcb71dcb7878d815e5a37c3602553fec3885257ea4d1130032",
    "alerts_demo.yml": "67e671646673c09f3fdcbab2c11516006b6009a0c0d7c6fb8307f460cbd83b09",
    "state_demo.yml": "9c558d8c0e3f4301b80f871d9568dddb27100ae96c9f9dbcd3542366a7bafe7f",
}
SEED_FLOWS = [SEED_DIR / name for name in sorted(SEED_SHA256)]


def seed_only_dir(parent: Path) -> Path:
    """A new directory under `parent` holding the seed flows and nothing else
    (`examples/flows/` holds the other examples too)."""
    target = parent / "seed-flows"
    target.mkdir()
    for path in SEED_FLOWS:
        shutil.copyfile(path, target / path.name)
    return target
