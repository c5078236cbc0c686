"""Third-party triggers, installed through the `lanner.triggers` entry points
(tests/integration/test_plugin_trigger.py). The polling one looks into a local folder
every `interval`: a file there starts one execution with its name and text in
`trigger.*`, and is deleted once that execution is stored. The realtime one listens to
a folder: each file is a message, deleted when acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from lanner.model.common import DurationLike
from lanner.model.flow import Flow
from lanner.model.triggers import PollingTrigger, TriggerBase
from lanner.plugin import TriggerPlugin
from lanner.runtime.pollbase import Poll, PollingType
from lanner.runtime.realtime import RealtimeKind
from lanner.runtime.triggertypes import Message
from lanner.store.base import TriggerContext

NAME = "com.example.dropbox.Trigger"
REALTIME = "com.example.dropbox.RealtimeTrigger"


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


class DropboxRealtimeTrigger(TriggerBase):
    """Start an execution for each file dropped in a folder, as it comes."""

    folder: str


class FolderListener:
    """Files of a folder as messages: what was received is deleted when acknowledged."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.received: list[Path] = []

    def receive(self, max_messages: int, timeout: float) -> list[Message]:
        seen = set(self.received)
        files = sorted(p for p in self.folder.iterdir() if p.is_file() and p not in seen)
        files = files[:max_messages]
        self.received.extend(files)
        return [Message({"file": f.name, "text": f.read_text()}, f.name) for f in files]

    def ack(self) -> None:
        for path in self.received:
            path.unlink(missing_ok=True)
        self.received = []

    def close(self) -> None:
        self.received = []


def _open_listener(trigger: Any, render: Callable[[Any], Any], name: str) -> FolderListener:
    return FolderListener(Path(str(render(trigger.folder))))


def trigger_types() -> list[TriggerPlugin]:
    return [
        TriggerPlugin(NAME, DropboxTrigger, DropboxType(), ("com.example.Dropbox",)),
        TriggerPlugin(REALTIME, DropboxRealtimeTrigger, RealtimeKind(REALTIME, _open_listener)),
    ]
