//! `ps`: one row per service of a project, from what ECS describes. The status is the Service
//! resource's own ([`rollout_status`]); domains and endpoints follow its naming rules
//! ([`crate::service::domain`]) from the ports the deployed task definition records (its
//! `defang:ingress-ports` tag says which are public) and the zone the project's stack records.

use super::project::ProjectSite;
use crate::cloud::{DeployedService, Inventory};
use crate::ownership::{PROJECT_TAG, SERVICE_TAG};
use crate::service::inputs::PortMode;
use crate::service::status::rollout_status;
use crate::service::task_definition::inputs_from_task_definition;
use serde::Serialize;
use std::time::Duration;

/// How long the health probe waits for an answer (connection, TLS and response).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One service, as `ps` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRow {
    pub name: String,
    /// The Service resource's status value (`SERVICE_DEPLOYMENT_COMPLETED`…).
    pub status: String,
    pub running: i32,
    pub desired: i32,
    pub pending: i32,
    /// The image of the deployed task definition.
    pub image: Option<String>,
    /// The deployed image's digest: the one the image reference pins, else the one ECS
    /// resolved for the running tasks (several while a rollout replaces them).
    pub digest: Option<String>,
    /// The public domain of the first ingress port.
    pub domain: Option<String>,
    /// One per port: `https://<domain>` for an ingress port, `<host>:<port>` for a host port.
    pub endpoints: Vec<String>,
    /// When the last deployment started (milliseconds since the epoch).
    pub deployed_at_ms: Option<i64>,
    /// The HTTPS probe of `domain`; `None` for a service without one, or when not probed.
    pub health: Option<Health>,
}

/// What an HTTPS GET of a service's domain answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// The service answered (any status below 500: a 404 at `/` is still the application).
    Healthy,
    /// A 5xx: the load balancer has no healthy target (502, 503, 504) or the application
    /// failed.
    Unhealthy(u16),
    /// No answer: the name does not resolve, the connection or TLS failed, or it timed out.
    Error(String),
}

impl Health {
    /// Classifies the outcome of a probe: a status code, or why there was none.
    pub fn classify(outcome: Result<u16, String>) -> Health {
        match outcome {
            Ok(code) if code < 500 => Health::Healthy,
            Ok(code) => Health::Unhealthy(code),
            Err(why) => Health::Error(why),
        }
    }

    /// `healthy`, `unhealthy (503)` or `error`: what the table shows.
    pub fn label(&self) -> String {
        match self {
            Health::Healthy => "healthy".into(),
            Health::Unhealthy(code) => format!("unhealthy ({code})"),
            Health::Error(_) => "error".into(),
        }
    }
}

impl Serialize for Health {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("state", &self.label())?;
        match self {
            Health::Healthy => {}
            Health::Unhealthy(code) => map.serialize_entry("code", code)?,
            Health::Error(why) => map.serialize_entry("error", why)?,
        }
        map.end()
    }
}

/// An HTTPS GET: the status code, or why there is none.
#[async_trait::async_trait]
pub trait HealthProbe: Send + Sync {
    async fn get(&self, url: &str) -> Result<u16, String>;
}

