"""How a serdes task reads its `from` file and stores its result, with the
errors a user can act on."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TypeVar

from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.storage.uris import StorageUriError
from lanner.tasks.core.log import as_text
from lanner.tasks.serdes.props import SerdesError

T = TypeVar("T")

CHECK_EVERY = 4096
"""Rows between two looks at the cancellation flag."""


class Cancelled(Exception):
    """The attempt was killed or timed out while converting."""


def fails_cleanly(run: Callable[[T, TaskContext], Outcome]) -> Callable[[T, TaskContext], Outcome]:
    """A run function whose property errors (a SerdesError raised while rendering)
    end the task FAILED with their message, as errors met while converting do."""

    @functools.wraps(run)
    def wrapper(task: T, ctx: TaskContext) -> Outcome:
        try:
            return run(task, ctx)
        except SerdesError as exc:
            return Outcome(State.FAILED, error=str(exc))

    return wrapper


@contextmanager
def source(ctx: TaskContext, value: str) -> Iterator[BinaryIO]:
    """The `from` file, opened for reading."""
    uri = as_text(ctx.render(value)).strip()
    if not uri.startswith("kestra://"):
        raise SerdesError(
            f"'from' must be a kestra:// URI of a file in internal storage, such as"
            f" {{{{ outputs.task_id.uri }}}} (got '{uri[:200]}')"
        )
    with ctx.open_file(uri) as stream:
        yield stream


def convert(ctx: TaskContext, suffix: str, work: Callable[[Path], None]) -> Outcome:
    """Run `work` on a fresh local file, then store that file; Kestra's `uri` output.

    Expected failures (bad properties, bad input) become a FAILED outcome with
    their message; a kill stops the conversion and stores nothing."""
    with tempfile.TemporaryDirectory(prefix="lanner-serdes-") as folder:
        target = Path(tempfile.mkstemp(suffix=suffix, dir=folder)[1])
        try:
            work(target)
        except Cancelled:
            return Outcome(State.KILLED)
        except (SerdesError, StorageUriError) as exc:
            return Outcome(State.FAILED, error=str(exc))
        except UnicodeError as exc:
            return Outcome(State.FAILED, error=f"{exc}: is the 'charset' property right?")
        return Outcome(outputs={"uri": ctx.put_file(target)})
