//! Services: request pieces and the mapping of ECS's `Service` to [`ServiceState`].

use super::task_definition::from_tags;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentRolloutState, NetworkConfiguration, Service,
};
use defang_resources::cloud::{
    CapacityProviderItem, CloudError, Deployment, NetworkSpec, RolloutState, ServiceState,
};

/// How many service events to keep (newest first); older ones rarely explain the present.
const RECENT_EVENTS: usize = 5;

/// Rolling deployments that never drop below the desired count, and that ECS rolls back by
/// itself when new tasks keep failing to start (instead of retrying them forever).
pub(super) fn deployment_configuration() -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .maximum_percent(200)
        .minimum_healthy_percent(100)
        .build()
}

pub(super) fn network_configuration(
    network: &NetworkSpec,
) -> Result<NetworkConfiguration, CloudError> {
    let awsvpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(network.subnets.clone()))
        .set_security_groups(Some(network.security_groups.clone()))
        .assign_public_ip(if network.assign_public_ip {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| CloudError::invalid(format!("network configuration: {e}")))?;
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(awsvpc)
        .build())
}

pub(crate) fn service_state(service: &Service) -> ServiceState {
    let mut events: Vec<_> = service.events().iter().collect();
    // ECS lists events newest first already; sorting makes that a guarantee.
    events.sort_by(|a, b| b.created_at().cmp(&a.created_at()));
    ServiceState {
        arn: service.service_arn().unwrap_or_default().to_owned(),
        name: service.service_name().unwrap_or_default().to_owned(),
        cluster_arn: service.cluster_arn().unwrap_or_default().to_owned(),
        status: service.status().unwrap_or_default().to_owned(),
        task_definition_arn: service.task_definition().unwrap_or_default().to_owned(),
        desired_count: service.desired_count(),
        running_count: service.running_count(),
        pending_count: service.pending_count(),
        deployments: service.deployments().iter().map(deployment).collect(),
        network: service
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .map(|vpc| NetworkSpec {
                subnets: vpc.subnets().to_vec(),
                security_groups: vpc.security_groups().to_vec(),
                assign_public_ip: vpc.assign_public_ip() == Some(&AssignPublicIp::Enabled),
            }),
        enable_execute_command: service.enable_execute_command(),
        health_check_grace_period_seconds: service
            .health_check_grace_period_seconds()
            .and_then(|s| u32::try_from(s).ok()),
        capacity_provider_strategy: capacity_provider_strategy_of(
            service.capacity_provider_strategy(),
        ),
        tags: from_tags(service.tags()),
        recent_events: events
            .into_iter()
            .filter_map(|e| e.message().map(str::to_owned))
            .take(RECENT_EVENTS)
            .collect(),
    }
}

fn deployment(deployment: &aws_sdk_ecs::types::Deployment) -> Deployment {
    Deployment {
        id: deployment.id().unwrap_or_default().to_owned(),
        status: deployment.status().unwrap_or_default().to_owned(),
        task_definition_arn: deployment.task_definition().unwrap_or_default().to_owned(),
        rollout_state: deployment.rollout_state().and_then(|state| match state {
            DeploymentRolloutState::InProgress => Some(RolloutState::InProgress),
            DeploymentRolloutState::Completed => Some(RolloutState::Completed),
            DeploymentRolloutState::Failed => Some(RolloutState::Failed),
            _ => None,
        }),
        rollout_state_reason: deployment.rollout_state_reason().map(str::to_owned),
        desired_count: deployment.desired_count(),
        running_count: deployment.running_count(),
        pending_count: deployment.pending_count(),
        failed_tasks: deployment.failed_tasks(),
        // Filled in by `describe_services` where it can matter (see `spot_interruptions`).
        spot_interrupted_tasks: 0,
    }
}

/// A strategy as ECS describes it, sorted by provider (ECS keeps the order it was given).
pub(super) fn capacity_provider_strategy_of(
    items: &[aws_sdk_ecs::types::CapacityProviderStrategyItem],
) -> Vec<CapacityProviderItem> {
    let mut strategy: Vec<CapacityProviderItem> = items
        .iter()
        .map(|item| CapacityProviderItem {
            provider: item.capacity_provider().to_owned(),
            weight: u32::try_from(item.weight()).unwrap_or_default(),
            base: u32::try_from(item.base()).unwrap_or_default(),
        })
        .collect();
    strategy.sort();
    strategy
}

pub(super) fn capacity_provider_strategy(
    strategy: &[CapacityProviderItem],
) -> Result<Vec<aws_sdk_ecs::types::CapacityProviderStrategyItem>, CloudError> {
    strategy
        .iter()
        .map(|item| {
            aws_sdk_ecs::types::CapacityProviderStrategyItem::builder()
                .capacity_provider(&item.provider)
                .weight(i32::try_from(item.weight).unwrap_or(i32::MAX))
                .base(i32::try_from(item.base).unwrap_or(i32::MAX))
                .build()
                .map_err(|e| CloudError::invalid(format!("capacity provider strategy: {e}")))
        })
        .collect()
}

/// Target groups of the service's ingress ports.
pub(super) fn load_balancers(
    routing: &defang_resources::cloud::Routing,
) -> Vec<aws_sdk_ecs::types::LoadBalancer> {
    routing
        .load_balancers
        .iter()
        .map(|t| {
            aws_sdk_ecs::types::LoadBalancer::builder()
                .target_group_arn(&t.target_group_arn)
                .container_name(&t.container_name)
                .container_port(i32::from(t.container_port))
                .build()
        })
        .collect()
}

pub(super) fn service_registries(
    routing: &defang_resources::cloud::Routing,
) -> Vec<aws_sdk_ecs::types::ServiceRegistry> {
    routing
        .service_registries
        .iter()
        .map(|arn| {
            aws_sdk_ecs::types::ServiceRegistry::builder()
                .registry_arn(arn)
                .build()
        })
        .collect()
}
