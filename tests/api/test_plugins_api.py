"""The plugins over real HTTP: the list of types by group, the flow's JSON Schema
(what the UI's editor completes from) and one type's documentation."""

from __future__ import annotations

from tests.api.conftest import ApiServer

P = "/api/v1/plugins"
LOG = "io.kestra.plugin.core.log.Log"


def test_the_list_groups_every_type(api: ApiServer) -> None:
    plugins = api.client.get(P).json()
    by_group = {p["group"]: p for p in plugins}
    assert LOG in by_group["io.kestra.plugin.core.log"]["tasks"]
    triggers = by_group["io.kestra.plugin.core.trigger"]["triggers"]
    assert "io.kestra.plugin.core.trigger.Schedule" in triggers
    conditions = by_group["io.kestra.plugin.core.condition"]["conditions"]
    assert "io.kestra.plugin.core.condition.Expression" in conditions
    page = api.client.get(P, params={"page": 1, "size": 2}).json()
    assert page["total"] == len(plugins) and len(page["results"]) == 2


def test_the_flow_schema_offers_every_task_type(api: ApiServer) -> None:
    schema = api.client.get(f"{P}/schemas/flow").json()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert f"task:{LOG}" in schema["$defs"]
    assert "tasks" in schema["properties"]
    task = api.client.get("/api/v1/main/plugins/schemas/task").json()
    assert task["$ref"] == "#/$defs/Task" and f"task:{LOG}" in task["$defs"]
    other = api.client.get(f"{P}/schemas/template")
    assert other.status_code == 422 and "flow and task" in other.json()["message"]


def test_one_types_documentation(api: ApiServer) -> None:
    doc = api.client.get(f"{P}/{LOG}").json()
    assert doc["cls"] == LOG
    assert "message" in doc["schema"]["properties"]["properties"]
    schedule = api.client.get(f"{P}/io.kestra.plugin.core.trigger.Schedule").json()
    assert "cron" in schedule["schema"]["properties"]["properties"]
    missing = api.client.get(f"{P}/io.kestra.nope.Nope")
    assert missing.status_code == 404 and "GET /api/v1/plugins" in missing.json()["message"]
