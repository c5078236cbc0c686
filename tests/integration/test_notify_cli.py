"""The notification tasks through the real `lanner run`, against real servers on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import logs, run_json, write_flow
from tests.support.http_sink import HttpSink, http_sink
from tests.support.smtp_server import SmtpServer

PASSWORD = "smtp-pw-51c0ffee"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tmp_path, mode="starttls", users={"alerts": PASSWORD}) as server:
        yield server


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    yield from http_sink()


def test_mail_send_in_errors_with_an_attachment(
    smtp: SmtpServer, tmp_path: Path, env: dict[str, str]
) -> None:
    flow = write_flow(
        tmp_path,
        f"""\
        id: unreliable
        namespace: company.team
        tasks:
          - id: report
            type: io.kestra.plugin.core.storage.Write
            content: "a,b\\n1,2\\n"
            extension: .csv
          - id: fail
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: boom
        errors:
          - id: send_email
            type: io.kestra.plugin.notifications.mail.MailSend
            host: 127.0.0.1
            port: {smtp.port}
            transportStrategy: SMTP_TLS
            trustedHosts: [127.0.0.1]
            username: alerts
            password: "{{{{ secret('SMTP_PASSWORD') }}}}"
            from: lanner@example.com
            to: ada@example.com;bob@example.com
            subject: "Flow {{{{ flow.namespace }}}}.{{{{ flow.id }}}} failed"
            htmlTextContent: "<p>Execution {{{{ execution.id }}}} failed</p>"
            attachments:
              - name: report.csv
                uri: "{{{{ outputs.report.uri }}}}"
                contentType: text/csv
        """,
    )
    env["SECRET_SMTP_PASSWORD"] = base64.b64encode(PASSWORD.encode()).decode()
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "FAILED"
    [mail] = smtp.wait_for(1)
    assert mail.user == "alerts"
    assert mail.rcpt_tos == ["ada@example.com", "bob@example.com"]
    message = mail.message
    assert message["Subject"] == "Flow company.team.unreliable failed"
    html = message.get_body(("html",))
    assert html is not None and execution["id"] in html.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "report.csv"
    assert attachment.get_content() == "a,b\n1,2\n"
    send = [t for t in execution["taskRunList"] if t["taskId"] == "send_email"]
    assert send[0]["state"]["current"] == "SUCCESS"
    assert all(PASSWORD not in message for _, _, message in logs(execution["id"], env))


def test_chat_webhooks_in_errors(sink: HttpSink, tmp_path: Path, env: dict[str, str]) -> None:
    flow = write_flow(
        tmp_path,
        """\
        id: chatty
        namespace: company.team
        tasks:
          - id: fail
            type: io.kestra.plugin.core.execution.Fail
        errors:
          - id: discord
            type: io.kestra.plugin.notifications.discord.DiscordIncomingWebhook
            url: "{{ secret('HOOK') }}/discord"
            payload: '{"content": "{{ flow.id }} failed"}'
          - id: teams
            type: io.kestra.plugin.notifications.teams.TeamsIncomingWebhook
            url: "{{ secret('HOOK') }}/teams"
            payload: '{"text": "{{ execution.id }}"}'
          - id: google
            type: io.kestra.plugin.notifications.google.GoogleChatIncomingWebhook
            url: "{{ secret('HOOK') }}/google"
            payload: '{"text": "google"}'
          - id: zulip
            type: io.kestra.plugin.notifications.zulip.ZulipIncomingWebhook
            url: "{{ secret('HOOK') }}/zulip?api_key=KEY123"
            payload: '{"text": "zulip"}'
        """,
    )
    env["SECRET_HOOK"] = base64.b64encode(sink.url.encode()).decode()
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "FAILED"
    received = {r.path: r.json for r in sink.wait_for(4)}
    assert received == {
        "/discord": {"content": "chatty failed"},
        "/teams": {"text": execution["id"]},
        "/google": {"text": "google"},
        "/zulip?api_key=KEY123": {"text": "zulip"},
    }
    states = {t["taskId"]: t["state"]["current"] for t in execution["taskRunList"]}
    assert states == {
        "fail": "FAILED",
        "discord": "SUCCESS",
        "teams": "SUCCESS",
        "google": "SUCCESS",
        "zulip": "SUCCESS",
    }
