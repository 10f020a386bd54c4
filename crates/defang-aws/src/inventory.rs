//! [`Inventory`] over the AWS SDK: what `ps` and `logs` read (CloudFormation stacks, ECS
//! services and tasks, CloudWatch Logs streams and events). Every list is read to its last
//! page; nothing is changed.

use crate::ecs::service::service_state;
use crate::errors::{CLOUDFORMATION, ECS, LOGS, classify};
use crate::{EcsAdapter, StackAdapter};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::StackStatus;
use aws_sdk_ecs::types::{DesiredStatus, ServiceField};
use defang_resources::cloud::{
    CloudError, CloudResult, DeployedService, Ecs, Inventory, LogEvent, LogStream, StackState,
    Stacks, TaskDefinition,
};
use defang_resources::ownership::{PROJECT_TAG, SERVICE_TAG};
use std::collections::{BTreeMap, BTreeSet};

/// DescribeServices takes at most 10 services a call.
const DESCRIBE_SERVICES_BATCH: usize = 10;
/// DescribeTasks takes at most 100 tasks a call (ListTasks pages hold as many).
const DESCRIBE_TASKS_BATCH: usize = 100;
/// FilterLogEvents takes at most 100 stream names a call.
const FILTER_STREAMS_BATCH: usize = 100;

pub struct InventoryAdapter {
    ecs: aws_sdk_ecs::Client,
    /// For describing task definitions the way the resources read them.
    task_definitions: EcsAdapter,
    cloudformation: aws_sdk_cloudformation::Client,
    stacks: StackAdapter,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl InventoryAdapter {
    /// The clients of `config`, with the provider's retry partition.
    pub fn new(config: &SdkConfig) -> Self {
        InventoryAdapter {
            ecs: crate::config::ecs_client(config),
            task_definitions: EcsAdapter::new(crate::config::ecs_client(config)),
            cloudformation: crate::config::cloudformation_client(config),
            stacks: StackAdapter::new(crate::config::cloudformation_client(config)),
            logs: crate::config::logs_client(config),
        }
    }

    /// The ARNs of every service of `cluster`; `None` when the cluster does not exist.
    async fn service_arns(&self, cluster: &str) -> CloudResult<Option<Vec<String>>> {
        let mut arns = Vec::new();
        let mut pages = self
            .ecs
            .list_services()
            .cluster(cluster)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => arns.extend(page.service_arns().iter().cloned()),
                Err(err) => {
                    return match classify(ECS, "ListServices", "list ECS services", &err) {
                        err if err.is_not_found() => Ok(None),
                        other => Err(other),
                    };
                }
            }
        }
        Ok(Some(arns))
    }

    /// The image digests of the running tasks of `cluster`, by service name (a task started
    /// by a service has the group `service:<name>`).
    async fn running_digests(
        &self,
        cluster: &str,
    ) -> CloudResult<BTreeMap<String, BTreeSet<String>>> {
        let mut digests: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut pages = self
            .ecs
            .list_tasks()
            .cluster(cluster)
            .desired_status(DesiredStatus::Running)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(ECS, "ListTasks", "list ECS tasks", &e))?;
            for batch in page.task_arns().chunks(DESCRIBE_TASKS_BATCH) {
                let out = self
                    .ecs
                    .describe_tasks()
                    .cluster(cluster)
                    .set_tasks(Some(batch.to_vec()))
                    .send()
                    .await
                    .map_err(|e| classify(ECS, "DescribeTasks", "describe ECS tasks", &e))?;
                for task in out.tasks() {
                    let Some(service) = task.group().and_then(|g| g.strip_prefix("service:"))
                    else {
                        continue;
                    };
                    let found = digests.entry(service.to_string()).or_default();
                    found.extend(
                        task.containers()
                            .iter()
                            .filter_map(|c| c.image_digest())
                            .map(str::to_owned),
                    );
                }
            }
        }
        Ok(digests)
    }

    async fn describe_services(
        &self,
        cluster: &str,
        arns: &[String],
    ) -> CloudResult<Vec<(aws_sdk_ecs::types::Service, Option<i64>)>> {
        let mut services = Vec::with_capacity(arns.len());
        for batch in arns.chunks(DESCRIBE_SERVICES_BATCH) {
            let out = self
                .ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch.to_vec()))
                .include(ServiceField::Tags)
                .send()
                .await
                .map_err(|e| classify(ECS, "DescribeServices", "describe ECS services", &e))?;
            // A service deleted between the list and the describe is MISSING: left out.
            if let Some(failure) = out
                .failures()
                .iter()
                .find(|f| f.reason() != Some("MISSING"))
            {
                return Err(CloudError::other(format!(
                    "describe ECS services: {}: {}",
                    failure.arn().unwrap_or(cluster),
                    failure.reason().unwrap_or("unknown failure"),
                ))
                .in_call(ECS, "DescribeServices"));
            }
            for service in out.services() {
                let deployed_at = service
                    .deployments()
                    .iter()
                    .find(|d| d.status() == Some("PRIMARY"))
                    .and_then(|d| d.created_at())
                    .and_then(|t| t.to_millis().ok());
                services.push((service.clone(), deployed_at));
            }
        }
        Ok(services)
    }
}

