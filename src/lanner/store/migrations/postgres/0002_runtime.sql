-- What the durable multi-process runtime needs (docs/store.md): subflow links,
-- flow concurrency, flow-trigger state, retention and the lease reaper. The
-- same logical schema as ../sqlite/0002_runtime.sql, column for column.

-- A subflow's execution knows the task run (and its retry attempt) of the
-- parent that started it, so that its end is delivered to that attempt only.
ALTER TABLE execution ADD COLUMN parent_task_run_id TEXT;
ALTER TABLE execution ADD COLUMN parent_attempt INTEGER;

-- Flow concurrency: the executions of a flow that are not finalized, by
-- state; serves slots_taken() (count) and oldest_queued() (created_at, id
-- order). Partial: finalized executions, the vast majority, cost nothing.
CREATE INDEX execution_slots ON execution (namespace, flow_id, state, created_at, id)
    WHERE finalized_at IS NULL;

-- Retention: purge_executions() picks the oldest finalized executions.
CREATE INDEX execution_finalized ON execution (finalized_at) WHERE finalized_at IS NOT NULL;

-- The lease reaper (expired_jobs) has no index of its own: it reads the
-- claimed jobs through job_claim, and an index on lease_expires_at would cost
-- a write at every lease renewal.

-- State of a flow's Flow triggers between executor cycles (preconditions'
-- time windows): one versioned JSON document per trigger.
CREATE TABLE flow_trigger_state (
    namespace   TEXT    NOT NULL,
    flow_id     TEXT    NOT NULL,
    trigger_id  TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (namespace, flow_id, trigger_id)
);
