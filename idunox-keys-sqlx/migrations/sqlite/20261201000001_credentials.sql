-- idunox-keys-sqlx: the credentials table (SQLite). Times are BIGINT Unix seconds (UTC), ids TEXT.
-- The key secret is stored only as an argon2id PHC string.
--
-- `IF NOT EXISTS`: databases made before the key store had its own migrations (0.1, whose single
-- migration 20261127000001 created every table of the portal) already hold this table.

CREATE TABLE IF NOT EXISTS credentials (
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
CREATE INDEX IF NOT EXISTS credentials_tenant ON credentials (tenant_id, created_at DESC, seq DESC);
