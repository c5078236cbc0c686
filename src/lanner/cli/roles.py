"""`lanner server`, `lanner executor`, `lanner worker`: the long-running roles."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from lanner.cli.exitcodes import guarded
from lanner.cli.options import ConfigOpt, Db, Debug, config, open_db, registry

if TYPE_CHECKING:
    from lanner.config import Config


class Level(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


LogLevel = Annotated[
    Level,
    typer.Option(
        "--log-level",
        envvar="LANNER_LOG_LEVEL",
        case_sensitive=False,
        help="Least severe log record written to stderr.",
    ),
]
Host = Annotated[
    str | None,
    typer.Option(
        "--host", envvar="LANNER_HOST", help="HTTP address to listen on (default: server.host)."
    ),
]
Port = Annotated[
    int | None,
    typer.Option(
        "--port",
        envvar="LANNER_PORT",
        min=0,
        max=65535,
        help="HTTP port (default: server.port, 8080; 0 takes a free one).",
    ),
]
Threads = Annotated[
    int | None,
    typer.Option("--threads", min=1, max=256, help="Worker threads (default: worker.threads)."),
]


def register(app: typer.Typer) -> None:
    @app.command()
    @guarded
    def server(
        threads: Threads = None,
        no_worker: Annotated[
            bool, typer.Option("--no-worker", help="Run no worker threads.")
        ] = False,
        host: Host = None,
        port: Port = None,
        db: Db = None,
        config_file: ConfigOpt = None,
        debug: Debug = False,
        log_level: LogLevel = Level.INFO,
    ) -> None:
        """The REST API, executor, worker threads and maintenance in one process, until
        SIGTERM."""
        cfg = config(config_file)
        count = 0 if no_worker else (threads or cfg.worker.threads)
        http = (host or cfg.server.host, cfg.server.port if port is None else port)
        _serve(db, cfg, role="server", executor=True, threads=count, log_level=log_level, http=http)

    @app.command()
    @guarded
    def executor(
        db: Db = None,
        config_file: ConfigOpt = None,
        debug: Debug = False,
        log_level: LogLevel = Level.INFO,
    ) -> None:
        """Only the executor (and the lease reaper), until SIGTERM."""
        cfg = config(config_file)
        _serve(db, cfg, role="executor", executor=True, threads=0, log_level=log_level)

    @app.command()
    @guarded
    def worker(
        threads: Threads = None,
        db: Db = None,
        config_file: ConfigOpt = None,
        debug: Debug = False,
        log_level: LogLevel = Level.INFO,
    ) -> None:
        """Only worker threads, until SIGTERM (running tasks get the grace period)."""
        cfg = config(config_file)
        count = threads or cfg.worker.threads
        _serve(db, cfg, role="worker", executor=False, threads=count, log_level=log_level)


def _serve(
    db: str | None,
    cfg: Config,
    *,
    role: str,
    executor: bool,
    threads: int,
    log_level: str,
    http: tuple[str, int] | None = None,
) -> None:
    from lanner.logs import configure_role
    from lanner.runtime.serve import serve

    configure_role(role, log_level)
    raise SystemExit(
        serve(
            open_db(db), registry(), cfg, role=role, executor=executor, threads=threads, http=http
        )
    )
