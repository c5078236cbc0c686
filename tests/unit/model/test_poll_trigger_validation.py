"""The polling triggers as the flow loads them: the S3 Trigger and each JDBC Trigger,
Kestra's documented examples accepted, what Lanner does not do rejected with the
reason and the place, plugin defaults applied to them."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.model.flow import PluginDefault
from lanner.model.triggers import HttpTrigger, JdbcTrigger, S3Trigger
from tests.unit.model.flowtools import flow_data, load, problems

S3T = "io.kestra.plugin.aws.s3.Trigger"
HTTPT = "io.kestra.plugin.core.http.Trigger"


def _flow(**trigger: Any) -> dict[str, Any]:
    return flow_data(triggers=[{"id": "watch", **trigger}])


VALID: list[tuple[dict[str, Any], type]] = [
    # Kestra's plugin documentation examples.
    (
        {
            "type": S3T,
            "interval": "PT5M",
            "accessKeyId": "{{ secret('AWS_ACCESS_KEY_ID') }}",
            "secretKeyId": "{{ secret('AWS_SECRET_KEY_ID') }}",
            "region": "eu-central-1",
            "bucket": "my-bucket",
            "prefix": "sub-dir",
            "action": "MOVE",
            "moveTo": {"key": "archive", "bucket": "new-bucket"},
        },
        S3Trigger,
    ),
    ({"type": S3T, "bucket": "b", "action": "NONE", "filter": "FILES", "maxKeys": 1}, S3Trigger),
    (
        {"type": S3T, "bucket": "b", "action": "DELETE", "on": "CREATE", "stopAfter": ["FAILED"]},
        S3Trigger,
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.postgresql.Trigger",
            "url": "jdbc:postgresql://127.0.0.1:5432/",
            "username": "postgres",
            "password": "{{ secret('PG') }}",
            "sql": "SELECT * FROM my_table",
            "interval": "PT30S",
            "fetchType": "FETCH",
        },
        JdbcTrigger,
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.mysql.Trigger",
            "url": "jdbc:mysql://h/db",
            "sql": "select 1",
        },
        JdbcTrigger,
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.mariadb.Trigger",
            "url": "jdbc:mariadb://h/db",
            "sql": "select 1",
            "fetchType": "STORE",
        },
        JdbcTrigger,
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.sqlite.Trigger",
            "url": "jdbc:sqlite:/tmp/x.db",
            "sql": "select 1",
        },
        JdbcTrigger,
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.duckdb.Trigger",
            "url": "jdbc:duckdb:",
            "sql": "select 1",
            "fetchType": "FETCH_ONE",
        },
        JdbcTrigger,
    ),
    # Kestra's HTTP Trigger documentation examples, and its old name.
    (
        {
            "type": HTTPT,
            "uri": "https://fakestoreapi.com/products/1",
            "responseCondition": "{{ json(response.body).price <= 110 }}",
            "interval": "PT30S",
            "stopAfter": ["SUCCESS"],
        },
        HttpTrigger,
    ),
    (
        {
            "type": "io.kestra.plugin.fs.http.Trigger",
            "uri": "https://api.chucknorris.io/jokes/random",
            "responseCondition": "{{ response.statusCode == 200 }}",
            "stopAfter": ["SUCCESS"],
        },
        HttpTrigger,
    ),
    (
        {
            "type": HTTPT,
            "uri": "{{ vars.endpoint }}/status",
            "method": "POST",
            "body": '{"q": 1}',
            "contentType": "application/json",
            "headers": {"Authorization": "Bearer {{ secret('TOKEN') }}"},
            "options": {"timeout": {"connectTimeout": "PT5S"}, "auth": {"type": "BEARER"}},
            "encryptBody": False,
        },
        HttpTrigger,
    ),
    # Conditions: checked before each evaluation, against its date.
    (
        {
            "type": S3T,
            "bucket": "b",
            "action": "MOVE",
            "moveTo": {"key": "archive"},
            "conditions": [
                {"type": "io.kestra.plugin.core.condition.Weekend"},
                {
                    "type": "io.kestra.plugin.core.condition.Not",
                    "conditions": [
                        {
                            "type": "io.kestra.plugin.core.condition.TimeBetween",
                            "after": "22:00:00+01:00",
                        }
                    ],
                },
            ],
        },
        S3Trigger,
    ),
    (
        {
            "type": HTTPT,
            "uri": "http://h",
            "conditions": [
                {"type": "io.kestra.plugin.core.condition.DayWeek", "dayOfWeek": "MONDAY"},
                {
                    "type": "io.kestra.plugin.core.condition.Expression",
                    "expression": "{{ vars.enabled }}",
                },
            ],
        },
        HttpTrigger,
    ),
]


@pytest.mark.parametrize(("props", "model"), VALID)
def test_documented_polling_triggers_load(props: dict[str, Any], model: type) -> None:
    flow = load(_flow(**props))
    assert flow.triggers is not None and type(flow.triggers[0]) is model


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"type": S3T, "bucket": "b"}, "triggers[0].action", "missing required"),
    ({"type": S3T, "bucket": "b", "action": "MOVE"}, "triggers[0]", "action MOVE needs moveTo"),
    ({"type": S3T, "bucket": "b", "action": "NONE", "on": "DELETE"}, "triggers[0].on", "CREATE"),
    (
        {"type": S3T, "bucket": "b", "action": "NONE", "interval": "PT0.1S"},
        "triggers[0].interval",
        "at least PT1S",
    ),
    (
        {"type": S3T, "bucket": "b", "action": "NONE", "stsRoleArn": "arn:x"},
        "triggers[0].stsRoleArn",
        "STS",
    ),
    (
        {
            "type": S3T,
            "bucket": "b",
            "action": "NONE",
            "conditions": [
                {"type": "io.kestra.plugin.core.condition.ExecutionStatus", "in": ["FAILED"]}
            ],
        },
        "triggers[0]",
        "'ExecutionStatus' is not supported here on a polling trigger: it needs an upstream",
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.sqlite.Trigger",
            "url": "jdbc:sqlite:x.db",
            "sql": "select 1",
            "conditions": [
                {
                    "type": "io.kestra.plugin.core.condition.Or",
                    "conditions": [{"type": "io.kestra.plugin.core.condition.PublicHoliday"}],
                }
            ],
        },
        "triggers[0]",
        "no holiday calendar",
    ),
    (
        {"type": S3T, "bucket": "b", "action": "NONE", "allowConcurrent": False},
        "triggers[0].allowConcurrent",
        "not supported here",
    ),
    (
        {"type": S3T, "bucket": "b", "action": "NONE", "acl": "private"},
        "triggers[0].acl",
        "unknown",
    ),
    (
        {"type": "io.kestra.plugin.jdbc.postgresql.Trigger", "sql": "select 1"},
        "triggers[0].url",
        "missing required",
    ),
    (
        {"type": "io.kestra.plugin.jdbc.postgresql.Trigger", "url": "postgres://h/db", "sql": "s"},
        "triggers[0].url",
        "JDBC URL",
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.mysql.Trigger",
            "url": "jdbc:postgresql://h/db",
            "sql": "s",
        },
        "triggers[0].url",
        "is not a mysql JDBC URL",
    ),
    (
        {"type": "io.kestra.plugin.jdbc.duckdb.Trigger", "url": "jdbc:sqlite:x.db", "sql": "s"},
        "triggers[0].url",
        "is not a duckdb JDBC URL",
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.sqlite.Trigger",
            "url": "jdbc:sqlite:",
            "sql": "s",
            "fetchType": "ALL",
        },
        "triggers[0].fetchType",
        "FETCH",
    ),
    (
        {
            "type": "io.kestra.plugin.jdbc.duckdb.Trigger",
            "url": "jdbc:duckdb:",
            "sql": "s",
            "databaseUri": "kestra:///x",
        },
        "triggers[0].databaseUri",
        "unknown",
    ),
    ({"type": HTTPT}, "triggers[0].uri", "missing required"),
    ({"type": HTTPT, "uri": "ftp://h/x"}, "triggers[0].uri", "http://"),
    ({"type": HTTPT, "uri": "http://h", "method": "FETCH"}, "triggers[0].method", "GET"),
    (
        {"type": HTTPT, "uri": "http://h", "encryptBody": True},
        "triggers[0].encryptBody",
        "not supported here",
    ),
    (
        {"type": HTTPT, "uri": "http://h", "params": {"a": 1}},
        "triggers[0].params",
        "not supported here",
    ),
    (
        {"type": HTTPT, "uri": "http://h", "options": {"allowFailed": False}},
        "triggers[0]",
        "responseCondition",
    ),
    (
        {
            "type": HTTPT,
            "uri": "http://h",
            "conditions": [{"type": "io.kestra.plugin.core.condition.ExecutionFlow"}],
        },
        "triggers[0].conditions[0].namespace",
        "missing required",
    ),
    (
        {"type": HTTPT, "uri": "http://h", "options": {"retry": 3}},
        "triggers[0].options.retry",
        "unknown",
    ),
]


@pytest.mark.parametrize(("props", "path", "fragment"), INVALID)
def test_what_a_polling_trigger_does_not_do_is_rejected_in_place(
    props: dict[str, Any], path: str, fragment: str
) -> None:
    found = problems(_flow(**props))
    matching = [p for p in found if p.path == path]
    assert matching, [(p.path, p.message) for p in found]
    assert fragment in matching[0].message
    assert matching[0].line is not None


def test_plugin_defaults_apply_to_polling_triggers() -> None:
    data = _flow(type=S3T, bucket="b", action="NONE")
    data["pluginDefaults"] = [
        {"type": "io.kestra.plugin.aws.s3", "values": {"endpointOverride": "http://127.0.0.1:9000"}}
    ]
    flow = load(data)
    assert flow.triggers is not None
    trigger = flow.triggers[0]
    assert isinstance(trigger, S3Trigger) and trigger.endpointOverride == "http://127.0.0.1:9000"
    instance = PluginDefault.model_validate(
        {"type": "io.kestra.plugin.jdbc", "forced": True, "values": {"username": "reader"}}
    )
    pg = _flow(
        type="io.kestra.plugin.jdbc.postgresql.Trigger",
        url="jdbc:postgresql://h/db",
        sql="s",
        username="me",
    )
    loaded = load(pg, defaults=[instance])
    assert loaded.triggers is not None
    jdbc = loaded.triggers[0]
    assert isinstance(jdbc, JdbcTrigger) and jdbc.username == "reader"  # forced wins


def test_plugin_defaults_apply_to_the_http_trigger_under_its_old_name_too() -> None:
    data = _flow(type="io.kestra.plugin.fs.http.Trigger", uri="http://h")
    data["pluginDefaults"] = [
        {"type": "io.kestra.plugin.core.http", "values": {"headers": {"X-Team": "a"}}}
    ]
    flow = load(data)
    assert flow.triggers is not None
    trigger = flow.triggers[0]
    assert isinstance(trigger, HttpTrigger) and trigger.headers == {"X-Team": "a"}
