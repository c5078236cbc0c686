-- The KV store (docs/kv.md): one typed value per (namespace, key), as in
-- Kestra. `value` is a versioned JSON document ({"v":1,"d":...}) whose
-- secret values are sealed like any other stored document; `type` is its
-- kvType. `expires_at` (epoch microseconds) is NULL for a pair that never
-- expires; an expired pair reads as missing until it is purged. `written_by`
-- is the task run attempt (its idempotency key) that last wrote the pair, if a
-- task did: a resubmitted Set with overwrite false finds its own write there.
--
-- 0001 created a placeholder `kv` table that nothing ever wrote (no value
-- type, no description): it is replaced, not altered, so that its columns
-- end as the ones the store reads.
DROP TABLE kv;
CREATE TABLE kv (
    namespace    TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    description  TEXT,
    written_by   TEXT,
    updated_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    PRIMARY KEY (namespace, key)
);

-- Purging expired pairs reads only those that can expire.
CREATE INDEX kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;
