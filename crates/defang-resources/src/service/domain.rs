//! Service domains and endpoints, as Defang BYOC names them:
//!
//! - an ingress port is public at `<service>--<port>.<project>.<username>.<suffix>` (the suffix
//!   is `defang.app` unless configured);
//! - a host port is private at `<service>.<project>.internal:<port>`.
//!
//! The service's `domain` is the one of its first ingress port.

use super::inputs::{PortMode, ResolvedService};
use crate::names::MAX_LABEL_LEN;
use pulumi_plugin::CheckFailure;
use std::fmt;

pub use crate::config::DEFAULT_DOMAIN_SUFFIX;

/// The longest domain name (RFC 1035 §2.3.4, without the trailing dot).
pub const MAX_DOMAIN_LEN: usize = 253;

/// The private DNS zone suffix of a project's services.
const PRIVATE_ZONE: &str = "internal";

/// The names a project's domains are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone<'a> {
    pub project: &'a str,
    pub username: &'a str,
    /// `defang.app` unless configured.
    pub suffix: &'a str,
    /// The project's own zone when it adopted one (`domain` on the Project): ingress domains
    /// are then `<service>--<port>.<zone>`.
    pub adopted: Option<&'a str>,
}

impl<'a> Zone<'a> {
    pub fn new(project: &'a str, username: &'a str) -> Self {
        Zone {
            project,
            username,
            suffix: DEFAULT_DOMAIN_SUFFIX,
            adopted: None,
        }
    }

    pub fn with_adopted(self, adopted: Option<&'a str>) -> Self {
        Zone { adopted, ..self }
    }

    pub fn with_suffix(self, suffix: &'a str) -> Self {
        Zone { suffix, ..self }
    }

    /// `<service>--<port>.<project>.<username>.<suffix>`.
    pub fn ingress_domain(&self, service: &str, port: u16) -> Result<String, DomainError> {
        check_ingress_label(service, port)?;
        let domain = match self.adopted {
            Some(zone) => format!("{}.{zone}", ingress_label(service, port)),
            None => format!(
                "{}.{}.{}.{}",
                ingress_label(service, port),
                self.project,
                self.username,
                self.suffix
            ),
        };
        let len = domain.len();
        if len > MAX_DOMAIN_LEN {
            return Err(DomainError {
                reason: format!(
                    "makes the domain {domain:?} {len} characters long, and a domain name holds at \
                     most {MAX_DOMAIN_LEN}: shorten `name` (or the project name) by {} {}",
                    len - MAX_DOMAIN_LEN,
                    if len - MAX_DOMAIN_LEN == 1 {
                        "character"
                    } else {
                        "characters"
                    }
                ),
            });
        }
        Ok(domain)
    }

    /// `<service>.<project>.internal:<port>`.
    pub fn private_endpoint(&self, service: &str, port: u16) -> String {
        format!("{service}.{}.{PRIVATE_ZONE}:{port}", self.project)
    }
}

/// A service name that makes an invalid domain. It is always about the `name` input: the
/// project and username are labels of their own and are checked where they are set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainError {
    /// What is wrong, and how to fix it.
    pub reason: String,
}

impl DomainError {
    /// The input property to blame.
    pub const PROPERTY: &'static str = "name";
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", Self::PROPERTY, self.reason)
    }
}

impl std::error::Error for DomainError {}

impl From<DomainError> for CheckFailure {
    fn from(e: DomainError) -> Self {
        CheckFailure::new(DomainError::PROPERTY, e.reason)
    }
}

/// The first label of an ingress domain: `<service>--<port>`.
pub fn ingress_label(service: &str, port: u16) -> String {
    format!("{service}--{port}")
}

/// Checks that `<service>--<port>` fits in one DNS label; this needs no configuration, so
/// `check` can run it.
pub fn check_ingress_label(service: &str, port: u16) -> Result<(), DomainError> {
    let label = ingress_label(service, port);
    if label.len() <= MAX_LABEL_LEN {
        return Ok(());
    }
    let room = MAX_LABEL_LEN.saturating_sub(label.len() - service.len());
    Err(DomainError {
        reason: format!(
            "is too long for the domain of port {port}: its first label {label:?} has {} \
             characters, and a DNS label holds at most {MAX_LABEL_LEN}: use a name of at most \
             {room} characters",
            label.len()
        ),
    })
}

/// The service's public domain: the one of its first ingress port; `None` without one.
pub fn service_domain(
    service: &ResolvedService,
    username: &str,
    suffix: &str,
    adopted: Option<&str>,
) -> Result<Option<String>, DomainError> {
    let zone = Zone::new(&service.project, username)
        .with_suffix(suffix)
        .with_adopted(adopted);
    service
        .first_ingress_port()
        .map(|port| zone.ingress_domain(&service.name, port.target))
        .transpose()
}

/// One endpoint per port, in declared order: the public domain of an ingress port, the private
/// `host:port` of a host port.
pub fn service_endpoints(
    service: &ResolvedService,
    username: &str,
    suffix: &str,
    adopted: Option<&str>,
) -> Result<Vec<String>, DomainError> {
    let zone = Zone::new(&service.project, username)
        .with_suffix(suffix)
        .with_adopted(adopted);
    service
        .ports
        .iter()
        .map(|port| match port.mode {
            // Ingress ports are served over HTTPS by the project's load balancer.
            PortMode::Ingress => zone
                .ingress_domain(&service.name, port.target)
                .map(|domain| format!("https://{domain}")),
            PortMode::Host => Ok(zone.private_endpoint(&service.name, port.target)),
        })
        .collect()
}

