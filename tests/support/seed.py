"""Where the seed flows are: `../shared/seed/flows/` beside the checkout (as in CI),
else the unchanged copies in `examples/flows/` (a test checks they are identical)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_SEED_DIR = ROOT.parent / "shared" / "seed" / "flows"
SEED_NAMES = ("after_execution_errors.yml", "alerts_demo.yml", "state_demo.yml")
SEED_DIR = SHARED_SEED_DIR if SHARED_SEED_DIR.is_dir() else ROOT / "examples" / "flows"
SEED_FLOWS = [SEED_DIR / name for name in SEED_NAMES]
