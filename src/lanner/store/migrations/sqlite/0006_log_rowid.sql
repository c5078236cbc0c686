-- The log table keeps its rowid as its id, without AUTOINCREMENT (issue 8
-- §7, docs/performance.md "fifth pass"). AUTOINCREMENT made every insert
-- read and rewrite the table's row in sqlite_sequence: one more statement
-- and one more page in the commit of each task's cycle. Without it a new id
-- is one more than the largest stored, so ids still follow insertion order
-- among the rows that exist (all that reading logs back needs, by
-- execution and id); only an id of rows deleted from the end can come again.
-- SQLite cannot drop AUTOINCREMENT in place: the table is copied.
CREATE TABLE log_rowid (
    id            INTEGER PRIMARY KEY,
    execution_id  TEXT    NOT NULL,
    task_id       TEXT,
    task_run_id   TEXT,
    attempt       INTEGER,
    timestamp     INTEGER NOT NULL,
    level         TEXT    NOT NULL,
    message       TEXT    NOT NULL
);
INSERT INTO log_rowid (id, execution_id, task_id, task_run_id, attempt, timestamp, level, message)
    SELECT id, execution_id, task_id, task_run_id, attempt, timestamp, level, message FROM log;
DROP TABLE log;
ALTER TABLE log_rowid RENAME TO log;
CREATE INDEX log_execution ON log (execution_id, id);
