"""`lanner executions show` lists an execution's files: sizes always, the text of
small text files only, with secrets masked."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from lanner.cli.files import PREVIEW_BYTES, file_views
from lanner.engine.execution import Execution, History
from lanner.expr import SecretMasker
from lanner.model.states import State
from lanner.storage import LocalStorage, storage_path, task_file_uri


def test_small_text_files_are_previewed_and_others_only_sized(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    execution = Execution(
        id="E1",
        namespace="company.team",
        flow_id="etl",
        flow_revision=1,
        state=State.SUCCESS,
        histories=(History(State.CREATED, datetime.now(UTC)),),
    )

    def put(name: str, data: bytes) -> str:
        uri = task_file_uri("company.team", "etl", "E1", "t", "TR", name)
        storage.put(storage_path(uri), io.BytesIO(data))
        return uri

    small = put("a.txt", b"token=hunter2-secret\n")
    big = put("b.txt", b"x" * (PREVIEW_BYTES + 1))
    binary = put("c.bin", b"\xff\xfe\x00\x01")
    put_elsewhere = task_file_uri("company.team", "etl", "E2", "t", "TR", "d.txt")
    storage.put(storage_path(put_elsewhere), io.BytesIO(b"another execution"))
    masker = SecretMasker()
    masker.add("hunter2-secret")
    views = file_views(storage, execution, masker)
    assert views == [
        {"uri": small, "size": 21, "preview": "token=******\n"},
        {"uri": big, "size": PREVIEW_BYTES + 1},
        {"uri": binary, "size": 4},
    ]
