"""Sending `MailSend` with the standard library's smtplib and email packages.

The SMTP exchange runs on a thread of its own while the worker's thread
watches the attempt: a kill closes the connection at once and the attempt
ends KILLED (a cancelled attempt that has not connected yet sends nothing).
``sessionTimeout`` bounds each exchange with the server, as Jakarta Mail's
connection and read timeouts do in Kestra. The password is never logged and
never part of an error message.
"""

from __future__ import annotations

import contextlib
import json
import re
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from pydantic import ValidationError

from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.notify.model import TRANSPORT_STRATEGIES, MailFile, MailSend

_POLL_SECONDS = 0.05
_SEPARATORS = re.compile(r"[;,]")


class MailError(Exception):
    """A property renders to something that cannot be sent; the message says what to fix."""


def split_addresses(value: str | list[str] | None) -> list[str]:
    """Recipients as Kestra writes them: one string separated by ';' or ',' (or a list)."""
    if value is None:
        return []
    parts = value if isinstance(value, list) else [value]
    found: list[str] = []
    for part in parts:
        found.extend(a.strip() for a in _SEPARATORS.split(part) if a.strip())
    return found


def _files(ctx: TaskContext, value: list[MailFile] | str | None, name: str) -> list[MailFile]:
    if value is None:
        return []
    if isinstance(value, str):
        text = as_text(ctx.render(value)).strip()
        if not text:
            return []
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise MailError(f"{name} must be a list of {{name, uri, contentType}}: {exc}") from exc
        if not isinstance(items, list):
            raise MailError(f"{name} must be a list of {{name, uri, contentType}}")
    else:
        items = [f.model_dump(by_alias=True) for f in value]
    files: list[MailFile] = []
    for index, item in enumerate(items):
        try:
            rendered = ctx.render(item) if isinstance(item, dict) else item
            files.append(MailFile.model_validate(rendered))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise MailError(f"{name}[{index}].{where}: {first['msg']}") from None
    return files


def _read(ctx: TaskContext, file: MailFile, name: str) -> tuple[bytes, str, str]:
    try:
        with ctx.open_file(file.uri) as handle:
            data = handle.read()
    except Exception as exc:  # a bad URI, a missing or forbidden file
        raise MailError(f"{name} '{file.name}': cannot read {file.uri}: {exc}") from exc
    maintype, _, subtype = file.contentType.partition("/")
    if not maintype or not subtype:
        maintype, subtype = "application", "octet-stream"
    return data, maintype, subtype


def build_message(task: MailSend, ctx: TaskContext) -> tuple[EmailMessage, list[str]]:
    """The rendered message and every recipient (to, cc and bcc)."""

    def text(value: str | None) -> str | None:
        return None if value is None else as_text(ctx.render(value))

    def addresses(value: str | list[str] | None) -> list[str]:
        if value is None:
            return []
        rendered = ctx.render(value)
        if isinstance(rendered, list):
            return split_addresses([as_text(v) for v in rendered])
        return split_addresses(as_text(rendered))

    to, cc, bcc = addresses(task.to), addresses(task.cc), addresses(task.bcc)
    if not (to or cc or bcc):
        raise MailError("no recipient: set 'to' (or 'cc' / 'bcc')")
    message = EmailMessage()
    message["From"] = as_text(ctx.render(task.from_)).strip()
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    subject = text(task.subject)
    if subject is not None:
        message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="lanner")

    plain, html = text(task.plainTextContent), text(task.htmlTextContent)
    if html is not None:
        if plain is not None:
            message.set_content(plain)
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    else:
        message.set_content(plain or "")

    images = _files(ctx, task.embeddedImages, "embeddedImages")
    if images:
        html_part = message.get_body(("html",))
        if html_part is None or not isinstance(html_part, EmailMessage):
            raise MailError("embeddedImages need an htmlTextContent that shows them (cid:NAME)")
        for image in images:
            data, maintype, subtype = _read(ctx, image, "embeddedImages")
            html_part.add_related(
                data, maintype, subtype, cid=f"<{image.name}>", filename=image.name
            )
    for attachment in _files(ctx, task.attachments, "attachments"):
        data, maintype, subtype = _read(ctx, attachment, "attachments")
        message.add_attachment(data, maintype, subtype, filename=attachment.name)
    return message, to + cc + bcc


# --- the SMTP exchange ------------------------------------------------------------------------


@dataclass(frozen=True)
class Transport:
    host: str
    port: int
    strategy: str
    timeout: float
    username: str | None
    password: str | None
    trusted: bool
    verify_identity: bool


