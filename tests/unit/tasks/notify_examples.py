"""Validation examples of the execution summaries, Telegram, the CLI tasks and the Excel
serdes tasks, for
tests/unit/model/test_task_validation.py's tables (kept here, beside their tests)."""

from __future__ import annotations

from typing import Any

HOOK = "http://127.0.0.1:8765/hook"
SMTP: dict[str, Any] = {"host": "127.0.0.1", "port": 25, "from": "a@example.com", "to": "b@c.org"}
EXEC = "{{ trigger.executionId }}"
URI = "kestra:///company/team/f/executions/E/tasks/t/TR/book.xlsx"

VALID: dict[str, list[dict[str, Any]]] = {
    "io.kestra.plugin.email.MailExecution": [
        {**SMTP, "executionId": EXEC, "customMessage": "see {{ flow.id }}"},
        {**SMTP, "subject": "failed", "customFields": {"env": "prod"}},
    ],
    "io.kestra.plugin.slack.notifications.SlackExecution": [
        {"url": HOOK, "executionId": EXEC, "customFields": {"team": "data"}},
        {"url": HOOK, "channel": "#alerts", "username": "Lanner", "iconEmoji": ":fire:"},
    ],
    "io.kestra.plugin.discord.DiscordExecution": [
        {"url": HOOK, "username": "u", "avatarUrl": "http://x/a.png", "content": "hi"},
    ],
    "io.kestra.plugin.microsoft365.teams.TeamsExecution": [
        {"url": HOOK, "activityTitle": "Lanner", "themeColor": "FF0000"},
    ],
    "io.kestra.plugin.googleworkspace.chat.GoogleChatExecution": [
        {"url": HOOK, "text": "Google Chat Notification", "executionId": EXEC},
    ],
    "io.kestra.plugin.serdes.excel.ExcelToIon": [
        {"from": URI, "sheetsTitle": ["Sheet1"], "header": False, "skipRows": 2},
        {"from": URI, "valueRender": "FORMULA", "dateTimeRender": "SERIAL_NUMBER"},
    ],
    "io.kestra.plugin.serdes.excel.IonToExcel": [
        {"from": URI, "sheetsTitle": "Data", "styles": False, "timeZoneId": "Europe/Paris"},
    ],
    "io.kestra.plugin.telegram.TelegramSend": [
        {"token": "{{ secret('TG') }}", "channel": "2072728690", "payload": '{"text": "hi"}'},
        {"token": "t", "channel": "c", "payload": "hi", "parseMode": "MARKDOWNV2"},
    ],
    "io.kestra.plugin.telegram.TelegramExecution": [
        {"token": "t", "channel": "c", "executionId": EXEC, "endpointOverride": HOOK},
    ],
    # Kestra's documented examples.
    "io.kestra.plugin.sentry.SentryAlert": [
        {"dsn": "{{ secret('SENTRY_DSN') }}", "endpointType": "ENVELOPE"},
        {
            "dsn": "{{ secret('SENTRY_DSN') }}",
            "endpointType": "STORE",
            "payload": '{"level": "error", "message": {"message": "{{ execution.id }} failed"}}',
            "options": {"readTimeout": "PT20S", "headers": {"X-Flow-Name": "{{ flow.id }}"}},
        },
    ],
    "io.kestra.plugin.sentry.SentryExecution": [
        {
            "transaction": "/execution/id/{{ trigger.executionId }}",
            "dsn": "{{ secret('SENTRY_DSN') }}",
            "level": "ERROR",
            "executionId": EXEC,
            "customFields": {"shard": "{{ flow.namespace | split('.') | last }}"},
            "customMessage": "Failure in prod namespace: {{ trigger.executionId }}",
        },
        {
            "dsn": "http://k@127.0.0.1:9000/1",
            "platform": "PYTHON",
            "eventId": "0123456789abcdef0123456789abcdef",
            "serverName": "lanner",
            "extra": {"a": 1},
            "errors": {"b": 2},
        },
    ],
    "io.kestra.plugin.zenduty.ZendutyAlert": [
        {
            "url": "https://www.zenduty.com/api/events/{{ secret('ZENDUTY_INTEGRATION_KEY') }}/",
            "payload": '{"alert_type": "info", "message": "This is info alert"}',
        },
        {"url": HOOK, "payload": "{}", "options": {"readTimeout": "PT20S"}},
    ],
    "io.kestra.plugin.zenduty.ZendutyExecution": [
        {
            "url": "https://www.zenduty.com/api/events/{{ secret('ZENDUTY_INTEGRATION_KEY') }}/",
            "executionId": EXEC,
            "message": "Kestra workflow execution {{ trigger.executionId }} changed status",
        },
        {"url": HOOK, "alertType": "CRITICAL", "entityId": "e1", "urls": ["http://x/1"]},
    ],
    "io.kestra.plugin.terraform.cli.TerraformCLI": [
        {"commands": ["terraform init", "terraform apply -auto-approve"]},
        {"commands": ["terraform plan"], "containerImage": "hashicorp/terraform:1.9"},
    ],
    "io.kestra.plugin.ansible.cli.AnsibleCLI": [
        {"commands": ["ansible-playbook -i inventory.ini play.yml"], "ansibleConfig": "[x]"},
        {"commands": ["ansible --version"], "outputLogFile": False},
    ],
    "io.kestra.plugin.dbt.cli.DbtCLI": [
        {"commands": ["dbt build"], "profiles": "p:\n  target: dev\n", "projectDir": "dbt"},
        {"commands": ["dbt run"], "parseRunResults": False},
    ],
    **{
        f"io.kestra.plugin.dbt.cli.{name}": [
            {"dbtPath": "/usr/local/bin/dbt", "profiles": "p: {}", "projectDir": "dbt"},
            {"failFast": True, "warnError": True, "parseRunResults": False, "debug": True},
        ]
        for name in (
            "Build",
            "Run",
            "Test",
            "Seed",
            "Snapshot",
            "Compile",
            "List",
            "Deps",
            "Freshness",
        )
    },
    "io.kestra.plugin.dbt.cli.Build": [
        {"thread": 4, "fullRefresh": True, "target": "prod", "select": ["a+"], "exclude": ["b"]},
    ],
    "io.kestra.plugin.aws.cli.AwsCLI": [
        {"commands": ["aws s3 ls"], "accessKeyId": "A", "secretKeyId": "S", "region": "eu-west-1"},
    ],
    "io.kestra.plugin.cloudquery.CloudQueryCLI": [{"commands": ["cloudquery sync spec.yml"]}],
    "io.kestra.plugin.gcp.cli.GCloudCLI": [
        {"commands": ["gcloud info"], "serviceAccount": "{{ secret('GCP') }}", "projectId": "p"},
    ],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    "io.kestra.plugin.email.MailExecution": [
        ({**SMTP, "htmlTextContent": "<p/>"}, "htmlTextContent", "not supported here"),
    ],
    "io.kestra.plugin.slack.notifications.SlackExecution": [({}, "url", "missing required")],
    "io.kestra.plugin.discord.DiscordExecution": [
        ({"url": HOOK, "embeds": []}, "embeds", "unknown"),
    ],
    "io.kestra.plugin.microsoft365.teams.TeamsExecution": [
        ({"url": HOOK, "templateRenderMap": {}}, "templateRenderMap", "unknown"),
    ],
    "io.kestra.plugin.googleworkspace.chat.GoogleChatExecution": [
        ({"executionId": EXEC}, "url", "missing required"),
    ],
    "io.kestra.plugin.sentry.SentryAlert": [
        ({"payload": "{}"}, "dsn", "missing required"),
        ({"dsn": "d", "endpointType": "HTTP"}, "endpointType", "ENVELOPE"),
    ],
    "io.kestra.plugin.sentry.SentryExecution": [
        ({"dsn": "d", "level": "LOUD"}, "level", "FATAL"),
        ({"dsn": "d", "eventId": "not-hex"}, "eventId", "hexadecimal"),
        ({"dsn": "d", "platform": "COBOL"}, "platform", "JAVA"),
        ({"dsn": "d", "payload": "{}"}, "payload", "not supported here"),
    ],
    "io.kestra.plugin.zenduty.ZendutyAlert": [({"payload": "{}"}, "url", "missing required")],
    "io.kestra.plugin.zenduty.ZendutyExecution": [
        ({"url": HOOK, "alertType": "SEVERE"}, "alertType", "CRITICAL"),
        ({"url": HOOK, "payload": "{}"}, "payload", "not supported here"),
        ({"url": HOOK, "templateRenderMap": {}}, "templateRenderMap", "not supported here"),
    ],
    "io.kestra.plugin.serdes.excel.ExcelToIon": [
        ({"from": URI, "valueRender": "FORMATTED_VALUE"}, "valueRender", "not supported here"),
        ({"from": URI, "charset": "ISO-8859-1"}, "charset", "not supported here"),
    ],
    "io.kestra.plugin.serdes.excel.IonToExcel": [
        ({"from": URI, "dateFormat": "dd/MM/yyyy"}, "dateFormat", "not supported here"),
        ({}, "from", "missing required"),
    ],
    "io.kestra.plugin.telegram.TelegramSend": [
        ({"token": "t", "payload": "hi"}, "channel", "missing required"),
        ({"token": "t", "channel": "c", "parseMode": "RTF"}, "parseMode", "HTML, MARKDOWNV2"),
    ],
    "io.kestra.plugin.telegram.TelegramExecution": [
        ({"channel": "c"}, "token", "missing required"),
    ],
    "io.kestra.plugin.terraform.cli.TerraformCLI": [({}, "commands", "missing required")],
    "io.kestra.plugin.ansible.cli.AnsibleCLI": [
        ({"commands": ["ansible"], "outputLogFile": True}, "outputLogFile", "not supported here"),
    ],
    "io.kestra.plugin.dbt.cli.DbtCLI": [
        ({"commands": ["dbt run"], "storeManifest": {}}, "storeManifest", "not supported"),
    ],
    **{
        f"io.kestra.plugin.dbt.cli.{name}": [({"thread": 2}, "thread", "unknown")]
        for name in ("Deps", "Freshness")
    },
    **{
        f"io.kestra.plugin.dbt.cli.{name}": [({"select": "a"}, "select", "list")]
        for name in ("Build", "Run", "Test", "Seed", "Snapshot", "Compile", "List")
    },
    "io.kestra.plugin.aws.cli.AwsCLI": [({"commands": []}, "commands", "at least 1")],
    "io.kestra.plugin.cloudquery.CloudQueryCLI": [({"command": "x"}, "command", "unknown")],
    "io.kestra.plugin.gcp.cli.GCloudCLI": [({"commands": ["gcloud"], "scopes": []}, "scopes", "")],
}
