//! The key store's SQL: constant statement texts, how nullable values are bound, and how a row
//! becomes a [`Credential`].
//!
//! Every statement whose shape is fixed is a `const` (assembled at compile time with
//! `concat!`), so the verification path and the writes never format SQL per request, and each
//! text is prepared once per connection.
//!
//! Two quirks of sqlx 0.7's `Any` driver shape the text:
//!
//! - **Bound `NULL`s.** A `NULL` reaches PostgreSQL as an `INT4` parameter, which a `TEXT`
//!   column refuses, and PostgreSQL's statement cache keeps the parameter types of the first
//!   execution. So nullable values are bound as a pair, a flag and a value of the column's own
//!   type, and the SQL reads `CASE WHEN $flag = 1 THEN $value END`: every execution of a text
//!   binds the same types.
//! - **SQLite integers are read through an `i32`.** The `Any` driver takes a SQLite value's type
//!   from the value, and every SQLite integer reports itself as a 32-bit `INT`, so a stored
//!   `BIGINT` above 2³¹ − 1 (Unix seconds after 2038-01-19 03:14:07 UTC) would come back
//!   truncated. Times are therefore selected as `CAST(… AS TEXT)` and parsed here, on both
//!   backends alike.

use idunox_keys::restrictions::IpNet;
use idunox_keys::{Credential, KeyId, StoreError, TenantId};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};
use time::OffsetDateTime;

use crate::portable::get_opt;

/// A query over the `Any` driver.
pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// The columns of a credential as this crate reads them (times as text, see the module docs).
/// Their aliases shadow the table's columns in `ORDER BY` (and, on SQLite, may in `WHERE`):
/// a statement that selects them names the table's columns as `credentials.<column>` there.
macro_rules! columns {
    () => {
        "key_id, tenant_id, name, masked_key, secret_hash, \
         CAST(created_at AS TEXT) AS created_at, CAST(expires_at AS TEXT) AS expires_at, \
         CAST(grace_expires_at AS TEXT) AS grace_expires_at, \
         CAST(revoked_at AS TEXT) AS revoked_at, replaced_by, replaces, \
         CAST(last_used_at AS TEXT) AS last_used_at, scopes, allowed_ips"
    };
}
pub(crate) use columns;

/// "Still verifies at `$now`" (active, expiring, grace) for a placeholder `$now`; the one SQL
/// form of [`idunox_keys::store::is_live`].
macro_rules! live {
    ($now:literal) => {
        concat!(
            "revoked_at IS NULL AND expires_at > ",
            $now,
            " AND (replaced_by IS NULL OR grace_expires_at > ",
            $now,
            ")"
        )
    };
}

/// The values of a credential for an `INSERT`: `$1…$22` (see [`bind_credential`]).
macro_rules! credential_values {
    () => {
        "$1, $2, CASE WHEN $3 = 1 THEN $4 END, $5, $6, $7, $8, \
         CASE WHEN $9 = 1 THEN $10 END, CASE WHEN $11 = 1 THEN $12 END, \
         CASE WHEN $13 = 1 THEN $14 END, CASE WHEN $15 = 1 THEN $16 END, \
         CASE WHEN $17 = 1 THEN $18 END, CASE WHEN $19 = 1 THEN $20 END, \
         CASE WHEN $21 = 1 THEN $22 END"
    };
}

/// The inserted columns, in the order of [`credential_values`].
macro_rules! insert_columns {
    () => {
        "INSERT INTO credentials (key_id, tenant_id, name, masked_key, secret_hash, created_at, \
         expires_at, grace_expires_at, revoked_at, replaced_by, replaces, last_used_at, scopes, \
         allowed_ips) "
    };
}

/// One credential by key id, whatever its tenant (the verification path).
pub(crate) const FIND: &str = concat!("SELECT ", columns!(), " FROM credentials WHERE key_id = $1");

/// A tenant's credentials, newest first, ties by insertion order. (`ORDER BY` names the table's
/// columns: a bare `created_at` would be the text alias of [`columns`], sorted as text and
/// without the index.)
pub(crate) const LIST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM credentials WHERE credentials.tenant_id = $1 \
     ORDER BY credentials.created_at DESC, credentials.seq DESC"
);

/// How many of `$1`'s keys still verify at `$2`.
pub(crate) const COUNT_LIVE: &str = concat!(
    "SELECT COUNT(*) AS n FROM credentials WHERE tenant_id = $1 AND ",
    live!("$2")
);

/// Whether key id `$1` exists (for any tenant).
pub(crate) const ID_EXISTS: &str = "SELECT COUNT(*) AS n FROM credentials WHERE key_id = $1";

/// Whether key id `$1` exists for tenant `$2`.
pub(crate) const EXISTS_FOR_TENANT: &str =
    "SELECT COUNT(*) AS n FROM credentials WHERE key_id = $1 AND tenant_id = $2";

/// Insert a credential unless its key id is taken (then nothing happens, and no error aborts a
/// PostgreSQL transaction).
pub(crate) const INSERT: &str = concat!(
    insert_columns!(),
    "VALUES (",
    credential_values!(),
    ") ON CONFLICT (key_id) DO NOTHING"
);

