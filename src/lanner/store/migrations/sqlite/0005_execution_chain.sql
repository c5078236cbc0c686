-- Kestra's `originalId` and `metadata` of an execution (docs/semantics.md,
-- "Replays and CREATE_NEW_EXECUTION retries"): `original_id` is the first
-- execution of a chain of replays and retries (NULL: the row's own id, as for
-- every execution created before this migration), `attempt_number` its place
-- in the chain (1 for a fresh execution), `original_created_at` (epoch
-- microseconds) the first one's creation date (NULL: the row's own).
-- Set once, when the execution is created; no cycle rewrites them.
ALTER TABLE execution ADD COLUMN original_id TEXT;
ALTER TABLE execution ADD COLUMN attempt_number INTEGER NOT NULL DEFAULT 1;
ALTER TABLE execution ADD COLUMN original_created_at INTEGER;
