-- Accounts: roles and their permissions, plans and subscriptions, users, and login
-- sessions (refresh-token families). Built-in roles and plans are seeded here.

CREATE TABLE roles (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text        NOT NULL,
    description    text        NOT NULL DEFAULT '',
    is_system      boolean     NOT NULL DEFAULT false,
    signup_allowed boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_name_key UNIQUE (name)
);

CREATE TABLE role_permissions (
    role_id    uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission text NOT NULL CHECK (permission IN (
        'images:read', 'images:upload', 'images:update', 'images:delete',
        'images:moderate', 'images:purge', 'links:create', 'galleries:manage',
        'users:manage', 'roles:manage', 'plans:manage', 'subscriptions:manage')),
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE plans (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    code           text        NOT NULL,
    name           text        NOT NULL,
    description    text        NOT NULL DEFAULT '',
    price_cents    bigint      NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    currency       text        NOT NULL DEFAULT 'USD',
    billing_period text        NOT NULL DEFAULT 'month',
    is_public      boolean     NOT NULL DEFAULT true,
    is_default     boolean     NOT NULL DEFAULT false,
    features       jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_code_key UNIQUE (code)
);
-- At most one default plan.
CREATE UNIQUE INDEX plans_one_default ON plans (is_default) WHERE is_default;

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    username      text        NOT NULL,
    email         text,
    password_hash text        NOT NULL,
    -- RESTRICT: a role held by users cannot be deleted (409 in_use).
    role_id       uuid        NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Usernames are unique ignoring case, in the database itself.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE INDEX users_role_id_idx ON users (role_id);

CREATE TABLE subscriptions (
    user_id              uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    plan_id              uuid        NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    status               text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'canceled')),
    started_at           timestamptz NOT NULL DEFAULT now(),
    current_period_end   timestamptz,
    cancel_at_period_end boolean     NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);

-- Every change of plan: who changed whose, from what, to what, when.
CREATE TABLE subscription_changes (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    changed_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    from_plan  uuid        REFERENCES plans (id) ON DELETE SET NULL,
    to_plan    uuid        REFERENCES plans (id) ON DELETE SET NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_changes_user_idx ON subscription_changes (user_id, changed_at);

-- A login session: the family of refresh tokens descended from one login. Access tokens
-- name their family (`sid`), so revoking it ends them at once.
CREATE TABLE refresh_families (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_token_hash bytea       NOT NULL,
    expires_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    revoked_at         timestamptz
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id);

-- Every refresh token ever issued, by SHA-256, so that reuse of an old one is recognised.
CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY,
    family_id  uuid        NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- A role with its permissions, as every read wants it.
CREATE VIEW role_details AS
SELECT r.id AS role_id, r.name AS role_name, r.description AS role_description,
       r.is_system AS role_is_system, r.signup_allowed AS role_signup_allowed,
       r.created_at AS role_created_at,
       ARRAY(SELECT rp.permission FROM role_permissions rp
             WHERE rp.role_id = r.id ORDER BY rp.permission) AS role_permissions
FROM roles r;

-- Roles, their permissions and plans change rarely and are read on every request, so
-- the server caches them. Every write to them bumps this version (statement triggers);
-- reads of users return it in the same statement, and a server that sees a newer version
-- than its cache reloads before answering. No stale permission outlives the write.
CREATE TABLE catalog_version (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint  NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (true, 1);

CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER roles_bump_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
CREATE TRIGGER role_permissions_bump_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
CREATE TRIGGER plans_bump_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

-- A user as every read wants them: the account, its role id, its subscription, and the
-- catalog version to check the cached roles and plans against. Three index probes.
CREATE VIEW user_core AS
SELECT u.id, u.username, u.email, u.is_active, u.created_at, u.password_hash, u.role_id,
       s.plan_id AS sub_plan_id, s.status AS sub_status, s.current_period_end AS sub_period_end,
       (SELECT cv.version FROM catalog_version cv) AS catalog_version
FROM users u
LEFT JOIN subscriptions s ON s.user_id = u.id;

-- Built-in roles.
INSERT INTO roles (name, description, is_system, signup_allowed) VALUES
    ('admin',        'Manages users, roles, plans and everything else', true, false),
    ('beta_player',  'Full control of the gallery',                     true, true),
    ('company_user', 'Views the gallery',                               true, true),
    ('subscriber',   'Views the gallery; sees more with a better plan', true, true);

INSERT INTO role_permissions (role_id, permission)
SELECT r.id, p.permission
FROM roles r
JOIN (VALUES
    ('admin', 'images:read'), ('admin', 'images:upload'), ('admin', 'images:update'),
    ('admin', 'images:delete'), ('admin', 'images:moderate'), ('admin', 'images:purge'),
    ('admin', 'links:create'), ('admin', 'galleries:manage'), ('admin', 'users:manage'),
    ('admin', 'roles:manage'), ('admin', 'plans:manage'), ('admin', 'subscriptions:manage'),
    ('beta_player', 'images:read'), ('beta_player', 'images:upload'),
    ('beta_player', 'images:update'), ('beta_player', 'images:delete'),
    ('beta_player', 'links:create'), ('beta_player', 'galleries:manage'),
    ('company_user', 'images:read'),
    ('subscriber', 'images:read'), ('subscriber', 'links:create')
) AS p (role, permission) ON p.role = r.name;

-- Built-in plans.
INSERT INTO plans (code, name, description, price_cents, is_default, features) VALUES
    ('basic', 'Basic', '200 px thumbnails', 0, true,
     '{"thumbnail_heights": [200], "original_access": false, "expiring_links": false,
       "link_ttl_min": 300, "link_ttl_max": 30000,
       "max_upload_bytes": 5242880, "storage_quota_bytes": 1073741824}'),
    ('growth', 'Growth', '200 and 400 px thumbnails and the original file', 900, false,
     '{"thumbnail_heights": [200, 400], "original_access": true, "expiring_links": false,
       "link_ttl_min": 300, "link_ttl_max": 30000,
       "max_upload_bytes": 20971520, "storage_quota_bytes": 10737418240}'),
    ('enterprise', 'Enterprise', 'Growth plus expiring share links', 4900, false,
     '{"thumbnail_heights": [200, 400], "original_access": true, "expiring_links": true,
       "link_ttl_min": 300, "link_ttl_max": 30000,
       "max_upload_bytes": 52428800, "storage_quota_bytes": 107374182400}');
