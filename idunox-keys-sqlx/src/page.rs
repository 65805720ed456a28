//! Listing credentials a page at a time: [`SqlKeyStore::page`](crate::SqlKeyStore::page) with a
//! [`ListQuery`] (one tenant's keys, or every tenant's for staff), filtered by status and by a
//! search string, sorted newest first or soonest to expire first, with keyset paging and the
//! tenant's counts per status.
//!
//! - **Statuses** are computed in SQL at the query's `now`, exactly as
//!   [`Status::of`](idunox_keys::Status::of) computes them.
//! - **Search** (`q`) matches a substring of the name, the key id or the masked key (or of the
//!   name and the key id only: [`ListQuery::search_masked_key`]). ASCII letters match whatever
//!   their case on both databases; other letters match case-insensitively as PostgreSQL's
//!   `ILIKE` folds them under the database's locale, and exactly on SQLite (whose `LIKE` folds
//!   ASCII only). `%`, `_` and `\` in `q` are plain characters.
//! - **Order**: newest first ([`Sort::Created`]: `created_at`, then insertion order), or
//!   soonest to stop verifying first ([`Sort::Expires`]: the earliest of `expires_at`, the end of
//!   the rotation overlap and the revocation — for a key in grace, its grace end — then
//!   insertion order).
//! - **Paging** is by keyset: the cursor names where a page ended, and the next page starts
//!   strictly after it in the sort order. Keys created meanwhile never shift a page or repeat an
//!   item: in creation order each item of the listing appears on exactly one page. (In expiry
//!   order a key rotated or revoked between two pages moves to its new place, so it may be seen
//!   twice or not at all; every other key appears once.) A cursor is opaque text; one that is
//!   malformed, made for the other sort order, or names a credential outside the listing is
//!   refused ([`PageError::InvalidCursor`]).
//! - **Counts** cover the tenant's whole listing, whatever the filters and the page (one
//!   tenant only; a listing across tenants has none).
//! - **Time limit** ([`ListQuery::time_limit`]): on PostgreSQL the listing's statements run in
//!   a read-only transaction under `SET LOCAL statement_timeout`, so a search that would scan
//!   for long is cancelled by the server ([`PageError::Store`]). SQLite has none.
//!
//! ```
//! use idunox_keys::{Status, TenantId, time::OffsetDateTime};
//! use idunox_keys_sqlx::{Backend, ListQuery, PoolSettings, Sort, SqlKeyStore, connect, migrate};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # let pool = connect("sqlite::memory:", &PoolSettings { max_connections: 1, ..Default::default() }).await?;
//! # migrate(&pool, Backend::Sqlite).await?;
//! let store = SqlKeyStore::new(pool);
//! let query = ListQuery::for_tenant(TenantId::new("ten_acme"), OffsetDateTime::now_utc())
//!     .statuses([Status::Active, Status::Expiring])
//!     .search("billing")
//!     .sort(Sort::Expires)
//!     .limit(50)?;
//! let page = store.page(&query).await?;
//! assert!(page.credentials.is_empty() && page.next_cursor.is_none());
//! assert_eq!(page.counts.unwrap().total(), 0);
//! // The next page: `query.after(page.next_cursor)`.
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use core::str::FromStr;
use std::sync::Arc;

use idunox_keys::{Credential, KeyId, Status, StoreError, TenantId};
use sqlx::{AnyConnection, AnyPool, Row};
use time::{Duration, OffsetDateTime};

use crate::Backend;
use crate::portable::Args;
use crate::sql::{backend, columns, int_text};
use crate::touch::Touches;

/// The most credentials one page holds.
pub const MAX_PAGE_LIMIT: u32 = 1000;

/// The longest search string, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// The default expiring window (30 days), as the core's [`Policy`](idunox_keys::Policy).
const DEFAULT_EXPIRING_WINDOW: Duration = Duration::days(30);

/// The order of a listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sort {
    /// Newest first (`sort=created`, the default).
    #[default]
    Created,
    /// Soonest to stop verifying first (`sort=expires`): by the earliest of `expires_at`, the
    /// end of the rotation overlap (a key in grace) and the revocation.
    Expires,
}

