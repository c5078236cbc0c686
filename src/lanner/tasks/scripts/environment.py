"""The environment a script runs with: an allow-list, never Lanner's own.

A script gets PATH, HOME, the locale and a few basics of the host, its
task's `env`, and the variables Kestra documents for its task runners
(`WORKING_DIR`). The machine's configuration of pip and of TLS trust and
proxies passes too, so that `pip install` in `beforeCommands` reaches the
package index this machine is set up for. Nothing else of Lanner's process
does: not `LANNER_*` (the store's address, the instance's settings), not
`SECRET_*` (secret values), not anything an operator exported to run Lanner.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

BASICS = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME")
# How this machine reaches package indexes: pip's settings, TLS trust, proxies.
TOOLING = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
TOOLING_PREFIXES = ("PIP_",)
_FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin"


def host_basics(host: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed variables of the host environment."""
    host = os.environ if host is None else host
    kept = {k: v for k, v in host.items() if k in BASICS or k in TOOLING}
    kept.update({k: v for k, v in host.items() if k.startswith(TOOLING_PREFIXES)})
    kept.setdefault("PATH", _FALLBACK_PATH)
    return kept


def script_env(
    own: Mapping[str, str] | None,
    working_dir: Path,
    *,
    bin_first: Path | None = None,
    virtual_env: Path | None = None,
    host: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A script's whole environment: the host's basics, Kestra's variables, then its own `env`."""
    env = host_basics(host)
    if bin_first is not None:
        env["PATH"] = f"{bin_first}{os.pathsep}{env['PATH']}"
    if virtual_env is not None:
        env["VIRTUAL_ENV"] = str(virtual_env)
        # Python buffers a pipe's output in blocks: unbuffered, each line is
        # a log line as soon as it is printed (a task's `env` may say otherwise).
        env["PYTHONUNBUFFERED"] = "1"
    env["WORKING_DIR"] = str(working_dir)
    env.update(own or {})
    return env
