//! [`Ecs`] over the AWS SDK: Fargate task definitions and services.

pub(crate) mod service;
mod task_definition;

use crate::errors::{ECS, classify};
use async_trait::async_trait;
use aws_sdk_ecs::types::{
    LaunchType, PropagateTags, ServiceField, TaskDefinitionField, TaskDefinitionStatus,
};
use defang_resources::cloud::{
    CloudError, CloudErrorKind, CloudResult, Ecs, ServiceSpec, ServiceState, ServiceUpdate,
    TaskDefinition, TaskDefinitionSpec,
};

/// DescribeServices accepts at most this many names per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;

pub struct EcsAdapter {
    client: aws_sdk_ecs::Client,
}

impl EcsAdapter {
    pub fn new(client: aws_sdk_ecs::Client) -> Self {
        Self { client }
    }

    /// Stopped tasks of a service with stopCode `SpotInterruption`, by the deployment that
    /// started them (`startedBy`). Best effort: the newest 100 stopped tasks ECS still lists,
    /// and nothing when a call fails (the rollout's own counts then stand).
    async fn spot_interruptions(
        &self,
        cluster: &str,
        service: &str,
    ) -> std::collections::BTreeMap<String, i32> {
        let mut counts = std::collections::BTreeMap::new();
        let listed = self
            .client
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
            .send()
            .await;
        let arns = match listed {
            Ok(out) => out.task_arns().to_vec(),
            Err(e) => {
                tracing::debug!(%service, "listing stopped tasks: {e}");
                return counts;
            }
        };
        if arns.is_empty() {
            return counts;
        }
        match self
            .client
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(arns))
            .send()
            .await
        {
            Ok(out) => {
                for task in out.tasks() {
                    let interrupted = task.stop_code()
                        == Some(&aws_sdk_ecs::types::TaskStopCode::SpotInterruption)
                        || task
                            .stopped_reason()
                            .is_some_and(|r| r.contains("Spot Task was interrupted"));
                    if interrupted && let Some(deployment) = task.started_by() {
                        *counts.entry(deployment.to_string()).or_insert(0) += 1;
                    }
                }
            }
            Err(e) => tracing::debug!(%service, "describing stopped tasks: {e}"),
        }
        counts
    }

    async fn describe_task_definition_status(
        &self,
        arn: &str,
    ) -> CloudResult<Option<TaskDefinitionStatus>> {
        match self
            .client
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
        {
            Ok(out) => Ok(out.task_definition().and_then(|t| t.status().cloned())),
            Err(err) => match classify(
                ECS,
                "DescribeTaskDefinition",
                "describe ECS task definition",
                &err,
            ) {
                err if err.is_not_found() => Ok(None),
                other => Err(other),
            },
        }
    }
}

#[async_trait]
impl Ecs for EcsAdapter {
    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> CloudResult<String> {
        let request =
            task_definition::register_request(self.client.register_task_definition(), spec)?;
        let out = request.send().await.map_err(|e| {
            classify(
                ECS,
                "RegisterTaskDefinition",
                "register ECS task definition",
                &e,
            )
        })?;
        let arn = out
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .ok_or_else(|| {
                CloudError::other("register ECS task definition: no ARN in the response")
                    .in_call(ECS, "RegisterTaskDefinition")
            })?;
        tracing::debug!(family = %spec.family, %arn, "registered task definition");
        Ok(arn.to_owned())
    }

    async fn describe_task_definition(&self, arn: &str) -> CloudResult<Option<TaskDefinition>> {
        let out = match self
            .client
            .describe_task_definition()
            .task_definition(arn)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
        {
            Ok(out) => out,
            Err(err) => {
                return match classify(
                    ECS,
                    "DescribeTaskDefinition",
                    "describe ECS task definition",
                    &err,
                ) {
                    err if err.is_not_found() => Ok(None),
                    other => Err(other),
                };
            }
        };
        match out.task_definition() {
            Some(definition) => task_definition::from_sdk(definition, out.tags()).map(Some),
            None => Ok(None),
        }
    }

