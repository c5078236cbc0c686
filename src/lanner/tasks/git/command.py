"""Running the `git` command line for a task: credentials, configuration, cancellation.

Lanner drives the `git` program (it must be on the worker's PATH) rather than a Python
implementation of git: it is the reference implementation, it speaks every transport and
handles shallow clones and submodules completely, and the machine already has it.

An HTTP(S) username and password never go into a URL or a command line (where `ps` and
git's own messages would show them): git asks for them through ``GIT_ASKPASS``, a small
script of the attempt's that prints them from its environment. ``gitConfig`` entries are
``-c key=value`` options; ``noProxy`` empties ``http.proxy`` and the proxy variables.

An SSH ``privateKey`` goes to a 0600 file in a 0700 folder of the attempt's, removed
when the task is done; git reaches the server with the worker's ``ssh`` program through
``GIT_SSH_COMMAND``, which names that file (never the key). Its ``passphrase`` reaches
ssh through ``SSH_ASKPASS`` (forced), a script that prints it from the environment. The
server's host key is not checked, as Kestra's JGit session does not check it
(``StrictHostKeyChecking=no``): docs/tasks-git.md.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lanner.errors import InputError, LannerError
from lanner.plugin import TaskContext
from lanner.tasks.scripts.process import run_process

_ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$LANNER_GIT_USERNAME" ;;
  *) printf '%s\\n' "$LANNER_GIT_PASSWORD" ;;
esac
"""
_SSH_ASKPASS = """#!/bin/sh
printf '%s\\n' "$LANNER_GIT_PASSPHRASE"
"""
# Kestra's JGit session sets StrictHostKeyChecking=no and reads no known_hosts file.
_SSH_OPTIONS = (
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=10",  # Kestra's connectTimeout default (10000 ms)
    "-o",
    "LogLevel=ERROR",
    "-o",
    "PasswordAuthentication=no",
    "-o",
    "KbdInteractiveAuthentication=no",
)
_REFUSED = "Permission denied (publickey"
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class Git:
    """`git` for one attempt, with its credentials and configuration."""

    def __init__(
        self,
        ctx: TaskContext,
        *,
        username: str | None = None,
        password: str | None = None,
        config: Mapping[str, Any] | None = None,
        no_proxy: bool = False,
        private_key: str | None = None,
        passphrase: str | None = None,
    ) -> None:
        self._ctx = ctx
        self._program = shutil.which("git")
        if self._program is None:
            raise LannerError("the git program is not on this worker's PATH")
        self._options: list[str] = []
        for key, value in (config or {}).items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            self._options += ["-c", f"{key}={text}"]
        env = dict(os.environ)
        env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for someone to type a password
        if no_proxy:
            self._options += ["-c", "http.proxy="]
            for name in _PROXY_VARS:
                env.pop(name, None)
        self._askpass_dir: Path | None = None
        self._uses_key = private_key is not None
        try:
            if username is not None or password is not None:
                script = self._script("askpass.sh", _ASKPASS)
                env["GIT_ASKPASS"] = str(script)
                env["LANNER_GIT_USERNAME"] = username or ""
                env["LANNER_GIT_PASSWORD"] = password or ""
            if private_key is not None:
                env.update(self._ssh(private_key, passphrase))
        except BaseException:
            self.close()
            raise
        self._env = env

    def _folder(self) -> Path:
        if self._askpass_dir is None:
            # mkdtemp makes it 0700: only the worker's user reads what is in it.
            self._askpass_dir = Path(tempfile.mkdtemp(prefix="lanner-git-"))
        return self._askpass_dir

    def _script(self, name: str, text: str) -> Path:
        script = self._folder() / name
        script.write_text(text)
        script.chmod(stat.S_IRWXU)
        return script

    def _ssh(self, private_key: str, passphrase: str | None) -> dict[str, str]:
        """The environment that makes git's ssh use `private_key` (and `passphrase`)."""
        ssh = shutil.which("ssh")
        if ssh is None:
            raise LannerError(
                "the ssh program is not on this worker's PATH (needed for privateKey)"
            )
        key_file = self._folder() / "key"
        # Created 0600 (ssh refuses a key others can read); ssh wants the final newline.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(private_key.replace("\r\n", "\n").strip() + "\n")
        command = [ssh, "-i", str(key_file), *_SSH_OPTIONS]
        env = {"GIT_SSH_VARIANT": "ssh"}
        if passphrase is None:
            command += ["-o", "BatchMode=yes"]  # never a prompt
        else:
            script = self._script("ssh-askpass.sh", _SSH_ASKPASS)
            env |= {
                "SSH_ASKPASS": str(script),
                "SSH_ASKPASS_REQUIRE": "force",
                "LANNER_GIT_PASSPHRASE": passphrase,
            }
            # One try: a wrong passphrase fails at once instead of being asked again.
            command += ["-o", "NumberOfPasswordPrompts=1"]
        env["GIT_SSH_COMMAND"] = shlex.join(command)
        return env

    def run(self, args: Sequence[str], cwd: Path, *, quiet: bool = False) -> list[str]:
        """Run `git args` in `cwd`; its output lines (logged at DEBUG unless `quiet`).
        A non-zero exit fails with git's last lines."""
        assert self._program is not None
        lines: list[str] = []

        def on_line(line: str, is_err: bool) -> None:
            lines.append(line)
            if not quiet:
                self._ctx.log("DEBUG", line)

        argv = [self._program, *self._options, *args]
        result = run_process(argv, cwd, self._env, on_line, lambda: self._ctx.cancelled)
        # The command's name, past any `-c key=value` options.
        name = next((a for a in args if not a.startswith("-") and "=" not in a), args[0])
        if result.stopped:
            raise LannerError(f"git {name} was stopped")
        if result.exit_code != 0:
            detail = " / ".join(line for line in lines[-5:] if line.strip())
            if self._uses_key and any(_REFUSED in line for line in lines):
                detail += " (the SSH server refused the privateKey, or its passphrase is wrong)"
            raise InputError(f"git {name} failed (exit {result.exit_code}): {detail}")
        return lines

    def close(self) -> None:
        if self._askpass_dir is not None:
            shutil.rmtree(self._askpass_dir, ignore_errors=True)
            self._askpass_dir = None

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
