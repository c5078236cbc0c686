"""Durations as the engine's messages write them: Kestra's "Timeout after HH:MM:SS.mmm"."""

from __future__ import annotations

from datetime import timedelta


def hms(delta: timedelta) -> str:
    """`delta` as HH:MM:SS.mmm."""
    total_ms = int(delta.total_seconds() * 1000)
    hours, rem = divmod(total_ms, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    seconds, ms = divmod(rem, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"
