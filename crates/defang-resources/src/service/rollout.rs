//! Waiting for an ECS rollout, showing each status change live.

use super::status::{ServiceStatus, rollout_status};
use crate::cloud::{Ecs, ServiceState};
use crate::wait::Backoff;
use pulumi_plugin::{Context, Error};
use std::time::Duration;

/// Where a wait ended.
pub enum RolloutEnd {
    /// COMPLETED or FAILED.
    Settled(ServiceState, ServiceStatus),
    /// Cancelled or timed out while still rolling out; the last state seen.
    Interrupted(ServiceState, ServiceStatus, String),
}

/// The line shown in the resource's status column.
pub fn status_line(state: &ServiceState, status: ServiceStatus) -> String {
    format!(
        "{} ({}/{} tasks running)",
        status.as_str(),
        state.running_count,
        state.desired_count
    )
}

pub async fn describe_one(
    ecs: &dyn Ecs,
    cluster: &str,
    name: &str,
) -> Result<Option<ServiceState>, Error> {
    let found = ecs
        .describe_services(cluster, &[name.to_string()])
        .await
        .map_err(|e| Error::Failed(format!("ECS: {e}")))?;
    Ok(found.into_iter().find(|s| s.name == name))
}

pub async fn wait_for_rollout(
    ecs: &dyn Ecs,
    ctx: &Context,
    cluster: &str,
    name: &str,
    deployment_id: Option<&str>,
    mut state: ServiceState,
) -> Result<RolloutEnd, Error> {
    let mut backoff = Backoff::new(Duration::from_secs(3), Duration::from_secs(15));
    let mut shown = String::new();
    loop {
        let status = rollout_status(&state, deployment_id);
        let line = status_line(&state, status);
        if line != shown {
            ctx.log.status(&line).await;
            shown = line;
            backoff.reset();
        }
        if status.is_terminal() {
            return Ok(RolloutEnd::Settled(state, status));
        }
        if let Err(Error::Interrupted(why)) = ctx.sleep(backoff.next_delay()).await {
            return Ok(RolloutEnd::Interrupted(state, status, why));
        }
        state = describe_one(ecs, cluster, name).await?.ok_or_else(|| {
            Error::Failed(format!(
                "ECS service {name} disappeared from cluster {cluster} during its rollout"
            ))
        })?;
    }
}