/// The rows of `site`'s services, by name: only services tagged as the project's (another
/// tool's service in the cluster is not shown), and only ACTIVE ones (DRAINING is a service
/// being deleted).
pub fn rows(site: &ProjectSite, services: &[DeployedService]) -> Vec<ServiceRow> {
    let mut rows: Vec<ServiceRow> = services
        .iter()
        .filter(|s| s.state.is_active() && s.state.tag(PROJECT_TAG) == Some(site.name.as_str()))
        .map(|s| row(site, s))
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

fn row(site: &ProjectSite, service: &DeployedService) -> ServiceRow {
    let state = &service.state;
    let name = state.tag(SERVICE_TAG).unwrap_or(&state.name).to_string();
    let (domain, endpoints) = match &service.task_definition {
        Some(td) => names(site, &name, td, state),
        None => (None, Vec::new()),
    };
    let image = service
        .task_definition
        .as_ref()
        .map(|td| td.spec.container.image.clone());
    let digest = match image.as_deref().and_then(|i| i.split_once('@')) {
        Some((_, pinned)) => Some(pinned.to_string()),
        None if service.running_digests.is_empty() => None,
        None => Some(service.running_digests.join(",")),
    };
    ServiceRow {
        name,
        status: rollout_status(state, None).as_str().to_string(),
        running: state.running_count,
        desired: state.desired_count,
        pending: state.pending_count,
        image,
        digest,
        domain,
        endpoints,
        deployed_at_ms: service.deployed_at_ms,
        health: None,
    }
}

/// The domain and endpoints of the ports the task definition records.
fn names(
    site: &ProjectSite,
    name: &str,
    td: &crate::cloud::TaskDefinition,
    state: &crate::cloud::ServiceState,
) -> (Option<String>, Vec<String>) {
    let inputs = inputs_from_task_definition(td, state, &site.name, None);
    let zone = site.zone();
    let mut domain = None;
    let mut endpoints = Vec::new();
    for port in inputs.ports.iter().map(|p| p.resolved()) {
        match port.mode {
            PortMode::Ingress => {
                // Without a recorded zone (a stack of no known version) there is no domain.
                if site.public_domain.is_none() {
                    continue;
                }
                if let Ok(d) = zone.ingress_domain(name, port.target) {
                    endpoints.push(format!("https://{d}"));
                    domain.get_or_insert(d);
                }
            }
            PortMode::Host => endpoints.push(zone.private_endpoint(name, port.target)),
        }
    }
    (domain, endpoints)
}

/// The rows of the project's services, live; with `probe`, each domain is probed (all at
/// once, each within [`PROBE_TIMEOUT`]).
pub async fn list(
    inventory: &dyn Inventory,
    site: &ProjectSite,
    probe: Option<&dyn HealthProbe>,
) -> Result<Vec<ServiceRow>, String> {
    let services = inventory
        .services(&site.cluster)
        .await
        .map_err(|e| super::explain(&e))?;
    let mut rows = rows(site, &services);
    if let Some(probe) = probe {
        let probes = rows.iter().map(|row| async move {
            let domain = row.domain.as_deref()?;
            let url = format!("https://{domain}/");
            let outcome = match tokio::time::timeout(PROBE_TIMEOUT, probe.get(&url)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
            };
            Some(Health::classify(outcome))
        });
        let healths = futures::future::join_all(probes).await;
        for (row, health) in rows.iter_mut().zip(healths) {
            row.health = health;
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests_support::{FakeInventory, deployed, site};

    #[test]
    fn health_classification() {
        assert_eq!(Health::classify(Ok(200)), Health::Healthy);
        assert_eq!(Health::classify(Ok(301)), Health::Healthy);
        assert_eq!(Health::classify(Ok(404)), Health::Healthy);
        assert_eq!(Health::classify(Ok(503)), Health::Unhealthy(503));
        assert_eq!(Health::classify(Ok(502)).label(), "unhealthy (502)");
        let err = Health::classify(Err("dns error: no such host".into()));
        assert_eq!(err.label(), "error");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"state": "error", "error": "dns error: no such host"})
        );
        assert_eq!(
            serde_json::to_value(Health::Unhealthy(503)).unwrap(),
            serde_json::json!({"state": "unhealthy (503)", "code": 503})
        );
    }

    #[test]
    fn rows_have_the_resources_status_and_names() {
        let site = site();
        let web = deployed("web", &[(80, true)], "nginx:1.27", 1, 1, Some(1_000));
        let api = deployed(
            "api",
            &[(3000, false)],
            "echo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            2,
            1,
            None,
        );
        let rows = rows(&site, &[web, api]);
        assert_eq!(
            rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["api", "web"]
        );
        let (api, web) = (&rows[0], &rows[1]);
        assert_eq!(web.status, "SERVICE_DEPLOYMENT_COMPLETED");
        assert_eq!((web.running, web.desired), (1, 1));
        assert_eq!(web.domain.as_deref(), Some("web--80.shop.alice.defang.app"));
        assert_eq!(web.endpoints, ["https://web--80.shop.alice.defang.app"]);
        assert_eq!(web.deployed_at_ms, Some(1_000));
        assert_eq!(web.digest.as_deref(), Some("sha256:running"));
        // Running fewer than desired: the rollout is pending.
        assert_eq!(api.status, "SERVICE_DEPLOYMENT_PENDING");
        assert_eq!(api.domain, None);
        assert_eq!(api.endpoints, ["api.shop.internal:3000"]);
        assert_eq!(
            api.digest.as_deref(),
            Some("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            "a pinned image's digest is the one it pins"
        );
    }

    #[test]
    fn only_the_projects_active_services_are_rows() {
        let site = site();
        let mut foreign = deployed("other", &[], "x", 1, 1, None);
        foreign.state.tags.retain(|(k, _)| k != PROJECT_TAG);
        let mut another = deployed("blog", &[], "x", 1, 1, None);
        for (k, v) in &mut another.state.tags {
            if k == PROJECT_TAG {
                *v = "blog".into();
            }
        }
        let mut draining = deployed("old", &[], "x", 0, 0, None);
        draining.state.status = "DRAINING".into();
        let mine = deployed("web", &[], "x", 1, 1, None);
        let rows = rows(&site, &[foreign, another, draining, mine]);
        assert_eq!(
            rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["web"]
        );
    }

    struct Answers;

    #[async_trait::async_trait]
    impl HealthProbe for Answers {
        async fn get(&self, url: &str) -> Result<u16, String> {
            match url {
                "https://web--80.shop.alice.defang.app/" => Ok(503),
                "https://app--80.shop.alice.defang.app/" => Ok(200),
                _ => Err(format!("unexpected {url}")),
            }
        }
    }

    #[tokio::test]
    async fn only_services_with_a_domain_are_probed() {
        let inventory = FakeInventory::with_services(vec![
            deployed("web", &[(80, true)], "nginx", 1, 1, None),
            deployed("app", &[(80, true), (9000, false)], "nginx", 1, 1, None),
            deployed("db", &[(5432, false)], "postgres", 1, 1, None),
        ]);
        let rows = list(&inventory, &site(), Some(&Answers)).await.unwrap();
        let health: Vec<_> = rows
            .iter()
            .map(|r| (r.name.as_str(), r.health.as_ref().map(Health::label)))
            .collect();
        assert_eq!(
            health,
            [
                ("app", Some("healthy".to_string())),
                ("db", None),
                ("web", Some("unhealthy (503)".to_string()))
            ]
        );
        let rows = list(&inventory, &site(), None).await.unwrap();
        assert!(rows.iter().all(|r| r.health.is_none()));
    }
}
