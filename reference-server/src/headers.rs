//! Response headers and the access log, as one response fairing.
//!
//! - every answer: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`;
//! - API answers (see [`crate::routing::is_api`]: decided on the matched route, however the path
//!   is spelled): `Cache-Control: no-store` (plaintext keys and tokens travel there);
//! - elsewhere (the portal's pages): the portal's strict `Content-Security-Policy`
//!   ([`crate::portal::CONTENT_SECURITY_POLICY`]) unless the page set one;
//! - one access-log line per request on stdout: method, path (never the query string), status,
//!   milliseconds. No header is ever logged, so no key, token or password reaches the log.

use std::io::Write;
use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Data, Request, Response};

/// The fairing.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    /// Write the access log.
    pub access_log: bool,
}

struct Started(Instant);

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers and access log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let _ = req.local_cache(|| Started(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let path = req.uri().path();
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("Referrer-Policy", "no-referrer"));
        if crate::routing::is_api(req) {
            res.set_header(Header::new("Cache-Control", "no-store"));
        } else if !res.headers().contains("Content-Security-Policy") {
            res.set_header(Header::new(
                "Content-Security-Policy",
                crate::portal::CONTENT_SECURITY_POLICY,
            ));
        }
        if self.access_log {
            let started = req.local_cache(|| Started(Instant::now()));
            let ms = started.0.elapsed().as_secs_f64() * 1000.0;
            let _ = writeln!(
                std::io::stdout().lock(),
                "{} {} {} {:.1}ms",
                req.method(),
                loggable_path(path.as_str()),
                res.status().code,
                ms
            );
        }
    }
}

/// The path with any segment long enough to hold a key or token replaced by `<redacted>`
/// (key ids are 12 characters; keys 60; tokens hundreds).
pub fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.len() > 32 { "<redacted>" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Attach the fairing, reading `access_log` from the configuration.
pub fn stage() -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_ignite("Security headers", |rocket| async {
        let access_log = rocket
            .figment()
            .extract_inner::<bool>("access_log")
            .unwrap_or(true);
        rocket.attach(SecurityHeaders { access_log })
    })
}
