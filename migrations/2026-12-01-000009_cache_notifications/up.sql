-- Servers keep sessions, users (with their role and plan) and image rows in memory. Every
-- change that could make such a copy wrong is announced on the channel `gallery_cache`,
-- at commit, to every server listening on this database, whoever wrote it (the API, the
-- CLI, or an operator at psql). Payloads:
--   s <uuid>  a session was revoked or removed
--   u <uuid>  a user, or their subscription, changed or went
--   c         roles, permissions or plans changed: every cached user is stale
--   i <uuid>  an image row changed or went
--   i *       more than 100 image rows changed or went in one statement
--   *         a table was truncated: forget everything
-- New rows announce nothing: a server never caches that something is missing.

CREATE FUNCTION notify_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gallery_cache', 's ' || OLD.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER refresh_families_revoked_notify AFTER UPDATE OF revoked_at ON refresh_families
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
    EXECUTE FUNCTION notify_session_changed();
CREATE TRIGGER refresh_families_gone_notify AFTER DELETE ON refresh_families
    FOR EACH ROW EXECUTE FUNCTION notify_session_changed();

CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gallery_cache', 'u ' || OLD.id);
    RETURN NULL;
END
$$;

CREATE FUNCTION notify_subscription_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gallery_cache', 'u ' || OLD.user_id);
    ELSE
        PERFORM pg_notify('gallery_cache', 'u ' || NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_changed_notify AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_user_changed();
CREATE TRIGGER subscriptions_changed_notify AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION notify_subscription_changed();

-- Every write to roles, their permissions or plans bumps the catalog version (migration
-- 000001), so one trigger here covers them all.
CREATE FUNCTION notify_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gallery_cache', 'c');
    RETURN NULL;
END
$$;

CREATE TRIGGER catalog_version_notify AFTER UPDATE ON catalog_version
    FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_changed();

-- Image rows by statement: a purge or a gallery's deletion touches many rows and sends
-- one message, not one per row.
CREATE FUNCTION notify_images_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM (SELECT 1 FROM changed LIMIT 101) AS first) > 100 THEN
        PERFORM pg_notify('gallery_cache', 'i *');
    ELSE
        PERFORM pg_notify('gallery_cache', 'i ' || id) FROM changed;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER images_changed_notify AFTER UPDATE ON images
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_images_changed();
CREATE TRIGGER images_gone_notify AFTER DELETE ON images
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_images_changed();

-- A TRUNCATE (by hand: the service never runs one) forgets every copy.
CREATE FUNCTION notify_all_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gallery_cache', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER refresh_families_truncated_notify AFTER TRUNCATE ON refresh_families
    FOR EACH STATEMENT EXECUTE FUNCTION notify_all_changed();
CREATE TRIGGER users_truncated_notify AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_all_changed();
CREATE TRIGGER subscriptions_truncated_notify AFTER TRUNCATE ON subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_all_changed();
CREATE TRIGGER images_truncated_notify AFTER TRUNCATE ON images
    FOR EACH STATEMENT EXECUTE FUNCTION notify_all_changed();
