//! `GET /v1/partner/audit?limit=&before=`: this tenant's audit trail, newest first.
//!
//! `limit` is 1..=200 (default 50). The answer's `next_cursor` is `null` on the last page;
//! otherwise pass it as `before` to get the next, older page. `actor` is
//! `{"kind":"user","user_id","email"}`, `{"kind":"staff","staff_id","email"}` (Idunox staff
//! acting on this tenant's users or keys), or `null` for an anonymous sign-in attempt (whose
//! tried email and target user are in `detail`). The admin API lists the same entries across
//! tenants ([`crate::routes::admin::audit`]).

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get};
use serde::Serialize;

use crate::auth::session::Session;
use crate::db::audit::Entry;
use crate::error::ApiError;
use crate::routes::rfc3339;
use crate::state::App;

/// Largest page.
pub const MAX_LIMIT: i64 = 200;
/// Default page.
pub const DEFAULT_LIMIT: i64 = 50;

/// One entry as the API shows it.
#[derive(Debug, Serialize)]
pub struct EntryView {
    id: String,
    at: String,
    action: String,
    actor: Option<ActorView>,
    credential_id: Option<String>,
    detail: Option<serde_json::Value>,
}

/// Who acted, tagged by kind.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActorView {
    /// A partner's portal user.
    User {
        /// `usr_…`
        user_id: String,
        /// Their email.
        email: String,
    },
    /// An Idunox staff member.
    Staff {
        /// `stf_…`
        staff_id: String,
        /// Their email.
        email: String,
    },
}

/// A page.
#[derive(Debug, Serialize)]
pub struct AuditPage {
    entries: Vec<EntryView>,
    next_cursor: Option<String>,
}

/// The view of a stored entry.
pub fn view(e: Entry) -> EntryView {
    EntryView {
        id: e.id.to_string(),
        at: time::OffsetDateTime::from_unix_timestamp(e.at)
            .map(rfc3339)
            .unwrap_or_default(),
        actor: match (e.actor_kind.as_deref(), e.actor_email) {
            (Some("user"), Some(email)) => e
                .actor_user_id
                .map(|user_id| ActorView::User { user_id, email }),
            (Some("staff"), Some(email)) => e
                .actor_staff_id
                .map(|staff_id| ActorView::Staff { staff_id, email }),
            _ => None,
        },
        action: e.action,
        credential_id: e.credential_id,
        detail: e.detail,
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(Status::UnprocessableEntity, "invalid_request", message)
}

/// The `limit` and `before` of an audit page: `limit` 1..=200 (default 50), `before` a
/// `next_cursor` of an earlier page.
///
/// # Errors
/// 422 `invalid_request` naming what is wrong.
pub fn page_query(
    limit: Option<&str>,
    before: Option<&str>,
) -> Result<(i64, Option<i64>), ApiError> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| invalid("limit must be a whole number from 1 to 200."))?,
    };
    let before = match before {
        None => None,
        Some(s) => Some(
            is_cursor(s)
                .then(|| s.parse::<i64>().ok())
                .flatten()
                .ok_or_else(|| invalid("before must be a next_cursor from an earlier page."))?,
        ),
    };
    Ok((limit, before))
}

/// Whether `s` is spelled like a `next_cursor`: an entry id, 1 to 18 digits without a leading
/// zero (the document's pattern `^[1-9][0-9]{0,17}$`), so `+7`, `007` and an empty value are
/// refused rather than read as some other cursor.
fn is_cursor(s: &str) -> bool {
    (1..=18).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')
}

/// Cut a page read with `limit + 1` entries to `limit`, and its `next_cursor`.
pub fn cut_page(mut entries: Vec<Entry>, limit: i64) -> (Vec<Entry>, Option<String>) {
    let more = entries.len() as i64 > limit;
    entries.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if more {
        entries.last().map(|e| e.id.to_string())
    } else {
        None
    };
    (entries, next_cursor)
}

/// A page of this tenant's audit trail.
#[get("/v1/partner/audit?<limit>&<before>")]
pub async fn audit(
    app: &State<App>,
    session: &Session,
    limit: Option<&str>,
    before: Option<&str>,
) -> Result<Json<AuditPage>, ApiError> {
    let (limit, before) = page_query(limit, before)?;
    let entries = app
        .db
        .audit_page(&session.tenant.id, before, limit + 1)
        .await
        .map_err(|e| ApiError::database(&e))?;
    let (entries, next_cursor) = cut_page(entries, limit);
    Ok(Json(AuditPage {
        entries: entries.into_iter().map(view).collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::page_query;

    #[test]
    fn cursors_and_limits_are_spelled_exactly() {
        assert_eq!(page_query(Some("20"), Some("17")).unwrap(), (20, Some(17)));
        assert_eq!(
            page_query(None, Some("999999999999999999")).unwrap().1,
            Some(999_999_999_999_999_999)
        );
        for before in [
            "",
            "0",
            "007",
            "+7",
            "-7",
            "1000000000000000000",
            "1e3",
            " 7",
        ] {
            assert!(page_query(None, Some(before)).is_err(), "before={before:?}");
        }
        for limit in ["+5", "0", "201", "5.0", ""] {
            assert!(page_query(Some(limit), None).is_err(), "limit={limit:?}");
        }
    }
}
