//! Applying, waiting on and deleting CloudFormation stacks, shared by the project stack and
//! the services' own stacks: idempotent across retries, progress shown as status messages,
//! failures explained with CloudFormation's own reasons.

use crate::cloud::{StackRequest, StackState, Stacks, UpdateOutcome};
use crate::ownership::client_token;
use crate::wait::Backoff;
use pulumi_plugin::{Context, Error};
use std::time::Duration;

/// Creates the stack, or updates it if it exists (a failed first create is deleted and made
/// again), and waits until it settles; fails with CloudFormation's reasons if it did not
/// succeed.
pub(crate) async fn apply_stack(
    stacks: &dyn Stacks,
    request: &StackRequest,
    urn: &str,
    ctx: &Context,
) -> Result<StackState, Error> {
    let name = &request.name;
    let settled = match stacks.describe_stack(name).await.map_err(cloud_failed)? {
        None => create_and_wait(stacks, request, urn, ctx).await?,
        Some(_) => match wait_for_stack(stacks, name, ctx).await? {
            Some(s) if is_failed_create(&s.status) => {
                delete_and_wait(stacks, name, urn, ctx).await?;
                create_and_wait(stacks, request, urn, ctx).await?
            }
            Some(_) => update_and_wait(stacks, request, urn, ctx).await?,
            None => create_and_wait(stacks, request, urn, ctx).await?,
        },
    };
    match settled {
        Some(state) if is_success(&state.status) => Ok(state),
        Some(state) => Err(Error::Failed(format!(
            "stack {name} ({}): {}",
            state.status,
            failure_reasons(stacks, name).await
        ))),
        None => Err(Error::Failed(format!(
            "stack {name} disappeared while it was applied"
        ))),
    }
}

pub(crate) fn is_failed_create(status: &str) -> bool {
    matches!(
        status,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED"
    )
}

pub(crate) fn is_success(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

pub(crate) fn cloud_failed(err: crate::cloud::CloudError) -> Error {
    Error::Failed(format!("CloudFormation: {err}"))
}

pub(crate) async fn create_and_wait(
    stacks: &dyn Stacks,
    request: &StackRequest,
    urn: &str,
    ctx: &Context,
) -> Result<Option<StackState>, Error> {
    let mut request = request.clone();
    request.client_token = client_token(urn, "create", &request.template);
    stacks.create_stack(&request).await.map_err(cloud_failed)?;
    wait_for_stack(stacks, &request.name, ctx).await
}

pub(crate) async fn update_and_wait(
    stacks: &dyn Stacks,
    request: &StackRequest,
    urn: &str,
    ctx: &Context,
) -> Result<Option<StackState>, Error> {
    let mut request = request.clone();
    request.client_token = client_token(urn, "update", &request.template);
    match stacks.update_stack(&request).await.map_err(cloud_failed)? {
        UpdateOutcome::NoChanges => stacks
            .describe_stack(&request.name)
            .await
            .map_err(cloud_failed),
        UpdateOutcome::Started => wait_for_stack(stacks, &request.name, ctx).await,
    }
}

pub(crate) async fn delete_and_wait(
    stacks: &dyn Stacks,
    name: &str,
    urn: &str,
    ctx: &Context,
) -> Result<(), Error> {
    if stacks
        .describe_stack(name)
        .await
        .map_err(cloud_failed)?
        .is_none()
    {
        return Ok(());
    }
    // An operation still running must settle before CloudFormation accepts the delete.
    wait_for_stack(stacks, name, ctx).await?;
    stacks
        .delete_stack(name, &client_token(urn, "delete", name))
        .await
        .map_err(cloud_failed)?;
    match wait_for_stack(stacks, name, ctx).await? {
        None => Ok(()),
        Some(s) if s.status == "DELETE_COMPLETE" => Ok(()),
        Some(s) => Err(Error::Failed(format!(
            "deleting stack {name} failed ({}): {}. Resources that still use it (services, tasks, network interfaces) must go first; then run `pulumi destroy` again",
            s.status,
            failure_reasons(stacks, name).await
        ))),
    }
}

/// Polls until the stack is not in progress, showing each change as a status message.
/// Returns the settled stack, `None` if it does not exist (any more).
pub(crate) async fn wait_for_stack(
    stacks: &dyn Stacks,
    name: &str,
    ctx: &Context,
) -> Result<Option<StackState>, Error> {
    let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(15));
    let mut last_shown = String::new();
    loop {
        let state = stacks.describe_stack(name).await.map_err(cloud_failed)?;
        let Some(state) = state else { return Ok(None) };
        if !state.is_in_progress() {
            return Ok(Some(state));
        }
        let latest = stacks
            .stack_events(name, 1)
            .await
            .ok()
            .and_then(|events| events.into_iter().next())
            .map(|e| format!(": {} {}", e.logical_id, e.status))
            .unwrap_or_default();
        let message = format!("{}{latest}", state.status);
        if message != last_shown {
            ctx.log.status(&message).await;
            last_shown = message;
            backoff.reset();
        }
        ctx.sleep(backoff.next_delay()).await?;
    }
}

/// The reasons CloudFormation gave for failed resources, newest first.
pub(crate) async fn failure_reasons(stacks: &dyn Stacks, name: &str) -> String {
    let events = stacks.stack_events(name, 50).await.unwrap_or_default();
    let reasons: Vec<String> = events
        .iter()
        .filter(|e| e.status.ends_with("_FAILED"))
        .filter_map(|e| {
            e.reason
                .as_ref()
                .map(|r| format!("{} ({}): {r}", e.logical_id, e.resource_type))
        })
        .take(5)
        .collect();
    if reasons.is_empty() {
        "CloudFormation gave no reason".into()
    } else {
        reasons.join("; ")
    }
}
