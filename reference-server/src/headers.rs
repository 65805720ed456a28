//! Response headers, as one response fairing (the request log is [`crate::observe::request_log`]'s).
//!
//! - every answer: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`;
//! - API answers (see [`crate::routing::is_api`]: decided on the matched route, however the path
//!   is spelled): `Cache-Control: no-store` (plaintext keys and tokens travel there);
//! - elsewhere (the portal's pages): the portal's strict `Content-Security-Policy`
//!   ([`crate::portal::CONTENT_SECURITY_POLICY`]) unless the page set one.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

/// The fairing.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
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
    }
}

/// Attach the fairing.
pub fn stage() -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_ignite("Security headers", |rocket| async {
        rocket.attach(SecurityHeaders)
    })
}
