//! The client address that per-client limits count against.
//!
//! It is the socket peer, unless the peer is a trusted proxy. Then it is the
//! rightmost address in the forwarding header that is not a trusted proxy
//! itself: every proxy appends the address it received the request from,
//! so that hop is the last one a trusted proxy vouches for. Everything left
//! of it was written by the client and may be forged.

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use actix_web::{web, FromRequest, HttpRequest};
use ipnet::{IpNet, Ipv6Net};

use crate::error::ApiError;

/// The header that trusted proxies append the client address to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl ForwardedHeader {
    /// Parses a setting value: `x-forwarded-for` or `forwarded`, in any case.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Some(Self::XForwardedFor),
            "forwarded" => Some(Self::Forwarded),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

/// The trusted proxies and the header they name the client in. Only one
/// header is read, because a proxy that sets one passes the other through
/// as the client sent it, so reading both would let a client forge its
/// address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    pub trusted: Vec<IpNet>,
    pub header: ForwardedHeader,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            trusted: Vec::new(),
            header: ForwardedHeader::XForwardedFor,
        }
    }
}

impl ProxySettings {
    /// Parses a comma-separated list of CIDR ranges or single addresses. On
    /// failure, returns the first entry that is neither a range nor an
    /// address.
    pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map(|network| network.trunc())
                    .map_err(|_| entry.to_string())
            })
            .collect()
    }

    fn is_trusted(&self, address: IpAddr) -> bool {
        self.trusted
            .iter()
            .any(|network| network.contains(&address))
    }

    /// Returns the client address of a request from `peer` with `headers`.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            return peer;
        }

        let hops = forwarded_hops(self.header, headers);
        let mut nearest_trusted = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(address) if self.is_trusted(*address) => nearest_trusted = *address,
                Some(address) => return *address,
                // A trusted proxy did not know the address before it, so the
                // client is only known as far as that proxy.
                None => return nearest_trusted,
            }
        }
        nearest_trusted
    }
}

/// Reads the hops of the forwarding header, oldest first, across all its
/// header lines. An entry that is not an IP address, for example
/// `unknown` or an obfuscated RFC 7239 identifier, is `None`.
fn forwarded_hops(header: ForwardedHeader, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all(header.name()) {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in value.split(',') {
            let node = match header {
                ForwardedHeader::XForwardedFor => Some(element),
                ForwardedHeader::Forwarded => forwarded_for(element),
            };
            hops.push(node.and_then(parse_node));
        }
    }
    hops
}

/// Returns the `for` parameter of one RFC 7239 element, such as
/// `for=192.0.2.60;proto=http;by=203.0.113.43`.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("for").then_some(value)
    })
}

/// Parses one hop: an IPv4 or IPv6 address, optionally quoted, with an
/// optional port (`192.0.2.1:8080`, `"[2001:db8::1]:8080"`).
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    let address = IpAddr::from_str(node)
        .ok()
        .or_else(|| SocketAddr::from_str(node).ok().map(|socket| socket.ip()))
        .or_else(|| {
            let inside = node.strip_prefix('[')?.split(']').next()?;
            Ipv6Addr::from_str(inside).ok().map(IpAddr::V6)
        })?;
    Some(address.to_canonical())
}

/// The client address of a request, found through the [`ProxySettings`] in
/// the application data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// Finds the client address of `request`: the socket peer, or the
    /// forwarded address when the peer is a trusted proxy.
    pub fn of(request: &HttpRequest) -> Self {
        // Without a socket peer, as in some in-process tests, every request
        // shares one unspecified address.
        let peer = request
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| peer.ip());
        let address = match request.app_data::<web::Data<ProxySettings>>() {
            Some(proxies) => proxies.client_address(peer, request.headers()),
            None => peer.to_canonical(),
        };
        Self(address)
    }

    /// Returns the key that per-client limits count against. An IPv6 client
    /// is counted by its /64 network, since one host usually has a whole
    /// /64 of addresses to rotate through.
    pub fn limit_key(&self) -> String {
        match self.0 {
            IpAddr::V4(address) => address.to_string(),
            IpAddr::V6(address) => Ipv6Net::new(address, 64)
                .map(|network| network.trunc().to_string())
                .unwrap_or_else(|_| address.to_string()),
        }
    }
}

