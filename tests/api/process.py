"""A real `lanner server` process on a free port, for the tests that need one."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LANNER = str(Path(sys.executable).parent / "lanner")


@contextmanager
def lanner_server(tmp_path: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    env = {**os.environ, "LANNER_HOME": str(tmp_path), "LANNER_PORT": "0"}
    env.pop("LANNER_DB", None)
    log = tmp_path / f"server-{len(list(tmp_path.glob('server-*')))}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [LANNER, "server", *args], env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            found = re.search(r"API on (http://\S+)/api/v1/main", log.read_text())
            if found:
                break
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield found.group(1), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(60)
