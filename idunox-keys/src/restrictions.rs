//! Restricted keys: scopes and IP allow-lists (`docs/lifecycle.md`, `docs/verification.md`).
//!
//! A key is unrestricted (`None`) or carries a non-empty subset of the server's scope
//! catalogue, and may carry an allow-list of 1 to [`MAX_ALLOWED_IPS`] IPv4/IPv6 networks. Both
//! are checked only after the secret matched and the status allows the key: an unknown or wrong
//! key still reads `invalid_api_key`, a revoked one `api_key_revoked`, from anywhere.
//!
//! Addresses are compared in canonical form: an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`,
//! what a dual-stack socket reports for an IPv4 client) is the IPv4 address, on both sides.
//! Scope names match exactly (no prefixes, no wildcards).
//!
//! ```
//! use idunox_keys::restrictions::{allows, parse_allow_list};
//! let list = parse_allow_list(["10.0.0.0/8", "2001:db8::/32", "203.0.113.7"])?;
//! assert!(allows(&list, "10.1.2.3".parse().unwrap()));
//! assert!(allows(&list, "::ffff:10.1.2.3".parse().unwrap())); // IPv4-mapped
//! assert!(allows(&list, "203.0.113.7".parse().unwrap()));     // a bare address is one host
//! assert!(!allows(&list, "203.0.113.8".parse().unwrap()));
//! assert_eq!(list[2].to_string(), "203.0.113.7/32");
//! assert!(parse_allow_list(["10.0.0.1/8"]).is_err()); // host bits set
//! # Ok::<(), idunox_keys::ManageError>(())
//! ```

use std::net::IpAddr;

pub use ipnet::IpNet;
use ipnet::Ipv4Net;

use crate::error::ManageError;

/// The most networks one key's allow-list may hold.
pub const MAX_ALLOWED_IPS: usize = 50;
/// The longest scope name, in bytes.
pub const MAX_SCOPE_LEN: usize = 64;

/// Whether `addr` is inside one of `list`'s networks (IPv4-mapped IPv6 addresses count as
/// IPv4). Linear in the list's length: at most [`MAX_ALLOWED_IPS`] comparisons.
pub fn allows(list: &[IpNet], addr: IpAddr) -> bool {
    // One xor, one mask, one comparison per network: this runs on every request of a key with
    // an allow-list.
    match addr.to_canonical() {
        IpAddr::V4(a) => {
            let a = u32::from(a);
            list.iter().any(|net| match net {
                IpNet::V4(n) => {
                    let mask = u32::MAX
                        .checked_shl(32 - u32::from(n.prefix_len()))
                        .unwrap_or(0);
                    (a ^ u32::from(n.addr())) & mask == 0
                }
                IpNet::V6(_) => false,
            })
        }
        IpAddr::V6(a) => {
            let a = u128::from(a);
            list.iter().any(|net| match net {
                IpNet::V6(n) => {
                    let mask = u128::MAX
                        .checked_shl(128 - u32::from(n.prefix_len()))
                        .unwrap_or(0);
                    (a ^ u128::from(n.addr())) & mask == 0
                }
                IpNet::V4(_) => false,
            })
        }
    }
}

/// The most `X-Forwarded-For` entries [`client_address`] walks through before it gives up.
pub const MAX_FORWARDED_HOPS: usize = 32;

/// The client's address: the TCP `peer`, unless the peer is one of the `trusted` proxies; then
/// the right-most `X-Forwarded-For` entry that is not a trusted proxy (each of `forwarded_for`
/// is one header line's value, in order; entries are comma-separated, each an IP address,
/// optionally with a port).
///
/// `None` — the address is unknown, and a key with an allow-list is refused — when a trusted
/// proxy sent no entry that is not itself a trusted proxy (no header, or only proxies: a proxy
/// that does not say whom it forwards for must not make its own address the client's), when an
/// entry that has to be read is not an address, or after [`MAX_FORWARDED_HOPS`] entries. (A
/// caller that needs *some* address, e.g. to throttle, may fall back to the peer.)
///
/// ```
/// use idunox_keys::restrictions::{client_address, parse_allow_list};
/// let proxies = parse_allow_list(["10.0.0.0/8"])?;
/// let peer = "10.0.0.5".parse().unwrap();
/// let xff: [&[u8]; 1] = [b"198.51.100.7, 203.0.113.9, 10.0.0.4"];
/// // The right-most entry that is not a proxy: 203.0.113.9 (198.51.100.7 could be forged).
/// assert_eq!(client_address(peer, xff, &proxies), Some("203.0.113.9".parse().unwrap()));
/// // A peer that is not a trusted proxy is the client, whatever it claims.
/// let direct = "192.0.2.1".parse().unwrap();
/// assert_eq!(client_address(direct, xff, &proxies), Some(direct));
/// # Ok::<(), idunox_keys::ManageError>(())
/// ```
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer.to_canonical();
    if !allows(trusted, peer) {
        return Some(peer);
    }
    let lines: Vec<&[u8]> = forwarded_for.into_iter().collect();
    let mut hops = 0;
    for line in lines.iter().rev() {
        for entry in line.rsplit(|&b| b == b',') {
            hops += 1;
            if hops > MAX_FORWARDED_HOPS {
                return None;
            }
            let addr = parse_forwarded(entry)?;
            if !allows(trusted, addr) {
                return Some(addr);
            }
        }
    }
    None
}

