-- reference-server: the portal's own tables (SQLite): tenants, users, sign-in failures, audit
-- trail. Times are BIGINT Unix seconds (UTC), ids TEXT. Passwords only as argon2id PHC strings.
-- The credentials table belongs to the key store (idunox-keys-sqlx) and its migrations.
--
-- `IF NOT EXISTS`: databases made by 0.1 (whose single migration 20261127000001 created every
-- table) already hold these tables; this migration then only records itself.

CREATE TABLE IF NOT EXISTS tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS users (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS users_tenant ON users (tenant_id);

CREATE TABLE IF NOT EXISTS login_failures (
    email      TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_email ON login_failures (email, failed_at);
CREATE INDEX IF NOT EXISTS login_failures_time ON login_failures (failed_at);

CREATE TABLE IF NOT EXISTS audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             BIGINT NOT NULL,
    tenant_id      TEXT,
    actor_user_id  TEXT,
    actor_email    TEXT,
    action         TEXT NOT NULL,
    credential_id  TEXT,
    detail         TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_tenant ON audit_log (tenant_id, id DESC);
