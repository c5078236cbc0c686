"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records every message it receives.

    with SmtpServer(tmp_path, mode="starttls", users={"ada": "s3cret"}) as smtp:
        ...  # run MailSend with host 127.0.0.1, port smtp.port
        [mail] = smtp.wait_for(1)
        assert mail.message["Subject"] == "Hello"

`mode` is "plain" (SMTP, no TLS offered), "starttls" (STARTTLS offered and
required before anything else) or "smtps" (TLS from the first byte); the TLS
modes use a throw-away self-signed certificate for 127.0.0.1 written in the
given folder. With `users`, AUTH LOGIN/PLAIN is offered (even without TLS).
`delay` (seconds) holds the answer to DATA once the message has been recorded,
so that a test can kill a sending task while it waits.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.http_origin import _self_signed
from tests.support.ports import free_port


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    user: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        user = session.auth_data if isinstance(session.auth_data, str) else None
        mail = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, user)
        with self._server.lock:
            self._server.received.append(mail)
        if self._server.delay:
            await asyncio.sleep(self._server.delay)
        return "250 Message accepted for delivery"


class SmtpServer:
    """The server, started on a free port of 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        tls_folder: Path | None = None,
        *,
        mode: str = "plain",
        users: dict[str, str] | None = None,
    ) -> None:
        self.received: list[ReceivedMail] = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self.port = free_port()
        self.users = dict(users or {})
        kwargs: dict[str, Any] = {}
        context: ssl.SSLContext | None = None
        if mode != "plain":
            assert tls_folder is not None, "a TLS mode needs a folder for its certificate"
            cert, key = _self_signed(tls_folder)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
        if mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if self.users:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=context if mode == "smtps" else None,
            **kwargs,
        )
        self._controller.start()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """The first `count` messages, once they have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received[:count])
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} message(s) expected, {len(self.received)} arrived")
            time.sleep(0.02)

    def close(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
