-- Lanner's first PostgreSQL schema: the same logical schema as
-- ../sqlite/0001_initial.sql, column for column (DESIGN.md, "Tables").
--
-- Every date-time column holds epoch MICROSECONDS UTC as a BIGINT, as on
-- SQLite, so that lanner.store.codec is shared by both dialects. JSON columns
-- are TEXT holding the same versioned documents ({"v": 1, ...}): the store
-- never queries inside them, TEXT is stored as written (JSONB would reorder
-- keys and cost a parse per write), and a later migration can turn a column
-- into JSONB when a query needs it.
--
-- Applied by PostgresStore.migrate() in one transaction under an advisory
-- lock; schema_version is created by migrate() itself.

CREATE TABLE flow (
    namespace   TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
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
    created_at          BIGINT  NOT NULL,
    terminal_at         BIGINT,
    finalized_at        BIGINT,
    -- bumped by every executor cycle: the optimistic check of CycleWrite
    version             INTEGER NOT NULL
);
CREATE INDEX execution_created ON execution (created_at);
CREATE INDEX execution_flow ON execution (namespace, flow_id, created_at);

-- One row per task run (normalised, so a state change rewrites one row).
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
);
CREATE INDEX task_run_execution ON task_run (execution_id, seq);

-- Work for workers; deleted when completed (the fenced DELETE). `id` is the
-- insertion order (SQLite's rowid), the tie-break of the claim order.
CREATE TABLE job (
    task_run_id       TEXT    NOT NULL,
    attempt           INTEGER NOT NULL,
    id                BIGINT  GENERATED ALWAYS AS IDENTITY,
    execution_id      TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    run_after         BIGINT  NOT NULL,
    claim_token       TEXT,
    claimed_by        TEXT,
    lease_expires_at  BIGINT,
    claims            INTEGER NOT NULL DEFAULT 0,
    cancel_requested  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (task_run_id, attempt)
);
-- Claimable jobs in claim order; claimed jobs by token (fence, renewals, reaper).
CREATE INDEX job_ready ON job (run_after, id) WHERE claim_token IS NULL;
CREATE INDEX job_claim ON job (claim_token) WHERE claim_token IS NOT NULL;

-- The per-execution inbox and the timer table (future visible_at).
-- NULL dedup keys are distinct: only events that carry a key are deduplicated.
CREATE TABLE execution_event (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id  TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    visible_at    BIGINT  NOT NULL,
    dedup_key     TEXT    UNIQUE
);
CREATE INDEX execution_event_visible ON execution_event (visible_at, id);
CREATE INDEX execution_event_execution ON execution_event (execution_id, id);

CREATE TABLE log (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id  TEXT    NOT NULL,
    task_id       TEXT,
    task_run_id   TEXT,
    attempt       INTEGER,
    timestamp     BIGINT  NOT NULL,
    level         TEXT    NOT NULL,
    message       TEXT    NOT NULL
);
CREATE INDEX log_execution ON log (execution_id, id);

CREATE TABLE worker (
    id            TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    started_at    BIGINT  NOT NULL,
    heartbeat_at  BIGINT  NOT NULL,
    info          TEXT
);

-- Kestra's per-namespace key-value store.
CREATE TABLE kv (
    namespace   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL,
    expires_at  BIGINT,
    PRIMARY KEY (namespace, key)
);

-- data_version(): bumped after every commit that changed something (a
-- wake-up hint only; sequences are not transactional, so it is never rolled back).
CREATE SEQUENCE change_counter;
