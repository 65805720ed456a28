-- idunox-keys-sqlx: the change feed (SQLite). Every committed change to a credential appends its
-- key id to `credential_changes`; each SqlKeyStore with a feed polls the rows after its cursor.
-- Triggers, so that no writer can bypass the feed (another server, a manual UPDATE).
--
-- `seq` is AUTOINCREMENT: never reused, and a rolled-back transaction gives its numbers back, so
-- with one writer at a time committed rows are numbered in commit order without gaps; a poller
-- that finds a gap after its cursor knows it missed pruned rows and resets its caches.
-- Each change prunes the row `SQLITE_RETAINED_CHANGES` (10 000) behind it: at most one row per
-- change, the table never holds more than 10 000.
--
-- A change is any write but one of `last_used_at` alone (written in batches by every verifier:
-- not a change a cache must hear of). A migration that adds a column to `credentials` must
-- recreate `credentials_feed_update` with the column in its WHEN clause (the crate's tests
-- check every column).

CREATE TABLE credential_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id  TEXT NOT NULL
);

CREATE TRIGGER credentials_feed_insert AFTER INSERT ON credentials
BEGIN
    INSERT INTO credential_changes (key_id) VALUES (NEW.key_id);
    DELETE FROM credential_changes
        WHERE seq <= (SELECT MAX(seq) FROM credential_changes) - 10000;
END;

CREATE TRIGGER credentials_feed_update AFTER UPDATE ON credentials
WHEN OLD.seq IS NOT NEW.seq
    OR OLD.key_id IS NOT NEW.key_id
    OR OLD.tenant_id IS NOT NEW.tenant_id
    OR OLD.name IS NOT NEW.name
    OR OLD.masked_key IS NOT NEW.masked_key
    OR OLD.secret_hash IS NOT NEW.secret_hash
    OR OLD.created_at IS NOT NEW.created_at
    OR OLD.expires_at IS NOT NEW.expires_at
    OR OLD.grace_expires_at IS NOT NEW.grace_expires_at
    OR OLD.revoked_at IS NOT NEW.revoked_at
    OR OLD.replaced_by IS NOT NEW.replaced_by
    OR OLD.replaces IS NOT NEW.replaces
    OR OLD.scopes IS NOT NEW.scopes
    OR OLD.allowed_ips IS NOT NEW.allowed_ips
BEGIN
    INSERT INTO credential_changes (key_id) VALUES (OLD.key_id);
    INSERT INTO credential_changes (key_id) SELECT NEW.key_id WHERE NEW.key_id IS NOT OLD.key_id;
    DELETE FROM credential_changes
        WHERE seq <= (SELECT MAX(seq) FROM credential_changes) - 10000;
END;

CREATE TRIGGER credentials_feed_delete AFTER DELETE ON credentials
BEGIN
    INSERT INTO credential_changes (key_id) VALUES (OLD.key_id);
    DELETE FROM credential_changes
        WHERE seq <= (SELECT MAX(seq) FROM credential_changes) - 10000;
END;
