"""The properties of `io.kestra.plugin.compress.*` (docs/tasks-compress.md). Kestra's
formats that Python's standard library cannot read or write are rejected when the
flow loads, with that reason."""

from __future__ import annotations

from pydantic import Field, field_validator

from lanner.model.common import Text, is_dynamic
from lanner.model.task import Task

ALGORITHMS = ("ZIP", "JAR", "TAR")
KESTRA_ALGORITHMS = ("AR", "ARJ", "CPIO", "DUMP", "JAR", "TAR", "ZIP", "SEVEN_Z")
COMPRESSIONS = ("GZIP", "BZIP2", "XZ", "LZMA", "DEFLATE")
KESTRA_COMPRESSIONS = (
    "BROTLI",
    "BZIP2",
    "DEFLATE",
    "DEFLATE64",
    "GZIP",
    "LZ4BLOCK",
    "LZ4FRAME",
    "LZMA",
    "SNAPPY",
    "SNAPPYFRAME",
    "XZ",
    "Z",
    "ZSTD",
)


def check_choice(value: str, supported: tuple[str, ...], known: tuple[str, ...], what: str) -> str:
    """`value` when Lanner does it; an error naming why otherwise."""
    if is_dynamic(value) or value in supported:
        return value
    if value in known:
        raise ValueError(
            f"{what} {value} is not supported here: Lanner uses Python's standard library,"
            f" which handles {', '.join(supported)}"
        )
    raise ValueError(f"{what} must be one of {', '.join(known)}, got {value!r}")


class _Compression(Task):
    compression: Text | None = Field(
        None, description="GZIP, BZIP2, XZ, LZMA or DEFLATE (zlib) around the archive."
    )

    @field_validator("compression")
    @classmethod
    def _compression(cls, value: str | None) -> str | None:
        if value is None:
            return value
        return check_choice(value, COMPRESSIONS, KESTRA_COMPRESSIONS, "compression")


class _Archive(_Compression):
    algorithm: Text = Field(description="The archive format: ZIP, JAR or TAR.")

    @field_validator("algorithm")
    @classmethod
    def _algorithm(cls, value: str) -> str:
        return check_choice(value, ALGORITHMS, KESTRA_ALGORITHMS, "algorithm")


class ArchiveCompress(_Archive):
    """Put files of internal storage into one archive: `uri`."""

    type: str
    from_: dict[str, Text] | Text = Field(
        alias="from",
        description="Path in the archive -> kestra:// URI (a map, or that map as JSON).",
    )


class ArchiveDecompress(_Archive):
    """Extract an archive's files into internal storage: `files` (path -> URI)."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the archive.")


class FileCompress(_Compression):
    """Compress one file: `uri`."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the file.")
    compression: Text = Field(description="GZIP, BZIP2, XZ, LZMA or DEFLATE (zlib).")


class FileDecompress(_Compression):
    """Decompress one file: `uri`."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the file.")
    compression: Text = Field(description="GZIP, BZIP2, XZ, LZMA or DEFLATE (zlib).")
