"""Lanner's configuration file (`$LANNER_HOME/config.yml` or `--config FILE`).

```yaml
pluginDefaults:            # instance-level plugin defaults (SPEC §0 decision 9)
  - type: io.kestra.plugin.slack
    forced: true
    values:
      url: http://127.0.0.1:8765/hook
worker:
  threads: 4               # worker threads of `lanner run`, `lanner server`, `lanner worker`
  leaseSeconds: 30         # a claimed job is re-queued when its worker misses renewals this long
  shutdownGraceSeconds: 30 # on SIGTERM, running tasks get this long before they are handed back
executor:
  maxClaims: 3             # a job whose workers were lost this many times ends FAILED (WorkerLost)
  threads: 3               # cycle threads of an executor on PostgreSQL (SQLite: always one)
retention:
  olderThan: P30D          # optional: finalized executions older than this are purged automatically
envPrefix: ENV_            # environment variables exposed as {{ envs.* }}
secrets:
  key: any long random text # encrypts stored secret values; default: $LANNER_HOME/instance.key
storage:                   # internal storage (docs/storage.md)
  type: local              # local (default) or s3
  basePath: /data/lanner   # local: default $LANNER_HOME/storage
  # s3: bucket (required), endpoint, region, accessKey/secretKey (else the AWS
  # environment), prefix
server:                    # `lanner server`'s HTTP API (docs/api.md)
  host: 127.0.0.1
  port: 8080
  basicAuth:               # optional: every request but health needs these credentials
    username: admin
    password: a long password
  url: https://lanner.example.com  # the public base URL, for links in notifications
```

Every process on one store needs the same key (docs/secrets.md).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from lanner.errors import ConfigError, FileReadError
from lanner.expr.sealing import keyring
from lanner.model.common import DurationLike, Model
from lanner.model.flow import PluginDefault
from lanner.model.flowfile import read_flow_text
from lanner.model.yamlsource import YamlError, format_path, load_yaml
from lanner.storage import opening as storage_opening
from lanner.storage.base import Storage


class WorkerConfig(Model):
    threads: int = Field(4, ge=1, le=256)
    leaseSeconds: float = Field(30.0, gt=0, le=3600)
    shutdownGraceSeconds: float = Field(30.0, ge=0, le=86400)


class ExecutorConfig(Model):
    maxClaims: int = Field(3, ge=1, le=100)
    threads: int = Field(3, ge=1, le=64)


class RetentionConfig(Model):
    olderThan: DurationLike | None = None


class SecretsConfig(Model):
    key: str | None = Field(None, min_length=16)


class StorageConfig(Model):
    """Where internal storage lives (lanner.storage.opening reads it)."""

    type: Literal["local", "s3"] = "local"
    basePath: str | None = None
    bucket: str | None = Field(None, min_length=1)
    endpoint: str | None = None
    region: str | None = None
    accessKey: str | None = None
    secretKey: str | None = None
    prefix: str | None = None

    @model_validator(mode="after")
    def _fits_type(self) -> StorageConfig:
        s3_only = ("bucket", "endpoint", "region", "accessKey", "secretKey", "prefix")
        if self.type == "local":
            given = [name for name in s3_only if getattr(self, name) is not None]
            if given:
                raise ValueError(f"{', '.join(given)}: only for `type: s3`")
        else:
            if self.bucket is None:
                raise ValueError("`type: s3` needs a `bucket`")
            if self.basePath is not None:
                raise ValueError("basePath: only for `type: local`")
            if (self.accessKey is None) != (self.secretKey is None):
                raise ValueError("give both accessKey and secretKey, or neither")
        return self


class BasicAuthConfig(Model):
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)


class ServerConfig(Model):
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8080, ge=0, le=65535)
    basicAuth: BasicAuthConfig | None = None
    # The public base URL (https://lanner.example.com), for the links notifications send
    # (docs/configuration: TLS and SSO belong to a reverse proxy in front).
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError(f"'{value}' is not an http(s) URL such as https://lanner.example.com")
        return value.rstrip("/")


class Config(Model):
    # The defaults are valid as they stand: built without validation, they leave the
    # validators of these models unbuilt until a configuration file needs them.
    pluginDefaults: tuple[PluginDefault, ...] = ()
    worker: WorkerConfig = WorkerConfig.model_construct()
    executor: ExecutorConfig = ExecutorConfig.model_construct()
    retention: RetentionConfig = RetentionConfig.model_construct()
    envPrefix: str = "ENV_"
    secrets: SecretsConfig = SecretsConfig.model_construct()
    storage: StorageConfig = StorageConfig.model_construct()
    server: ServerConfig = ServerConfig.model_construct()


def lanner_home() -> Path:
    return Path(os.environ.get("LANNER_HOME") or Path.home() / ".lanner")


def load_config(path: str | Path | None = None) -> Config:
    """The given file (it must exist), else `$LANNER_HOME/config.yml` when present, else
    defaults. Its secrets key becomes the process's (lanner.expr.sealing)."""
    config = _load_config(path)
    keyring.configure(config.secrets.key)
    return config


def _load_config(path: str | Path | None) -> Config:
    if path is None:
        default = lanner_home() / "config.yml"
        if not default.exists():
            return Config.model_construct()  # Config(), without building its validator
        path = default
    name = str(path)
    try:
        # A regular file of bounded size only: a FIFO or /dev/zero must not hang the process.
        text = read_flow_text(path, kind="configuration file")
    except FileReadError as exc:
        raise ConfigError(exc.message) from None
    try:
        data, smap = load_yaml(text, name)
    except YamlError as exc:
        raise ConfigError("\n".join(p.render() for p in exc.problems)) from None
    try:
        return Config.model_validate(data or {})
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            line, col = smap.locate(loc)
            lines.append(f"{name}:{line}:{col}: {format_path(loc)}: {err['msg']}")
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(lines)) from None


def open_storage(config: Config) -> Storage:
    """The internal storage the configuration names (default: `$LANNER_HOME/storage`)."""
    return storage_opening.open_storage(config.storage, lanner_home())


def env_variables(prefix: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """`ENV_FOO=1` -> `{{ envs.foo }}` (Kestra's convention)."""
    env = os.environ if environ is None else environ
    return {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
