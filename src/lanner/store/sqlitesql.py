"""The SQL only SQLiteStore runs, one constant per statement.

What differs from PostgreSQL: claiming (one UPDATE under the single
writer, ordered by rowid), the executor's pick (the oldest due event: the
single writer already holds every execution), fenced deletes one claim at a
time, and JSON arrays through ``json_each`` where PostgreSQL takes arrays.
The statements both dialects share are :data:`SQL`, the shared
:class:`lanner.store.sql.Statements` with these added. Constant strings hit
sqlite3's statement cache.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lanner.store import codec
from lanner.store.sql import Statements

# One statement is one atomic transaction, and SQLite takes the write lock
# when an UPDATE starts (as BEGIN IMMEDIATE would): no two claimers can pick
# the same rows. The token is 128 random bits, like a uuid4's.
CLAIM = (
    "UPDATE job SET claim_token = lower(hex(randomblob(16))), claimed_by = ?,"
    " lease_expires_at = ?, claims = claims + 1 WHERE rowid IN (SELECT rowid FROM job"
    " WHERE claim_token IS NULL AND run_after <= ? ORDER BY run_after, rowid LIMIT ?)"
    " RETURNING run_after, rowid, task_run_id, attempt, execution_id, payload, claim_token, claims"
)
# The same, for the jobs of a scope's executions only (a JSON array of ids).
CLAIM_SCOPED = (
    "UPDATE job SET claim_token = lower(hex(randomblob(16))), claimed_by = ?,"
    " lease_expires_at = ?, claims = claims + 1 WHERE rowid IN (SELECT rowid FROM job"
    " WHERE claim_token IS NULL AND run_after <= ?"
    " AND execution_id IN (SELECT value FROM json_each(?)) ORDER BY run_after, rowid LIMIT ?)"
    " RETURNING run_after, rowid, task_run_id, attempt, execution_id, payload, claim_token, claims"
)
# json_each keeps one SQL text (one cached statement) for any number of tokens.
RENEW = (
    "UPDATE job SET lease_expires_at = ? WHERE claimed_by = ?"
    " AND claim_token IN (SELECT value FROM json_each(?))"
    " RETURNING claim_token, task_run_id, cancel_requested"
)
FENCED_DELETE = "DELETE FROM job WHERE task_run_id = ? AND attempt = ? AND claim_token = ?"
FENCED_CHECK = "SELECT 1 FROM job WHERE task_run_id = ? AND attempt = ? AND claim_token = ?"
# A job's start event, inserted only while the claim holds (FENCED_CHECK in the same
# statement). No row inserted: the claim is gone, or the event's dedup key exists.
FENCED_EVENT_INSERT = (
    "INSERT INTO execution_event (execution_id, kind, payload, visible_at, dedup_key)"
    " SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM job"
    " WHERE task_run_id = ? AND attempt = ? AND claim_token = ?)"
    " ON CONFLICT (dedup_key) DO NOTHING"
)

NEXT_EXECUTION = (
    "SELECT execution_id FROM execution_event WHERE visible_at <= ? ORDER BY visible_at, id LIMIT 1"
)
NEXT_EXECUTION_SCOPED = (
    "SELECT execution_id FROM execution_event WHERE visible_at <= ?"
    " AND execution_id IN (SELECT value FROM json_each(?)) ORDER BY visible_at, id LIMIT 1"
)
# A cycle's UPDATE names only the columns whose values changed (codec.execution_changes):
# SQLite rewrites the entries of every index on a column the SET names, whatever the
# value, and state and finalized_at are in indexes (execution_slots,
# execution_finalized); the other columns are neither encoded nor bound again.
_EXEC_UPDATES: dict[int, str] = {}


def exec_update(mask: int) -> str:
    """The UPDATE of the columns of `mask` (bits over codec.EXECUTION_UPDATED) and the
    version, for the row of an id at an expected version: one text per mask (cached)."""
    text = _EXEC_UPDATES.get(mask)
    if text is None:
        named = [c for i, c in enumerate(codec.EXECUTION_UPDATED) if mask >> i & 1]
        sets = "".join(f"{column} = ?, " for column in named)
        text = f"UPDATE execution SET {sets}version = ? WHERE id = ? AND version = ?"
        _EXEC_UPDATES[mask] = text
    return text


# A stored task run's update: the columns RUN_UPSERT sets on a conflict, then its id
# (codec.task_run_update_params). An upsert of a stored row builds
# the whole row and probes the key before it updates; this binds half the values.
RUN_UPDATE = (
    "UPDATE task_run SET state = ?, histories = ?, attempts = ?, outputs = ?, error = ?,"
    " memo = ?, generation = ? WHERE id = ?"
)
# One row per statement: sqlite3 runs executemany as a loop of cached steps anyway.
RUN_DELETE = "DELETE FROM task_run WHERE id = ?"
JOB_TAKE = "DELETE FROM job WHERE task_run_id = ? AND attempt = ? AND claim_token = ?"
JOB_CANCEL = "UPDATE job SET cancel_requested = TRUE WHERE task_run_id = ?"
EVENT_DELETE = "DELETE FROM execution_event WHERE id = ?"


EXPIRED = (
    f"SELECT {codec.JOB_COLUMNS} FROM job WHERE claim_token IS NOT NULL"
    " AND lease_expires_at < ? ORDER BY lease_expires_at, rowid LIMIT ?"
)
RELEASE = (
    "UPDATE job SET claim_token = NULL, claimed_by = NULL, lease_expires_at = NULL"
    " WHERE claim_token IN (SELECT value FROM json_each(?))"
)

PURGE_PICK = "SELECT id FROM execution WHERE finalized_at < ? ORDER BY finalized_at LIMIT ?"
# One execution, by id, when it is finalized (the API's delete).
DELETE_PICK = "SELECT id FROM execution WHERE id = ? AND finalized_at IS NOT NULL"
# The ids of one batch as one JSON array: one SQL text (one cached statement) per table.
PURGE = tuple(
    f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))"
    for table, column in (
        ("log", "execution_id"),
        ("execution_event", "execution_id"),
        ("job", "execution_id"),
        ("task_run", "execution_id"),
        ("execution", "id"),
    )
)


class SQLiteStatements(Statements):
    """The shared statements with ``?`` placeholders, and SQLite's own the shared methods run."""

    EXPIRED = EXPIRED
    EXEC_VERSION = "SELECT version FROM execution WHERE id = ?"  # the single writer holds it
    RELEASE = RELEASE
    PURGE_PICK = PURGE_PICK
    DELETE_PICK = DELETE_PICK
    PURGE = PURGE

    def __init__(self) -> None:
        super().__init__("?")

    def ids(self, values: Sequence[str]) -> str:
        # One JSON array: one SQL text (one cached statement) for any number of ids.
        return json.dumps(list(values))


SQL = SQLiteStatements()
