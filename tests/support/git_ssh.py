"""A git SSH server on 127.0.0.1 (a port the OS picks), for the git tasks' privateKey
tests: asyncssh, on an event loop in a thread of its own, accepts public-key logins of
the keys it is given (no password, no keyboard-interactive) and runs each session's
`git-upload-pack` / `git-receive-pack` on the bare repositories under `root`, its
standard streams piped to the session's. Nothing else can be run."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

with warnings.catch_warnings():
    # asyncssh still imports cryptography's DSA names, deprecated there.
    warnings.simplefilter("ignore")
    import asyncssh

GIT_COMMANDS = ("git-upload-pack", "git-receive-pack")


def new_key(algorithm: str = "ssh-ed25519") -> asyncssh.SSHKey:
    return asyncssh.generate_private_key(algorithm)


def openssh_private(key: asyncssh.SSHKey, passphrase: str | None = None) -> str:
    """The key as `ssh-keygen` writes it (OpenSSH format), encrypted with `passphrase`
    by `ssh-keygen -p` itself (asyncssh would need bcrypt for that)."""
    text = bytes(key.export_private_key("openssh")).decode()
    if passphrase is None:
        return text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "key"
        path.write_text(text)
        path.chmod(0o600)
        subprocess.run(
            ["ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", str(path)],
            check=True,
            capture_output=True,
        )
        return path.read_text()


def pem_private(key: asyncssh.SSHKey, passphrase: str | None = None) -> str:
    """The key as `ssh-keygen -m PEM` writes it (Kestra's documented format)."""
    if passphrase is None:
        return bytes(key.export_private_key("pkcs1-pem")).decode()
    exported = key.export_private_key("pkcs1-pem", passphrase=passphrase, cipher_name="aes256-cbc")
    return bytes(exported).decode()


class GitSshServer:
    """Serves the repositories under `root` at ssh://git@127.0.0.1:PORT/<name> to the
    holders of `authorized` keys. `commands` records the git commands run."""

    def __init__(self, root: Path, authorized: list[asyncssh.SSHKey]) -> None:
        self.root = root
        self.host_key = new_key()
        self.authorized = "".join(
            bytes(k.export_public_key("openssh")).decode() for k in authorized
        )
        self.commands: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Any = None

    def url(self, name: str) -> str:
        return f"ssh://git@127.0.0.1:{self.port}/{name}"

    def scp_url(self, name: str) -> str:
        """The scp-like form, `[user@host:port]:path` (git's bracketed port)."""
        return f"[git@127.0.0.1:{self.port}]:{name}"

    async def _start(self) -> None:
        self._server = await asyncssh.create_server(
            asyncssh.SSHServer,
            "127.0.0.1",
            0,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(self.authorized),
            password_auth=False,
            kbdint_auth=False,
            process_factory=self._session,
            encoding=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _session(self, process: Any) -> None:
        argv = shlex.split(process.command or "")
        if len(argv) != 2 or argv[0] not in GIT_COMMANDS:
            process.stderr.write(b"only git-upload-pack and git-receive-pack run here\n")
            process.exit(1)
            return
        self.commands.append(argv[0])
        repo = (self.root / argv[1].lstrip("/")).resolve()
        if self.root.resolve() not in repo.parents:
            process.stderr.write(b"no such repository\n")
            process.exit(1)
            return
        git = await asyncio.create_subprocess_exec(
            argv[0],
            str(repo),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await process.redirect(stdin=git.stdin, stdout=git.stdout, stderr=git.stderr)
        process.exit(await git.wait())
        await process.wait_closed()  # runs the redirections' clean-ups

    def __enter__(self) -> GitSshServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
