//! Waiting for an ECS rollout, showing each status change live.

use super::status::{ServiceStatus, rollout_status};
use crate::cloud::{Ecs, ServiceState};
use crate::poller::Poller;
use pulumi_plugin::{Context, Error, Verdict, Waited, await_condition};
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
    state: ServiceState,
) -> Result<RolloutEnd, Error> {
    let mut updates = poller.watch_service(cluster, name);
    // Right after CreateService, DescribeServices may not list the service yet (ECS is
    // eventually consistent): only a service missing for this long is gone.
    let mut missing_since: Option<tokio::time::Instant> = None;
    let mut last = (state.clone(), rollout_status(&state, deployment_id));
    let waited = await_condition(
        ctx,
        &mut updates,
        Some(Some(Ok(Some(state)))),
        None,
        |observed| match observed {
            Some(Ok(Some(next))) => {
                missing_since = None;
                let status = rollout_status(&next, deployment_id);
                let line = status_line(&next, status);
                last = (next, status);
                if status.is_terminal() {
                    (Some(line), Verdict::Done(()))
                } else {
                    (Some(line), Verdict::Wait)
                }
            }
            Some(Ok(None)) => {
                let since = *missing_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= MISSING_GRACE {
                    (None, Verdict::Fail(Error::Failed(format!(
                        "ECS service {name} disappeared from cluster {cluster} during its rollout"
                    ))))
                } else {
                    (None, Verdict::Wait)
                }
            }
            // A failed poll (after the SDK's retries) is not the rollout failing: keep
            // waiting; the deadline still bounds it.
            Some(Err(err)) => {
                tracing::warn!("polling ECS service {name}: {err}");
                (None, Verdict::Wait)
            }
            None => (None, Verdict::Wait),
        },
    )
    .await?;
    let (state, status) = last;
    Ok(match waited {
        Waited::Done(()) => RolloutEnd::Settled(state, status),
        Waited::Interrupted(why) => RolloutEnd::Interrupted(state, status, why),
    })
}
