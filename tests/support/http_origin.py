"""A real HTTP server on 127.0.0.1 with the answers the HTTP task tests need.

    with HttpOrigin() as origin:
        url = origin.url + "/status/404"

Routes (GET or any other method):
  /echo                 200, JSON of the request: method, path, query, headers, body (text)
  /status/CODE          that code, body "status CODE"
  /redirect/N           302 to /redirect/N-1; /redirect/0 answers 200 "arrived"
  /bytes/N              N bytes (a repeated pattern) streamed 64 KiB at a time, with Content-Length
  /slow/SECONDS         waits, then 200 "late" (the wait ends early when the server closes)
  /basic/USER/PASSWORD  200 "welcome USER" with that basic auth, else 401
  /digest/USER/PASSWORD 200 "welcome USER" with that digest auth (RFC 7616, MD5, qop=auth), else 401
  /bearer/TOKEN         200 with that bearer token, else 401
  /named?cd=VALUE       200 "named" with the header Content-Disposition: VALUE
  /flaky/KEY/N          503 for the first N requests of KEY, then 200 "recovered"
  /empty                200, empty body
  /short                Content-Length 100, then 50 bytes and the connection closes
  /binary               200, bytes that are not UTF-8
  /latin1               200 "café" in ISO-8859-1, with charset=ISO-8859-1
A request for an absolute URL (sent to the server as a proxy) gets 200 "proxied URL".
Every request is kept in `requests` (method, path, headers, body).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

PATTERN = bytes(range(256)) * 256  # 64 KiB


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


_REALM = "origin"
_NONCE = "5f1c0e2d"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _digest_ok(method: str, header: str | None, user: str, password: str) -> bool:
    if not header or not header.startswith("Digest "):
        return False
    fields = dict(
        (k.strip(), v.strip().strip('"'))
        for k, _, v in (p.partition("=") for p in header[len("Digest ") :].split(","))
    )
    if fields.get("username") != user or fields.get("nonce") != _NONCE:
        return False
    ha1 = _md5(f"{user}:{_REALM}:{password}")
    ha2 = _md5(f"{method}:{fields.get('uri', '')}")
    parts = (ha1, _NONCE, fields.get("nc", ""), fields.get("cnonce", ""), "auth", ha2)
    return fields.get("response") == _md5(":".join(parts))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _answer(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.server.lock:
            self.server.requests.append(seen)
        if self.path.startswith("http://"):  # asked as a proxy: say so
            self._answer(200, f"proxied {self.path}".encode(), {"Content-Type": "text/plain"})
            return
        segments = [s for s in parts.path.split("/") if s]
        route = segments[0] if segments else ""
        if route == "echo":
            doc = {
                "method": self.command,
                "path": parts.path,
                "query": parts.query,
                "headers": seen.headers,
                "body": body.decode("utf-8", "replace"),
            }
            self._answer(200, json.dumps(doc).encode(), {"Content-Type": "application/json"})
        elif route == "status":
            code = int(segments[1])
            self._answer(code, f"status {code}".encode(), {"Content-Type": "text/plain"})
        elif route == "redirect":
            n = int(segments[1])
            if n <= 0:
                self._answer(200, b"arrived", {"Content-Type": "text/plain"})
            else:
                self._answer(302, b"", {"Location": f"/redirect/{n - 1}"})
        elif route == "bytes":
            self._stream(int(segments[1]))
        elif route == "slow":
            if self.server.closing.wait(float(segments[1])):
                return
            self._answer(200, b"late")
        elif route == "basic":
            user, password = segments[1], segments[2]
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            if self.headers.get("Authorization") == f"Basic {token}":
                self._answer(200, f"welcome {user}".encode())
            else:
                self._answer(401, b"who are you?", {"WWW-Authenticate": 'Basic realm="t"'})
        elif route == "digest":
            if _digest_ok(self.command, self.headers.get("Authorization"), *segments[1:3]):
                self._answer(200, f"welcome {segments[1]}".encode())
            else:
                challenge = f'Digest realm="{_REALM}", qop="auth", nonce="{_NONCE}"'
                self._answer(401, b"who are you?", {"WWW-Authenticate": challenge})
        elif route == "bearer":
            if self.headers.get("Authorization") == f"Bearer {segments[1]}":
                self._answer(200, b"welcome")
            else:
                self._answer(401, b"who are you?")
        elif route == "named":
            cd = parse_qs(parts.query).get("cd", [""])[0]
            self._answer(200, b"named", {"Content-Disposition": cd})
        elif route == "flaky":
            with self.server.lock:
                count = self.server.counts[segments[1]] = self.server.counts.get(segments[1], 0) + 1
            if count <= int(segments[2]):
                self._answer(503, b"try again")
            else:
                self._answer(200, b"recovered")
        elif route == "empty":
            self._answer(200)
        elif route == "short":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * 50)
            self.wfile.flush()
            self.close_connection = True
        elif route == "binary":
            self._answer(200, b"\xff\xfe\x00\x80\x81", {"Content-Type": "application/octet-stream"})
        elif route == "latin1":
            self._answer(
                200, "café".encode("latin-1"), {"Content-Type": "text/plain; charset=ISO-8859-1"}
            )
        else:
            self._answer(404, b"no such route")

    def _stream(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        left = size
        while left > 0:
            chunk = PATTERN[: min(left, len(PATTERN))]
            self.wfile.write(chunk)
            left -= len(chunk)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[Seen]
    lock: threading.Lock
    closing: threading.Event
    counts: dict[str, int]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 and its key (PEM files in `folder`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "origin.crt", folder / "origin.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class HttpOrigin:
    """The server, started on a free port of 127.0.0.1; with `tls_folder`, HTTPS with
    a self-signed certificate written there."""

    def __init__(self, tls_folder: Path | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        scheme = "http"
        if tls_folder is not None:
            cert, key = _self_signed(tls_folder)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self._server.requests = []
        self._server.lock = threading.Lock()
        self._server.closing = threading.Event()
        self._server.counts = {}
        host, port = self._server.server_address[:2]
        self.url = f"{scheme}://{host!s}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[Seen]:
        with self._server.lock:
            return list(self._server.requests)

    def close(self) -> None:
        self._server.closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpOrigin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
