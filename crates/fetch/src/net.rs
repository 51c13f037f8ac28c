//! Which network addresses a server-side fetch may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `addr` is a global unicast address: not loopback, private, link-local,
/// unique-local, unspecified, broadcast, multicast, documentation, shared (CGNAT) or
/// otherwise reserved, in IPv4, IPv6, or IPv4 mapped into IPv6. Fetching a user's URL
/// reaches only such addresses unless the operator allows private networks: otherwise
/// a URL could read the cloud metadata service (169.254.169.254) or internal services.
#[must_use]
pub(crate) fn is_global(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_global_v4(v4),
            None => is_global_v6(v6),
        },
    }
}

fn is_global_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_broadcast()
        || a.is_documentation()
        || a.is_multicast()
        || o0 == 0                                   // "this network"
        || (o0 == 100 && (64..128).contains(&o1))   // shared address space (CGNAT)
        || (o0 == 192 && o1 == 0 && o2 == 0)        // IETF protocol assignments
        || (o0 == 198 && (o1 == 18 || o1 == 19))    // benchmarking
        || o0 >= 240) // reserved
}

fn is_global_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00                // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80                // link local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0                // site local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8)       // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b)       // NAT64, may reach IPv4 private space
        || (s[0] == 0x2002)                         // 6to4, embeds an IPv4 address
        || a.to_ipv4().is_some()) // IPv4-compatible ::a.b.c.d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_global() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "::127.0.0.1",
        ] {
            assert!(!is_global(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn public_addresses_are_global() {
        for a in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"] {
            assert!(is_global(a.parse().unwrap()), "{a}");
        }
    }
}