/// Checks every domain of the service against DNS limits, for Check once the username is known
/// (configuration); the failure names `name`.
pub fn check_domain_length(
    service: &ResolvedService,
    username: &str,
    suffix: &str,
    adopted: Option<&str>,
) -> Result<(), CheckFailure> {
    service_endpoints(service, username, suffix, adopted)
        .map(|_| ())
        .map_err(CheckFailure::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::inputs::ServiceInputs;
    use serde_json::json;

    fn service(name: &str, ports: serde_json::Value) -> ResolvedService {
        let inputs: ServiceInputs = serde_json::from_value(json!({
            "project": "shop", "name": name, "image": "nginx", "ports": ports
        }))
        .unwrap();
        inputs.resolved("ignored").unwrap()
    }

    #[test]
    fn a_project_with_its_own_domain_puts_ingress_domains_in_it() {
        let s = service(
            "web",
            json!([{"target": 80}, {"target": 9000, "mode": "host"}]),
        );
        assert_eq!(
            service_endpoints(&s, "alice", DEFAULT_DOMAIN_SUFFIX, Some("apps.example.com"))
                .unwrap(),
            vec!["https://web--80.apps.example.com", "web.shop.internal:9000"]
        );
    }

    #[test]
    fn byoc_domain_of_the_first_ingress_port() {
        let s = service(
            "web",
            json!([{"target": 9000, "mode": "host"}, {"target": 80}, {"target": 443}]),
        );
        assert_eq!(
            service_domain(&s, "alice", DEFAULT_DOMAIN_SUFFIX, None)
                .unwrap()
                .as_deref(),
            Some("web--80.shop.alice.defang.app")
        );
        assert_eq!(
            service_endpoints(&s, "alice", DEFAULT_DOMAIN_SUFFIX, None).unwrap(),
            vec![
                "web.shop.internal:9000",
                "https://web--80.shop.alice.defang.app",
                "https://web--443.shop.alice.defang.app",
            ]
        );
    }

    #[test]
    fn no_ingress_port_no_domain() {
        let s = service("db", json!([{"target": 5432, "mode": "host"}]));
        assert_eq!(
            service_domain(&s, "alice", "defang.app", None).unwrap(),
            None
        );
        assert_eq!(
            service_endpoints(&s, "alice", "defang.app", None).unwrap(),
            vec!["db.shop.internal:5432"]
        );
        let s = service("worker", json!([]));
        assert_eq!(
            service_domain(&s, "alice", "defang.app", None).unwrap(),
            None
        );
        assert!(
            service_endpoints(&s, "alice", "defang.app", None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn suffix_is_configurable() {
        let zone = Zone::new("shop", "alice").with_suffix("example.com");
        assert_eq!(
            zone.ingress_domain("web", 8080).unwrap(),
            "web--8080.shop.alice.example.com"
        );
    }

    #[test]
    fn label_too_long_names_the_fix() {
        let name = "a".repeat(60);
        assert!(check_ingress_label(&name[..58], 80).is_ok());
        let err = check_ingress_label(&name, 80).unwrap_err();
        assert!(err.reason.contains("at most 59 characters"), "{err}");
        assert!(err.to_string().starts_with("name: "), "{err}");
        let err = check_ingress_label(&name, 65535).unwrap_err();
        assert!(err.reason.contains("at most 56 characters"), "{err}");
        let failure: CheckFailure = err.into();
        assert_eq!(failure.property, "name");
    }

    #[test]
    fn check_domain_length_covers_every_ingress_port() {
        let long = "a".repeat(58);
        let s = service(
            &long,
            json!([{"target": 80}, {"target": 8080, "mode": "host"}]),
        );
        assert_eq!(check_domain_length(&s, "alice", "defang.app", None), Ok(()));
        let s = service(&long, json!([{"target": 80}, {"target": 8080}]));
        let failure = check_domain_length(&s, "alice", "defang.app", None).unwrap_err();
        assert_eq!(failure.property, "name");
        assert!(failure.reason.contains("port 8080"), "{}", failure.reason);
        let user = "u".repeat(63);
        let suffix = format!("{}.{}.{}", "s".repeat(63), "s".repeat(63), "s".repeat(60));
        let s = service("web", json!([{"target": 80}]));
        let failure = check_domain_length(&s, &user, &suffix, None).unwrap_err();
        assert!(
            failure.reason.contains("shorten `name`"),
            "{}",
            failure.reason
        );
    }

    #[test]
    fn domain_too_long_names_the_fix() {
        let project = "p".repeat(63);
        let username = "u".repeat(63);
        let suffix = format!("{}.com", "s".repeat(63));
        let zone = Zone::new(&project, &username).with_suffix(&suffix);
        let fits = "w".repeat(253 - (63 + 63 + 67 + 3) - 4);
        assert_eq!(zone.ingress_domain(&fits, 80).unwrap().len(), 253);
        let err = zone.ingress_domain(&format!("{fits}w"), 80).unwrap_err();
        assert!(err.reason.contains("254 characters"), "{err}");
        assert!(err.reason.contains("by 1 character"), "{err}");
    }
}