impl Sort {
    /// `"created"` or `"expires"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Expires => "expires",
        }
    }

    const fn cursor_tag(self) -> char {
        match self {
            Self::Created => 'c',
            Self::Expires => 'e',
        }
    }
}

impl FromStr for Sort {
    type Err = PageError;

    /// `created` or `expires`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "created" => Ok(Self::Created),
            "expires" => Ok(Self::Expires),
            _ => Err(PageError::InvalidSort),
        }
    }
}

/// What to list (see the [module docs](self)). Build it with [`ListQuery::for_tenant`] or
/// [`ListQuery::across_tenants`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    tenant: Option<TenantId>,
    statuses: Vec<Status>,
    search: Option<String>,
    search_masked_key: bool,
    sort: Sort,
    limit: u32,
    cursor: Option<String>,
    now: OffsetDateTime,
    expiring_window: Duration,
    time_limit: Option<core::time::Duration>,
}

impl ListQuery {
    /// One tenant's credentials at `now`: every status, newest first, [`MAX_PAGE_LIMIT`] per
    /// page, with the tenant's counts.
    pub fn for_tenant(tenant: TenantId, now: OffsetDateTime) -> Self {
        Self {
            tenant: Some(tenant),
            ..Self::across_tenants(now)
        }
    }

    /// Every tenant's credentials at `now` (staff search): as [`for_tenant`](Self::for_tenant),
    /// without counts.
    pub fn across_tenants(now: OffsetDateTime) -> Self {
        Self {
            tenant: None,
            statuses: Vec::new(),
            search: None,
            search_masked_key: true,
            sort: Sort::Created,
            limit: MAX_PAGE_LIMIT,
            cursor: None,
            now,
            expiring_window: DEFAULT_EXPIRING_WINDOW,
            time_limit: None,
        }
    }

    /// Only credentials in one of these statuses (none given: every status).
    #[must_use]
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = Status>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Only credentials whose name, key id or masked key contains `q` (see the
    /// [module docs](self) for case). Checked by [`SqlKeyStore::page`](crate::SqlKeyStore::page):
    /// at most [`MAX_SEARCH_CHARS`] characters.
    #[must_use]
    pub fn search(mut self, q: impl Into<String>) -> Self {
        self.search = Some(q.into());
        self
    }

    /// Whether [`search`](Self::search) also looks in the masked key (default: yes). Without
    /// it a search matches the name and the key id only, so text of the key's prefix or
    /// environment (`idx_test_`) matches nothing by itself.
    #[must_use]
    pub fn search_masked_key(mut self, also: bool) -> Self {
        self.search_masked_key = also;
        self
    }

    /// The order.
    #[must_use]
    pub fn sort(mut self, sort: Sort) -> Self {
        self.sort = sort;
        self
    }

    /// At most `limit` credentials per page.
    ///
    /// # Errors
    /// [`PageError::InvalidLimit`] outside `1..=`[`MAX_PAGE_LIMIT`].
    pub fn limit(mut self, limit: u32) -> Result<Self, PageError> {
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(PageError::InvalidLimit);
        }
        self.limit = limit;
        Ok(self)
    }

    /// The page after the one whose [`Page::next_cursor`] this is (`None`: the first page).
    /// Checked by [`SqlKeyStore::page`](crate::SqlKeyStore::page).
    #[must_use]
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// How long before `expires_at` a key reads `expiring` (default 30 days).
    #[must_use]
    pub fn expiring_window(mut self, window: Duration) -> Self {
        self.expiring_window = window;
        self
    }

    /// At most `limit` of database time per statement of this listing, on PostgreSQL: the
    /// listing runs in a read-only transaction that starts with `SET LOCAL statement_timeout`,
    /// so the server cancels a statement that runs (or waits for a lock) longer, and the page
    /// fails with [`PageError::Store`]. Rounded up to whole milliseconds; default none. SQLite
    /// has no statement timeout: there it changes nothing (bound the listings a caller may run
    /// at once instead).
    #[must_use]
    pub fn time_limit(mut self, limit: core::time::Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// The per-statement time limit on PostgreSQL, if one ([`time_limit`](Self::time_limit)).
    pub fn statement_time_limit(&self) -> Option<core::time::Duration> {
        self.time_limit
    }

    /// The tenant listed, if one.
    pub fn tenant(&self) -> Option<&TenantId> {
        self.tenant.as_ref()
    }

    /// The page size.
    pub fn page_limit(&self) -> u32 {
        self.limit
    }

    /// The sort order.
    pub fn sort_order(&self) -> Sort {
        self.sort
    }
}

/// Counts of a tenant's credentials per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct StatusCounts {
    /// `active`.
    pub active: u64,
    /// `expiring`.
    pub expiring: u64,
    /// `grace`.
    pub grace: u64,
    /// `revoked`.
    pub revoked: u64,
    /// `expired`.
    pub expired: u64,
}

