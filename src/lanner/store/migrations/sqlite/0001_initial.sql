-- Lanner's first SQLite schema (DESIGN.md, "Tables").
--
-- Every date-time column holds epoch MICROSECONDS UTC as an INTEGER: integers
-- compare and index faster than ISO text, and one unit everywhere avoids
-- mixing forms. Dates inside JSON documents (histories) are ISO-8601 text.
-- JSON columns hold versioned documents ({"v": 1, ...}) written by
-- lanner.store.codec.

-- Every revision of every flow is kept; the latest is the highest revision.
-- `deleted` is set on all revisions of a deleted flow; executions keep
-- reading the revision they pinned.
CREATE TABLE flow (
    namespace   TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (namespace, id, revision)
);

CREATE TABLE execution (
    id                  TEXT    PRIMARY KEY,
    namespace           TEXT    NOT NULL,
    flow_id             TEXT    NOT NULL,
    flow_revision       INTEGER NOT NULL,
    state               TEXT    NOT NULL,
    state_history       TEXT    NOT NULL,
    inputs              TEXT,
    outputs             TEXT,
    labels              TEXT,
    variables           TEXT,
    trigger             TEXT,
    error               TEXT,
    secret_inputs       TEXT,
    parent_execution_id TEXT,
    created_at          INTEGER NOT NULL,
    terminal_at         INTEGER,
    finalized_at        INTEGER,
    -- bumped by every executor cycle: the optimistic check of CycleWrite
    version             INTEGER NOT NULL
);
CREATE INDEX execution_created ON execution (created_at);
CREATE INDEX execution_flow ON execution (namespace, flow_id, created_at);

-- One row per task run (normalised, so a state change rewrites one row).
-- WITHOUT ROWID: the row lives in its primary-key B-tree, so rewriting a task
-- run writes one page instead of two (the table and its id index).
CREATE TABLE task_run (
    id            TEXT    PRIMARY KEY,
    execution_id  TEXT    NOT NULL REFERENCES execution (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    task_id       TEXT    NOT NULL,
    parent_id     TEXT,
    value         TEXT,
    iteration     INTEGER,
    phase         TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    histories     TEXT    NOT NULL,
    attempts      TEXT,
    outputs       TEXT,
    error         TEXT,
    memo          TEXT,
    generation    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- (execution_id, seq) serves "all task runs of an execution in seq order".
CREATE INDEX task_run_execution ON task_run (execution_id, seq);

-- Work for workers; deleted when completed (the fenced DELETE).
CREATE TABLE job (
    task_run_id       TEXT    NOT NULL,
    attempt           INTEGER NOT NULL,
    execution_id      TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    run_after         INTEGER NOT NULL,
    claim_token       TEXT,
    claimed_by        TEXT,
    lease_expires_at  INTEGER,
    claims            INTEGER NOT NULL DEFAULT 0,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_run_id, attempt)
);
-- Claimable jobs in claim order (run_after, then insertion order = rowid).
-- Partial indexes hold only the rows they serve; every index costs a page
-- write per change, so the lease reaper scans job_claim (claimed jobs only)
-- rather than having an index of its own.
CREATE INDEX job_ready ON job (run_after) WHERE claim_token IS NULL;
CREATE INDEX job_claim ON job (claim_token) WHERE claim_token IS NOT NULL;

-- The per-execution inbox and the timer table (future visible_at).
CREATE TABLE execution_event (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id  TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    visible_at    INTEGER NOT NULL,
    dedup_key     TEXT    UNIQUE
);
CREATE INDEX execution_event_visible ON execution_event (visible_at);
CREATE INDEX execution_event_execution ON execution_event (execution_id, id);

CREATE TABLE log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id  TEXT    NOT NULL,
    task_id       TEXT,
    task_run_id   TEXT,
    attempt       INTEGER,
    timestamp     INTEGER NOT NULL,
    level         TEXT    NOT NULL,
    message       TEXT    NOT NULL
);
CREATE INDEX log_execution ON log (execution_id, id);

CREATE TABLE worker (
    id            TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    info          TEXT
);

-- Kestra's per-namespace key-value store.
CREATE TABLE kv (
    namespace   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    PRIMARY KEY (namespace, key)
);
