//! The address a request came from: [`ClientAddress`] for restricted keys' allow-lists,
//! [`ClientIp`] for the sign-in limits. One rule serves both, the core's
//! [`idunox_keys::restrictions::client_address`] (the tower layer uses it too):
//!
//! - the TCP peer, unless the peer is in `trusted_proxies` (CIDRs, empty by default);
//! - behind a trusted proxy: the right-most `X-Forwarded-For` entry that is not itself a trusted
//!   proxy (every header line counts, in order; entries may carry a port, `1.2.3.4:5678` or
//!   `[2001:db8::1]:443`). Entries left of it were written by the client and are never believed;
//! - IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are read as IPv4.
//!
//! When a trusted proxy names no client — no header, only proxies, an entry that is not an
//! address where one has to be read, or more than
//! [`MAX_FORWARDED_HOPS`](idunox_keys::restrictions::MAX_FORWARDED_HOPS) entries — the address
//! is unknown: [`ClientAddress`] is `None`, so a key with an allow-list is refused (a broken proxy
//! chain never lets a key through), while [`ClientIp`] falls back to the peer (the proxy), so the
//! sign-in limits count such requests together under the proxy's address instead of letting the
//! client pick one. In-process requests without a peer (Rocket's local client) have no address
//! ([`ClientIp`]: `0.0.0.0`).
//!
//! [`ClientIp::bucket`] is what the sign-in limits count per client: the IPv4 address, or the
//! IPv6 `/64` network (one subscriber's allocation, so a client cannot step around a per-address
//! limit by changing the low bits of its address). Allow-lists compare the whole address.
//!
//! ```
//! use std::net::IpAddr;
//! use reference_server::guards::{ClientAddress, ClientIp};
//!
//! let proxies = ["10.0.0.0/8".parse().unwrap()];
//! let peer: IpAddr = "10.0.0.2".parse().unwrap();
//! let ip = ClientIp::resolve(Some(peer), ["203.0.113.9, 198.51.100.7, 10.0.0.1"], &proxies);
//! assert_eq!(ip.0.to_string(), "198.51.100.7");
//! // Not behind a trusted proxy: the header is ignored.
//! let direct = ClientIp::resolve(Some("192.0.2.4".parse().unwrap()), ["203.0.113.9"], &proxies);
//! assert_eq!(direct.0.to_string(), "192.0.2.4");
//! // A trusted proxy that names nobody: unknown for allow-lists, the proxy for sign-in limits.
//! assert_eq!(ClientAddress::resolve(Some(peer), [], &proxies).0, None);
//! assert_eq!(ClientIp::resolve(Some(peer), [], &proxies).0, peer);
//! assert_eq!(
//!     ClientIp("2001:db8:1:2:aaaa::1".parse().unwrap()).bucket(),
//!     "2001:db8:1:2::/64"
//! );
//! ```

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};

use idunox_keys::restrictions::client_address;
use ipnet::{IpNet, Ipv6Net};
use rocket::request::{FromRequest, Outcome, Request};

/// The client's address for the sign-in limits: the client a trusted proxy names, else the
/// peer; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// The client's address for allow-lists: `None` when it is not known; see the
/// [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub Option<IpAddr>);

/// The client a request names, from the TCP `peer`, the `X-Forwarded-For` values in order and
/// the trusted proxies: the core's rule.
fn known<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    client_address(peer, forwarded_for.into_iter().map(str::as_bytes), trusted)
}

impl ClientAddress {
    /// Resolve the client from the TCP `peer` (`None`: unknown), the `X-Forwarded-For` header
    /// values in order, and the trusted proxies.
    pub fn resolve<'a>(
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a str>,
        trusted: &[IpNet],
    ) -> Self {
        Self(peer.and_then(|p| known(p, forwarded_for, trusted)))
    }
}

impl ClientIp {
    /// Resolve the client from the TCP `peer`, the `X-Forwarded-For` header values in order, and
    /// the trusted proxies; the peer when a trusted proxy names nobody.
    pub fn resolve<'a>(
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a str>,
        trusted: &[IpNet],
    ) -> Self {
        let Some(peer) = peer else {
            return Self(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        };
        Self(known(peer, forwarded_for, trusted).unwrap_or_else(|| peer.to_canonical()))
    }

    /// What per-client limits count: the IPv4 address, or the IPv6 `/64` network.
    pub fn bucket(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                Ipv6Net::new(v6, 64).map_or_else(|_| v6.to_string(), |n| n.trunc().to_string())
            }
        }
    }
}

