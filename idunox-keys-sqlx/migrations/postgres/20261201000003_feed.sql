-- idunox-keys-sqlx: the change feed (PostgreSQL). Every committed change to a credential is
-- announced with pg_notify('idunox_credentials', key_id), delivered at commit, in commit order,
-- to every SqlKeyStore listening; a TRUNCATE announces '*' (every cache drops everything).
-- Triggers, so that no writer can bypass the feed (another server, a manual UPDATE in psql).
--
-- A change is any write but one of `last_used_at` alone (written in batches by every verifier:
-- not a change a cache must hear of). Rows are compared whole, as JSON minus that column, so a
-- column added later is covered without touching this trigger. An UPDATE that changes nothing
-- (a second revoke) announces nothing.

CREATE OR REPLACE FUNCTION idunox_credentials_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('idunox_credentials', NEW.key_id);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('idunox_credentials', OLD.key_id);
    ELSIF (to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at') THEN
        PERFORM pg_notify('idunox_credentials', OLD.key_id);
        IF NEW.key_id IS DISTINCT FROM OLD.key_id THEN
            PERFORM pg_notify('idunox_credentials', NEW.key_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION idunox_credentials_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('idunox_credentials', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER credentials_feed AFTER INSERT OR UPDATE OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION idunox_credentials_changed();

CREATE TRIGGER credentials_feed_truncate AFTER TRUNCATE ON credentials
    FOR EACH STATEMENT EXECUTE FUNCTION idunox_credentials_truncated();
