"""Compression streams of the standard library, by Kestra's names, and a bounded copy:
what is decompressed is counted as it is written, never trusted from a header."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil
import zlib
from typing import Any, BinaryIO, Protocol

from lanner.errors import LannerError

CHUNK = 1 << 20
# The most bytes one task decompresses (all files together) and the most files it
# extracts: beyond, the input is taken for a decompression bomb and the task fails.
MAX_OUTPUT_BYTES = 8 << 30
MAX_ENTRIES = 100_000


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class TooLargeError(LannerError):
    """The decompressed output is larger than Lanner extracts (a decompression bomb?)."""


class _ZlibReader(io.RawIOBase):
    """DEFLATE as Kestra's commons-compress writes it: a zlib stream. Each read inflates
    at most what the caller asked for (`max_length`), so that a bomb never sits whole
    in memory."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._z = zlib.decompressobj()
        self._tail = b""  # input not inflated yet
        self._extra = b""  # inflated output not returned yet

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        room = len(view)
        out = self._extra
        while not out:
            if self._tail:
                out = self._z.decompress(self._tail, room)
                self._tail = self._z.unconsumed_tail
            elif self._z.eof:
                return 0
            else:
                chunk = self._raw.read(CHUNK)
                if not chunk:
                    out = self._z.flush()
                    if not out:
                        return 0
                    break
                out = self._z.decompress(chunk, room)
                self._tail = self._z.unconsumed_tail
        n = min(room, len(out))
        view[:n] = out[:n]
        self._extra = out[n:]
        return n


class _ZlibWriter(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._z = zlib.compressobj()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._raw.write(self._z.compress(chunk))
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self._raw.write(self._z.flush())
        super().close()


def reader(compression: str, raw: BinaryIO) -> io.BufferedIOBase:
    """A stream of `raw`'s bytes decompressed."""
    if compression == "GZIP":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "BZIP2":
        return bz2.BZ2File(raw, "rb")
    if compression == "XZ":
        return lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_XZ)
    if compression == "LZMA":
        return lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_ALONE)
    if compression == "DEFLATE":
        return io.BufferedReader(_ZlibReader(raw), CHUNK)
    raise ValueError(f"compression {compression} is not supported here")


def writer(compression: str, raw: BinaryIO) -> io.BufferedIOBase:
    """A stream that compresses what is written into `raw` (close it to finish)."""
    if compression == "GZIP":
        # Level 6, zlib's default and Kestra's (commons-compress uses Deflater's default);
        # gzip's own default of 9 is about 3x slower for a few percent.
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6)
    if compression == "BZIP2":
        return bz2.BZ2File(raw, "wb")
    if compression == "XZ":
        return lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_XZ)
    if compression == "LZMA":
        return lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_ALONE)
    if compression == "DEFLATE":
        return io.BufferedWriter(_ZlibWriter(raw), CHUNK)
    raise ValueError(f"compression {compression} is not supported here")


class Budget:
    """What one task may still decompress: bytes and files."""

    def __init__(self, max_bytes: int | None = None, max_entries: int | None = None) -> None:
        self.bytes_left = MAX_OUTPUT_BYTES if max_bytes is None else max_bytes
        self.entries_left = MAX_ENTRIES if max_entries is None else max_entries

    def entry(self) -> None:
        self.entries_left -= 1
        if self.entries_left < 0:
            raise TooLargeError(
                "the archive has more files than Lanner extracts"
                f" ({MAX_ENTRIES}; docs/tasks-compress.md)"
            )

    def copy(self, source: Readable, target: Writable) -> int:
        """Copy `source` to `target`, failing once the budget's bytes are spent."""
        total = 0
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                return total
            total += len(chunk)
            self.bytes_left -= len(chunk)
            if self.bytes_left < 0:
                raise TooLargeError(
                    "the decompressed output is larger than Lanner extracts"
                    f" ({MAX_OUTPUT_BYTES} bytes; docs/tasks-compress.md): a decompression bomb?"
                )
            target.write(chunk)


def copy(source: Readable, target: Writable) -> None:
    shutil.copyfileobj(source, target, CHUNK)
