//! [`ClientIp`]: the address a request came from, as the sign-in limits (and restricted keys'
//! allow-lists) see it.
//!
//! - The TCP peer, unless the peer is in `trusted_proxies` (CIDRs, empty by default).
//! - Behind a trusted proxy: the right-most `X-Forwarded-For` entry that is not itself a trusted
//!   proxy (every header line counts, in order; entries may carry a port, `1.2.3.4:5678` or
//!   `[2001:db8::1]:443`). Entries left of it were written by the client and are never believed.
//! - Every entry trusted: the left-most one. An entry that is not an address (`unknown`, garbage)
//!   stops the walk: the hop to its right, which is trusted, is taken as the client, so a broken
//!   proxy chain narrows to one shared bucket instead of letting the client pick its address.
//! - IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are read as IPv4.
//! - In-process requests without a peer (Rocket's local client) read as `0.0.0.0`.
//!
//! [`ClientIp::bucket`] is what limits count per client: the IPv4 address, or the IPv6 `/64`
//! network (one subscriber's allocation, so a client cannot step around a per-address limit by
//! changing the low bits of its address).
//!
//! ```
//! use std::net::IpAddr;
//! use reference_server::guards::ClientIp;
//!
//! let proxies = ["10.0.0.0/8".parse().unwrap()];
//! let peer: IpAddr = "10.0.0.2".parse().unwrap();
//! let ip = ClientIp::resolve(Some(peer), ["203.0.113.9, 198.51.100.7, 10.0.0.1"], &proxies);
//! assert_eq!(ip.0.to_string(), "198.51.100.7");
//! // Not behind a trusted proxy: the header is ignored.
//! let direct = ClientIp::resolve(Some("192.0.2.4".parse().unwrap()), ["203.0.113.9"], &proxies);
//! assert_eq!(direct.0.to_string(), "192.0.2.4");
//! assert_eq!(
//!     ClientIp("2001:db8:1:2:aaaa::1".parse().unwrap()).bucket(),
//!     "2001:db8:1:2::/64"
//! );
//! ```

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipnet::{IpNet, Ipv6Net};
use rocket::request::{FromRequest, Outcome, Request};

/// The client's address; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// Resolve the client from the TCP `peer`, the `X-Forwarded-For` header values in order, and
    /// the trusted proxies.
    pub fn resolve<'a>(
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a str>,
        trusted: &[IpNet],
    ) -> Self {
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        let mut client = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.to_canonical());
        if !is_trusted(&client) {
            return Self(client);
        }
        let entries: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else { break };
            client = ip;
            if !is_trusted(&ip) {
                break;
            }
        }
        Self(client)
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

/// One `X-Forwarded-For` entry: an address, with or without a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientIp {
    type Error = Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Infallible> {
        let trusted = req
            .rocket()
            .state::<crate::state::App>()
            .map_or(&[][..], |app| &app.config.trusted_proxies[..]);
        let peer = req.remote().map(|r| r.ip());
        Outcome::Success(Self::resolve(
            peer,
            req.headers().get("X-Forwarded-For"),
            trusted,
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

    #[test]
    fn the_peer_counts_unless_it_is_a_trusted_proxy() {
        assert_eq!(resolve("192.0.2.1", &["198.51.100.1"], &[]), "192.0.2.1");
        assert_eq!(
            resolve("192.0.2.1", &["198.51.100.1"], &["10.0.0.0/8"]),
            "192.0.2.1"
        );
        assert_eq!(resolve("::ffff:192.0.2.1", &[], &[]), "192.0.2.1");
        assert_eq!(
            ClientIp::resolve(None, [], &[]).0,
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
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
        // Every hop trusted: the left-most one.
        assert_eq!(resolve("10.0.0.2", &["10.9.9.9, 10.1.1.1"], &t), "10.9.9.9");
        // No header behind a trusted proxy: the proxy itself.
        assert_eq!(resolve("10.0.0.2", &[], &t), "10.0.0.2");
        // Garbage stops the walk at the trusted hop to its right.
        assert_eq!(
            resolve("10.0.0.2", &["198.51.100.7, unknown, 10.1.1.1"], &t),
            "10.1.1.1"
        );
        assert_eq!(resolve("10.0.0.2", &["unknown"], &t), "10.0.0.2");
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
