"""The exit codes every `lanner` command keeps (documented in the README), and
the one table from exceptions to them."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from lanner.errors import InputError, LannerError

OK = 0
EXECUTION_FAILED = 1  # an execution ended FAILED, KILLED or CANCELLED
BAD_INPUT = 2  # usage error, invalid flow or inputs, unknown id, missing or unreadable file
ENVIRONMENT = 3  # store unreachable or locked, unexpected exception
INTERRUPTED = 130

_TABLE: tuple[tuple[type[BaseException], int], ...] = (
    (InputError, BAD_INPUT),
    (LannerError, ENVIRONMENT),
    (KeyboardInterrupt, INTERRUPTED),
)

F = TypeVar("F", bound=Callable[..., Any])


def exit_code_for(exc: BaseException) -> int:
    for cls, code in _TABLE:
        if isinstance(exc, cls):
            return code
    return ENVIRONMENT


def _masked(text: str) -> str:
    """The message with every secret value this process has seen masked."""
    if "lanner.expr.taint" not in sys.modules:
        return text  # no expression ran: no secret is known (and none is imported for it)
    from lanner.expr import taint

    return taint.mask(text)


def guarded(func: F) -> F:
    """Turn every exception into one clear line on stderr and its exit code;
    the traceback only with --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        try:
            return func(*args, **kwargs)
        except SystemExit:
            raise
        except BaseException as exc:
            code = exit_code_for(exc)
            if debug:
                traceback.print_exc()
            if code == INTERRUPTED:
                print("lanner: interrupted", file=sys.stderr)
            elif isinstance(exc, LannerError):
                print(f"lanner: {_masked(exc.message)}", file=sys.stderr)
            else:
                print(
                    f"lanner: internal error: {type(exc).__name__}: {_masked(str(exc))}"
                    " (run with --debug for the traceback)",
                    file=sys.stderr,
                )
            raise SystemExit(code) from None

    return wrapper  # type: ignore[return-value]
