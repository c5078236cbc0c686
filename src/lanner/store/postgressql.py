"""The SQL only PostgresStore runs, one constant per statement.

What differs from SQLite: claiming (``FOR UPDATE SKIP LOCKED``), the
executor's pick (a row lock on the execution), a worker's completion (one
statement of data-modifying CTEs), the data version (a sequence), advisory
locks, and arrays (``= ANY(%s)``) where SQLite takes a JSON array. The
statements both dialects share are :class:`lanner.store.sql.Statements`;
:data:`SQL` is them with PostgreSQL's placeholder, and these added. Constant
strings let psycopg prepare each statement once per connection (it prepares a
query after it has run a few times).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lanner.store import codec
from lanner.store.base import LogRecord
from lanner.store.sql import LOG_COLUMNS, Statements

# Taken by migrate(): 0x6c616e6e6572 is "lanner" in ASCII, so that another
# application's advisory locks in the same database are unlikely to collide.
MIGRATE_LOCK = 0x6C616E6E6572
SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version"
    " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
)
SCHEMA_EXISTS = "SELECT to_regclass('schema_version') IS NOT NULL"

# A sequence is not transactional: bumped after a commit, read by data_version().
BUMP = "SELECT nextval('change_counter')"
DATA_VERSION = "SELECT last_value, is_called FROM change_counter"

# One statement: the picked rows are locked (SKIP LOCKED: a row another
# claimer holds is passed over, never waited for) and updated together. The
# CTE is MATERIALIZED so that the LIMIT is applied once, whatever the plan.
# The token is 128 random bits in hex, as on SQLite.
CLAIM = (
    "WITH picked AS MATERIALIZED (SELECT task_run_id, attempt FROM job"
    " WHERE claim_token IS NULL AND run_after <= %s ORDER BY run_after, id LIMIT %s"
    " FOR UPDATE SKIP LOCKED)"
    " UPDATE job SET claim_token = replace(gen_random_uuid()::text, '-', ''), claimed_by = %s,"
    " lease_expires_at = %s, claims = job.claims + 1 FROM picked"
    " WHERE job.task_run_id = picked.task_run_id AND job.attempt = picked.attempt"
    " RETURNING job.run_after, job.id, job.task_run_id, job.attempt, job.execution_id,"
    " job.payload, job.claim_token, job.claims"
)
# The same, for the jobs of a scope's executions only (an array of ids).
CLAIM_SCOPED = (
    "WITH picked AS MATERIALIZED (SELECT task_run_id, attempt FROM job"
    " WHERE claim_token IS NULL AND run_after <= %s AND execution_id = ANY(%s)"
    " ORDER BY run_after, id LIMIT %s FOR UPDATE SKIP LOCKED)"
    " UPDATE job SET claim_token = replace(gen_random_uuid()::text, '-', ''), claimed_by = %s,"
    " lease_expires_at = %s, claims = job.claims + 1 FROM picked"
    " WHERE job.task_run_id = picked.task_run_id AND job.attempt = picked.attempt"
    " RETURNING job.run_after, job.id, job.task_run_id, job.attempt, job.execution_id,"
    " job.payload, job.claim_token, job.claims"
)
RENEW = (
    "UPDATE job SET lease_expires_at = %s WHERE claimed_by = %s AND claim_token = ANY(%s)"
    " RETURNING claim_token, task_run_id, cancel_requested"
)

# Serialises deploys of one flow (two processes must not both take revision n+1).
FLOW_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


# The executor's pick: the oldest visible event whose execution no other
# executor holds. The execution row is the lock (FOR UPDATE OF x SKIP LOCKED);
# event rows are not locked, or two executors skipping each other's events
# could each wait for the other when deleting them. Events of an execution
# that is not stored are never picked (they would be a bug upstream).
NEXT_EXECUTION = (
    "SELECT e.execution_id FROM execution_event AS e JOIN execution AS x ON x.id = e.execution_id"
    " WHERE e.visible_at <= %s AND e.execution_id <> ALL(%s) ORDER BY e.visible_at, e.id LIMIT 1"
    " FOR UPDATE OF x SKIP LOCKED"
)
HAS_DUE_EVENTS = (
    "SELECT EXISTS (SELECT 1 FROM execution_event AS e JOIN execution AS x"
    " ON x.id = e.execution_id WHERE e.visible_at <= %s)"
)
# The same two, for a scope's executions only (an array of ids).
NEXT_EXECUTION_SCOPED = (
    "SELECT e.execution_id FROM execution_event AS e JOIN execution AS x ON x.id = e.execution_id"
    " WHERE e.visible_at <= %s AND e.execution_id = ANY(%s) AND e.execution_id <> ALL(%s)"
    " ORDER BY e.visible_at, e.id LIMIT 1 FOR UPDATE OF x SKIP LOCKED"
)
HAS_DUE_EVENTS_SCOPED = (
    "SELECT EXISTS (SELECT 1 FROM execution_event AS e JOIN execution AS x"
    " ON x.id = e.execution_id WHERE e.visible_at <= %s AND e.execution_id = ANY(%s))"
)
# Locks the row: a cycle of local results holds its execution as next_execution's does.
EXEC_VERSION = "SELECT version FROM execution WHERE id = %s FOR UPDATE"
RUN_DELETE = "DELETE FROM task_run WHERE id = ANY(%s)"
# Fenced deletes of many claims in one statement: (task_run_id, attempt, token) arrays.
JOB_TAKE = (
    "DELETE FROM job USING unnest(%s::text[], %s::int[], %s::text[]) AS c (t, a, k)"
    " WHERE job.task_run_id = c.t AND job.attempt = c.a AND job.claim_token = c.k"
    " RETURNING job.task_run_id, job.attempt, job.claim_token"
)
JOB_CANCEL = "UPDATE job SET cancel_requested = TRUE WHERE task_run_id = ANY(%s)"
EVENT_DELETE = "DELETE FROM execution_event WHERE id = ANY(%s)"

# A worker's two writes of every job, each one statement (one round trip in
# autocommit, fence and writes committed together) rather than a transaction
# of four. The data-modifying CTEs run whether or not the outer query reads
# them; the count says whether the fence held.
_EVENT_FROM = (
    "INSERT INTO execution_event (execution_id, kind, payload, visible_at, dedup_key)"
    " SELECT %s::text, %s::text, %s::text, %s::bigint, %s::text FROM {source}"
    " ON CONFLICT (dedup_key) DO NOTHING"
)
# FOR SHARE keeps the claim from being replaced (by the reaper) until the
# started event is committed.
JOB_STARTED = (
    "WITH fence AS (SELECT 1 FROM job WHERE task_run_id = %s AND attempt = %s"
    " AND claim_token = %s FOR SHARE),"
    f" event AS ({_EVENT_FROM.format(source='fence')})"
    " SELECT count(*) FROM fence"
)
# Logs in their order: ids are given as the rows come.
JOB_COMPLETE = (
    "WITH done AS (DELETE FROM job WHERE task_run_id = %s AND attempt = %s"
    " AND claim_token = %s RETURNING 1),"
    f" event AS ({_EVENT_FROM.format(source='done')}),"
    f" logs AS (INSERT INTO log ({LOG_COLUMNS})"
    " SELECT u.e, u.t, u.r, u.a, u.ts, u.l, u.m FROM done,"
    " unnest(%s::text[], %s::text[], %s::text[], %s::integer[], %s::bigint[], %s::text[],"
    " %s::text[]) WITH ORDINALITY AS u(e, t, r, a, ts, l, m, n) ORDER BY u.n)"
    " SELECT count(*) FROM done"
)

# -- the durable runtime (postgresmethods) ---------------------------------------------


# SKIP LOCKED: a job whose row a session holds (its worker completing it, or
# frozen in the middle of a transaction until the server ends the session) is
# left for a later round rather than stalling the reaper.
EXPIRED = (
    f"SELECT {codec.JOB_COLUMNS} FROM job WHERE claim_token IS NOT NULL"
    " AND lease_expires_at < %s ORDER BY lease_expires_at, id LIMIT %s FOR UPDATE SKIP LOCKED"
)
RELEASE = (
    "UPDATE job SET claim_token = NULL, claimed_by = NULL, lease_expires_at = NULL"
    " WHERE claim_token = ANY(%s)"
)

# SKIP LOCKED: an execution an executor holds (a late event's cycle) waits for
# the next purge rather than stalling this one; the row lock keeps it
# unchanged until the batch commits.
PURGE_PICK = (
    "SELECT id FROM execution WHERE finalized_at < %s ORDER BY finalized_at LIMIT %s"
    " FOR UPDATE SKIP LOCKED"
)
# One execution, by id, when it is finalized (the API's delete); locked like a purge.
DELETE_PICK = "SELECT id FROM execution WHERE id = %s AND finalized_at IS NOT NULL FOR UPDATE"
PURGE = tuple(
    f"DELETE FROM {table} WHERE {column} = ANY(%s)"
    for table, column in (
        ("log", "execution_id"),
        ("execution_event", "execution_id"),
        ("job", "execution_id"),
        ("task_run", "execution_id"),
        ("execution", "id"),
    )
)

# Held until the executor's transaction ends: two executors cannot both count
# a flow's slots before either has taken one. Seed 1 keeps it apart from
# FLOW_LOCK (seed 0) on the same text.
SLOTS_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))"


class PostgresStatements(Statements):
    """The shared statements with ``%s`` placeholders, and PostgreSQL's own the shared methods run."""

    FLOW_LOCK = FLOW_LOCK
    EXPIRED = EXPIRED
    RELEASE = RELEASE
    EXEC_VERSION = EXEC_VERSION
    PURGE_PICK = PURGE_PICK
    DELETE_PICK = DELETE_PICK
    PURGE = PURGE

    def __init__(self) -> None:
        super().__init__("%s")

    def ids(self, values: Sequence[str]) -> list[str]:
        return list(values)  # an array: = ANY(%s)

    def log_rows(self, records: Sequence[LogRecord]) -> list[tuple[Any, ...]]:
        # TEXT cannot hold NUL, which a task's output may contain: U+FFFD stands in.
        rows = super().log_rows(records)
        return [(*p[:6], p[6].replace("\x00", "\ufffd")) if "\x00" in p[6] else p for p in rows]


SQL = PostgresStatements()