impl StatusCounts {
    /// The count of one status.
    pub fn get(&self, status: Status) -> u64 {
        match status {
            Status::Active => self.active,
            Status::Expiring => self.expiring,
            Status::Grace => self.grace,
            Status::Revoked => self.revoked,
            Status::Expired => self.expired,
        }
    }

    fn slot(&mut self, status: Status) -> &mut u64 {
        match status {
            Status::Active => &mut self.active,
            Status::Expiring => &mut self.expiring,
            Status::Grace => &mut self.grace,
            Status::Revoked => &mut self.revoked,
            Status::Expired => &mut self.expired,
        }
    }

    /// Every credential, whatever its status.
    pub fn total(&self) -> u64 {
        Status::ALL.iter().map(|s| self.get(*s)).sum()
    }
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page {
    /// The credentials, in the listing's order.
    pub credentials: Vec<Arc<Credential>>,
    /// The cursor of the next page; `None` on the last one.
    pub next_cursor: Option<String>,
    /// The tenant's counts per status (whole tenant, whatever the filters); `None` across
    /// tenants.
    pub counts: Option<StatusCounts>,
}

/// Why a listing was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum PageError {
    /// A page limit outside `1..=`[`MAX_PAGE_LIMIT`].
    InvalidLimit,
    /// A sort order other than `created` and `expires`.
    InvalidSort,
    /// A cursor that is malformed, made for the other sort order, or names no credential of
    /// this listing.
    InvalidCursor,
    /// A search string longer than [`MAX_SEARCH_CHARS`] characters.
    SearchTooLong,
    /// The store failed.
    Store(StoreError),
}

impl PageError {
    /// A stable snake_case code: `invalid_limit`, `invalid_sort`, `invalid_cursor`,
    /// `search_too_long`, or `service_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidLimit => "invalid_limit",
            Self::InvalidSort => "invalid_sort",
            Self::InvalidCursor => "invalid_cursor",
            Self::SearchTooLong => "search_too_long",
            Self::Store(_) => "service_unavailable",
        }
    }
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidLimit => write!(f, "limit must be between 1 and {MAX_PAGE_LIMIT}"),
            Self::InvalidSort => f.write_str("sort must be created or expires"),
            Self::InvalidCursor => f.write_str("the cursor is not one this listing handed out"),
            Self::SearchTooLong => {
                write!(
                    f,
                    "the search text is longer than {MAX_SEARCH_CHARS} characters"
                )
            }
            Self::Store(_) => f.write_str("the key store is unavailable"),
        }
    }
}

impl std::error::Error for PageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The status bits of [`status_case`].
const fn bit(status: Status) -> i64 {
    match status {
        Status::Active => 1,
        Status::Expiring => 2,
        Status::Grace => 4,
        Status::Revoked => 8,
        Status::Expired => 16,
    }
}

/// The status of a row at `now` as one bit ([`bit`]); `soon` = `now` + the expiring window.
/// The same precedence as `Status::of`: revoked, superseded (grace or expired), expired,
/// expiring, active.
/// Columns are named `credentials.<column>`: the text aliases of the selected columns must not
/// stand in for them.
fn status_case(now: &str, soon: &str) -> String {
    format!(
        "(CASE WHEN credentials.revoked_at IS NOT NULL THEN 8 \
         WHEN credentials.replaced_by IS NOT NULL THEN \
         (CASE WHEN credentials.grace_expires_at > {now} AND credentials.expires_at > {now} \
         THEN 4 ELSE 16 END) \
         WHEN credentials.expires_at <= {now} THEN 16 \
         WHEN credentials.expires_at <= {soon} THEN 2 ELSE 1 END)"
    )
}

