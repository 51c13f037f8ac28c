-- Hardening (#11). A role holding an administrative permission is never open to sign-up:
-- close any such role that an earlier version let open.
UPDATE roles SET signup_allowed = false
WHERE signup_allowed AND id IN (
    SELECT role_id FROM role_permissions
    WHERE permission IN ('users:manage', 'roles:manage', 'plans:manage', 'subscriptions:manage',
                         'images:moderate', 'images:purge'));
