"""The `storage:` section of config.yml, and opening the storage it names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lanner.config import load_config, open_storage
from lanner.errors import ConfigError, LannerError
from lanner.storage import LocalStorage
from lanner.storage.s3 import S3Storage
from tests.support.s3 import S3Server


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def test_the_default_is_a_folder_under_lanner_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_HOME", str(tmp_path / "home"))
    storage = open_storage(load_config(config_file(tmp_path, "envPrefix: ENV_\n")))
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path / "home" / "storage"
    other = open_storage(load_config(config_file(tmp_path, "storage:\n  basePath: /srv/files\n")))
    assert isinstance(other, LocalStorage) and other.root == Path("/srv/files")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("storage:\n  bucket: b\n", "bucket: only for `type: s3`"),
        ("storage:\n  type: s3\n", "`type: s3` needs a `bucket`"),
        ("storage:\n  type: s3\n  bucket: b\n  basePath: /x\n", "basePath: only for `type: local`"),
        ("storage:\n  type: s3\n  bucket: b\n  accessKey: k\n", "both accessKey and secretKey"),
        ("storage:\n  type: gcs\n", "storage.type"),
        ("storage:\n  tpye: s3\n", "storage.tpye"),
    ],
)
def test_bad_sections_are_located(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config_file(tmp_path, text))
    assert message in caught.value.message
    assert "config.yml:" in caught.value.message


def test_s3_is_opened_from_the_configuration(tmp_path: Path, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    cfg = load_config(config_file(tmp_path, s3_server.config_yaml(bucket, prefix="/team/")))
    storage = open_storage(cfg)
    assert isinstance(storage, S3Storage) and storage.prefix == "team/"


def test_without_boto3_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if it were not installed
    cfg = load_config(config_file(tmp_path, "storage:\n  type: s3\n  bucket: b\n"))
    with pytest.raises(LannerError, match=r"pip install 'lanner\[s3\]'"):
        open_storage(cfg)