impl FromRequest for ClientAddress {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(request)))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn proxies(trusted: &str, header: ForwardedHeader) -> ProxySettings {
        ProxySettings {
            trusted: ProxySettings::parse_trusted(trusted).unwrap(),
            header,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    const PROXY: &str = "10.0.0.5";

    #[test]
    fn untrusted_peer_ignores_headers() {
        let settings = proxies("", ForwardedHeader::XForwardedFor);
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);

        assert_eq!(
            settings.client_address(ip("198.51.100.7"), &forged),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn trusted_peer_yields_rightmost_untrusted_hop() {
        let settings = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.0.0.3")]);

        assert_eq!(
            settings.client_address(ip(PROXY), &forwarded),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn header_lines_are_read_in_order() {
        let settings = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let forwarded = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);

        assert_eq!(
            settings.client_address(ip(PROXY), &forwarded),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn missing_header_yields_peer() {
        let settings = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);

        assert_eq!(
            settings.client_address(ip(PROXY), &HeaderMap::new()),
            ip(PROXY)
        );
    }

    #[test]
    fn all_trusted_hops_yield_leftmost() {
        let settings = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let forwarded = headers(&[("x-forwarded-for", "10.1.1.1, 10.2.2.2")]);

        assert_eq!(
            settings.client_address(ip(PROXY), &forwarded),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn unknown_hop_stops_at_nearest_proxy() {
        let settings = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9, garbage, 10.0.0.3")]);

        assert_eq!(
            settings.client_address(ip(PROXY), &forwarded),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_parse() {
        let settings = proxies("127.0.0.1", ForwardedHeader::XForwardedFor);
        let cases = [
            ("198.51.100.7:4711", "198.51.100.7"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
        ];
        for (hop, expected) in cases {
            let mut map = HeaderMap::new();
            map.insert(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(hop).unwrap(),
            );
            assert_eq!(
                settings.client_address(ip("::ffff:127.0.0.1"), &map),
                ip(expected),
                "{hop}"
            );
        }
    }

    #[test]
    fn forwarded_header_reads_for_parameter() {
        let settings = proxies("10.0.0.0/8", ForwardedHeader::Forwarded);
        let forwarded = headers(&[(
            "forwarded",
            "for=203.0.113.9, for=\"[2001:db8::7]:4711\";proto=https;by=10.0.0.5",
        )]);

        assert_eq!(
            settings.client_address(ip(PROXY), &forwarded),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn only_configured_header_is_read() {
        let settings = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let forwarded = headers(&[("forwarded", "for=203.0.113.9")]);

        assert_eq!(settings.client_address(ip(PROXY), &forwarded), ip(PROXY));
    }

    #[test]
    fn trusted_list_parses_ranges_and_addresses() {
        let parsed = ProxySettings::parse_trusted(" 10.0.0.0/8, 192.168.1.1 ,,::1").unwrap();

        assert_eq!(parsed.len(), 3);
        assert!(parsed[1].contains(&ip("192.168.1.1")));
        assert!(!parsed[1].contains(&ip("192.168.1.2")));
        assert_eq!(
            ProxySettings::parse_trusted("10.0.0.0/8,proxy.internal"),
            Err("proxy.internal".to_string())
        );
        assert_eq!(ProxySettings::parse_trusted(""), Ok(Vec::new()));
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let first = ClientAddress(ip("2001:db8:1:2:aaaa::1"));
        let second = ClientAddress(ip("2001:db8:1:2:bbbb::2"));

        assert_eq!(first.limit_key(), "2001:db8:1:2::/64");
        assert_eq!(first.limit_key(), second.limit_key());
        assert_eq!(ClientAddress(ip("192.0.2.1")).limit_key(), "192.0.2.1");
    }
}