/// A Defang project's stack: tagged with its project, and not a service's stack.
fn is_project_stack(stack: &StackState) -> bool {
    stack.tags.contains_key(PROJECT_TAG) && !stack.tags.contains_key(SERVICE_TAG)
}

#[async_trait]
impl Inventory for InventoryAdapter {
    async fn project_stacks(&self) -> CloudResult<Vec<StackState>> {
        let mut found = Vec::new();
        let mut pages = self
            .cloudformation
            .describe_stacks()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(
                    CLOUDFORMATION,
                    "DescribeStacks",
                    "list CloudFormation stacks",
                    &e,
                )
            })?;
            found.extend(
                page.stacks()
                    .iter()
                    .filter(|s| s.stack_status() != Some(&StackStatus::DeleteComplete))
                    .map(crate::stack::stack_state)
                    .filter(is_project_stack),
            );
        }
        Ok(found)
    }

    async fn stack(&self, name: &str) -> CloudResult<Option<StackState>> {
        self.stacks.describe_stack(name).await
    }

    async fn services(&self, cluster: &str) -> CloudResult<Vec<DeployedService>> {
        let Some(arns) = self.service_arns(cluster).await? else {
            return Ok(Vec::new());
        };
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let described = self.describe_services(cluster, &arns).await?;
        let digests = self.running_digests(cluster).await?;
        // Services of one project rarely share a task definition, but describe each once.
        let mut task_definitions: BTreeMap<String, Option<TaskDefinition>> = BTreeMap::new();
        for (service, _) in &described {
            let Some(arn) = service.task_definition() else {
                continue;
            };
            if !task_definitions.contains_key(arn) {
                let td = self.task_definitions.describe_task_definition(arn).await?;
                task_definitions.insert(arn.to_string(), td);
            }
        }
        Ok(described
            .into_iter()
            .map(|(service, deployed_at_ms)| {
                let state = service_state(&service);
                DeployedService {
                    task_definition: task_definitions
                        .get(&state.task_definition_arn)
                        .cloned()
                        .flatten(),
                    running_digests: digests
                        .get(&state.name)
                        .map(|d| d.iter().cloned().collect())
                        .unwrap_or_default(),
                    deployed_at_ms,
                    state,
                }
            })
            .collect())
    }

    async fn log_streams(&self, group: &str, prefix: &str) -> CloudResult<Vec<LogStream>> {
        let mut streams = Vec::new();
        let mut pages = self
            .logs
            .describe_log_streams()
            .log_group_name(group)
            .log_stream_name_prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(err) => {
                    return match classify(LOGS, "DescribeLogStreams", "list log streams", &err) {
                        // No group yet (nothing ever logged): no streams.
                        err if err.is_not_found() => Ok(Vec::new()),
                        other => Err(other),
                    };
                }
            };
            streams.extend(page.log_streams().iter().filter_map(|s| {
                Some(LogStream {
                    name: s.log_stream_name()?.to_owned(),
                    created_ms: s.creation_time().unwrap_or_default(),
                    last_event_ms: s.last_event_timestamp(),
                })
            }));
        }
        Ok(streams)
    }

    async fn log_events(
        &self,
        group: &str,
        streams: &[String],
        start_ms: i64,
    ) -> CloudResult<Vec<LogEvent>> {
        let mut events = Vec::new();
        for batch in streams.chunks(FILTER_STREAMS_BATCH) {
            let mut pages = self
                .logs
                .filter_log_events()
                .log_group_name(group)
                .set_log_stream_names(Some(batch.to_vec()))
                .start_time(start_ms)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(page) => page,
                    Err(err) => {
                        return match classify(LOGS, "FilterLogEvents", "read log events", &err) {
                            err if err.is_not_found() => Ok(Vec::new()),
                            other => Err(other),
                        };
                    }
                };
                events.extend(page.events().iter().filter_map(|e| {
                    Some(LogEvent {
                        stream: e.log_stream_name()?.to_owned(),
                        timestamp_ms: e.timestamp()?,
                        message: e.message().unwrap_or_default().to_owned(),
                        id: e.event_id().unwrap_or_default().to_owned(),
                    })
                }));
            }
        }
        // Each batch is in time order; together they interleave.
        events.sort_by(|a, b| {
            (a.timestamp_ms, &a.stream, &a.id).cmp(&(b.timestamp_ms, &b.stream, &b.id))
        });
        Ok(events)
    }
}
