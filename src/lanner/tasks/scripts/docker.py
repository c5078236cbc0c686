"""The Docker task runner: accepted in flows, never run here.

Lanner runs scripts as local processes. A task that asks for
`io.kestra.plugin.scripts.runner.docker.Docker` fails with a message saying
how to run it with the Process runner instead, for one task or (with an
instance-level forced plugin default) for every flow. Whether a Docker
engine is reachable is looked at (its socket, not the `docker` binary) only
to word that message.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

from lanner.tasks.scripts.model import DOCKER_RUNNER, PROCESS_RUNNER

_DEFAULT_SOCKET = "/var/run/docker.sock"
_CONNECT_SECONDS = 0.5

SWITCH = (
    f"set `taskRunner: {{type: {PROCESS_RUNNER}}}` on the task, or for every flow add to"
    " Lanner's config.yml: pluginDefaults: [{type: io.kestra.plugin.scripts, forced: true,"
    f" values: {{taskRunner: {{type: {PROCESS_RUNNER}}}}}}}] (docs/tasks-scripts.md)"
)


def engine_address() -> str | None:
    """Where a Docker engine answers (DOCKER_HOST, else the default socket); None when
    none does."""
    host = os.environ.get("DOCKER_HOST") or f"unix://{_DEFAULT_SOCKET}"
    parts = urlsplit(host)
    try:
        if parts.scheme == "unix":
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(_CONNECT_SECONDS)
                sock.connect(parts.path)
        elif parts.scheme in ("tcp", "http", "https") and parts.hostname:
            port = parts.port or (2376 if parts.scheme == "https" else 2375)
            socket.create_connection((parts.hostname, port), _CONNECT_SECONDS).close()
        else:
            return None
    except OSError:
        return None
    return host


def docker_refusal() -> str:
    """Why a task with the Docker runner does not run here, and how to run it."""
    address = engine_address()
    if address is None:
        return (
            f"the task runner {DOCKER_RUNNER} needs a Docker engine and none is reachable"
            f" (DOCKER_HOST or {_DEFAULT_SOCKET}); to run the script as a local process, {SWITCH}"
        )
    return (
        f"the task runner {DOCKER_RUNNER} is not supported here yet (a Docker engine answers"
        f" at {address}, but Lanner runs scripts as local processes); {SWITCH}"
    )
