"""What the broker task tests (MQTT, NATS, Redis) share: a task model from its
properties, an internal storage in the test's folder with a task context over it, and
the rows a task stored there. Import the fixtures as `storage_fixture` and
`ctx_fixture` (with `# noqa: F401`) and ask for `storage` and `ctx`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lanner.ion import read_values
from lanner.model.task import Task
from lanner.storage import LocalStorage, storage_path
from tests.support.task_context import LocalTaskContext


def make(model: type[Task], **props: Any) -> Any:
    """The task `model` with these properties (the id and type are not what is tested)."""
    return model.model_validate({"id": "t", "type": "any", **props})


def stored_rows(storage: LocalStorage, uri: str) -> list[Any]:
    """The Ion rows of the `kestra://` file `uri`."""
    with storage.open(storage_path(uri)) as f:
        return list(read_values(f))


@pytest.fixture(name="storage")
def storage_fixture(tmp_path: Path) -> LocalStorage:
    """Import it as `storage_fixture` and ask for `storage`."""
    return LocalStorage(tmp_path / "storage")


@pytest.fixture(name="ctx")
def ctx_fixture(storage: LocalStorage) -> LocalTaskContext:
    """Import it as `ctx_fixture` and ask for `ctx`: inputs.who is Ada."""
    return LocalTaskContext({"inputs": {"who": "Ada"}}, storage=storage)
