"""The crash suite's flows (fixtures are in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

FLOWS = Path(__file__).parent / "flows"
