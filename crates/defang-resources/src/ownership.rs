//! Which Pulumi resource owns a cloud object, recorded as a tag, so that a Create retried after
//! a crash adopts what it made, and never what someone else made.

use sha2::{Digest, Sha256};

pub const OWNER_TAG: &str = "defang:owner";

/// A short, stable fingerprint of a URN (URNs can exceed AWS's 256-character tag values).
pub fn owner_id(urn: &str) -> String {
    let digest = Sha256::digest(urn.as_bytes());
    hex::encode(&digest[..16])
}

/// A client/idempotency token (≤ 36 characters, as ECS allows) for one operation of one resource.
pub fn client_token(urn: &str, operation: &str, content: &str) -> String {
    let digest = Sha256::digest(format!("{urn}\n{operation}\n{content}").as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_short() {
        assert_eq!(owner_id("urn:a"), owner_id("urn:a"));
        assert_ne!(owner_id("urn:a"), owner_id("urn:b"));
        assert_eq!(owner_id("urn:a").len(), 32);
        assert!(client_token("u", "create", "x").len() <= 36);
    }
}
