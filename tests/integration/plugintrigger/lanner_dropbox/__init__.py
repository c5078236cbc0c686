"""A third-party polling trigger, installed through the `lanner.triggers` entry points
(tests/integration/test_plugin_trigger.py): every `interval` it looks into a local
folder; a file there starts one execution with its name and text in `trigger.*`, and
is deleted once that execution is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from lanner.model.common import DurationLike
from lanner.model.flow import Flow
from lanner.model.triggers import PollingTrigger
from lanner.plugin import TriggerPlugin
from lanner.runtime.pollbase import Poll, PollingType
from lanner.store.base import TriggerContext

NAME = "com.example.dropbox.Trigger"


class DropboxTrigger(PollingTrigger):
    """Start an execution for each file dropped in a folder."""

    canonical_type: ClassVar[str] = NAME

    folder: str = Field(description="The folder to watch.")
    interval: DurationLike = "PT10S"

    @field_validator("folder")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith(("/", "{{")):
            raise ValueError(f"folder must be an absolute path, got '{value}'")
        return value


class DropboxType(PollingType):
    type_name = NAME

    def poll(
        self,
        flow: Flow,
        revision: int,
        trigger: Any,
        context: TriggerContext,
        now: datetime,
        execution_id: Callable[[str], str],
    ) -> Poll:
        folder = Path(str(self.renderer(flow, revision, now)(trigger.folder)))
        files = sorted(p for p in folder.iterdir() if p.is_file())
        if not files:
            return Poll()
        first = files[0]
        execution_id(first.name)
        return Poll(
            variables={"file": first.name, "text": first.read_text()},
            after_commit=lambda: first.unlink(missing_ok=True),
        )


def trigger_types() -> list[TriggerPlugin]:
    return [TriggerPlugin(NAME, DropboxTrigger, DropboxType(), ("com.example.Dropbox",))]
