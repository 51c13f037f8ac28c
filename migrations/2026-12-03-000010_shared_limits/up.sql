-- What several servers on one database count together. Both tables are UNLOGGED: no WAL
-- per login or upload, and after a database crash they start empty, which only forgives
-- a few attempts and frees every upload slot.

-- Rate limits (GCRA): a key's theoretical arrival time. A key whose `tat` has passed is the
-- same as no row; such rows are deleted now and then.
CREATE UNLOGGED TABLE rate_limits (
    key text PRIMARY KEY,
    tat timestamptz NOT NULL
);

-- Uploads and imports in progress, one row each, per user. A row outlives a server that
-- died holding it only until `expires_at`.
CREATE UNLOGGED TABLE upload_slots (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX upload_slots_user ON upload_slots (user_id);