/// Every status bit.
const ALL_BITS: i64 = 31;

/// "The row has `status` at `now`" as plain comparisons the `expires_at` indexes can range over
/// (`soon` = `now` + the expiring window); together they partition the rows exactly as
/// [`status_case`] does.
fn status_predicate(status: Status, now: &str, soon: &str) -> String {
    let live = "credentials.revoked_at IS NULL";
    let unrotated = "credentials.replaced_by IS NULL";
    match status {
        Status::Active => format!("({live} AND {unrotated} AND credentials.expires_at > {soon})"),
        Status::Expiring => format!(
            "({live} AND {unrotated} AND credentials.expires_at > {now} \
             AND credentials.expires_at <= {soon})"
        ),
        Status::Grace => format!(
            "({live} AND credentials.replaced_by IS NOT NULL \
             AND credentials.grace_expires_at > {now} AND credentials.expires_at > {now})"
        ),
        Status::Revoked => "(credentials.revoked_at IS NOT NULL)".to_owned(),
        Status::Expired => format!(
            "({live} AND ((credentials.replaced_by IS NULL AND credentials.expires_at <= {now}) \
             OR (credentials.replaced_by IS NOT NULL AND (credentials.grace_expires_at IS NULL \
             OR credentials.grace_expires_at <= {now} OR credentials.expires_at <= {now}))))"
        ),
    }
}

/// `%q%` for `LIKE … ESCAPE '\'`, with the wildcards of `q` made plain.
fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Where the page after a cursor starts.
struct After {
    key: i64,
    seq: i64,
}

