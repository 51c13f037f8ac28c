-- Hardening (#11). A role holding an administrative permission is never open to sign-up:
-- close any such role that an earlier version let open.
UPDATE roles SET signup_allowed = false
WHERE signup_allowed AND id IN (
    SELECT role_id FROM role_permissions
    WHERE permission IN ('users:manage', 'roles:manage', 'plans:manage', 'subscriptions:manage',
                         'images:moderate', 'images:purge'));

-- Files to remove: a durable record, so that no file whose image is gone is orphaned for
-- good. Deleting image rows (one image, a purge, a user's images) records their files in
-- the same transaction; an upload records its file before putting it in place, due later,
-- and recording its image row takes the record back. The server's sweep removes what is
-- due and no image refers to, without ever listing the store.
CREATE TABLE blob_removals (
    key        text        PRIMARY KEY,
    due_at     timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blob_removals_due_idx ON blob_removals (due_at);

CREATE FUNCTION images_schedule_removals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO blob_removals (key, due_at)
    SELECT storage_key, now() FROM gone
    ON CONFLICT (key) DO UPDATE SET due_at = LEAST(blob_removals.due_at, EXCLUDED.due_at);
    RETURN NULL;
END $$;
CREATE TRIGGER images_schedule_removals AFTER DELETE ON images
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION images_schedule_removals();

CREATE FUNCTION images_claim_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM blob_removals r USING added a WHERE r.key = a.storage_key;
    RETURN NULL;
END $$;
CREATE TRIGGER images_claim_files AFTER INSERT ON images
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION images_claim_files();