def _tls_context(transport: Transport, trust_any: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if trust_any or transport.trusted:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif not transport.verify_identity:
        context.check_hostname = False
    return context


def _transport(task: MailSend, ctx: TaskContext) -> Transport:
    host = as_text(ctx.render(task.host)).strip()
    strategy = as_text(ctx.render(task.transportStrategy)).strip().upper()
    if strategy not in TRANSPORT_STRATEGIES:
        raise MailError(
            f"transportStrategy must be one of {', '.join(TRANSPORT_STRATEGIES)} (got '{strategy}')"
        )
    try:
        port = int(as_text(ctx.render(task.port)))
        timeout_ms = int(as_text(ctx.render(task.sessionTimeout)))
    except ValueError as exc:
        raise MailError(f"port and sessionTimeout must be integers: {exc}") from None
    trusted_hosts = [as_text(ctx.render(h)).strip() for h in task.trustedHosts or []]
    verify = ctx.render(task.verifyServerIdentity)
    return Transport(
        host=host,
        port=port,
        strategy=strategy,
        timeout=max(timeout_ms, 1) / 1000.0,
        username=None if task.username is None else as_text(ctx.render(task.username)),
        password=None if task.password is None else as_text(ctx.render(task.password)),
        trusted="*" in trusted_hosts or host in trusted_hosts,
        verify_identity=verify if isinstance(verify, bool) else str(verify).lower() != "false",
    )


@dataclass
class _Exchange:
    """The SMTP client in use, so that a kill can close its connection."""

    client: smtplib.SMTP | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    aborted: bool = False

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            client = self.client
        if client is not None and client.sock is not None:
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read at once
            client.close()


def _deliver(
    transport: Transport, message: EmailMessage, recipients: list[str], ex: _Exchange
) -> None:
    client: smtplib.SMTP | None = None
    try:
        if transport.strategy == "SMTPS":
            client = smtplib.SMTP_SSL(timeout=transport.timeout, context=_tls_context(transport))
        else:
            client = smtplib.SMTP(timeout=transport.timeout)
        with ex.lock:
            if ex.aborted:
                return
            ex.client = client
        # The TLS server name comes from `_host`, which only the constructor sets; connecting
        # there would leave no client for a kill to close while it connects.
        client._host = transport.host  # type: ignore[attr-defined]
        client.connect(transport.host, transport.port)
        client.ehlo()
        if transport.strategy == "SMTP_TLS":
            client.starttls(context=_tls_context(transport))
            client.ehlo()
        elif transport.strategy == "SMTP" and client.has_extn("starttls"):
            # Opportunistic TLS, as Kestra's mail library does on plain SMTP: encrypt when
            # offered, trusting the certificate (the strategy promised no verification).
            client.starttls(context=_tls_context(transport, trust_any=True))
            client.ehlo()
        if transport.username:
            client.login(transport.username, transport.password or "")
        client.send_message(message, to_addrs=recipients)
        client.quit()
    except BaseException as exc:
        ex.error = exc
    finally:
        if client is not None:
            client.close()
        ex.done.set()


def _describe(exc: BaseException, transport: Transport) -> str:
    where = f"SMTP server {transport.host}:{transport.port} ({transport.strategy})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{where} refused the login of '{transport.username}': {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(sorted(exc.recipients))
        return f"{where} refused the recipients: {refused}"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        return f"{where} answered {exc.smtp_code}: {reply}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where}: {exc} (transportStrategy SMTP_TLS needs a server that offers STARTTLS)"
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS failed: {exc} (a self-signed certificate needs trustedHosts)"
    if isinstance(exc, TimeoutError) or (
        isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)
    ):
        return f"{where} did not answer within sessionTimeout ({transport.timeout * 1000:g} ms)"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection: {exc}"
    if isinstance(exc, OSError):
        return f"{where}: cannot connect: {exc}"
    return f"{where}: {type(exc).__name__}: {exc}"


def run_mail_send(task: MailSend, ctx: TaskContext) -> Outcome:
    try:
        transport = _transport(task, ctx)
        message, recipients = build_message(task, ctx)
    except MailError as exc:
        return Outcome(State.FAILED, error=str(exc))
    except ValueError as exc:  # the email package refuses a header (a line break in it, ...)
        return Outcome(State.FAILED, error=f"the mail cannot be built: {exc}")
    if ctx.cancelled:  # a stopped attempt sends nothing
        return Outcome(State.KILLED)
    ctx.log(
        "DEBUG",
        f"Send mail '{message['Subject'] or ''}' to {', '.join(recipients)} through"
        f" {transport.host}:{transport.port} ({transport.strategy})",
    )
    exchange = _Exchange()
    sender = threading.Thread(
        target=_deliver,
        args=(transport, message, recipients, exchange),
        name="lanner-mail-send",
        daemon=True,
    )
    sender.start()
    while not exchange.done.wait(_POLL_SECONDS):
        if ctx.cancelled:
            exchange.abort()
            sender.join(transport.timeout)
            return Outcome(State.KILLED)
    if exchange.error is not None:
        if exchange.aborted:
            return Outcome(State.KILLED)
        return Outcome(State.FAILED, error=_describe(exchange.error, transport))
    ctx.log("INFO", f"Mail sent to {len(recipients)} recipient(s)")
    return Outcome()