/// One `X-Forwarded-For` entry: an address, optionally `[v6]:port` or `v4:port`.
fn parse_forwarded(entry: &[u8]) -> Option<IpAddr> {
    let text = core::str::from_utf8(entry).ok()?.trim();
    let addr = text
        .parse::<IpAddr>()
        .or_else(|_| text.parse::<std::net::SocketAddr>().map(|s| s.ip()))
        .ok()?;
    Some(addr.to_canonical())
}

/// Parse one allow-list entry: a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a bare address, which
/// means that one host (`/32` or `/128`). An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is
/// stored as the IPv4 network it maps.
///
/// # Errors
/// [`ManageError::InvalidCidr`] for anything else, and for a network with host bits set
/// (`10.0.0.1/8`: write `10.0.0.0/8`).
pub fn parse_cidr(entry: &str) -> Result<IpNet, ManageError> {
    let invalid = || ManageError::InvalidCidr {
        entry: shorten(entry),
    };
    let net = match entry.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => IpNet::from(entry.parse::<IpAddr>().map_err(|_| invalid())?),
    };
    if net.network() != net.addr() {
        return Err(invalid());
    }
    Ok(canonical(net))
}

/// Parse a whole allow-list: 1 to [`MAX_ALLOWED_IPS`] entries, each as [`parse_cidr`]; a
/// repeated network is kept once.
///
/// # Errors
/// [`ManageError::InvalidCidr`]: an empty list, too many entries, or a malformed entry.
pub fn parse_allow_list<'a>(
    entries: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<IpNet>, ManageError> {
    let mut out: Vec<IpNet> = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        if i >= MAX_ALLOWED_IPS {
            return Err(ManageError::InvalidCidr {
                entry: format!("more than {MAX_ALLOWED_IPS} entries"),
            });
        }
        let net = parse_cidr(entry)?;
        if !out.contains(&net) {
            out.push(net);
        }
    }
    if out.is_empty() {
        return Err(ManageError::InvalidCidr {
            entry: "an empty list (use null for any address)".into(),
        });
    }
    Ok(out)
}

/// Check a key's scopes against the catalogue: non-empty, each name in `catalogue` (exact
/// match). Returns them without repeats, in the order given.
///
/// # Errors
/// [`ManageError::InvalidScope`] naming the first unknown scope, or for an empty list.
pub fn check_scopes(scopes: &[String], catalogue: &[String]) -> Result<Vec<String>, ManageError> {
    if scopes.is_empty() {
        return Err(ManageError::InvalidScope {
            scope: "an empty list (use null for an unrestricted key)".into(),
        });
    }
    let mut out: Vec<String> = Vec::with_capacity(scopes.len());
    for s in scopes {
        if !catalogue.iter().any(|c| c == s) {
            return Err(ManageError::InvalidScope { scope: shorten(s) });
        }
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    Ok(out)
}

/// Whether `name` is a well-formed scope name for a catalogue: 1 to [`MAX_SCOPE_LEN`] bytes of
/// ASCII letters, digits and `: . _ -` (for example `orders:read`).
pub fn is_scope_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SCOPE_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-'))
}

/// An IPv4-mapped IPv6 network (`::ffff:0:0/96` and narrower) as the IPv4 network it maps.
fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        _ => net,
    }
}

