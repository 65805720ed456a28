//! The query of a credential listing (`status`, `q`, `sort`, `limit`, `cursor`) read into the
//! key store's [`ListQuery`], and a [`Page`] shown as JSON; shared by the partner list and the
//! staff search across tenants.
//!
//! - `status`: a comma-separated list of statuses (`active,expiring`); default every status.
//! - `q`: a substring of the name or the key id (the staff search: also of the masked key),
//!   ASCII letters in any case; at most [`MAX_SEARCH_CHARS`] characters. Empty means no filter.
//! - `sort`: `created` (newest first, default) or `expires` (soonest to stop verifying first: the
//!   earliest of `expires_at`, the grace end of a key in grace, and the revocation).
//! - `limit`: 1 to [`MAX_PAGE_LIMIT`], default [`MAX_PAGE_LIMIT`].
//! - `cursor`: the `next_cursor` of the previous page.
//!
//! Anything else malformed, and a parameter given twice ([`QueryParams`]), answers 422
//! `invalid_request` naming the parameter.

use idunox_keys::Status;
use idunox_keys_sqlx::page::{MAX_PAGE_LIMIT, MAX_SEARCH_CHARS};
use idunox_keys_sqlx::{ListQuery, Page, PageError, Sort};
use serde_json::{Value, json};

use super::CredentialView;
use crate::error::ApiError;
use crate::guards::QueryParams;
use crate::guards::query::invalid;
use crate::state::App;

/// `query` with the filters, order and page of `params` applied.
///
/// # Errors
/// 422 `invalid_request` for a bad `status`, `q`, `sort` or `limit` (a bad `cursor` is found
/// by the store: [`page_error`]).
pub fn read(params: &QueryParams<'_>, mut query: ListQuery) -> Result<ListQuery, ApiError> {
    if let Some(list) = params.get("status") {
        let statuses = list
            .split(',')
            .map(str::parse::<Status>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                invalid(
                    "status must be a comma-separated list of active, expiring, grace, revoked \
                     and expired.",
                )
            })?;
        query = query.statuses(statuses);
    }
    if let Some(q) = params.get("q").filter(|q| !q.is_empty()) {
        if q.chars().count() > MAX_SEARCH_CHARS {
            return Err(invalid(format!(
                "q must be at most {MAX_SEARCH_CHARS} characters."
            )));
        }
        query = query.search(q);
    }
    if let Some(sort) = params.get("sort") {
        let sort: Sort = sort
            .parse()
            .map_err(|_| invalid("sort must be created or expires."))?;
        query = query.sort(sort);
    }
    if let Some(limit) = params.get("limit") {
        let bad = || {
            invalid(format!(
                "limit must be a whole number from 1 to {MAX_PAGE_LIMIT}."
            ))
        };
        let n: u32 = limit.parse().map_err(|_| bad())?;
        query = query.limit(n).map_err(|_| bad())?;
    }
    if let Some(cursor) = params.get("cursor") {
        if cursor.is_empty() {
            return Err(invalid(
                "cursor must be the next_cursor of the previous page.",
            ));
        }
        query = query.after(Some(cursor.to_owned()));
    }
    Ok(query)
}

/// The page `params` ask for of the listing `base`.
///
/// # Errors
/// 422 `invalid_request` for a bad parameter; 503 when the store fails.
pub async fn page(app: &App, params: &QueryParams<'_>, base: ListQuery) -> Result<Page, ApiError> {
    let query = read(params, base)?;
    app.keys
        .store()
        .page(&query)
        .await
        .map_err(|e| page_error(&e))
}

/// A listing's refusal as the HTTP answer: 422 `invalid_request`, or 503 when the store failed.
pub fn page_error(e: &PageError) -> ApiError {
    match e {
        PageError::Store(s) => ApiError::database(s),
        PageError::InvalidCursor => {
            invalid("cursor must be the next_cursor of the previous page, with the same sort.")
        }
        other => invalid(format!("{}.", capitalised(other))),
    }
}

fn capitalised(e: &PageError) -> String {
    let s = e.to_string();
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// One tenant's query at the server's time and expiring window: name and key id searched.
pub fn for_tenant(app: &App, tenant: idunox_keys::TenantId) -> ListQuery {
    ListQuery::for_tenant(tenant, app.now())
        .expiring_window(app.keys.policy().expiring_window)
        .search_masked_key(false)
}

/// `{"credentials", "counts", "next_cursor"}` of a page (`counts` only when the page has them).
pub fn page_json(app: &App, page: &Page) -> Value {
    let mut out = json!({
        "credentials": page.credentials.iter().map(|c| CredentialView::new(app, c)).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    });
    if let Some(c) = page.counts {
        out["counts"] = json!({
            "active": c.active,
            "expiring": c.expiring,
            "grace": c.grace,
            "revoked": c.revoked,
            "expired": c.expired,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn q(fields: &[(&'static str, &'static str)]) -> Result<ListQuery, ApiError> {
        let params = QueryParams::new(fields.iter().copied())?;
        read(
            &params,
            ListQuery::across_tenants(OffsetDateTime::UNIX_EPOCH),
        )
    }

    #[test]
    fn bad_parameters_are_refused() {
        for fields in [
            &[("status", "live")][..],
            &[("status", "active,")][..],
            &[("status", "")][..],
            &[("sort", "name")][..],
            &[("limit", "0")][..],
            &[("limit", "1001")][..],
            &[("limit", "5.0")][..],
            &[("limit", "")][..],
            &[("cursor", "")][..],
            &[("limit", "5"), ("limit", "5")][..],
        ] {
            let e = q(fields).unwrap_err();
            assert_eq!(
                (e.status.code, e.code),
                (422, "invalid_request"),
                "{fields:?}"
            );
        }
        let long: &'static str = Box::leak("x".repeat(MAX_SEARCH_CHARS + 1).into_boxed_str());
        assert!(q(&[("q", long)]).is_err());
        let ok = q(&[
            ("status", "active,expiring"),
            ("sort", "expires"),
            ("limit", "5"),
            ("q", "Billing"),
        ])
        .unwrap();
        assert_eq!(ok.page_limit(), 5);
        assert_eq!(ok.sort_order(), Sort::Expires);
    }
}