/// The configured trusted proxies (none without the application state).
fn trusted<'r>(req: &'r Request<'_>) -> &'r [IpNet] {
    req.rocket()
        .state::<crate::state::App>()
        .map_or(&[][..], |app| &app.config.trusted_proxies[..])
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientIp {
    type Error = Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Infallible> {
        let peer = req.remote().map(|r| r.ip());
        Outcome::Success(Self::resolve(
            peer,
            req.headers().get("X-Forwarded-For"),
            trusted(req),
        ))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddress {
    type Error = Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Infallible> {
        let peer = req.remote().map(|r| r.ip());
        Outcome::Success(Self::resolve(
            peer,
            req.headers().get("X-Forwarded-For"),
            trusted(req),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn resolve(peer: &str, xff: &[&str], trusted: &[&str]) -> String {
        ClientIp::resolve(
            Some(peer.parse().unwrap()),
            xff.iter().copied(),
            &nets(trusted),
        )
        .0
        .to_string()
    }

    fn address(peer: &str, xff: &[&str], trusted: &[&str]) -> Option<String> {
        ClientAddress::resolve(
            Some(peer.parse().unwrap()),
            xff.iter().copied(),
            &nets(trusted),
        )
        .0
        .map(|a| a.to_string())
    }

    #[test]
    fn the_peer_counts_unless_it_is_a_trusted_proxy() {
        assert_eq!(resolve("192.0.2.1", &["198.51.100.1"], &[]), "192.0.2.1");
        assert_eq!(
            resolve("192.0.2.1", &["198.51.100.1"], &["10.0.0.0/8"]),
            "192.0.2.1"
        );
        assert_eq!(resolve("::ffff:192.0.2.1", &[], &[]), "192.0.2.1");
        assert_eq!(
            address("::ffff:192.0.2.1", &[], &[]).as_deref(),
            Some("192.0.2.1")
        );
        assert_eq!(
            ClientIp::resolve(None, [], &[]).0,
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
        assert_eq!(ClientAddress::resolve(None, [], &[]).0, None);
    }

    #[test]
    fn behind_proxies_the_rightmost_untrusted_entry_counts() {
        let t = ["10.0.0.0/8", "fd00::/8"];
        // Client-written entries on the left are never believed.
        assert_eq!(
            resolve("10.0.0.2", &["6.6.6.6, 198.51.100.7, 10.1.1.1"], &t),
            "198.51.100.7"
        );
        // Several header lines read as one list, in order.
        assert_eq!(
            resolve("10.0.0.2", &["6.6.6.6", "198.51.100.7", "10.1.1.1"], &t),
            "198.51.100.7"
        );
        // Ports and IPv6 brackets.
        assert_eq!(
            resolve("10.0.0.2", &["198.51.100.7:4711"], &t),
            "198.51.100.7"
        );
        assert_eq!(
            resolve("fd00::1", &["[2001:db8::5]:443"], &t),
            "2001:db8::5"
        );
        assert_eq!(
            address("10.0.0.2", &["6.6.6.6, 198.51.100.7"], &t).as_deref(),
            Some("198.51.100.7")
        );
    }

    #[test]
    fn a_proxy_that_names_nobody_leaves_the_client_unknown() {
        let t = ["10.0.0.0/8", "fd00::/8"];
        for xff in [
            &[][..],                                  // no header
            &["10.9.9.9, 10.1.1.1"][..],              // only proxies
            &["198.51.100.7, unknown, 10.1.1.1"][..], // garbage where a client must be read
            &["unknown"][..],
        ] {
            // Allow-lists: unknown, so a restricted key is refused.
            assert_eq!(address("10.0.0.2", xff, &t), None, "{xff:?}");
            // Sign-in limits: the proxy itself, one shared count.
            assert_eq!(resolve("10.0.0.2", xff, &t), "10.0.0.2", "{xff:?}");
        }
    }

    #[test]
    fn buckets() {
        assert_eq!(ClientIp("192.0.2.1".parse().unwrap()).bucket(), "192.0.2.1");
        assert_eq!(
            ClientIp("2001:db8:1:2:3:4:5:6".parse().unwrap()).bucket(),
            "2001:db8:1:2::/64"
        );
    }
}