/// At most 64 characters of outside input, for an error message.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(64).filter(|c| !c.is_control()).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_networks_and_host_bits() {
        assert_eq!(
            parse_cidr("::ffff:10.0.0.0/104").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(parse_cidr("::1").unwrap().to_string(), "::1/128");
        assert!(parse_cidr("10.0.0.1/8").is_err());
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("").is_err());
        assert!(parse_cidr("example.com").is_err());
        let list = parse_allow_list(["::ffff:192.0.2.0/120"]).unwrap();
        assert!(allows(&list, "192.0.2.9".parse().unwrap()));
        assert!(allows(&list, "::ffff:192.0.2.9".parse().unwrap()));
        assert!(!allows(&list, "192.0.3.9".parse().unwrap()));
    }

    #[test]
    fn client_address_follows_only_trusted_proxies() {
        let proxies = parse_allow_list(["10.0.0.0/8", "::1"]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.1.1.1");
        let ca = |xff: &[&[u8]]| client_address(proxy, xff.iter().copied(), &proxies);
        assert_eq!(
            ca(&[]),
            None,
            "a proxy that says nothing vouches for nobody"
        );
        assert_eq!(ca(&[b"203.0.113.9"]), Some(ip("203.0.113.9")));
        // Several header lines read as one list, right to left; spaces and ports are fine.
        assert_eq!(
            ca(&[b"192.0.2.1, 203.0.113.9:4711", b" 10.2.2.2 , [::1]:80"]),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(ca(&[b"10.3.3.3, 10.2.2.2"]), None, "only proxies");
        assert_eq!(
            ca(&[b"::ffff:198.51.100.1"]),
            Some(ip("198.51.100.1")),
            "canonical"
        );
        assert_eq!(
            ca(&[b"203.0.113.9, garbage"]),
            None,
            "an unreadable entry to read"
        );
        assert_eq!(
            ca(&[b"garbage, 203.0.113.9"]),
            Some(ip("203.0.113.9")),
            "not read"
        );
        let long = vec!["10.0.0.1"; MAX_FORWARDED_HOPS + 1].join(",");
        assert_eq!(ca(&[long.as_bytes()]), None);
        // An IPv4-mapped peer is its IPv4 address, for the trust check too.
        assert_eq!(
            client_address(ip("::ffff:10.1.1.1"), [&b"203.0.113.9"[..]], &proxies),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(ip("::ffff:192.0.2.1"), [&b"203.0.113.9"[..]], &proxies),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn allows_agrees_with_ipnet_contains() {
        let nets = parse_allow_list([
            "0.0.0.0/0",
            "10.0.0.0/8",
            "192.0.2.128/25",
            "203.0.113.7",
            "::/0",
            "2001:db8::/32",
            "2001:db8:1::5",
            "fe80::/10",
        ])
        .unwrap();
        let addrs = [
            "10.1.2.3",
            "11.0.0.1",
            "192.0.2.127",
            "192.0.2.128",
            "192.0.2.255",
            "203.0.113.7",
            "203.0.113.8",
            "::1",
            "2001:db8::1",
            "2001:db9::1",
            "2001:db8:1::5",
            "2001:db8:1::6",
            "fe80::1",
            "fec0::1",
            "::ffff:10.9.9.9",
            "0.0.0.0",
            "255.255.255.255",
        ];
        for net in &nets {
            for a in addrs {
                let a: IpAddr = a.parse().unwrap();
                assert_eq!(
                    allows(std::slice::from_ref(net), a),
                    net.contains(&a.to_canonical()),
                    "{net} {a}"
                );
            }
        }
    }

    #[test]
    fn list_bounds() {
        assert!(parse_allow_list([]).is_err());
        let many: Vec<String> = (0..51).map(|i| format!("10.0.{i}.0/24")).collect();
        assert!(parse_allow_list(many.iter().map(String::as_str)).is_err());
        assert_eq!(
            parse_allow_list(many[..50].iter().map(String::as_str))
                .unwrap()
                .len(),
            50
        );
        assert_eq!(
            parse_allow_list(["10.0.0.0/8", "10.0.0.0/8"])
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn scopes_match_exactly() {
        let cat = vec!["orders:read".to_owned(), "orders:write".to_owned()];
        assert_eq!(
            check_scopes(&["orders:read".into(), "orders:read".into()], &cat).unwrap(),
            vec!["orders:read".to_owned()]
        );
        assert!(check_scopes(&["orders".into()], &cat).is_err());
        assert!(check_scopes(&["orders:read:x".into()], &cat).is_err());
        assert!(check_scopes(&[], &cat).is_err());
        assert!(is_scope_name("orders:read"));
        assert!(!is_scope_name("orders read"));
    }
}
