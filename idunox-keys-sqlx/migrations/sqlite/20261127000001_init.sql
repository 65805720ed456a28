-- idunox reference server schema (SQLite). Times are BIGINT Unix seconds (UTC), ids TEXT.
-- Nothing secret is stored in clear: key secrets and passwords are argon2id PHC strings.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE credentials (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id            TEXT NOT NULL UNIQUE,
    tenant_id         TEXT NOT NULL,
    name              TEXT,
    masked_key        TEXT NOT NULL,
    secret_hash       TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    grace_expires_at  BIGINT,
    revoked_at        BIGINT,
    replaced_by       TEXT,
    replaces          TEXT,
    last_used_at      BIGINT
);
CREATE INDEX credentials_tenant ON credentials (tenant_id, created_at DESC, seq DESC);

CREATE TABLE login_failures (
    email      TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, failed_at);
CREATE INDEX login_failures_time ON login_failures (failed_at);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             BIGINT NOT NULL,
    tenant_id      TEXT,
    actor_user_id  TEXT,
    actor_email    TEXT,
    action         TEXT NOT NULL,
    credential_id  TEXT,
    detail         TEXT
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);
