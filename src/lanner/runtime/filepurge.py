"""Purging executions with their files: `lanner purge` and retention
(`retention.olderThan`, runtime.maintenance) go through here.

The store deletes the executions' rows; then the files of each purged execution
(everything under storage.uris.execution_prefix) go too. The candidates are
read before the store's purge and only those the store no longer has lose
their files, so an execution finalized meanwhile, or one the purge left for
its next round, keeps them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from lanner.storage.base import Storage
from lanner.storage.uris import StorageUriError, execution_prefix
from lanner.store.base import Store

log = logging.getLogger(__name__)

# How many executions one round reads to find the finalized ones (most recent first).
_SCAN = 1_000_000


def purge_executions(store: Store, storage: Storage, before: datetime) -> int:
    """Delete the executions finalized before `before` and their files; how many."""
    candidates = [
        e
        for e in store.list_executions(limit=_SCAN)
        if e.finalized_at is not None and e.finalized_at < before
    ]
    count = store.purge_executions(before)
    for execution in candidates:
        if store.get_execution(execution.id) is not None:
            continue
        try:
            prefix = execution_prefix(execution.namespace, execution.flow_id, execution.id)
        except StorageUriError:  # a name no file could have been stored under
            continue
        storage.delete_prefix(prefix)
    return count