/// [`INSERT`], only while tenant `$2` holds fewer than `$24` keys that still verify at `$23`.
/// (SQLite needs the `WHERE` of an `INSERT … SELECT` for `ON CONFLICT` to parse; it has one.)
pub(crate) const INSERT_LIMITED: &str = concat!(
    insert_columns!(),
    "SELECT ",
    credential_values!(),
    " WHERE (SELECT COUNT(*) FROM credentials WHERE tenant_id = $2 AND ",
    live!("$23"),
    ") < $24 ON CONFLICT (key_id) DO NOTHING"
);

/// On PostgreSQL, serialise the count and the insert of [`INSERT_LIMITED`] per tenant (SQLite
/// serialises every writer already).
pub(crate) const LOCK_TENANT_PG: &str =
    "SELECT pg_advisory_xact_lock(hashtext('idunox-live:' || $1))";

/// Supersede `$3` (of tenant `$4`) by `$1` with grace end `$2`, if it is still rotatable at `$5`.
pub(crate) const SUPERSEDE: &str = "UPDATE credentials SET replaced_by = $1, grace_expires_at = $2 \
     WHERE key_id = $3 AND tenant_id = $4 AND revoked_at IS NULL AND replaced_by IS NULL \
     AND expires_at > $5";

/// Remove a successor this transaction inserted when its predecessor turned out not rotatable.
pub(crate) const DELETE_ONE: &str = "DELETE FROM credentials WHERE key_id = $1 AND tenant_id = $2";

/// Revoke `$2` of tenant `$3` at `$1` unless revoked already; the record as it now stands.
pub(crate) const REVOKE: &str = concat!(
    "UPDATE credentials SET revoked_at = COALESCE(revoked_at, $1) \
     WHERE key_id = $2 AND tenant_id = $3 RETURNING ",
    columns!()
);

/// PATCH a key that still verifies at `$12`: each field is `(set?, non-null?, value)`.
pub(crate) const UPDATE: &str = concat!(
    "UPDATE credentials SET \
     name = CASE WHEN $1 = 1 THEN (CASE WHEN $2 = 1 THEN $3 END) ELSE name END, \
     scopes = CASE WHEN $4 = 1 THEN (CASE WHEN $5 = 1 THEN $6 END) ELSE scopes END, \
     allowed_ips = CASE WHEN $7 = 1 THEN (CASE WHEN $8 = 1 THEN $9 END) ELSE allowed_ips END \
     WHERE key_id = $10 AND tenant_id = $11 AND ",
    live!("$12"),
    " RETURNING ",
    columns!()
);

/// Revoke at `$1` every key of tenant `$2` that still verifies at `$1`.
pub(crate) const REVOKE_ALL: &str = concat!(
    "UPDATE credentials SET revoked_at = $1 WHERE tenant_id = $2 AND ",
    live!("$1"),
    " RETURNING key_id"
);

/// Compare-and-set of a stored hash.
pub(crate) const REPLACE_HASH: &str =
    "UPDATE credentials SET secret_hash = $1 WHERE key_id = $2 AND secret_hash = $3";

/// A statement that takes SQLite's write lock at once (and changes nothing): run first in a
/// transaction, it makes `BEGIN` behave as `BEGIN IMMEDIATE`, so a transaction that reads
/// before it writes never fails to upgrade its lock.
pub(crate) const SQLITE_WRITE_LOCK: &str = "DELETE FROM credentials WHERE 0 = 1";

/// Bind a nullable text value as `(flag, value)`.
pub(crate) fn bind_opt_text(q: AnyQuery<'_>, v: Option<String>) -> AnyQuery<'_> {
    q.bind(i64::from(v.is_some())).bind(v.unwrap_or_default())
}

/// Bind a nullable integer as `(flag, value)`.
pub(crate) fn bind_opt_int(q: AnyQuery<'_>, v: Option<i64>) -> AnyQuery<'_> {
    q.bind(i64::from(v.is_some())).bind(v.unwrap_or_default())
}

/// Bind one PATCH field as `(set, non-null, value)`.
pub(crate) fn bind_patch(q: AnyQuery<'_>, v: Option<Option<String>>) -> AnyQuery<'_> {
    let q = q.bind(i64::from(v.is_some()));
    bind_opt_text(q, v.flatten())
}

/// Bind `$1…$22` of [`credential_values`].
pub(crate) fn bind_credential<'q>(q: AnyQuery<'q>, c: &Credential) -> AnyQuery<'q> {
    let secs = |t: Option<OffsetDateTime>| t.map(OffsetDateTime::unix_timestamp);
    let id = |k: Option<KeyId>| k.map(|k| k.as_str().to_owned());
    let q = q
        .bind(c.key_id.as_str().to_owned())
        .bind(c.tenant_id.as_str().to_owned());
    let q = bind_opt_text(q, c.name.clone())
        .bind(c.masked_key.clone())
        .bind(c.secret_hash.clone())
        .bind(c.created_at.unix_timestamp())
        .bind(c.expires_at.unix_timestamp());
    let q = bind_opt_int(q, secs(c.grace_expires_at));
    let q = bind_opt_int(q, secs(c.revoked_at));
    let q = bind_opt_text(q, id(c.replaced_by));
    let q = bind_opt_text(q, id(c.replaces));
    let q = bind_opt_int(q, secs(c.last_used_at));
    let q = bind_opt_text(q, scopes_text(c.scopes.as_deref()));
    bind_opt_text(q, ips_text(c.allowed_ips.as_deref()))
}

/// Map a driver error to [`StoreError::Backend`] (503 at the HTTP edge).
pub fn backend(e: sqlx::Error) -> StoreError {
    StoreError::backend(e)
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The `n` column of a `COUNT(*) AS n` row.
pub(crate) fn count(row: &AnyRow) -> Result<i64, StoreError> {
    row.try_get::<i64, _>("n").map_err(backend)
}

/// An integer selected as text (see the module docs).
pub(crate) fn int_text(s: &str) -> Result<i64, StoreError> {
    s.trim()
        .parse::<i64>()
        .map_err(|e| StoreError::backend(format!("stored integer {s:?}: {e}")))
}

/// Unix seconds to an instant.
fn ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| StoreError::backend(format!("stored time out of range: {e}")))
}

