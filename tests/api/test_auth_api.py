"""`server.basicAuth`: 401 without the credentials, except health."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from lanner.config import Config
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
