//! IPv4 CIDR parsing and the subnet split of a created VPC.

use std::net::Ipv4Addr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

/// Prefix lengths AWS accepts for a VPC.
pub const VPC_PREFIX_RANGE: std::ops::RangeInclusive<u8> = 16..=24;

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("\"{text}\" is not a CIDR block like 10.0.0.0/16"))?;
        let base: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("\"{addr}\" is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("\"{prefix}\" is not a prefix length (0-32)"))?;
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        if u32::from(base) & !mask != 0 {
            let network = Ipv4Addr::from(u32::from(base) & mask);
            return Err(format!("{text} has host bits set: use {network}/{prefix}"));
        }
        Ok(Cidr { base, prefix })
    }

    /// Two equal subnets at the start of the block, 4 bits longer (a /16 gives two /20s), so
    /// room is left for more subnets (private ones, for example) later.
    pub fn two_subnets(&self) -> [Cidr; 2] {
        let prefix = (self.prefix + 4).min(28);
        let size = 1u32 << (32 - prefix);
        let first = u32::from(self.base);
        [
            Cidr {
                base: Ipv4Addr::from(first),
                prefix,
            },
            Cidr {
                base: Ipv4Addr::from(first + size),
                prefix,
            },
        ]
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        let c = Cidr::parse("10.0.0.0/16").unwrap();
        let [a, b] = c.two_subnets();
        assert_eq!(a.to_string(), "10.0.0.0/20");
        assert_eq!(b.to_string(), "10.0.16.0/20");
        let [a, b] = Cidr::parse("192.168.4.0/24").unwrap().two_subnets();
        assert_eq!(a.to_string(), "192.168.4.0/28");
        assert_eq!(b.to_string(), "192.168.4.16/28");
    }

    #[test]
    fn rejects() {
        assert!(Cidr::parse("10.0.0.0").is_err());
        assert!(Cidr::parse("10.0.0.300/16").is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        let err = Cidr::parse("10.0.1.0/16").unwrap_err();
        assert!(err.contains("10.0.0.0/16"), "{err}");
    }
}