pub(crate) fn key_id(s: &str) -> Result<KeyId, StoreError> {
    KeyId::parse(s).map_err(|e| StoreError::backend(format!("stored key id is malformed: {e}")))
}

/// A row of [`columns`] as a credential.
pub(crate) fn credential_from_row(row: &AnyRow) -> Result<Credential, StoreError> {
    let get_s = |c: &str| row.try_get::<String, _>(c).map_err(backend);
    let get_os = |c: &str| get_opt::<String>(row, c).map_err(backend);
    let get_t = |c: &str| ts(int_text(&get_s(c)?)?);
    let get_ot = |c: &str| get_os(c)?.map(|s| int_text(&s).and_then(ts)).transpose();
    Ok(Credential {
        key_id: key_id(&get_s("key_id")?)?,
        tenant_id: TenantId::new(get_s("tenant_id")?),
        name: get_os("name")?,
        masked_key: get_s("masked_key")?,
        secret_hash: get_s("secret_hash")?,
        created_at: get_t("created_at")?,
        expires_at: get_t("expires_at")?,
        grace_expires_at: get_ot("grace_expires_at")?,
        revoked_at: get_ot("revoked_at")?,
        replaced_by: get_os("replaced_by")?.as_deref().map(key_id).transpose()?,
        replaces: get_os("replaces")?.as_deref().map(key_id).transpose()?,
        last_used_at: get_ot("last_used_at")?,
        scopes: get_os("scopes")?.map(|s| words(&s).map(str::to_owned).collect()),
        allowed_ips: get_os("allowed_ips")?
            .map(|s| {
                words(&s)
                    .map(|w| {
                        w.parse::<IpNet>().map_err(|e| {
                            StoreError::backend(format!("stored allow-list entry {w:?}: {e}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?,
    })
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|w| !w.is_empty())
}

/// Scopes as stored: space-separated (scope names hold no spaces).
pub(crate) fn scopes_text(scopes: Option<&[String]>) -> Option<String> {
    scopes.map(|s| s.join(" "))
}

/// An allow-list as stored: space-separated CIDRs.
pub(crate) fn ips_text(ips: Option<&[IpNet]>) -> Option<String> {
    ips.map(|l| {
        l.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `$N` of a statement, in order of first appearance, is 1, 2, 3, … with no gap: a
    /// binding helper that binds one value too many or too few is caught here.
    fn placeholders(sql: &str) -> Vec<usize> {
        let mut seen = Vec::new();
        let b = sql.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'$' {
                let digits: String = sql[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse::<usize>()
                    && !seen.contains(&n)
                {
                    seen.push(n);
                }
                i += digits.len();
            }
            i += 1;
        }
        seen.sort_unstable();
        seen
    }

    #[test]
    fn statements_number_their_placeholders_without_gaps() {
        for (sql, n) in [
            (FIND, 1),
            (LIST, 1),
            (COUNT_LIVE, 2),
            (INSERT, 22),
            (INSERT_LIMITED, 24),
            (SUPERSEDE, 5),
            (REVOKE, 3),
            (UPDATE, 12),
            (REVOKE_ALL, 2),
            (REPLACE_HASH, 3),
        ] {
            assert_eq!(placeholders(sql), (1..=n).collect::<Vec<_>>(), "{sql}");
        }
    }

    #[test]
    fn times_are_read_as_text() {
        for col in [
            "created_at",
            "expires_at",
            "grace_expires_at",
            "revoked_at",
            "last_used_at",
        ] {
            assert!(
                FIND.contains(&format!("CAST({col} AS TEXT) AS {col}")),
                "{col}"
            );
        }
    }
}
