"""The execution summaries through the real `lanner run`, with `server.url` and forced
plugin defaults from the configuration file, against real receivers on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import run_json, write_flow
from tests.support.http_sink import HttpSink, http_sink
from tests.support.smtp_server import SmtpServer

SERVER_URL = "https://lanner.example.com/base"


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    yield from http_sink()


def _configure(env: dict[str, str], text: str) -> None:
    home = Path(env["LANNER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yml").write_text(text)


def test_chat_summaries_in_after_execution(
    sink: HttpSink, tmp_path: Path, env: dict[str, str]
) -> None:
    # Slack's URL comes from a forced plugin default; the others from a secret.
    _configure(
        env,
        f"""\
server:
  url: {SERVER_URL}/
pluginDefaults:
  - type: io.kestra.plugin.slack
    forced: true
    values:
      url: {sink.url}/slack
""",
    )
    flow = write_flow(
        tmp_path,
        """\
        id: nightly
        namespace: company.team
        labels:
          team: data
        tasks:
          - id: extract
            type: io.kestra.plugin.core.log.Log
            message: extracting
          - id: load
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: the warehouse is down
        afterExecution:
          - id: slack
            type: io.kestra.plugin.slack.notifications.SlackExecution
            url: http://127.0.0.1:9/never-used
            customMessage: "Owner: {{ labels.team }}"
            customFields:
              Environment: prod
          - id: discord
            type: io.kestra.plugin.discord.DiscordExecution
            url: "{{ secret('HOOK') }}/discord"
            username: Lanner
          - id: teams
            type: io.kestra.plugin.notifications.teams.TeamsExecution
            url: "{{ secret('HOOK') }}/teams"
          - id: google
            type: io.kestra.plugin.googleworkspace.chat.GoogleChatExecution
            url: "{{ secret('HOOK') }}/google"
            text: Nightly load
        """,
    )
    env["SECRET_HOOK"] = base64.b64encode(sink.url.encode()).decode()
    execution = run_json(flow, env)
    assert execution["state"]["current"] == "FAILED"
    states = {t["taskId"]: t["state"]["current"] for t in execution["taskRunList"]}
    assert states["slack"] == states["discord"] == states["teams"] == states["google"]
    assert states["slack"] == "SUCCESS"
    received = {r.path: r.json for r in sink.wait_for(4)}
    link = f"{SERVER_URL}/ui/executions/{execution['id']}"

    slack = received["/slack"]
    [attachment] = slack["attachments"]
    assert attachment["title"] == "[company.team] nightly ➛ FAILED"
    assert attachment["title_link"] == link
    assert attachment["text"] == "Owner: data"
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields["Execution ID"] == execution["id"]
    assert fields["Failed task"] == "load"
    assert fields["Error"] == "the warehouse is down"
    assert fields["Labels"] == "team: data"
    assert fields["Environment"] == "prod"

    discord = received["/discord"]
    assert discord["username"] == "Lanner"
    assert discord["embeds"][0]["url"] == link
    assert discord["embeds"][0]["color"] == 0xD32F2F

    teams = received["/teams"]
    assert teams["@type"] == "MessageCard"
    assert teams["potentialAction"][0]["targets"][0]["uri"] == link
    facts = {f["name"]: f["value"] for f in teams["sections"][0]["facts"]}
    assert facts["Status"] == "FAILED"

    google = received["/google"]["text"]
    assert google.startswith("*Nightly load*")
    assert f"<{link}|Open the execution>" in google


def test_mail_summary_in_after_execution(tmp_path: Path, env: dict[str, str]) -> None:
    with SmtpServer(tmp_path) as smtp:
        _configure(env, f"server:\n  url: {SERVER_URL}\n")
        flow = write_flow(
            tmp_path,
            f"""\
            id: unreliable
            namespace: company.team
            tasks:
              - id: boom
                type: io.kestra.plugin.core.execution.Fail
            afterExecution:
              - id: mail
                type: io.kestra.plugin.notifications.mail.MailExecution
                host: 127.0.0.1
                port: {smtp.port}
                transportStrategy: SMTP
                from: lanner@example.com
                to: oncall@example.com
                customMessage: Please look
            """,
        )
        execution = run_json(flow, env)
        assert execution["state"]["current"] == "FAILED"
        [mail] = smtp.wait_for(1)
        message = mail.message
        assert message["Subject"] == "[company.team] unreliable ➛ FAILED"
        html = message.get_body(("html",))
        assert html is not None
        content = html.get_content()
        assert f"{SERVER_URL}/ui/executions/{execution['id']}" in content
        assert "boom" in content and "Please look" in content
        plain = message.get_body(("plain",))
        assert plain is not None and execution["id"] in plain.get_content()
