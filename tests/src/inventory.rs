//! What the emulator holds, read with the AWS SDK: the lookups every end-to-end suite makes to
//! check what `pulumi` did (async; suites that run synchronously `block_on` them).

use aws_sdk_ecs::types::{Service, TaskDefinition, TaskDefinitionStatus};

/// The ACTIVE service `name` in `cluster`, if any. A missing cluster has none; any other
/// failed call fails the test ("gone" must never be an error read as absence).
pub async fn active_service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    name: &str,
) -> Option<Service> {
    let out = match ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_cluster_not_found_exception()) =>
        {
            return None;
        }
        Err(e) => panic!("describe_services: {e:?}"),
    };
    out.services()
        .iter()
        .find(|s| s.service_name() == Some(name) && s.status() == Some("ACTIVE"))
        .cloned()
}

pub async fn task_definition(ecs: &aws_sdk_ecs::Client, arn: &str) -> TaskDefinition {
    ecs.describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .expect("describe_task_definition")
        .task_definition()
        .cloned()
        .expect("task definition")
}

/// The ACTIVE task definition ARNs of exactly `family` (not of families it prefixes).
pub async fn active_revisions(ecs: &aws_sdk_ecs::Client, family: &str) -> Vec<String> {
    let out = ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("list_task_definitions");
    out.task_definition_arns()
        .iter()
        .filter(|arn| arn.contains(&format!(":task-definition/{family}:")))
        .cloned()
        .collect()
}

/// The stacks not deleted, as `name (STATUS)`.
pub async fn live_stacks(cfn: &aws_sdk_cloudformation::Client) -> Vec<String> {
    let stacks = cfn.list_stacks().send().await.expect("list_stacks");
    stacks
        .stack_summaries()
        .iter()
        .filter(|s| {
            s.stack_status() != Some(&aws_sdk_cloudformation::types::StackStatus::DeleteComplete)
        })
        .map(|s| {
            format!(
                "{} ({})",
                s.stack_name().unwrap_or_default(),
                s.stack_status().map(|s| s.as_str()).unwrap_or_default()
            )
        })
        .collect()
}
