"""The CI plugin that fails a run in which a test was skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pytest(tmp_path: Path, body: str) -> int:
    (tmp_path / "test_one.py").write_text(f"import pytest\n\n\ndef test_one():\n    {body}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.support.no_skips",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode


@pytest.mark.parametrize(
    ("body", "code"),
    [("pytest.skip('no service')", 1), ("pass", 0), ("assert False", 1)],
    ids=["skipped", "passed", "failed"],
)
def test_a_skip_fails_the_run(tmp_path: Path, body: str, code: int) -> None:
    assert _pytest(tmp_path, body) == code
