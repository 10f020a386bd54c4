//! What every resource operation runs with once the provider is configured: the cloud clients,
//! the configuration and the process-wide poller and caches.

use crate::cloud::{
    AutoScaling, Builds, Dns, Ecs, Listeners, LogTail, ObjectStore, Parameters, Registry, Roles,
    Stacks,
};
use crate::config::ProviderConfig;
use std::sync::Arc;

/// Cloud clients for one region and identity.
#[derive(Clone)]
pub struct Cloud {
    pub ecs: Arc<dyn Ecs>,
    pub stacks: Arc<dyn Stacks>,
    pub builds: Arc<dyn Builds>,
    pub objects: Arc<dyn ObjectStore>,
    pub registry: Arc<dyn Registry>,
    pub logs: Arc<dyn LogTail>,
    pub dns: Arc<dyn Dns>,
    /// The rules of load balancer listeners (for rule priorities).
    pub listeners: Arc<dyn Listeners>,
    /// SSM Parameter Store: secret environment values.
    pub parameters: Arc<dyn Parameters>,
    /// Application Auto Scaling: a service's scalable target and policies (read by refresh).
    pub autoscaling: Arc<dyn AutoScaling>,
    /// IAM: the policies of a service's own task role (read by refresh).
    pub roles: Arc<dyn Roles>,
    pub region: String,
}

/// Makes the cloud clients once configuration is known (the AWS SDK in the binary, fakes in tests).
#[async_trait::async_trait]
pub trait CloudConnector: Send + Sync + 'static {
    async fn connect(&self, config: &ProviderConfig) -> Result<Cloud, String>;
}

/// The configured provider: what Configure made, handed to every operation but Check.
#[derive(Clone)]
pub struct Runtime {
    pub cloud: Cloud,
    pub config: ProviderConfig,
    /// The one poller of this provider process.
    pub poller: Arc<crate::poller::Poller>,
    /// The project stacks Check has read lately.
    pub project_lookups: Arc<crate::project::lookups::ProjectLookups>,
}

impl Runtime {
    pub fn new(cloud: Cloud, config: ProviderConfig) -> Runtime {
        let poller = crate::poller::Poller::new(
            cloud.ecs.clone(),
            Some(cloud.builds.clone()),
            Some(cloud.stacks.clone()),
        );
        Runtime {
            cloud,
            config,
            poller,
            project_lookups: Default::default(),
        }
    }
}
