-- SQLite's 0006 drops AUTOINCREMENT from log.id (one page less per commit).
-- PostgreSQL's identity column already costs no more than a sequence step,
-- so nothing changes here: this file keeps both dialects' versions in step.
COMMENT ON COLUMN log.id IS 'insertion order within the stored rows';
