"""JDBC URLs as Kestra's flows write them, read into what a Python driver takes.

`jdbc:postgresql://host[:port]/[db][?k=v&...]`, `jdbc:mysql://...`,
`jdbc:mariadb://...`, `jdbc:sqlite:PATH` (`jdbc:sqlite:` and
`jdbc:sqlite::memory:` are in memory), `jdbc:duckdb:[PATH][?k=v]`
(`jdbc:duckdb:` is in memory). Query parameters are kept as written; each
driver says which it understands (drivers.py) and refuses the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

SERVER_KINDS = ("postgresql", "mysql", "mariadb")
FILE_KINDS = ("sqlite", "duckdb")


class JdbcUrlError(ValueError):
    """A JDBC URL that cannot be read."""


@dataclass(frozen=True)
class JdbcUrl:
    kind: str  # postgresql, mysql, mariadb, sqlite, duckdb
    host: str | None = None
    port: int | None = None
    database: str | None = None
    path: str | None = None  # sqlite/duckdb: the file, None in memory
    params: dict[str, str] = field(default_factory=dict)


_EXAMPLES = {
    "postgresql": "jdbc:postgresql://127.0.0.1:5432/mydb",
    "mysql": "jdbc:mysql://127.0.0.1:3306/mydb",
    "mariadb": "jdbc:mariadb://127.0.0.1:3306/mydb",
    "sqlite": "jdbc:sqlite:/path/to/file.db or jdbc:sqlite::memory:",
    "duckdb": "jdbc:duckdb:/path/to/file.duckdb or jdbc:duckdb:",
}


def parse_jdbc_url(url: str, kind: str) -> JdbcUrl:
    """Read `url` as a JDBC URL of `kind`; JdbcUrlError says what is wrong."""
    text = url.strip()
    prefix = f"jdbc:{kind}:"
    if not text.lower().startswith(prefix):
        raise JdbcUrlError(
            f"url: {url!r} is not a {kind} JDBC URL (expected e.g. {_EXAMPLES[kind]})"
        )
    rest = text[len(prefix) :]
    rest, _, query = rest.partition("?")
    params = _params(url, query)
    if kind in FILE_KINDS:
        return _file_url(url, kind, rest, params)
    return _server_url(url, kind, rest, params)


def _params(url: str, query: str) -> dict[str, str]:
    if not query:
        return {}
    # JDBC drivers also accept ';' between properties (MariaDB, DuckDB).
    try:
        pairs = parse_qsl(query.replace(";", "&"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise JdbcUrlError(f"url: cannot read the parameters of {url!r} (k=v&k2=v2)") from None
    return dict(pairs)


def _file_url(url: str, kind: str, rest: str, params: dict[str, str]) -> JdbcUrl:
    if rest in ("", ":memory:", "memory:"):
        return JdbcUrl(kind, params=params)
    if kind == "duckdb" and rest.startswith("md:"):
        raise JdbcUrlError(
            f"url: {url!r}: MotherDuck (md:) is not supported here; give a local file or jdbc:duckdb:"
        )
    if rest.startswith("file:"):
        rest = rest[len("file:") :]
    if rest.startswith("//"):
        raise JdbcUrlError(f"url: {url!r}: a {kind} URL names a file, e.g. {_EXAMPLES[kind]}")
    return JdbcUrl(kind, path=unquote(rest), params=params)


def _server_url(url: str, kind: str, rest: str, params: dict[str, str]) -> JdbcUrl:
    if not rest.startswith("//"):
        if kind == "postgresql" and rest and "/" not in rest:
            # jdbc:postgresql:database, on localhost.
            return JdbcUrl(kind, host="localhost", database=unquote(rest), params=params)
        raise JdbcUrlError(f"url: {url!r} has no //host part (expected e.g. {_EXAMPLES[kind]})")
    authority, _, database = rest[2:].partition("/")
    if "@" in authority:
        raise JdbcUrlError(f"url: {url!r}: give the user in `username`, not before the host")
    if "," in authority:
        raise JdbcUrlError(f"url: {url!r}: several hosts (fail-over) are not supported here")
    host, port = _host_port(url, authority)
    return JdbcUrl(
        kind,
        host=host or "localhost",
        port=port,
        database=unquote(database) or None,
        params=params,
    )


def _host_port(url: str, authority: str) -> tuple[str, int | None]:
    if authority.startswith("["):  # [::1]:5432
        host, _, after = authority[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, _, port_text = authority.partition(":")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise JdbcUrlError(f"url: {url!r}: {port_text!r} is not a port number")
    return host, int(port_text)
