"""The README's main command, ./scripts/start.sh: the server on the embedded SQLite
store with the example flows deployed, its web UI and API answering."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, answer.read()


def test_start_sh_serves_the_ui_with_the_examples_deployed(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "LANNER_HOME": str(tmp_path / "home"), "LANNER_PORT": str(port)}
    env.pop("LANNER_DB", None)
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "start.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/health")
                if status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.2)
        status, page = _get(f"http://127.0.0.1:{port}/ui/")
        assert status == 200 and b"<html" in page.lower()
        _, body = _get(f"http://127.0.0.1:{port}/api/v1/main/flows/search?size=100")
        deployed = {f["id"] for f in json.loads(body)["results"]}
        assert deployed == {p.stem for p in (ROOT / "examples" / "flows").glob("*.yml")}
        assert (tmp_path / "home" / "lanner.db").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
