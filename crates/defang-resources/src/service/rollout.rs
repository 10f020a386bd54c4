//! Waiting for an ECS rollout, showing each status change live.

use super::status::{ServiceStatus, rollout_status};
use crate::cloud::{Ecs, ServiceState};
use crate::poller::Poller;
use pulumi_plugin::{Context, Error};
use std::sync::Arc;

/// How long a service may be missing from DescribeServices before it counts as deleted.
pub const MISSING_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

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

/// Follows the service through the shared poller until its rollout settles or the operation
/// is interrupted. `state` is what the last ECS call returned.
pub async fn wait_for_rollout(
    poller: &Arc<Poller>,
    ctx: &Context,
    cluster: &str,
    name: &str,
    deployment_id: Option<&str>,
    mut state: ServiceState,
) -> Result<RolloutEnd, Error> {
    let mut updates = poller.watch_service(cluster, name);
    let mut shown = String::new();
    // Right after CreateService, DescribeServices may not list the service yet (ECS is
    // eventually consistent): only a service missing for this long is gone.
    let mut missing_since: Option<tokio::time::Instant> = None;
    loop {
        let status = rollout_status(&state, deployment_id);
        let line = status_line(&state, status);
        if line != shown {
            ctx.log.status(&line).await;
            shown = line;
        }
        if status.is_terminal() {
            return Ok(RolloutEnd::Settled(state, status));
        }
        tokio::select! {
            why = ctx.interrupted() => return Ok(RolloutEnd::Interrupted(state, status, why)),
            changed = updates.changed() => {
                if changed.is_err() {
                    return Err(Error::Internal("the status poller stopped".into()));
                }
                let observed = updates.borrow_and_update().clone();
                match observed {
                    Some(Ok(Some(next))) => {
                        missing_since = None;
                        state = next;
                    }
                    Some(Ok(None)) => {
                        let since = *missing_since.get_or_insert_with(tokio::time::Instant::now);
                        if since.elapsed() >= MISSING_GRACE {
                            return Err(Error::Failed(format!(
                                "ECS service {name} disappeared from cluster {cluster} during its rollout"
                            )));
                        }
                    }
                    // A failed poll (after the SDK's retries) is not the rollout failing:
                    // keep waiting; the deadline still bounds it.
                    Some(Err(err)) => tracing::warn!("polling ECS service {name}: {err}"),
                    None => {}
                }
            }
        }
    }
}
