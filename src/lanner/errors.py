"""Every exception Lanner raises on purpose, in one tree.

::

    LannerError                      (exit code 3 unless a subclass says otherwise)
    ├── InputError                   bad input from a user: exit code 2
    │   ├── FlowValidationError      a flow file that is not a valid flow (all its problems)
    │   ├── InputValueError          an execution input that is missing or does not parse
    │   ├── FileReadError            a file that is missing or unreadable
    │   ├── NotFoundError            an unknown flow or execution id
    │   └── ConfigError              a configuration file that is not valid
    ├── RenderError                  a `{{ ... }}` expression that cannot be rendered
    │   ├── SandboxError             an expression that tried to leave the sandbox or its limits
    │   └── SecretUnavailableError   a stored secret value this process has no key to decrypt
    └── StoreError                   the store is unreachable, locked or corrupt: exit code 3

Each class's docstring is its default message. The CLI maps the classes to
exit codes through one table (``lanner.cli.exitcodes``).
"""

from __future__ import annotations

from dataclasses import dataclass


class LannerError(Exception):
    """Lanner failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InputError(LannerError):
    """The input given to Lanner is not valid."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, with the place it was found."""

    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    task_id: str | None = None
    task_type: str | None = None

    def render(self) -> str:
        where = self.file or "<flow>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [where]
        if self.path:
            parts.append(self.path)
        if self.task_id:
            task = f"task '{self.task_id}'"
            if self.task_type:
                task += f" ({self.task_type})"
            parts.append(task)
        return f"{': '.join(parts)}: {self.message}"


class FlowValidationError(InputError):
    """Invalid Flow."""

    def __init__(self, problems: list[Problem], file: str | None = None) -> None:
        self.problems = problems
        self.file = file
        lines = [p.render() for p in problems]
        head = f"Invalid Flow{' ' + file if file else ''}: {len(problems)} problem(s)"
        super().__init__("\n".join([head, *("  " + line for line in lines)]))


class InputValueError(InputError):
    """Invalid execution inputs."""


class FileReadError(InputError):
    """The file cannot be read."""


class NotFoundError(InputError):
    """Not found."""


class ConfigError(InputError):
    """Invalid configuration."""


class RenderError(LannerError):
    """The expression cannot be rendered."""

    def __init__(
        self,
        message: str | None = None,
        *,
        expression: str | None = None,
        variable: str | None = None,
        task_id: str | None = None,
    ) -> None:
        self.expression = expression
        self.variable = variable
        self.task_id = task_id
        super().__init__(message)


class SandboxError(RenderError):
    """The expression is not allowed in the sandbox."""


class SecretUnavailableError(RenderError):
    """A secret value stored encrypted cannot be decrypted by this process."""


class StoreError(LannerError):
    """The store cannot be used."""
