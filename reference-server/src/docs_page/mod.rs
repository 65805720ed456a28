//! The API reference page at `/docs`: the OpenAPI document the server serves at
//! `/v1/openapi.json`, rendered for people in the browser.
//!
//! The page is hand-written HTML, CSS and vanilla JavaScript modules compiled into the binary, like
//! the partner portal: no build step, no framework, no CDN. Its script fetches
//! `/v1/openapi.json` and renders every path and operation (method, summary, description,
//! authentication, parameters with their types, enumerations and bounds, request body, every
//! response with its schema and an example), resolves `$ref`s, lists the component schemas, and
//! offers a table of contents with in-page anchors and a filter. Every value from the document
//! is inserted as text, never as HTML. It reuses the portal's DOM helpers (`dom.js`) and logo.
//!
//! Routes mounted by [`stage`]:
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /docs` | the page (`index.html`) |
//! | `GET /docs/assets/<file>` | one of the compiled-in assets, with its content type |
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
//!     .attach(reference_server::docs_page::stage())
//!     .attach(reference_server::portal::stage())
//! # }
//! ```

use rocket::fairing::AdHoc;
use rocket::http::{ContentType, Status};
use rocket::{get, routes};

use crate::portal::{Asset, PortalResponse, serve_asset};

/// The page itself.
const INDEX_HTML: &str = include_str!("assets/index.html");

/// Every file under `/docs/assets/`. Nothing is read from the file system at run time.
const ASSETS: &[Asset] = &[
    Asset {
        name: "docs.css",
        content_type: || ContentType::CSS,
        body: include_bytes!("assets/docs.css"),
    },
    Asset {
        name: "docs.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/docs.js"),
    },
    Asset {
        name: "render.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/render.js"),
    },
    Asset {
        name: "openapi.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("assets/openapi.js"),
    },
    Asset {
        name: "dom.js",
        content_type: || ContentType::JavaScript,
        body: include_bytes!("../portal/assets/dom.js"),
    },
    Asset {
        name: "logo.svg",
        content_type: || ContentType::SVG,
        body: include_bytes!("../portal/assets/logo.svg"),
    },
];

/// The names of the compiled-in assets, in the order they are listed (for tests and tools).
pub fn asset_names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|asset| asset.name)
}

/// `GET /docs`: the page.
#[get("/docs")]
fn index() -> PortalResponse {
    PortalResponse {
        status: Status::Ok,
        content_type: ContentType::HTML,
        body: INDEX_HTML.as_bytes(),
    }
}

/// `GET /docs/assets/<file>`: a compiled-in asset, or 404 for any other name.
#[get("/docs/assets/<file>")]
fn asset(file: &str) -> Option<PortalResponse> {
    serve_asset(ASSETS, file)
}

/// The API reference stage: mounts the page and its assets. Errors outside `/v1` are answered by
/// the portal's HTML catcher.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("API reference page", |rocket| async {
        rocket.mount("/", routes![index, asset])
    })
}

#[cfg(test)]
mod tests {
    use rocket::http::{ContentType, Status};
    use rocket::local::blocking::Client;

    use crate::portal::CONTENT_SECURITY_POLICY;

    fn client() -> Client {
        let rocket = rocket::custom(rocket::Config::debug_default())
            .attach(super::stage())
            .attach(crate::portal::stage());
        Client::tracked(rocket).expect("a valid rocket")
    }

    #[test]
    fn page_and_assets_have_the_portal_csp_and_their_content_types() {
        let client = client();
        let page = client.get("/docs").dispatch();
        assert_eq!(page.status(), Status::Ok);
        assert_eq!(page.content_type(), Some(ContentType::HTML));
        assert_eq!(
            page.headers().get_one("Content-Security-Policy"),
            Some(CONTENT_SECURITY_POLICY)
        );
        assert_eq!(page.headers().get_one("Cache-Control"), Some("no-store"));

        let expected = [
            ("docs.css", ContentType::CSS),
            ("docs.js", ContentType::JavaScript),
            ("render.js", ContentType::JavaScript),
            ("openapi.js", ContentType::JavaScript),
            ("dom.js", ContentType::JavaScript),
            ("logo.svg", ContentType::SVG),
        ];
        assert_eq!(
            super::asset_names().collect::<Vec<_>>(),
            expected.iter().map(|(n, _)| *n).collect::<Vec<_>>()
        );
        for (name, content_type) in expected {
            let res = client.get(format!("/docs/assets/{name}")).dispatch();
            assert_eq!(res.status(), Status::Ok, "{name}");
            assert_eq!(res.content_type(), Some(content_type), "{name}");
            assert_eq!(
                res.headers().get_one("Content-Security-Policy"),
                Some(CONTENT_SECURITY_POLICY),
                "{name}"
            );
            assert!(!res.into_bytes().unwrap_or_default().is_empty(), "{name}");
        }

        let missing = client.get("/docs/assets/nope.js").dispatch();
        assert_eq!(missing.status(), Status::NotFound);
        assert_eq!(missing.content_type(), Some(ContentType::HTML));
    }

    #[test]
    fn every_module_the_page_imports_is_served() {
        // The page's modules import each other by relative path: each import must name a
        // compiled-in asset, or the page would fail in the browser with nothing on screen.
        let names: Vec<&str> = super::asset_names().collect();
        for asset in super::ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(asset.body).expect("UTF-8 script");
            for line in text.lines().filter(|l| l.contains(" from './")) {
                let target = line
                    .split(" from './")
                    .nth(1)
                    .and_then(|rest| rest.split('\'').next())
                    .expect("an import path");
                assert!(
                    names.contains(&target),
                    "{} imports {target}, which is not served",
                    asset.name
                );
            }
        }
    }
}
