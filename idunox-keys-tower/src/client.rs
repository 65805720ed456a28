//! The client address a key's IP allow-list is checked against.
//!
//! The TCP peer comes from the request's extensions: axum's `ConnectInfo<SocketAddr>` (serve
//! with `into_make_service_with_connect_info::<SocketAddr>()`; feature `axum`), or a
//! [`PeerAddr`] that any other stack inserts from its accept loop. Behind trusted reverse
//! proxies the client is read from `X-Forwarded-For` as
//! [`client_address`] says. With neither, the address
//! is unknown, and a key with an allow-list is refused (`403 ip_not_allowed`): a key restricted
//! to some networks never passes on an address nobody can vouch for.
//!
//! # Example
//!
//! ```
//! use std::net::SocketAddr;
//! use http::Request;
//! use idunox_keys_tower::{PeerAddr, client_addr};
//!
//! let mut req = Request::new(());
//! assert_eq!(client_addr(&req, &[]), None);
//! req.extensions_mut().insert(PeerAddr("192.0.2.7:40000".parse::<SocketAddr>()?));
//! assert_eq!(client_addr(&req, &[]), Some("192.0.2.7".parse()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::{IpAddr, SocketAddr};

use http::Request;
use http::header::HeaderName;
use idunox_keys::restrictions::{IpNet, allows, client_address};

/// The TCP peer of a request, for stacks without axum's `ConnectInfo`: insert it into the
/// request's extensions before [`ApiKeyLayer`](crate::ApiKeyLayer) runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// `x-forwarded-for`.
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The request's TCP peer, if the stack put it in the extensions.
fn peer<B>(req: &Request<B>) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(addr.ip());
    }
    req.extensions().get::<PeerAddr>().map(|p| p.0.ip())
}

/// The client address of `req`: its TCP peer, or, when the peer is one of `trusted_proxies`,
/// what their `X-Forwarded-For` says; `None` when unknown.
pub fn client_addr<B>(req: &Request<B>, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = peer(req)?.to_canonical();
    // The common case — no proxy in front — reads no header.
    if !allows(trusted_proxies, peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .map(http::HeaderValue::as_bytes);
    client_address(peer, forwarded, trusted_proxies)
}