    async fn list_task_definitions(&self, family: &str) -> CloudResult<Vec<String>> {
        let mut pages = self
            .client
            .list_task_definitions()
            .family_prefix(family)
            .status(TaskDefinitionStatus::Active)
            .into_paginator()
            .send();
        let mut arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(ECS, "ListTaskDefinitions", "list ECS task definitions", &e)
            })?;
            // `familyPrefix` is an exact family on AWS, but do not rely on it for prefixes
            // like `web` vs `web-api`.
            arns.extend(
                page.task_definition_arns()
                    .iter()
                    .filter(|arn| task_definition::family_of_arn(arn) == Some(family))
                    .cloned(),
            );
        }
        Ok(arns)
    }

    async fn deregister_task_definition(&self, arn: &str) -> CloudResult<()> {
        let err = match self
            .client
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
        {
            Ok(_) => {
                tracing::debug!(%arn, "deregistered task definition");
                return Ok(());
            }
            Err(err) => classify(
                ECS,
                "DeregisterTaskDefinition",
                "deregister ECS task definition",
                &err,
            ),
        };
        match err.kind() {
            CloudErrorKind::NotFound => Ok(()),
            // Some refusals are about the revision being inactive already; only the current
            // status can tell those apart from real problems.
            CloudErrorKind::Invalid => match self.describe_task_definition_status(arn).await? {
                None | Some(TaskDefinitionStatus::Inactive) => Ok(()),
                Some(_) => Err(err),
            },
            _ => Err(err),
        }
    }

    async fn create_service(&self, spec: &ServiceSpec) -> CloudResult<ServiceState> {
        let out = self
            .client
            .create_service()
            .cluster(&spec.cluster)
            .service_name(&spec.name)
            .task_definition(&spec.task_definition_arn)
            .desired_count(to_i32(spec.desired_count))
            // ECS refuses a launch type together with a capacity provider strategy.
            .set_launch_type(
                spec.capacity_provider_strategy
                    .is_empty()
                    .then_some(LaunchType::Fargate),
            )
            .set_capacity_provider_strategy(
                (!spec.capacity_provider_strategy.is_empty())
                    .then(|| service::capacity_provider_strategy(&spec.capacity_provider_strategy))
                    .transpose()?,
            )
            .network_configuration(service::network_configuration(&spec.network)?)
            .set_load_balancers(Some(service::load_balancers(&spec.routing)))
            .set_service_registries(Some(service::service_registries(&spec.routing)))
            .set_health_check_grace_period_seconds(
                spec.health_check_grace_period_seconds.map(to_i32),
            )
            .enable_execute_command(spec.enable_execute_command)
            .deployment_configuration(service::deployment_configuration())
            // Tasks carry the service's tags (cost allocation), plus ECS's own cluster/service tags.
            .propagate_tags(PropagateTags::Service)
            .enable_ecs_managed_tags(true)
            .set_tags((!spec.tags.is_empty()).then(|| task_definition::to_tags(&spec.tags)))
            .client_token(&spec.client_token)
            .send()
            .await
            .map_err(|e| classify(ECS, "CreateService", "create ECS service", &e))?;
        let service = out.service().ok_or_else(|| {
            CloudError::other("create ECS service: no service in the response")
                .in_call(ECS, "CreateService")
        })?;
        let mut state = service::service_state(service);
        // The response may leave tags out; they are what we just asked for.
        if state.tags.is_empty() {
            state.tags = spec.tags.clone();
            state.tags.sort();
        }
        tracing::debug!(cluster = %spec.cluster, name = %spec.name, "created service");
        Ok(state)
    }

    async fn update_service(&self, update: &ServiceUpdate) -> CloudResult<ServiceState> {
        let network = update
            .network
            .as_ref()
            .map(service::network_configuration)
            .transpose()?;
        let out = self
            .client
            .update_service()
            .cluster(&update.cluster)
            .service(&update.name)
            .set_task_definition(update.task_definition_arn.clone())
            .set_force_new_deployment(update.force_new_deployment.then_some(true))
            .set_desired_count(update.desired_count.map(to_i32))
            // An empty list goes back to the launch type the service was created with.
            .set_capacity_provider_strategy(
                update
                    .capacity_provider_strategy
                    .as_deref()
                    .map(service::capacity_provider_strategy)
                    .transpose()?,
            )
            .set_network_configuration(network)
            .set_load_balancers(update.routing.as_ref().map(service::load_balancers))
            .set_service_registries(update.routing.as_ref().map(service::service_registries))
            .set_health_check_grace_period_seconds(
                update.health_check_grace_period_seconds.map(to_i32),
            )
            .set_enable_execute_command(update.enable_execute_command)
            // Sent on every update, not only at creation: it costs nothing when unchanged, it
            // repairs services whose configuration was changed by hand, and moto drops it on
            // create (only update stores it), so tests and AWS then agree.
            .deployment_configuration(service::deployment_configuration())
            .send()
            .await
            .map_err(|e| classify(ECS, "UpdateService", "update ECS service", &e))?;
        let service = out.service().ok_or_else(|| {
            CloudError::other("update ECS service: no service in the response")
                .in_call(ECS, "UpdateService")
        })?;
        let mut state = service::service_state(service);
        // UpdateService does not return tags; without them callers would think they are gone.
        if state.tags.is_empty() && !state.arn.is_empty() {
            let tags = self
                .client
                .list_tags_for_resource()
                .resource_arn(&state.arn)
                .send()
                .await
                .map_err(|e| classify(ECS, "ListTagsForResource", "list ECS service tags", &e))?;
            state.tags = task_definition::from_tags(tags.tags());
        }
        tracing::debug!(cluster = %update.cluster, name = %update.name, "updated service");
        Ok(state)
    }

    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> CloudResult<Vec<ServiceState>> {
        let mut states = Vec::with_capacity(names.len());
        for batch in names.chunks(DESCRIBE_SERVICES_BATCH) {
            let out = match self
                .client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch.to_vec()))
                .include(ServiceField::Tags)
                .send()
                .await
            {
                Ok(out) => out,
                Err(err) => {
                    return match classify(ECS, "DescribeServices", "describe ECS services", &err) {
                        // No cluster, no services: the same answer as for missing services.
                        err if err.is_not_found() => Ok(Vec::new()),
                        other => Err(other),
                    };
                }
            };
            // MISSING means the service does not exist; anything else is a real failure.
            if let Some(failure) = out
                .failures()
                .iter()
                .find(|f| f.reason() != Some("MISSING"))
            {
                return Err(CloudError::other(format!(
                    "describe ECS services: {}: {}{}",
                    failure.arn().unwrap_or(cluster),
                    failure.reason().unwrap_or("unknown failure"),
                    failure
                        .detail()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default(),
                ))
                .in_call(ECS, "DescribeServices"));
            }
            states.extend(out.services().iter().map(service::service_state));
        }
        // A service on Fargate Spot whose rollout counts failed tasks: which of them were
        // Spot interruptions (rare, so the extra calls are too).
        for state in &mut states {
            let on_spot = state
                .capacity_provider_strategy
                .iter()
                .any(|i| i.provider == "FARGATE_SPOT");
            if on_spot && state.deployments.iter().any(|d| d.failed_tasks > 0) {
                let counts = self.spot_interruptions(cluster, &state.name).await;
                for d in &mut state.deployments {
                    d.spot_interrupted_tasks = counts.get(&d.id).copied().unwrap_or(0);
                }
            }
        }
        Ok(states)
    }

    async fn delete_service(&self, cluster: &str, name: &str) -> CloudResult<()> {
        // ECS refuses DeleteService while the desired count is above zero, unless forced.
        // Scaling to zero first and then deleting without `force` lets ECS stop the tasks the
        // normal way (connection draining, stop timeout); the service is DRAINING until they
        // are gone, then INACTIVE. The order matters: delete first would be refused.
        let scaled = self
            .client
            .update_service()
            .cluster(cluster)
            .service(name)
            .desired_count(0)
            .send()
            .await;
        if let Err(err) = scaled {
            return match classify(ECS, "UpdateService", "scale ECS service to zero", &err) {
                // Missing cluster, missing service, or already deleted (INACTIVE).
                err if err.is_not_found() => Ok(()),
                other => Err(other),
            };
        }
        match self
            .client
            .delete_service()
            .cluster(cluster)
            .service(name)
            .send()
            .await
        {
            Ok(_) => {
                tracing::debug!(%cluster, %name, "deleted service");
                Ok(())
            }
            Err(err) => match classify(ECS, "DeleteService", "delete ECS service", &err) {
                err if err.is_not_found() => Ok(()),
                other => Err(other),
            },
        }
    }
}

fn to_i32(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}
