"""`server.basicAuth`: 401 without the credentials, except health; the `server`
configuration section."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lanner.config import Config, load_config
from lanner.errors import ConfigError
from tests.api.conftest import API, ApiServer


def test_basic_auth(api_factory: Callable[[Config], ApiServer]) -> None:
    config = Config.model_validate(
        {"server": {"basicAuth": {"username": "admin", "password": "s3cret-pass"}}}
    )
    api = api_factory(config)
    with httpx.Client(base_url=api.url) as anonymous:
        refused = anonymous.get(f"{API}/flows/search")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic")
        assert "basic authentication" in refused.json()["message"]
        assert anonymous.get("/health").json() == {"status": "UP"}
        wrong = anonymous.get(f"{API}/flows/search", auth=("admin", "nope"))
        assert wrong.status_code == 401
        garbled = anonymous.get(f"{API}/flows/search", headers={"Authorization": "Basic %%%"})
        assert garbled.status_code == 401
        right = anonymous.get(f"{API}/flows/search", auth=("admin", "s3cret-pass"))
        assert right.status_code == 200 and right.json() == {"results": [], "total": 0}


def test_no_auth_configured_means_open(api: ApiServer) -> None:
    assert api.client.get(f"{API}/flows/search").status_code == 200
    assert api.client.get("/openapi.json").json()["info"]["title"] == "Lanner"


def test_the_server_section_is_checked_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("server:\n  port: 70000\n  basicAuth:\n    username: admin\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = caught.value.message
    assert f"{path}:2:" in message and "server.port" in message
    assert "server.basicAuth.password" in message
    path.write_text("server:\n  host: 0.0.0.0\n  port: 9000\n")
    server = load_config(path).server
    assert (server.host, server.port, server.basicAuth) == ("0.0.0.0", 9000, None)
