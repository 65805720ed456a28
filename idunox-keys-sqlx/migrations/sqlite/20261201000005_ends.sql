-- idunox-keys-sqlx: listings "soonest to stop verifying first" (SqlKeyStore::page, Sort::Expires).
--
-- A key stops being accepted at the earliest of its expiry, the end of its rotation overlap (once
-- superseded) and its revocation: that instant, not `expires_at` alone, is what a list sorted by
-- expiry must follow (a key in grace ends at `grace_expires_at`). The expression below is the one
-- `page.rs` orders by (SQLite matches an index on an expression only when the query uses the
-- same expression); `grace_expires_at` is set only together with `replaced_by`.
CREATE INDEX credentials_tenant_ends ON credentials (
    tenant_id,
    MIN(expires_at, COALESCE(grace_expires_at, expires_at), COALESCE(revoked_at, expires_at)),
    seq
);
CREATE INDEX credentials_ends ON credentials (
    MIN(expires_at, COALESCE(grace_expires_at, expires_at), COALESCE(revoked_at, expires_at)),
    seq
);
-- Listings across tenants no longer order by `expires_at` alone.
DROP INDEX credentials_expires;
