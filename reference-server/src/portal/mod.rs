//! The partner portal web page, served at `/partner` from assets compiled into the binary.
//!
//! The page is hand-written HTML, CSS and vanilla JavaScript modules (no build step, no
//! framework), one ES module per concern (session, key list, dialogs, …; `app.js` lists them).
//! It speaks only the public JSON API of `docs/http-api.md`, exactly as any other client would:
//! it signs in at `/v1/partner/auth/login`, keeps the session token in `sessionStorage` and
//! sends it as `Authorization: Bearer`.
//!
//! Routes mounted by [`stage`]:
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` | `303 See Other` to `/partner` |
//! | `GET /partner` | the page (`index.html`) |
//! | `GET /partner/assets/<file>` | one of the compiled-in assets, with its content type |
//!
//! Every portal answer carries `Cache-Control: no-store` and a strict
//! `Content-Security-Policy` (no inline script or style anywhere in the assets), and errors
//! outside `/v1` are answered with a small HTML page rather than JSON.
//!
//! # Example
//!
//! ```no_run
//! # #[rocket::launch]
//! # fn rocket() -> _ {
//! rocket::build().attach(reference_server::portal::stage())
//! # }
//! ```

use std::io::Cursor;

use rocket::fairing::AdHoc;
use rocket::http::{ContentType, Status};
use rocket::response::{self, Redirect, Responder};
use rocket::{Request, Response, catch, catchers, get, routes};

/// The Content-Security-Policy of every portal answer: only same-origin scripts, styles,
/// images and API calls; no framing, no `<base>`, forms post only to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'";

/// The page itself.
const INDEX_HTML: &str = include_str!("assets/index.html");

/// One compiled-in asset: its file name under `/partner/assets/`, content type and bytes.
/// The API reference page (`crate::docs_page`) serves its assets the same way.
pub(crate) struct Asset {
    pub(crate) name: &'static str,
    pub(crate) content_type: fn() -> ContentType,
    pub(crate) body: &'static [u8],
}

/// Every file under `/partner/assets/`. Nothing is read from the file system at run time. The
/// staff console (`crate::admin_page`) serves the modules it shares with the portal from here.
pub(crate) const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: || ContentType::CSS,
        body: include_bytes!("assets/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/api.js"),
    },
    Asset {
        name: "http.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/http.js"),
    },
    Asset {
        name: "session.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/session.js"),
    },
    Asset {
        name: "session-common.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/session-common.js"),
    },
    Asset {
        name: "account-menu.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/account-menu.js"),
    },
    Asset {
        name: "sections.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/sections.js"),
    },
    Asset {
        name: "key-list.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/key-list.js"),
    },
    Asset {
        name: "activity.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/activity.js"),
    },
    Asset {
        name: "audit.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/audit.js"),
    },
    Asset {
        name: "key-actions.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/key-actions.js"),
    },
    Asset {
        name: "secret-dialog.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/secret-dialog.js"),
    },
    Asset {
        name: "password.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/password.js"),
    },
    Asset {
        name: "dialog-markup.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/dialog-markup.js"),
    },
    Asset {
        name: "session-dialog.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/session-dialog.js"),
    },
    Asset {
        name: "restrictions.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/restrictions.js"),
    },
    Asset {
        name: "signin-form.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/signin-form.js"),
    },
    Asset {
        name: "dialogs.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/dialogs.js"),
    },
    Asset {
        name: "theme.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/theme.js"),
    },
    Asset {
        name: "config.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/config.js"),
    },
    Asset {
        name: "notify.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/notify.js"),
    },
    Asset {
        name: "credential.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/credential.js"),
    },
    Asset {
        name: "format.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/format.js"),
    },
    Asset {
        name: "time-zone.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/time-zone.js"),
    },
    Asset {
        name: "dom.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/dom.js"),
    },
    Asset {
        name: "state.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/state.js"),
    },
    Asset {
        name: "logo.svg",
        content_type: || ContentType::SVG,
        body: include_bytes!("assets/logo.svg"),
    },
];

/// The names of the files under `/partner/assets/`, in the order they are listed (for tests and
/// tools).
pub fn asset_names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|asset| asset.name)
}

/// A portal answer: a static body with its content type and the portal's headers. The API
/// reference page (`crate::docs_page`) answers with it too.
pub(crate) struct PortalResponse {
    pub(crate) status: Status,
    pub(crate) content_type: ContentType,
    pub(crate) body: &'static [u8],
}

impl<'r> Responder<'r, 'static> for PortalResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .status(self.status)
            .header(self.content_type)
            .raw_header("Cache-Control", "no-store")
            .raw_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            .sized_body(self.body.len(), Cursor::new(self.body))
            .ok()
    }
}

/// `GET /`: the portal is the front page.
#[get("/")]
fn root() -> Redirect {
    Redirect::to("/partner")
}

/// `GET /partner`: the page.
#[get("/partner")]
fn index() -> PortalResponse {
    PortalResponse {
        status: Status::Ok,
        content_type: ContentType::HTML,
        body: INDEX_HTML.as_bytes(),
    }
}

