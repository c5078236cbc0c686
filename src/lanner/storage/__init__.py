"""Internal storage: the files of executions, addressed by Kestra's `kestra://` URIs.

Task outputs that are files, FILE inputs and namespace files live here, not in
the store's database. `uris` names and checks the URIs; `base` is the storage
contract; `local` keeps the files in a folder (the embedded default,
`$LANNER_HOME/storage`).
"""

from lanner.storage.base import FileInfo, Storage
from lanner.storage.local import LocalStorage
from lanner.storage.uris import (
    SCHEME,
    input_file_uri,
    namespace_file_uri,
    storage_path,
    task_file_uri,
)

__all__ = [
    "SCHEME",
    "FileInfo",
    "LocalStorage",
    "Storage",
    "input_file_uri",
    "namespace_file_uri",
    "storage_path",
    "task_file_uri",
]
