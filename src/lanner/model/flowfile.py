"""Reading a flow file: a regular file only, of bounded size (docs/limits.md).

What the file holds (one flow or several, separated by `---`) is
:mod:`lanner.model.validate`'s business; this module only makes sure that
reading it cannot hang on a FIFO, stream `/dev/zero` or fill the memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from lanner.errors import FileReadError
from lanner.model.limits import MAX_FLOW_BYTES


def read_flow_text(path: str | Path, kind: str = "flow file") -> str:
    """A flow file's text (or another `kind` of Lanner file): a regular file only, of
    at most MAX_FLOW_BYTES.

    The file is opened without blocking and checked on its descriptor, so a
    FIFO, a device (`/dev/zero`) or a directory is refused before anything is
    read, even if the name was swapped after a first look.
    """
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileReadError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise FileReadError(f"{name}: is a directory, expected a {kind}") from None
    except OSError as exc:
        raise FileReadError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileReadError(f"{name}: is a directory, expected a {kind}")
        if not stat.S_ISREG(info.st_mode):
            raise FileReadError(
                f"{name}: is not a regular file (a FIFO, device or socket); "
                f"a {kind} is read from a regular file only"
            )
        if info.st_size > MAX_FLOW_BYTES:
            raise FileReadError(too_large(name, info.st_size, kind))
        chunks: list[bytes] = []
        size = 0
        # One byte more than allowed: a file that grew since fstat is caught too.
        while size <= MAX_FLOW_BYTES:
            chunk = os.read(fd, MAX_FLOW_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileReadError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_FLOW_BYTES:
        raise FileReadError(too_large(name, len(data), kind))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileReadError(
            f"{name}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)"
        ) from None


def too_large(name: str, size: int, kind: str = "flow file") -> str:
    return (
        f"{name}: {size} bytes, more than the {MAX_FLOW_BYTES} bytes a {kind} may have "
        "(limit, see docs/limits.md)"
    )
