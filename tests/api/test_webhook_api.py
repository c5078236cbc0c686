"""The Webhook trigger's endpoint over real HTTP: body, headers and parameters in
`trigger.*`, the trigger's inputs and labels, `wait`/`returnOutputs`/
`responseContentType`, conditions (204), unknown flows and keys (404), a key
kept in a secret, and the endpoint open under basicAuth."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest

from lanner.config import Config
from tests.api.conftest import API, ApiServer

HOOKED = """\
id: hooked
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: nobody
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.body.name }} {{ trigger.parameters.lang[0] }} {{ inputs.who }}"
outputs:
  - id: greeting
    type: STRING
    value: "hello {{ trigger.body.name }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: s3cr3t-key
    inputs:
      who: "{{ trigger.headers['x-user'][0] }}"
    labels:
      source: "{{ trigger.parameters.lang[0] }}"
  - id: waiting
    type: io.kestra.plugin.core.trigger.Webhook
    key: wait-key
    wait: true
  - id: outputs
    type: io.kestra.plugin.core.trigger.Webhook
    key: out-key
    wait: true
    returnOutputs: true
  - id: text
    type: io.kestra.plugin.core.trigger.Webhook
    key: text-key
    wait: true
    returnOutputs: true
    responseContentType: text/plain
  - id: picky
    type: io.kestra.plugin.core.trigger.Webhook
    key: picky-key
    conditions:
      - type: io.kestra.plugin.core.condition.Expression
        expression: "{{ trigger.body.name == 'Ada' }}"
  - id: off
    type: io.kestra.plugin.core.trigger.Webhook
    key: off-key
    disabled: true
"""

SECRET_KEY = """\
id: guarded
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: called
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: "{{ secret('HOOK_KEY') }}"
"""

EN = {"lang": "en"}
HOOK = f"{API}/executions/webhook/company.team/hooked"


def test_a_post_starts_an_execution_with_the_request_in_trigger(api_on_db: ApiServer) -> None:
    api = api_on_db  # on SQLite and PostgreSQL
    api.deploy(HOOKED)
    resp = api.client.post(
        f"{HOOK}/s3cr3t-key",
        params={"lang": "fr"},
        json={"name": "Ada"},
        headers={"X-User": "grace"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["namespace"] == "company.team" and body["flowId"] == "hooked"
    assert body["trigger"]["id"] == "hook"
    assert body["trigger"]["type"] == "io.kestra.plugin.core.trigger.Webhook"
    variables = body["trigger"]["variables"]
    assert variables["body"] == {"name": "Ada"}
    assert variables["parameters"] == {"lang": ["fr"]}
    assert variables["headers"]["x-user"] == ["grace"]
    assert {"key": "source", "value": "fr"} in body["labels"]
    done = api.client.get(f"{API}/executions/{body['id']}").json()
    assert done["inputs"] == {"who": "grace"}
    # The execution runs: its log shows what the trigger carried.
    for _ in range(200):
        logs = api.client.get(f"{API}/logs/{body['id']}").json()
        if logs:
            break
        time.sleep(0.05)
    assert [e["message"] for e in logs] == ["Ada fr grace"]


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_every_method_and_a_trailing_path_segment_are_served(api: ApiServer, method: str) -> None:
    api.deploy(HOOKED)
    for url in (
        f"{HOOK}/wait-key",
        f"{HOOK}/wait-key/some/path",
        "/api/v1/executions/webhook/company.team/hooked/wait-key",
    ):
        resp = api.client.request(method, url, content=b"plain text")
        assert resp.status_code == 200, (url, resp.text)
        assert resp.json()["trigger"]["variables"]["body"] == "plain text"


def test_a_template_that_does_not_render_is_a_422_naming_the_trigger(api: ApiServer) -> None:
    api.deploy(HOOKED)
    resp = api.client.post(f"{HOOK}/s3cr3t-key", json={"name": "Ada"})
    assert resp.status_code == 422
    assert "Webhook company.team.hooked.hook" in resp.json()["message"]


def test_wait_answers_with_the_ended_execution_and_return_outputs_with_the_outputs(
    api: ApiServer,
) -> None:
    api.deploy(HOOKED)
    ended = api.client.post(f"{HOOK}/wait-key", params=EN, json={"name": "Bo"}).json()
    assert ended["state"]["current"] == "SUCCESS"
    assert ended["outputs"] == {"greeting": "hello Bo"}
    outputs = api.client.post(f"{HOOK}/out-key", params=EN, json={"name": "Cy"})
    assert outputs.headers["content-type"].startswith("application/json")
    assert outputs.json() == {"greeting": "hello Cy"}
    text = api.client.post(f"{HOOK}/text-key", params=EN, json={"name": "Di"})
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == "hello Di"


def test_unmet_conditions_answer_204_and_start_nothing(api: ApiServer) -> None:
    api.deploy(HOOKED)
    assert api.client.post(f"{HOOK}/picky-key", json={"name": "Bob"}).status_code == 204
    assert api.client.post(f"{HOOK}/picky-key", json={"name": "Ada"}).status_code == 200
    found = api.client.get(f"{API}/executions/search").json()
    assert found["total"] == 1


def test_unknown_flows_keys_and_disabled_triggers_are_404(api: ApiServer) -> None:
    api.deploy(HOOKED)
    assert api.client.post(f"{HOOK}/wrong-key").status_code == 404
    assert api.client.post(f"{HOOK}/off-key").status_code == 404
    missing = api.client.post(f"{API}/executions/webhook/company.team/nope/s3cr3t-key")
    assert missing.status_code == 404
    assert "webhook not found" in missing.json()["message"]


def test_a_key_kept_in_a_secret(api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_HOOK_KEY", base64.b64encode(b"from-the-vault").decode())
    api.deploy(SECRET_KEY)
    url = f"{API}/executions/webhook/company.team/guarded"
    assert api.client.post(f"{url}/from-the-vault").status_code == 200
    assert api.client.post(f"{url}/{{{{ secret('HOOK_KEY') }}}}").status_code == 404


def test_the_webhook_stays_open_under_basic_auth(
    api_factory: Callable[[Config], ApiServer],
) -> None:
    config = Config.model_validate({"server": {"basicAuth": {"username": "u", "password": "p"}}})
    api = api_factory(config)
    auth = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
    resp = api.client.post(
        f"{API}/flows",
        content=HOOKED,
        headers={"Content-Type": "application/x-yaml", **auth},
    )
    assert resp.status_code == 200, resp.text
    assert api.client.post(f"{HOOK}/wait-key", params=EN).status_code == 200
    assert api.client.get(f"{API}/executions/search").status_code == 401


COUNTED = """\
id: counted
namespace: company.team
inputs:
  - id: count
    type: INT
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.count }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: count-key
    inputs:
      count: "{{ trigger.body.count }}"
"""


def test_a_bad_input_is_a_422_naming_it_and_starts_nothing(api: ApiServer) -> None:
    api.deploy(COUNTED)
    url = f"{API}/executions/webhook/company.team/counted/count-key"
    bad = api.client.post(url, json={"count": "many"})
    assert bad.status_code == 422, bad.text
    assert "count" in bad.json()["message"]
    assert api.client.get(f"{API}/executions/search").json()["total"] == 0
    good = api.client.post(url, json={"count": 3})
    assert good.status_code == 200, good.text
