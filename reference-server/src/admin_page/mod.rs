//! The staff console web page, served at `/admin` from assets compiled into the binary.
//!
//! Like the partner portal (`crate::portal`), the console is hand-written HTML, CSS and vanilla
//! JavaScript modules (no build step, no framework) that speak only the public JSON API of
//! `docs/http-api.md`: it signs staff in at `/v1/admin/auth/login` with email, password and a
//! TOTP code, keeps the staff token in `sessionStorage` (under its own key, apart from a partner
//! session in the same browser) and sends it as `Authorization: Bearer`. Every value from the API
//! is inserted as text, never as HTML.
//!
//! The console shares the portal's look and its general-purpose modules — the HTTP client, DOM
//! helpers, times, theme, dialogs and their markup, the one-time secret dialog, the sign-in
//! form, the session dialog and timers, the key restriction fields, the audit list and the style sheet — and
//! serves them from the portal's own table of assets (one source file for both pages, see
//! [`SHARED_WITH_PORTAL`]). Its own modules add the views: tenants, a
//! tenant's users, the key search, the audit trail across tenants.
//!
//! Routes mounted by [`stage`]:
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /admin` | the page (`index.html`) |
//! | `GET /admin/assets/<file>` | one of the compiled-in assets, with its content type |
//!
//! Every answer carries `Cache-Control: no-store` and the portal's strict
//! [`Content-Security-Policy`](crate::portal::CONTENT_SECURITY_POLICY) (no inline script or
//! style in any asset). An unknown asset answers the portal's HTML 404 page.
//!
//! # Example
//!
//! ```no_run
//! # #[rocket::launch]
//! # fn rocket() -> _ {
//! rocket::build()
//!     .attach(reference_server::admin_page::stage())
//!     .attach(reference_server::portal::stage())
//! # }
//! ```

use rocket::fairing::AdHoc;
use rocket::http::{ContentType, Status};
use rocket::{get, routes};

use crate::portal::{self, Asset, PortalResponse, serve_asset};

/// The page itself.
const INDEX_HTML: &str = include_str!("assets/index.html");

/// The console's own files under `/admin/assets/`. Nothing is read from the file system at run
/// time.
const ASSETS: &[Asset] = &[
    Asset {
        name: "admin.css",
        content_type: || ContentType::CSS,
        body: include_bytes!("assets/admin.css"),
    },
    Asset {
        name: "admin.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/admin.js"),
    },
    Asset {
        name: "admin-api.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/admin-api.js"),
    },
    Asset {
        name: "admin-state.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/admin-state.js"),
    },
    Asset {
        name: "admin-session.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/admin-session.js"),
    },
    Asset {
        name: "router.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/router.js"),
    },
    Asset {
        name: "tenants.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/tenants.js"),
    },
    Asset {
        name: "tenant-view.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/tenant-view.js"),
    },
    Asset {
        name: "user-actions.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/user-actions.js"),
    },
    Asset {
        name: "key-search.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/key-search.js"),
    },
    Asset {
        name: "key-changes.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/key-changes.js"),
    },
    Asset {
        name: "audit-view.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/audit-view.js"),
    },
];

/// The portal's files the console serves too, under `/admin/assets/`, straight from the portal's
/// table: the style sheet and logo, and the modules that hold nothing specific to partners.
pub const SHARED_WITH_PORTAL: &[&str] = &[
    "app.css",
    "logo.svg",
    "http.js",
    "dom.js",
    "format.js",
    "time-zone.js",
    "theme.js",
    "notify.js",
    "dialogs.js",
    "dialog-markup.js",
    "session-dialog.js",
    "signin-form.js",
    "restrictions.js",
    "account-menu.js",
    "session-common.js",
    "secret-dialog.js",
    "credential.js",
    "audit.js",
];

/// The names of every file under `/admin/assets/`: the console's own, then those it shares with
/// the portal (for tests and tools).
pub fn asset_names() -> impl Iterator<Item = &'static str> {
    ASSETS
        .iter()
        .map(|asset| asset.name)
        .chain(SHARED_WITH_PORTAL.iter().copied())
}

/// `GET /admin`: the page.
#[get("/admin")]
fn index() -> PortalResponse {
    PortalResponse {
        status: Status::Ok,
        content_type: ContentType::HTML,
        body: INDEX_HTML.as_bytes(),
    }
}

/// `GET /admin/assets/<file>`: a compiled-in asset (the console's own, or one it shares with the
/// portal), or 404 for any other name.
#[get("/admin/assets/<file>")]
fn asset(file: &str) -> Option<PortalResponse> {
    serve_asset(ASSETS, file).or_else(|| {
        SHARED_WITH_PORTAL
            .contains(&file)
            .then(|| serve_asset(portal::ASSETS, file))
            .flatten()
    })
}

/// The staff console stage: mounts the page and its assets. Errors outside `/v1` are answered by
/// the portal's HTML catcher.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Staff console page", |rocket| async {
        rocket.mount("/", routes![index, asset])
    })
}

#[cfg(test)]
mod tests {
    use rocket::http::{ContentType, Status};

    use crate::portal::asset_checks::{
        assert_imports_are_served, assert_page_references_are_served, assert_served, client_with,
    };

    #[test]
    fn page_and_every_asset_have_the_portal_csp_and_their_content_types() {
        let client = client_with(super::stage());
        assert_served(&client, "/admin", ContentType::HTML);
        for name in super::asset_names() {
            let expected = match name.rsplit_once('.').map(|(_, ext)| ext) {
                Some("js") => ContentType::JavaScript,
                Some("css") => ContentType::CSS,
                Some("svg") => ContentType::SVG,
                other => panic!("unexpected asset kind {other:?} ({name})"),
            };
            assert_served(&client, &format!("/admin/assets/{name}"), expected);
        }

        // A portal file the console does not share is not served under /admin.
        for name in [
            "nope.js",
            "session.js",
            "key-list.js",
            "app.js",
            "../portal/mod.rs",
        ] {
            let missing = client.get(format!("/admin/assets/{name}")).dispatch();
            assert_eq!(missing.status(), Status::NotFound, "{name}");
        }
    }

    #[test]
    fn shared_files_are_the_portal_files_byte_for_byte() {
        let client = client_with(super::stage());
        for name in super::SHARED_WITH_PORTAL {
            let admin = client.get(format!("/admin/assets/{name}")).dispatch();
            let admin = admin.into_bytes().unwrap_or_default();
            let partner = client.get(format!("/partner/assets/{name}")).dispatch();
            assert_eq!(admin, partner.into_bytes().unwrap_or_default(), "{name}");
        }
    }

    #[test]
    fn every_module_the_page_imports_is_served_under_admin() {
        let client = client_with(super::stage());
        let names: Vec<&str> = super::asset_names().collect();
        let modules: Vec<(&str, String)> = names
            .iter()
            .filter(|name| name.ends_with(".js"))
            .map(|name| {
                let res = client.get(format!("/admin/assets/{name}")).dispatch();
                (*name, res.into_string().unwrap_or_default())
            })
            .collect();
        assert_imports_are_served(
            modules.iter().map(|(name, text)| (*name, text.as_str())),
            &names,
        );
        assert_page_references_are_served(super::INDEX_HTML, "admin", &names);
        for entry in ["admin.js", "app.css", "admin.css"] {
            assert!(
                super::INDEX_HTML.contains(&format!("/admin/assets/{entry}\"")),
                "{entry}"
            );
        }
    }
}
