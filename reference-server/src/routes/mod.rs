//! The JSON API of `docs/http-api.md`, one module per resource: sign-in and sign-out ([`auth`]), the
//! staff admin API ([`admin`]), the signed-in user
//! ([`me`], [`password`]), keys ([`credentials`], [`probe`]), the audit trail, the public
//! configuration and the OpenAPI document.

use rocket::fairing::AdHoc;

pub mod admin;
pub mod audit;
pub mod auth;
pub mod config;
pub mod credentials;
pub mod me;
pub mod openapi;
pub mod password;
pub mod probe;

/// RFC 3339 in UTC with whole seconds: `2026-11-27T20:00:00Z`.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Mount every `/v1` route.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("API routes", |rocket| async {
        let document = rocket
            .state::<crate::state::App>()
            .map(|app| openapi::ServedDocument::new(&app.config))
            .unwrap_or_default();
        rocket
            .manage(document)
            .mount(
                "/",
                rocket::routes![
                    auth::login,
                    auth::logout,
                    me::me,
                    password::change_password,
                    config::config,
                    credentials::list,
                    credentials::create,
                    credentials::update,
                    credentials::rotate,
                    credentials::revoke,
                    probe::probe,
                    audit::audit,
                    openapi::openapi,
                ],
            )
            .mount("/", admin::routes())
    })
}
