//! Which Pulumi resource owns a cloud object, recorded as a tag, so that a Create retried after
//! a crash adopts what it made, and never what someone else made.

use sha2::{Digest, Sha256};

pub const OWNER_TAG: &str = "defang:owner";
/// The project a cloud object belongs to.
pub const PROJECT_TAG: &str = "defang:project";
/// The service a cloud object belongs to.
pub const SERVICE_TAG: &str = "defang:service";

/// The tags an existing object must carry to be taken as a resource's own: a Create may only
/// resume what the same resource (URN) made; an Update or Delete may touch what belongs to the
/// same project and service (an imported service carries another owner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// `(tag, value)` pairs that must all be present.
    pub tags: Vec<(String, String)>,
    /// What the object would be, for messages: `service "web" of project "shop"`.
    pub what: String,
    /// How to go on when the object is someone else's: a sentence.
    pub fix: String,
}

impl Claim {
    /// The service `service` of `project`; with `urn`, also made by that resource.
    pub fn service(project: &str, service: &str, urn: Option<&str>) -> Claim {
        let mut tags = vec![
            (PROJECT_TAG.to_string(), project.to_string()),
            (SERVICE_TAG.to_string(), service.to_string()),
        ];
        if let Some(urn) = urn {
            tags.push((OWNER_TAG.to_string(), owner_id(urn)));
        }
        Claim {
            tags,
            what: format!("service \"{service}\" of project \"{project}\""),
            fix: format!(
                "Set `name` to another service name, or adopt the service with \
                 `pulumi import defang:index:Service <resource name> {project}/{service}`"
            ),
        }
    }

    /// The project `project`'s stack; with `urn`, also made by that resource.
    pub fn project(project: &str, urn: Option<&str>) -> Claim {
        let mut tags = vec![(PROJECT_TAG.to_string(), project.to_string())];
        if let Some(urn) = urn {
            tags.push((OWNER_TAG.to_string(), owner_id(urn)));
        }
        Claim {
            tags,
            what: format!("stack of project \"{project}\""),
            fix: format!(
                "Set `name` to another project name, or adopt the project with \
                 `pulumi import defang:index:Project <resource name> {}`",
                crate::aws_names::project_stack(project)
            ),
        }
    }

    /// Whether an object with `tags` satisfies the claim.
    pub fn holds<'a>(&self, tags: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.tags.iter().all(|(k, v)| tags(k) == Some(v.as_str()))
    }
}

/// A short, stable fingerprint of a URN (URNs can exceed AWS's 256-character tag values).
pub fn owner_id(urn: &str) -> String {
    let digest = Sha256::digest(urn.as_bytes());
    hex::encode(&digest[..16])
}

/// An idempotency token (32 hex characters) for one attempt of `operation`: the SDK's own
/// retries of that call reuse it, a later attempt (a retried delete, an A -> B -> A update)
/// gets another, as CloudFormation requires.
pub fn attempt_token(operation: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let digest =
        Sha256::digest(format!("{operation}\n{now}\n{count}\n{}", std::process::id()).as_bytes());
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
    fn claims_need_every_tag() {
        let claim = Claim::service("shop", "web", Some("urn:a"));
        let ours = std::collections::BTreeMap::from([
            (PROJECT_TAG.to_string(), "shop".to_string()),
            (SERVICE_TAG.to_string(), "web".to_string()),
            (OWNER_TAG.to_string(), owner_id("urn:a")),
        ]);
        let get = |m: &std::collections::BTreeMap<String, String>, k: &str| m.get(k).cloned();
        assert!(claim.holds(|k| ours.get(k).map(String::as_str)));
        let mut other = ours.clone();
        other.insert(OWNER_TAG.into(), owner_id("urn:b"));
        assert!(!claim.holds(|k| other.get(k).map(String::as_str)));
        assert!(Claim::service("shop", "web", None).holds(|k| other.get(k).map(String::as_str)));
        // Another project's stack of the same (old) name: a project tag, no service tag.
        let project =
            std::collections::BTreeMap::from([(PROJECT_TAG.to_string(), "shop-web".to_string())]);
        assert!(!Claim::service("shop", "web", None).holds(|k| project.get(k).map(String::as_str)));
        assert_eq!(get(&ours, PROJECT_TAG).as_deref(), Some("shop"));
    }

    #[test]
    fn stable_and_short() {
        assert_eq!(owner_id("urn:a"), owner_id("urn:a"));
        assert_ne!(owner_id("urn:a"), owner_id("urn:b"));
        assert_eq!(owner_id("urn:a").len(), 32);
        assert!(client_token("u", "create", "x").len() <= 36);
        // Attempts never share a token, and CloudFormation's limit (128) is kept.
        assert_ne!(attempt_token("update"), attempt_token("update"));
        assert_eq!(attempt_token("update").len(), 32);
    }
}