/// `GET /partner/assets/<file>`: a compiled-in asset, or 404 for any other name.
#[get("/partner/assets/<file>")]
fn asset(file: &str) -> Option<PortalResponse> {
    serve_asset(ASSETS, file)
}

/// The answer for the asset named `file` among `assets`; `None` (404) for any other name.
pub(crate) fn serve_asset(assets: &[Asset], file: &str) -> Option<PortalResponse> {
    assets
        .iter()
        .find(|asset| asset.name == file)
        .map(|asset| PortalResponse {
            status: Status::Ok,
            content_type: (asset.content_type)(),
            body: asset.body,
        })
}

/// Errors outside `/v1` (which answers JSON from its own, more specific catcher) answer a small
/// HTML page that leads back to the portal.
#[catch(default)]
fn html_error(status: Status, _: &Request<'_>) -> PortalResponse {
    let body = match status.code {
        404 => ERROR_404_HTML,
        _ => ERROR_HTML,
    };
    PortalResponse {
        status,
        content_type: ContentType::HTML,
        body: body.as_bytes(),
    }
}

/// The "not found" page of the portal.
const ERROR_404_HTML: &str = include_str!("assets/404.html");
/// Any other error page of the portal.
const ERROR_HTML: &str = include_str!("assets/error.html");

/// The portal stage: mounts the page, its assets and the `/` redirect, and registers the HTML
/// catcher for every path outside `/v1`.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Partner portal", |rocket| async {
        rocket
            .mount("/", routes![root, index, asset])
            .register("/", catchers![html_error])
    })
}

/// Checks the pages' tests share: every answer carries the portal's headers, and every module a
/// page loads is one it serves.
#[cfg(test)]
pub(crate) mod asset_checks {
    use rocket::fairing::AdHoc;
    use rocket::http::{ContentType, Status};
    use rocket::local::blocking::Client;

    /// A local client of a page's stage beside the portal's (whose catcher answers HTML errors).
    pub(crate) fn client_with(stage: AdHoc) -> Client {
        let rocket = rocket::custom(rocket::Config::debug_default())
            .attach(stage)
            .attach(super::stage());
        Client::tracked(rocket).expect("a valid rocket")
    }

    /// Asserts that `path` answers 200 with `content_type`, the portal's Content-Security-Policy,
    /// `Cache-Control: no-store` and a body.
    pub(crate) fn assert_served(client: &Client, path: &str, content_type: ContentType) {
        let res = client.get(path).dispatch();
        assert_eq!(res.status(), Status::Ok, "{path}");
        assert_eq!(res.content_type(), Some(content_type), "{path}");
        assert_eq!(
            res.headers().get_one("Content-Security-Policy"),
            Some(super::CONTENT_SECURITY_POLICY),
            "{path}"
        );
        assert_eq!(
            res.headers().get_one("Cache-Control"),
            Some("no-store"),
            "{path}"
        );
        assert!(!res.into_bytes().unwrap_or_default().is_empty(), "{path}");
    }

    /// Asserts that each relative import (`from './x.js'`) of each `(name, source)` module names
    /// one of `served`: the modules import each other by relative path, and a missing one would
    /// leave the page blank in the browser.
    pub(crate) fn assert_imports_are_served<'a>(
        modules: impl Iterator<Item = (&'a str, &'a str)>,
        served: &[&str],
    ) {
        for (name, text) in modules {
            for line in text.lines().filter(|l| l.contains(" from './")) {
                let target = line
                    .split(" from './")
                    .nth(1)
                    .and_then(|rest| rest.split('\'').next())
                    .expect("an import path");
                assert!(
                    served.contains(&target),
                    "{name} imports {target}, which is not served"
                );
            }
        }
    }

    /// Asserts that every `/<base>/assets/<file>` the page's HTML names is one of `served`.
    pub(crate) fn assert_page_references_are_served(html: &str, base: &str, served: &[&str]) {
        let prefix = format!("\"/{base}/assets/");
        let mut seen = 0;
        for rest in html.split(prefix.as_str()).skip(1) {
            let file = rest.split('"').next().expect("a quoted path");
            assert!(
                served.contains(&file),
                "/{base} references {file}, not served"
            );
            seen += 1;
        }
        assert!(seen > 0, "the /{base} page references no asset");
    }
}

#[cfg(test)]
mod tests {
    use super::asset_checks::{assert_imports_are_served, assert_page_references_are_served};

    #[test]
    fn every_module_and_file_the_portal_names_is_served() {
        let names: Vec<&str> = super::ASSETS.iter().map(|a| a.name).collect();
        let modules = super::ASSETS
            .iter()
            .filter(|a| a.name.ends_with(".js"))
            .map(|a| (a.name, std::str::from_utf8(a.body).expect("UTF-8 script")));
        assert_imports_are_served(modules, &names);
        for html in [super::INDEX_HTML, super::ERROR_404_HTML, super::ERROR_HTML] {
            assert_page_references_are_served(html, "partner", &names);
        }
    }
}
