"""The configuration file is read like a flow file: a regular file of bounded size only."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

READ = "from lanner.config import load_config; load_config({path!r})"


def _limit_memory() -> None:
    # Reading /dev/zero unbounded would take the machine's memory before failing.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "too-large"])
def test_a_configuration_that_is_not_a_small_regular_file_is_refused_at_once(
    kind: str, tmp_path: Path
) -> None:
    path = tmp_path / "config.yml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_text("# padding\n" * 200_000)
    done = subprocess.run(
        [sys.executable, "-c", READ.format(path=str(path))],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )
    assert done.returncode != 0
    assert "ConfigError" in done.stderr
    assert str(path) in done.stderr


def test_server_url_is_the_public_base_url(tmp_path: Path) -> None:
    from lanner.config import load_config
    from lanner.errors import ConfigError

    path = tmp_path / "config.yml"
    path.write_text("server:\n  url: https://lanner.example.com/base/\n")
    assert load_config(path).server.url == "https://lanner.example.com/base"
    assert load_config(tmp_path / "config.yml").server.port == 8080
    path.write_text("server:\n  url: lanner.example.com\n")
    with pytest.raises(
        ConfigError,
        match=r"config.yml:2:3: server.url: Value error, .lanner.example.com. is not an http\(s\) URL",
    ):
        load_config(path)
