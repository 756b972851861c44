//! The client address of a request, for the per-address log-in throttle: the TCP peer, or
//! — only when the peer is a trusted proxy (`http.trusted_proxies`) — the right-most
//! `X-Forwarded-For` entry that is not itself a trusted proxy.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// One `http.trusted_proxies` entry: an address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim();
        let (addr, prefix) = match entry.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (entry.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The parsed `http.trusted_proxies`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies {
    nets: Vec<Net>,
}

/// Checks `http.trusted_proxies`: every entry an IP address or CIDR block.
///
/// # Errors
/// A message naming the key and the bad entry.
pub fn validate_trusted_proxies(entries: &[String]) -> Result<(), String> {
    TrustedProxies::parse(entries).map(|_| ())
}

impl TrustedProxies {
    pub(crate) fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .filter(|e| !e.trim().is_empty())
            .map(|e| {
                Net::parse(e).ok_or_else(|| {
                    format!(
                        "http.trusted_proxies: {e:?} is not an IP address or CIDR block (e.g. 10.0.0.0/8)"
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|nets| Self { nets })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The client address of a request (`"unknown"` without a peer address).
    pub(crate) fn client(&self, parts: &Parts) -> String {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| canonical(addr.ip()));
        let Some(peer) = peer else {
            return "unknown".to_owned();
        };
        if !self.trusted(peer) {
            return peer.to_string();
        }
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            let Ok(ip) = entry.parse::<IpAddr>() else {
                // Garbage from the client side of the proxy: stop at the last good hop.
                break;
            };
            client = canonical(ip);
            if !self.trusted(client) {
                break;
            }
        }
        client.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(peer: Option<&str>, xff: Option<&str>) -> Parts {
        let mut builder = Request::builder().uri("/login");
        if let Some(xff) = xff {
            builder = builder.header("x-forwarded-for", xff);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts
                .extensions
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        parts
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()]).unwrap();
        assert_eq!(proxies.client(&parts(None, Some("1.2.3.4"))), "unknown");
        assert_eq!(
            proxies.client(&parts(Some("192.0.2.7:5000"), Some("1.2.3.4"))),
            "192.0.2.7"
        );
        assert_eq!(
            proxies.client(&parts(
                Some("10.1.2.3:5000"),
                Some("6.6.6.6, 1.2.3.4, 10.9.9.9")
            )),
            "1.2.3.4"
        );
        assert_eq!(
            proxies.client(&parts(Some("10.1.2.3:5000"), None)),
            "10.1.2.3"
        );
        assert_eq!(
            proxies.client(&parts(Some("[::1]:5000"), Some("1.2.3.4"))),
            "1.2.3.4"
        );
    }

    #[test]
    fn bad_entries_name_the_key() {
        let err = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(err.contains("http.trusted_proxies"), "{err}");
        assert!(validate_trusted_proxies(&["proxy.example".into()]).is_err());
        assert!(validate_trusted_proxies(&["127.0.0.1".into(), "fd00::/8".into()]).is_ok());
    }
}
