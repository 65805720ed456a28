-- idunox-keys-sqlx: indexes for listings (SqlKeyStore::page), so that a page is a short index
-- range however many keys are stored. The tenant's newest-first listing uses `credentials_tenant`
-- (migration 1).
--
-- A tenant's keys soonest to expire first; the columns after `seq` let the per-status counts and
-- status filters read the index alone.
CREATE INDEX credentials_tenant_expires
    ON credentials (tenant_id, expires_at, seq, revoked_at, replaced_by, grace_expires_at);
-- Staff listings across tenants: newest first, soonest to expire first.
CREATE INDEX credentials_created ON credentials (created_at DESC, seq DESC);
CREATE INDEX credentials_expires ON credentials (expires_at, seq);
