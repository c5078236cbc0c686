"""Namespace files: upload a folder, pick files with Kestra's include/exclude globs,
delete a file or a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.storage import LocalStorage
from lanner.storage.namespacefiles import (
    delete_namespace_file,
    matches,
    namespace_files,
    upload_directory,
)


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("main.py", "*.py", True),
        ("scripts/etl.py", "*.py", False),
        ("scripts/etl.py", "**.py", True),
        ("scripts/etl.py", "scripts/**", True),
        ("scripts/sub/etl.py", "scripts/*", False),
        ("queries/q.sql", "queries/?.sql", True),
        ("a.yml", "*.{yml,yaml}", True),
        ("a.yaml", "/*.{yml,yaml}", True),
    ],
)
def test_globs_as_javas_path_matcher(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, [pattern]) is expected


def test_upload_list_pick_delete(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for name in (
        "main.py",
        "scripts/etl.py",
        "queries/q.sql",
        ".git/config",
        "x/__pycache__/m.pyc",
    ):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(name)
    storage = LocalStorage(tmp_path / "storage")
    stored = upload_directory(storage, "company.team", src)
    assert [f.path for f in stored] == ["main.py", "queries/q.sql", "scripts/etl.py"]
    assert stored[0].uri == "kestra:///company/team/_files/main.py"
    assert [f.path for f in namespace_files(storage, "company.team", include=["**.py"])] == [
        "main.py",
        "scripts/etl.py",
    ]
    picked = namespace_files(storage, "company.team", exclude=["scripts/**"])
    assert [(f.path, f.size) for f in picked] == [("main.py", 7), ("queries/q.sql", 13)]
    assert list(namespace_files(storage, "company")) == []  # a parent's own files only
    assert list(namespace_files(storage, "company.team.sub")) == []
    assert delete_namespace_file(storage, "company.team", "scripts") == 1
    assert delete_namespace_file(storage, "company.team", "main.py") == 1
    assert delete_namespace_file(storage, "company.team", "main.py") == 0
    assert [f.path for f in namespace_files(storage, "company.team")] == ["queries/q.sql"]


def test_a_task_lists_its_namespace_files_and_those_above(tmp_path: Path) -> None:
    from lanner.storage.uris import StorageUriError
    from tests.support.task_context import LocalTaskContext

    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    (src / "lib" / "util.py").write_text("X = 1\n")
    (src / "README.md").write_text("hi")
    storage = LocalStorage(tmp_path / "storage")
    upload_directory(storage, "company.team", src)
    upload_directory(storage, "company", src)
    upload_directory(storage, "company.ops", src)
    ctx = LocalTaskContext(storage=storage, namespace="company.team")
    picked = ctx.namespace_files(include=["**.py"])
    assert [(f.path, f.uri) for f in picked] == [
        ("lib/util.py", "kestra:///company/team/_files/lib/util.py")
    ]
    with ctx.open_file(picked[0].uri) as f:
        assert f.read() == b"X = 1\n"
    assert [f.path for f in ctx.namespace_files("company")] == ["README.md", "lib/util.py"]
    with pytest.raises(StorageUriError, match="namespaces above it only"):
        ctx.namespace_files("company.ops")
