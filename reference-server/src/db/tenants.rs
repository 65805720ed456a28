//! Tenants as staff see them: with how many users and live keys each has, a page at a time.
//!
//! A live key is one that still verifies (active, expiring, grace), as
//! [`idunox_keys::store::is_live`] judges it; the count reads the key store's `credentials`
//! table through its tenant index, in the same query as the tenants.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::SqlDb;

/// A tenant with its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSummary {
    /// `ten_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Its portal users.
    pub users: i64,
    /// Its keys that still verify.
    pub live_keys: i64,
}

/// `SELECT` of [`TenantSummary`] columns from `tenants` as `t`, live at `$1`.
const SUMMARY: &str = "SELECT t.id, t.name, t.created_at, \
    (SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.id) AS users, \
    (SELECT COUNT(*) FROM credentials c WHERE c.tenant_id = t.id AND c.revoked_at IS NULL \
      AND c.expires_at > $1 AND (c.replaced_by IS NULL OR c.grace_expires_at > $1)) AS live_keys \
    FROM tenants t";

fn summary_from_row(r: &AnyRow) -> Result<TenantSummary, sqlx::Error> {
    Ok(TenantSummary {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        users: r.try_get("users")?,
        live_keys: r.try_get("live_keys")?,
    })
}

impl SqlDb {
    /// One tenant with its counts at `now` (Unix seconds).
    ///
    /// # Errors
    /// A database error.
    pub async fn tenant_summary(
        &self,
        tenant_id: &str,
        now: i64,
    ) -> Result<Option<TenantSummary>, sqlx::Error> {
        let sql = format!("{SUMMARY} WHERE t.id = $2");
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(summary_from_row).transpose()
    }

    /// Up to `limit` tenants with their counts at `now`, by name then id, after the tenant
    /// `after` (a cursor: the last id of the previous page). `Ok(None)` when `after` names no
    /// tenant.
    ///
    /// # Errors
    /// A database error.
    pub async fn tenant_summaries(
        &self,
        after: Option<&str>,
        limit: i64,
        now: i64,
    ) -> Result<Option<Vec<TenantSummary>>, sqlx::Error> {
        let rows = match after {
            None => {
                let sql = format!("{SUMMARY} ORDER BY t.name, t.id LIMIT $2");
                sqlx::query(&sql)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(after) => {
                let Some(last) = self.tenant(after).await? else {
                    return Ok(None);
                };
                let sql = format!(
                    "{SUMMARY} WHERE t.name > $3 OR (t.name = $3 AND t.id > $4) \
                     ORDER BY t.name, t.id LIMIT $2"
                );
                sqlx::query(&sql)
                    .bind(now)
                    .bind(limit)
                    .bind(&last.name)
                    .bind(&last.id)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(summary_from_row)
            .collect::<Result<_, _>>()
            .map(Some)
    }
}
