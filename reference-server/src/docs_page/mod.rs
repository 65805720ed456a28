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

    use crate::portal::asset_checks::{
        assert_imports_are_served, assert_page_references_are_served, assert_served, client_with,
    };

    #[test]
    fn page_and_assets_have_the_portal_csp_and_their_content_types() {
        let client = client_with(super::stage());
        assert_served(&client, "/docs", ContentType::HTML);

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
            assert_served(&client, &format!("/docs/assets/{name}"), content_type);
        }

        let missing = client.get("/docs/assets/nope.js").dispatch();
        assert_eq!(missing.status(), Status::NotFound);
        assert_eq!(missing.content_type(), Some(ContentType::HTML));
    }

    #[test]
    fn every_module_the_page_imports_is_served() {
        let names: Vec<&str> = super::asset_names().collect();
        let modules = super::ASSETS
            .iter()
            .filter(|a| a.name.ends_with(".js"))
            .map(|a| (a.name, std::str::from_utf8(a.body).expect("UTF-8 script")));
        assert_imports_are_served(modules, &names);
        assert_page_references_are_served(super::INDEX_HTML, "docs", &names);
    }
}
