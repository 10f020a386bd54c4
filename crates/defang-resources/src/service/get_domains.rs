//! `defang:index:getDomains`: the domains a service's ports get, without deploying anything.
//!
//! Both of Defang's patterns are given. BYOC (what this provider deploys, into your own AWS
//! account): `<service>--<port>.<project>.<username>.<suffix>` for an ingress port, and
//! `<service>.<project>.internal:<port>` for a host port. Playground (Defang's hosted
//! environment, which this provider does not deploy to): `<username>-<service>--<port>.prod1a.defang.dev`
//! for an ingress port; there are no private names there.

use super::domain::Zone;
use super::inputs::{Port, PortMode};
use crate::names::{validate_project_name, validate_service_name};
use crate::runtime::Runtime;
use pulumi_plugin::value::{from_properties, to_properties};
use pulumi_plugin::{Error, Function, PropertyMap};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The function's token.
pub const TOKEN: &str = "defang:index:getDomains";

/// The Playground's domain suffix (Defang's hosted environment).
pub const PLAYGROUND_SUFFIX: &str = "prod1a.defang.dev";

/// The domains and endpoints a service's ports get, by Defang's rules, for the configured
/// username and domain suffix: the BYOC names this provider deploys (`domain`, `endpoints`,
/// `ingressDomains`), and the names the same service would have in Defang's hosted Playground
/// (`playgroundDomains`), which this provider does not deploy to. Nothing is created or read.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetDomainsArgs {
    /// The Defang project name.
    pub project: String,
    /// The service name.
    pub service: String,
    /// The service's ports, as on a `defang:index:Service`.
    #[serde(default)]
    pub ports: Vec<Port>,
}

/// The domains of a service's ports.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetDomainsResult {
    /// The public domain of the first ingress port, as the Service's `domain` output; absent
    /// without an ingress port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// One endpoint per port, in order, as the Service's `endpoints` output:
    /// `https://<domain>` for an ingress port, `<service>.<project>.internal:<port>` for a host
    /// port.
    pub endpoints: Vec<String>,
    /// The BYOC domain of every ingress port, in order.
    pub ingress_domains: Vec<String>,
    /// The Playground domain of every ingress port, in order:
    /// `<username>-<service>--<port>.prod1a.defang.dev`.
    pub playground_domains: Vec<String>,
}

/// The domains of `args` for `username` and `suffix`.
pub fn domains(
    args: &GetDomainsArgs,
    username: &str,
    suffix: &str,
) -> Result<GetDomainsResult, Error> {
    let invalid = |property: &str, reason: String| {
        Error::InvalidArgument(format!("{TOKEN}: `{property}`: {reason}"))
    };
    validate_project_name(&args.project).map_err(|r| invalid("project", r))?;
    validate_service_name(&args.service).map_err(|r| invalid("service", r))?;
    let zone = Zone::new(&args.project, username).with_suffix(suffix);
    let mut result = GetDomainsResult {
        domain: None,
        endpoints: Vec::new(),
        ingress_domains: Vec::new(),
        playground_domains: Vec::new(),
    };
    for (index, port) in args.ports.iter().enumerate() {
        match port.mode.unwrap_or_default() {
            PortMode::Ingress => {
                let domain = zone
                    .ingress_domain(&args.service, port.target)
                    .map_err(|e| invalid(&format!("ports[{index}]"), e.to_string()))?;
                result.endpoints.push(format!("https://{domain}"));
                result.domain.get_or_insert_with(|| domain.clone());
                result.ingress_domains.push(domain);
                result.playground_domains.push(format!(
                    "{username}-{}--{}.{PLAYGROUND_SUFFIX}",
                    args.service, port.target
                ));
            }
            PortMode::Host => result
                .endpoints
                .push(zone.private_endpoint(&args.service, port.target)),
        }
    }
    Ok(result)
}

pub struct GetDomains;

#[async_trait::async_trait]
impl Function<Runtime> for GetDomains {
    fn token(&self) -> &'static str {
        TOKEN
    }

    async fn invoke(
        &self,
        runtime: Option<&Runtime>,
        args: PropertyMap,
    ) -> Result<PropertyMap, Error> {
        let runtime = runtime.ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{TOKEN} needs the provider's configuration (`defang:username`); it was called \
                 before the provider was configured"
            ))
        })?;
        let args: GetDomainsArgs =
            from_properties(&args).map_err(|e| Error::InvalidArgument(format!("{TOKEN}: {e}")))?;
        let config = &runtime.config;
        let result = domains(&args, &config.username, &config.domain_suffix)?;
        Ok(to_properties(&result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(target: u16, mode: PortMode) -> Port {
        Port {
            target,
            mode: Some(mode),
            protocol: None,
            app_protocol: None,
        }
    }

    #[test]
    fn byoc_and_playground_names_of_each_port() {
        let args = GetDomainsArgs {
            project: "shop".into(),
            service: "web".into(),
            ports: vec![
                port(80, PortMode::Ingress),
                port(9000, PortMode::Host),
                port(8080, PortMode::Ingress),
            ],
        };
        let got = domains(&args, "alice", "defang.app").unwrap();
        assert_eq!(
            got,
            GetDomainsResult {
                domain: Some("web--80.shop.alice.defang.app".into()),
                endpoints: vec![
                    "https://web--80.shop.alice.defang.app".into(),
                    "web.shop.internal:9000".into(),
                    "https://web--8080.shop.alice.defang.app".into(),
                ],
                ingress_domains: vec![
                    "web--80.shop.alice.defang.app".into(),
                    "web--8080.shop.alice.defang.app".into(),
                ],
                playground_domains: vec![
                    "alice-web--80.prod1a.defang.dev".into(),
                    "alice-web--8080.prod1a.defang.dev".into(),
                ],
            }
        );
    }

    #[test]
    fn no_ingress_port_no_domain_and_the_suffix_is_configurable() {
        let args = GetDomainsArgs {
            project: "shop".into(),
            service: "api".into(),
            ports: vec![port(3000, PortMode::Host)],
        };
        let got = domains(&args, "alice", "example.dev").unwrap();
        assert_eq!(got.domain, None);
        assert_eq!(got.endpoints, ["api.shop.internal:3000"]);
        assert!(got.playground_domains.is_empty());
        let web = GetDomainsArgs {
            service: "web".into(),
            ports: vec![port(80, PortMode::Ingress)],
            ..args
        };
        assert_eq!(
            domains(&web, "alice", "example.dev")
                .unwrap()
                .domain
                .as_deref(),
            Some("web--80.shop.alice.example.dev")
        );
    }

    #[test]
    fn bad_names_are_errors_that_name_the_argument() {
        let args = GetDomainsArgs {
            project: "shop".into(),
            service: "Web--1".into(),
            ports: vec![],
        };
        let err = domains(&args, "alice", "defang.app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`service`"), "{err}");
    }
}
