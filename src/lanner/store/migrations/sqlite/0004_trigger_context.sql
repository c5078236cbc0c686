-- The trigger runtime's state (docs/triggers.md): one row per trigger of a
-- deployed flow that the runtime evaluates (Schedule today; polling and
-- realtime triggers later), Kestra's trigger context. `next_date` (epoch
-- microseconds) is the next date to evaluate; NULL once nothing is left.
-- `version` fences every change: two evaluators that read the same row can
-- both compute a firing, only the first write of the new version commits, and
-- the executions of that firing are created in the same transaction.
-- `locked_by`/`locked_until` lease a slow evaluation (a polling trigger) to
-- one process. `disabled` is set by `lanner triggers disable` or stopAfter.
CREATE TABLE trigger_context (
    namespace     TEXT    NOT NULL,
    flow_id       TEXT    NOT NULL,
    trigger_id    TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    next_date     INTEGER,
    last_date     INTEGER,
    data          TEXT    NOT NULL,
    disabled      INTEGER NOT NULL,
    execution_id  TEXT,
    locked_by     TEXT,
    locked_until  INTEGER,
    version       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (namespace, flow_id, trigger_id)
);

-- The evaluator's question every tick: which enabled triggers are due.
CREATE INDEX trigger_context_due ON trigger_context (next_date) WHERE disabled = 0;
