"""MailSend against a real SMTP server on 127.0.0.1 (aiosmtpd): SMTP, STARTTLS and
SMTPS with a throw-away certificate, logins, attachments from internal storage, kills."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lanner.model.states import State
from lanner.plugin import Outcome, TaskRegistry
from lanner.storage import LocalStorage
from lanner.tasks.notify import task_types
from lanner.tasks.notify.mail import run_mail_send, split_addresses
from lanner.tasks.notify.model import MailSend
from tests.support.ports import free_port
from tests.support.smtp_server import SmtpServer
from tests.support.task_context import LocalTaskContext

NAME = "io.kestra.plugin.email.MailSend"
PASSWORD = "pw-7f3a9c1e"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def make(port: int, **props: Any) -> MailSend:
    base: dict[str, Any] = {
        "id": "mail",
        "type": NAME,
        "host": "127.0.0.1",
        "port": port,
        "transportStrategy": "SMTP",
        "from": "lanner@example.com",
        "to": "ada@example.com",
        "subject": "Hello",
        "plainTextContent": "Hi there",
    }
    base.update(props)
    return MailSend.model_validate(base)


# --- names and properties ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [NAME, "io.kestra.plugin.notifications.mail.MailSend"])
def test_names(name: str) -> None:
    task_type = TaskRegistry(task_types()).get(name)
    assert task_type is not None and task_type.name == NAME


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"transportStrategy": "SMTP_OAUTH2"}, "transportStrategy"),
        ({"transportStrategy": "POP3"}, "transportStrategy"),
        ({"host": ""}, "host"),
        ({"recipients": "x@y"}, "recipients"),
        ({"attachments": [{"name": "a.txt"}]}, "uri"),
        ({"sessionTimeout": "ten seconds"}, "sessionTimeout"),
    ],
)
def test_invalid_properties(props: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(25, **props)
    assert field in str(info.value)


def test_oauth2_is_rejected_as_not_supported() -> None:
    with pytest.raises(ValidationError, match="SMTP_OAUTH2 is not supported here"):
        make(25, transportStrategy="SMTP_OAUTH2")


def test_defaults_are_kestras() -> None:
    task = MailSend.model_validate(
        {"id": "m", "type": NAME, "host": "h", "port": 465, "from": "a@b", "to": "c@d"}
    )
    assert task.transportStrategy == "SMTPS"
    assert task.sessionTimeout == 10000
    assert task.verifyServerIdentity is True


def test_addresses_split_on_semicolons_and_commas() -> None:
    assert split_addresses("a@x; b@x,c@x ;") == ["a@x", "b@x", "c@x"]
    assert split_addresses(["a@x;b@x", "c@x"]) == ["a@x", "b@x", "c@x"]
    assert split_addresses(None) == []


# --- sending -----------------------------------------------------------------------------------


def test_plain_smtp_sends_to_cc_and_bcc(smtp: SmtpServer) -> None:
    ctx = LocalTaskContext({"inputs": {"who": "Ada"}})
    task = make(
        smtp.port,
        to="ada@example.com; bob@example.com",
        cc="carol@example.com",
        bcc="dave@example.com",
        subject="Hi {{ inputs.who }}",
        plainTextContent="Plain {{ inputs.who }}",
        htmlTextContent="<b>Html {{ inputs.who }}</b>",
    )
    assert run_mail_send(task, ctx) == Outcome()
    [mail] = smtp.wait_for(1)
    assert mail.mail_from == "lanner@example.com"
    assert mail.rcpt_tos == [
        "ada@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
    ]
    message = mail.message
    assert message["Subject"] == "Hi Ada"
    assert message["To"] == "ada@example.com, bob@example.com"
    assert message["Cc"] == "carol@example.com"
    assert message["Bcc"] is None  # blind copies stay out of the headers
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "Plain Ada"
    assert html is not None and html.get_content().strip() == "<b>Html Ada</b>"


def test_html_only(smtp: SmtpServer) -> None:
    task = make(smtp.port, plainTextContent=None, htmlTextContent="<p>only</p>")
    assert run_mail_send(task, LocalTaskContext()).state == State.SUCCESS
    [mail] = smtp.wait_for(1)
    assert mail.message.get_content_type() == "text/html"


def test_attachments_and_embedded_images_from_internal_storage(
    smtp: SmtpServer, tmp_path: Path
) -> None:
    ctx = LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))
    (tmp_path / "report.csv").write_text("a,b\n1,2\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG fake image")
    csv_uri = ctx.put_file(tmp_path / "report.csv")
    png_uri = ctx.put_file(tmp_path / "logo.png")
    ctx.variables["inputs"] = {
        "files": [{"name": "report.csv", "uri": csv_uri, "contentType": "text/csv"}]
    }
    task = make(
        smtp.port,
        htmlTextContent='<img src="cid:logo.png">',
        attachments="{{ inputs.files | toJson }}",
        embeddedImages=[{"name": "logo.png", "uri": png_uri, "contentType": "image/png"}],
    )
    assert run_mail_send(task, ctx) == Outcome()
    message = smtp.wait_for(1)[0].message
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "report.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_content() == "a,b\n1,2\n"
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo.png>"
    assert image.get_payload(decode=True) == b"\x89PNG fake image"


def test_missing_attachment_fails_with_its_name(smtp: SmtpServer, tmp_path: Path) -> None:
    task = make(
        smtp.port,
        attachments=[{"name": "gone.txt", "uri": "kestra:///company/team/flow/nope.txt"}],
    )
    ctx = LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))
    outcome = run_mail_send(task, ctx)
    assert outcome.state == State.FAILED
    assert outcome.error is not None and "attachments 'gone.txt'" in outcome.error
    assert smtp.received == []


def test_a_line_break_in_a_header_is_refused(smtp: SmtpServer) -> None:
    outcome = run_mail_send(make(smtp.port, subject="a\nBcc: eve@x"), LocalTaskContext())
    assert outcome.state == State.FAILED
    assert "the mail cannot be built" in (outcome.error or "")
    assert smtp.received == []


def test_no_recipient_fails(smtp: SmtpServer) -> None:
    outcome = run_mail_send(make(smtp.port, to=" ; "), LocalTaskContext())
    assert outcome.state == State.FAILED and "no recipient" in (outcome.error or "")


def test_login_and_wrong_password_never_shows_it() -> None:
    with SmtpServer(users={"ada": PASSWORD}) as smtp:
        ctx = LocalTaskContext()
        ok = make(smtp.port, username="ada", password=PASSWORD)
        assert run_mail_send(ok, ctx) == Outcome()
        assert smtp.wait_for(1)[0].user == "ada"
        bad = make(smtp.port, username="ada", password="wrong-" + PASSWORD)
        outcome = run_mail_send(bad, ctx)
        assert outcome.state == State.FAILED
        assert "refused the login of 'ada'" in (outcome.error or "")
        assert PASSWORD not in (outcome.error or "")
        assert all(PASSWORD not in m for m in ctx.messages())


@pytest.mark.parametrize(("mode", "strategy"), [("starttls", "SMTP_TLS"), ("smtps", "SMTPS")])
def test_tls_with_a_trusted_self_signed_certificate(
    tmp_path: Path, mode: str, strategy: str
) -> None:
    with SmtpServer(tmp_path, mode=mode, users={"ada": PASSWORD}) as smtp:
        task = make(
            smtp.port,
            transportStrategy=strategy,
            username="ada",
            password=PASSWORD,
            trustedHosts=["127.0.0.1"],
        )
        assert run_mail_send(task, LocalTaskContext()) == Outcome()
        assert smtp.wait_for(1)[0].user == "ada"


@pytest.mark.parametrize(("mode", "strategy"), [("starttls", "SMTP_TLS"), ("smtps", "SMTPS")])
def test_tls_refuses_an_untrusted_certificate(tmp_path: Path, mode: str, strategy: str) -> None:
    with SmtpServer(tmp_path, mode=mode) as smtp:
        outcome = run_mail_send(make(smtp.port, transportStrategy=strategy), LocalTaskContext())
        assert outcome.state == State.FAILED
        assert "TLS failed" in (outcome.error or "") and "trustedHosts" in (outcome.error or "")
        assert smtp.received == []


def test_plain_smtp_uses_starttls_when_offered(tmp_path: Path) -> None:
    # The server requires STARTTLS: the SMTP strategy gets through by upgrading.
    with SmtpServer(tmp_path, mode="starttls") as smtp:
        assert run_mail_send(make(smtp.port), LocalTaskContext()) == Outcome()
        smtp.wait_for(1)


def test_smtp_tls_needs_starttls(smtp: SmtpServer) -> None:
    outcome = run_mail_send(make(smtp.port, transportStrategy="SMTP_TLS"), LocalTaskContext())
    assert outcome.state == State.FAILED and "STARTTLS" in (outcome.error or "")


def test_connection_refused() -> None:
    outcome = run_mail_send(make(free_port()), LocalTaskContext())
    assert outcome.state == State.FAILED and "cannot connect" in (outcome.error or "")


def test_session_timeout(smtp: SmtpServer) -> None:
    smtp.delay = 5.0
    started = time.monotonic()
    outcome = run_mail_send(make(smtp.port, sessionTimeout=300), LocalTaskContext())
    assert outcome.state == State.FAILED
    assert "sessionTimeout (300 ms)" in (outcome.error or "")
    assert time.monotonic() - started < 4.0


def test_kill_closes_the_connection_at_once(smtp: SmtpServer) -> None:
    smtp.delay = 10.0
    ctx = LocalTaskContext()
    result: list[Outcome] = []
    runner = threading.Thread(
        target=lambda: result.append(run_mail_send(make(smtp.port, sessionTimeout=20000), ctx))
    )
    runner.start()
    smtp.wait_for(1)
    killed_at = time.monotonic()
    ctx.cancel()
    runner.join(5)
    assert result == [Outcome(State.KILLED)]
    assert time.monotonic() - killed_at < 2.0


def test_cancelled_before_sending_sends_nothing(smtp: SmtpServer) -> None:
    ctx = LocalTaskContext()
    ctx.cancel()
    assert run_mail_send(make(smtp.port), ctx) == Outcome(State.KILLED)
    assert smtp.received == []
