DROP TABLE refresh_tokens;
DROP TABLE refresh_families;
DROP TABLE subscription_changes;
DROP TABLE subscriptions;
DROP TABLE users;
DROP TABLE plans;
DROP TABLE role_permissions;
DROP TABLE roles;