/// The listing itself, on one connection: on PostgreSQL with a
/// [`time_limit`](ListQuery::time_limit), inside a read-only transaction that sets
/// `statement_timeout` first.
pub(crate) async fn page(
    pool: &AnyPool,
    backend_kind: Backend,
    touches: &Touches,
    query: &ListQuery,
) -> Result<Page, PageError> {
    if let Some(q) = &query.search
        && q.chars().count() > MAX_SEARCH_CHARS
    {
        return Err(PageError::SearchTooLong);
    }
    if !(1..=MAX_PAGE_LIMIT).contains(&query.limit) {
        return Err(PageError::InvalidLimit);
    }
    match (backend_kind, query.time_limit) {
        (Backend::Postgres, Some(limit)) => {
            let mut tx = pool.begin().await.map_err(backend)?;
            for statement in time_limit_statements(limit) {
                sqlx::query(&statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
            }
            let page = listing(&mut tx, backend_kind, touches, query).await;
            // Read-only: nothing to keep. A failed rollback is a failed listing, as the
            // connection's state is then unknown (sqlx drops the connection).
            tx.rollback().await.map_err(backend)?;
            page
        }
        _ => {
            let mut conn = pool.acquire().await.map_err(backend)?;
            listing(&mut conn, backend_kind, touches, query).await
        }
    }
}

/// The statements that open a listing's PostgreSQL transaction under a time limit: read only,
/// and `statement_timeout` in whole milliseconds, rounded up (at least 1: `0` would mean none).
fn time_limit_statements(limit: core::time::Duration) -> [String; 2] {
    let ms = limit
        .as_nanos()
        .div_ceil(1_000_000)
        .clamp(1, i32::MAX as u128);
    [
        "SET TRANSACTION READ ONLY".to_owned(),
        format!("SET LOCAL statement_timeout = {ms}"),
    ]
}

/// The page of `query` read on `conn` (checked by [`page`]).
async fn listing(
    conn: &mut AnyConnection,
    backend_kind: Backend,
    touches: &Touches,
    query: &ListQuery,
) -> Result<Page, PageError> {
    let after = match &query.cursor {
        None => None,
        Some(c) => Some(resolve_cursor(&mut *conn, query, c).await?),
    };

    let mut a = Args::new();
    let mut sql = format!("SELECT {} FROM credentials WHERE 1 = 1", columns!());
    if let Some(t) = &query.tenant {
        sql.push_str(&format!(
            " AND credentials.tenant_id = {}",
            a.text(t.as_str())
        ));
    }
    let mask = query.statuses.iter().fold(0, |m, s| m | bit(*s));
    if mask != 0 && mask != ALL_BITS {
        let now = a.int(query.now.unix_timestamp());
        let soon = a.int((query.now + query.expiring_window).unix_timestamp());
        let any: Vec<String> = Status::ALL
            .into_iter()
            .filter(|st| mask & bit(*st) != 0)
            .map(|st| status_predicate(st, &now, &soon))
            .collect();
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    if let Some(q) = query.search.as_deref().filter(|q| !q.is_empty()) {
        let p = a.text(like_pattern(q));
        let like = match backend_kind {
            Backend::Postgres => "ILIKE",
            _ => "LIKE",
        };
        sql.push_str(&format!(
            " AND (credentials.name {like} {p} ESCAPE '\\' \
             OR credentials.key_id {like} {p} ESCAPE '\\'"
        ));
        if query.search_masked_key {
            sql.push_str(&format!(
                " OR credentials.masked_key {like} {p} ESCAPE '\\'"
            ));
        }
        sql.push(')');
    }
    let (key, desc, cmp) = match query.sort {
        Sort::Created => ("credentials.created_at", " DESC", "<"),
        Sort::Expires => (ends_at(backend_kind), "", ">"),
    };
    if let Some(after) = &after {
        let k = a.int(after.key);
        let s = a.int(after.seq);
        // The first comparison alone lets the database seek into the index (SQLite does not
        // take a row value over an indexed expression as a range); the second decides.
        sql.push_str(&format!(
            " AND {key} {cmp}= {k} AND ({key}, credentials.seq) {cmp} ({k}, {s})"
        ));
    }
    let fetch = a.int(i64::from(query.limit) + 1);
    sql.push_str(&format!(
        " ORDER BY {key}{desc}, credentials.seq{desc} LIMIT {fetch}"
    ));

    let rows = a.query(&sql).fetch_all(&mut *conn).await.map_err(backend)?;
    let limit = query.limit as usize;
    let more = rows.len() > limit;
    let mut credentials = Vec::with_capacity(rows.len().min(limit));
    for row in rows.iter().take(limit) {
        credentials.push(touches.record(row)?);
    }
    let next_cursor = more
        .then(|| credentials.last().map(|c| cursor(query.sort, c)))
        .flatten();
    let counts = match &query.tenant {
        Some(t) => Some(counts(&mut *conn, t, query.now, query.expiring_window).await?),
        None => None,
    };
    Ok(Page {
        credentials,
        next_cursor,
        counts,
    })
}

/// When a credential stops verifying, as SQL over the `credentials` row: the earliest of its
/// expiry, its grace end and its revocation. The exact text of migration `20261201000005_ends`'s
/// indexes, so that the databases order by the index.
fn ends_at(backend_kind: Backend) -> &'static str {
    match backend_kind {
        Backend::Postgres => {
            "LEAST(credentials.expires_at, credentials.grace_expires_at, credentials.revoked_at)"
        }
        _ => {
            "MIN(credentials.expires_at, \
             COALESCE(credentials.grace_expires_at, credentials.expires_at), \
             COALESCE(credentials.revoked_at, credentials.expires_at))"
        }
    }
}

/// When `c` stops verifying: [`ends_at`] computed in Rust.
fn ends_of(c: &Credential) -> i64 {
    let mut end = c.expires_at;
    for t in [c.grace_expires_at, c.revoked_at].into_iter().flatten() {
        end = end.min(t);
    }
    end.unix_timestamp()
}

/// The cursor of a page whose last item is `last`: in creation order its key id (`c<id>`: the
/// creation time never changes), in expiry order also the end it was listed at
/// (`e<unix seconds>.<id>`), so that the next page starts where this one ended even if that key
/// is rotated or revoked meanwhile.
fn cursor(sort: Sort, last: &Credential) -> String {
    match sort {
        Sort::Created => format!("{}{}", sort.cursor_tag(), last.key_id.as_str()),
        Sort::Expires => format!(
            "{}{}.{}",
            sort.cursor_tag(),
            ends_of(last),
            last.key_id.as_str()
        ),
    }
}

/// Where the page after a cursor starts: its sort key and the insertion number of the
/// credential it names, within the listing.
async fn resolve_cursor(
    conn: &mut AnyConnection,
    query: &ListQuery,
    cursor: &str,
) -> Result<After, PageError> {
    let rest = cursor
        .strip_prefix(query.sort.cursor_tag())
        .ok_or(PageError::InvalidCursor)?;
    let (listed_end, id) = match query.sort {
        Sort::Created => (None, rest),
        Sort::Expires => {
            let (end, id) = rest.split_once('.').ok_or(PageError::InvalidCursor)?;
            let end = end
                .parse::<i64>()
                .ok()
                .filter(|_| !end.starts_with('+'))
                .ok_or(PageError::InvalidCursor)?;
            (Some(end), id)
        }
    };
    let id = KeyId::parse(id).map_err(|_| PageError::InvalidCursor)?;
    let mut a = Args::new();
    let mut sql = String::from(
        "SELECT CAST(created_at AS TEXT) AS created_at, CAST(seq AS TEXT) AS seq \
         FROM credentials WHERE key_id = ",
    );
    sql.push_str(&a.text(id.as_str()));
    if let Some(t) = &query.tenant {
        sql.push_str(&format!(" AND tenant_id = {}", a.text(t.as_str())));
    }
    let row = a
        .query(&sql)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or(PageError::InvalidCursor)?;
    let get = |c: &str| -> Result<i64, PageError> {
        let s = row.try_get::<String, _>(c).map_err(backend)?;
        Ok(int_text(&s)?)
    };
    Ok(After {
        key: match listed_end {
            Some(end) => end,
            None => get("created_at")?,
        },
        seq: get("seq")?,
    })
}

/// The tenant's counts per status at `now`.
async fn counts(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    now: OffsetDateTime,
    window: Duration,
) -> Result<StatusCounts, PageError> {
    let sql = format!(
        "SELECT {} AS s, COUNT(*) AS n FROM credentials WHERE tenant_id = $1 GROUP BY 1",
        status_case("$2", "$3")
    );
    let rows = sqlx::query(&sql)
        .bind(tenant.as_str().to_owned())
        .bind(now.unix_timestamp())
        .bind((now + window).unix_timestamp())
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    let mut counts = StatusCounts::default();
    for row in &rows {
        let s = row.try_get::<i64, _>("s").map_err(backend)?;
        let n = row.try_get::<i64, _>("n").map_err(backend)?;
        if let Some(status) = Status::ALL.into_iter().find(|st| bit(*st) == s) {
            *counts.slot(status) = u64::try_from(n).unwrap_or(0);
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_a_search_are_plain() {
        assert_eq!(like_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
        assert_eq!(like_pattern(""), "%%");
    }

    #[test]
    fn limits_and_sorts_are_checked() {
        let q = ListQuery::across_tenants(OffsetDateTime::UNIX_EPOCH);
        assert!(matches!(q.clone().limit(0), Err(PageError::InvalidLimit)));
        assert!(matches!(
            q.clone().limit(1001),
            Err(PageError::InvalidLimit)
        ));
        assert_eq!(q.limit(1000).unwrap().page_limit(), 1000);
        assert_eq!("expires".parse::<Sort>().unwrap(), Sort::Expires);
        assert_eq!(
            "Created".parse::<Sort>().unwrap_err().code(),
            "invalid_sort"
        );
    }

    #[test]
    fn a_time_limit_is_whole_milliseconds_rounded_up() {
        use core::time::Duration as Std;
        let ms = |d: Std| time_limit_statements(d)[1].clone();
        assert_eq!(ms(Std::from_secs(5)), "SET LOCAL statement_timeout = 5000");
        assert_eq!(
            ms(Std::from_micros(1500)),
            "SET LOCAL statement_timeout = 2"
        );
        assert_eq!(ms(Std::ZERO), "SET LOCAL statement_timeout = 1");
        assert_eq!(
            ms(Std::from_secs(u64::MAX)),
            format!("SET LOCAL statement_timeout = {}", i32::MAX)
        );
        assert_eq!(
            time_limit_statements(Std::from_secs(1))[0],
            "SET TRANSACTION READ ONLY"
        );
    }

    #[test]
    fn status_bits_are_distinct() {
        let all = Status::ALL.iter().fold(0, |m, s| m | bit(*s));
        assert_eq!(all, ALL_BITS);
    }
}
