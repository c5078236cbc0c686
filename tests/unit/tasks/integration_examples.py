"""Validation examples of the JDBC, mail and chat task types and of the Ion item tasks,
for tests/unit/model/test_task_validation.py's tables (kept here, beside their tests)."""

from __future__ import annotations

from typing import Any

JDBC = "io.kestra.plugin.jdbc."
NOTIFY = "io.kestra.plugin.notifications."
STORAGE = "io.kestra.plugin.core.storage."
URI = "kestra:///company/team/f/executions/E/tasks/t/TR/rows.ion"
PG = "jdbc:postgresql://127.0.0.1:5432/db"
HOOK = "http://127.0.0.1:8765/hook"

VALID: dict[str, list[dict[str, Any]]] = {
    JDBC + "postgresql.Query": [
        {"url": PG, "sql": "select 1", "fetchType": "FETCH_ONE"},
        {"url": PG, "username": "u", "password": "{{ secret('PG') }}", "sql": "select :a"},
    ],
    JDBC + "postgresql.Queries": [{"url": PG, "sql": "select 1; select 2"}],
    JDBC + "postgresql.CopyOut": [{"url": PG, "table": "orders", "format": "CSV"}],
    JDBC + "postgresql.CopyIn": [{"url": PG, "table": "orders", "from": URI}],
    JDBC + "mysql.Query": [{"url": "jdbc:mysql://127.0.0.1:3306/test", "sql": "select 1"}],
    JDBC + "mysql.Queries": [{"url": "jdbc:mysql://127.0.0.1:3306/test", "sql": "select 1"}],
    JDBC + "mariadb.Query": [{"url": "jdbc:mariadb://127.0.0.1:3306/test", "sql": "select 1"}],
    JDBC + "mariadb.Queries": [{"url": "jdbc:mariadb://127.0.0.1:3306/test", "sql": "select 1"}],
    JDBC + "sqlite.Query": [{"url": "jdbc:sqlite::memory:", "sql": "select 1"}],
    JDBC + "sqlite.Queries": [{"url": "jdbc:sqlite::memory:", "sql": "select 1; select 2"}],
    JDBC + "duckdb.Query": [{"sql": "select 42", "fetchType": "FETCH"}],
    JDBC + "duckdb.Queries": [{"sql": "select 1; select 2"}],
    "io.kestra.plugin.email.MailSend": [
        {"host": "127.0.0.1", "port": 25, "from": "a@example.com", "to": "b@example.com; c@d.org"},
    ],
    NOTIFY + "discord.DiscordIncomingWebhook": [{"url": HOOK, "payload": '{"content": "hi"}'}],
    NOTIFY + "teams.TeamsIncomingWebhook": [{"url": HOOK, "payload": '{"text": "hi"}'}],
    NOTIFY + "google.GoogleChatIncomingWebhook": [{"url": HOOK, "payload": '{"text": "hi"}'}],
    NOTIFY + "zulip.ZulipIncomingWebhook": [{"url": HOOK, "payload": '{"text": "hi"}'}],
    STORAGE + "FilterItems": [{"from": URI, "filterCondition": "{{ value % 2 == 0 }}"}],
    STORAGE + "DeduplicateItems": [{"from": URI, "expr": "{{ id }}"}],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    JDBC + "postgresql.Query": [({"url": PG}, "sql", "missing required property 'sql'")],
    JDBC + "postgresql.Queries": [({"sql": "select 1"}, "url", "missing required property")],
    JDBC + "postgresql.CopyOut": [
        ({"url": PG, "table": "t", "formatt": "CSV"}, "formatt", "unknown")
    ],
    JDBC + "postgresql.CopyIn": [({"url": PG, "table": "t"}, "from", "missing required")],
    JDBC + "mysql.Query": [({"url": "jdbc:mysql://h/db"}, "sql", "missing required")],
    JDBC + "mysql.Queries": [({"url": "jdbc:mysql://h/db"}, "sql", "missing required")],
    JDBC + "mariadb.Query": [({"url": "jdbc:mariadb://h/db"}, "sql", "missing required")],
    JDBC + "mariadb.Queries": [({"url": "jdbc:mariadb://h/db"}, "sql", "missing required")],
    JDBC + "sqlite.Query": [({"sql": "select 1", "fetchTyp": "FETCH"}, "fetchTyp", "unknown")],
    JDBC + "sqlite.Queries": [({}, "sql", "missing required")],
    JDBC + "duckdb.Query": [({}, "sql", "missing required")],
    JDBC + "duckdb.Queries": [({}, "sql", "missing required")],
    "io.kestra.plugin.email.MailSend": [({"from": "a@example.com"}, "host", "missing required")],
    NOTIFY + "discord.DiscordIncomingWebhook": [({}, "url", "missing required")],
    NOTIFY + "teams.TeamsIncomingWebhook": [({}, "url", "missing required")],
    NOTIFY + "google.GoogleChatIncomingWebhook": [({}, "url", "missing required")],
    NOTIFY + "zulip.ZulipIncomingWebhook": [({}, "url", "missing required")],
    STORAGE + "FilterItems": [({"from": URI}, "filterCondition", "missing required")],
    STORAGE + "DeduplicateItems": [({"from": URI}, "expr", "missing required")],
}
