//! Applying, waiting on and deleting CloudFormation stacks, shared by the project stack and
//! the services' own stacks: nothing is touched before its tags prove it is ours, every
//! CloudFormation state has its handling, a create whose response was lost adopts what it
//! made, progress is shown as status messages, and failures carry CloudFormation's reasons.

use crate::cloud::{CloudError, StackRequest, StackState, Stacks, UpdateOutcome};
use crate::ownership::{Claim, attempt_token};
use crate::poller::{Poller, StackProgress};
use pulumi_plugin::{Context, Error, Verdict, Waited, await_condition};
use std::sync::Arc;
use std::time::Duration;

/// CloudFormation as the stack operations use it: the client, and the shared poller their
/// waits go through.
#[derive(Clone, Copy)]
pub(crate) struct Cfn<'a> {
    pub(crate) stacks: &'a dyn Stacks,
    pub(crate) poller: &'a Arc<Poller>,
}

impl<'a> Cfn<'a> {
    pub(crate) fn of(env: &'a crate::runtime::Runtime) -> Self {
        Cfn {
            stacks: env.cloud.stacks.as_ref(),
            poller: &env.poller,
        }
    }
}

/// How an apply ended, when CloudFormation was reached and the stack was ours.
#[derive(Debug)]
pub(crate) enum Applied {
    /// The stack is as requested (created, updated, or already so).
    Done(StackState),
    /// CloudFormation could not apply the template: the stack as it settled (rolled back, or
    /// gone) and CloudFormation's reasons.
    Failed {
        state: Option<StackState>,
        reason: String,
    },
}

impl Applied {
    /// The applied stack, or the failure as an error.
    pub(crate) fn done(self) -> Result<StackState, Error> {
        match self {
            Applied::Done(state) => Ok(state),
            Applied::Failed { reason, .. } => Err(Error::Failed(reason)),
        }
    }
}

/// Creates the stack, or updates it if it exists and `claim` holds (a failed first create, or
/// a stack whose delete failed, is deleted and made again), and waits until it settles.
pub(crate) async fn apply_stack(
    cfn: &Cfn<'_>,
    request: &StackRequest,
    claim: &Claim,
    ctx: &Context,
) -> Result<Applied, Error> {
    let found = cfn
        .stacks
        .describe_stack(&request.name)
        .await
        .map_err(cloud_failed)?;
    apply_stack_from(cfn, request, claim, found, ctx).await
}

/// [`apply_stack`] for a caller that has just described the stack (`found`): one call fewer.
/// A stack made meanwhile is found by the create (AlreadyExists, adopted if ours); one that
/// changed meanwhile is described again before anything is done to it.
pub(crate) async fn apply_stack_from(
    cfn: &Cfn<'_>,
    request: &StackRequest,
    claim: &Claim,
    found: Option<StackState>,
    ctx: &Context,
) -> Result<Applied, Error> {
    let name = &request.name;
    let Some(found) = found else {
        return create_and_wait(cfn, request, claim, ctx).await;
    };
    ensure_claim(&found, claim)?;
    match wait_for_stack(cfn, name, ctx).await? {
        None => create_and_wait(cfn, request, claim, ctx).await,
        Some(s) if must_be_made_again(&s.status) => {
            ctx.log
                .info(&format!(
                    "stack {name} is {} and can only be deleted: deleting it and creating it again",
                    s.status
                ))
                .await;
            delete_and_wait(cfn, name, claim, ctx).await?;
            create_and_wait(cfn, request, claim, ctx).await
        }
        Some(s) if s.status == "UPDATE_ROLLBACK_FAILED" => Err(Error::Failed(format!(
            "stack {name} is UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back an earlier update ({}). \
             Finish the rollback with `aws cloudformation continue-update-rollback --stack-name {name}` \
             (skipping the resources it names with --resources-to-skip if they cannot be restored), then run `pulumi up` again",
            failure_reasons(cfn.stacks, name).await
        ))),
        Some(_) => update_and_wait(cfn, request, ctx).await,
    }
}

/// States in which CloudFormation accepts only a delete: a first create that failed or rolled
/// back (the stack is empty), a delete that failed, and a stack made by a change set that was
/// never executed (REVIEW_IN_PROGRESS: it holds no resources).
pub(crate) fn must_be_made_again(status: &str) -> bool {
    matches!(
        status,
        "ROLLBACK_COMPLETE"
            | "ROLLBACK_FAILED"
            | "CREATE_FAILED"
            | "DELETE_FAILED"
            | "REVIEW_IN_PROGRESS"
    )
}

pub(crate) fn is_success(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

pub(crate) fn cloud_failed(err: CloudError) -> Error {
    Error::Failed(format!("CloudFormation: {err}"))
}

/// Refuses a stack whose tags do not prove it is `claim`'s: it belongs to another project,
/// Pulumi stack or tool, and is left as it is.
pub(crate) fn ensure_claim(stack: &StackState, claim: &Claim) -> Result<(), Error> {
    if claim.holds(|k| stack.tags.get(k).map(String::as_str)) {
        return Ok(());
    }
    let owner = match (
        stack.tags.get(crate::ownership::PROJECT_TAG),
        stack.tags.get(crate::ownership::SERVICE_TAG),
    ) {
        (Some(p), Some(s)) => format!("service \"{s}\" of project \"{p}\""),
        (Some(p), None) => format!("project \"{p}\""),
        _ => "not a Defang stack".to_string(),
    };
    Err(Error::Failed(format!(
        "CloudFormation stack {} ({}) already exists and is not the {} this resource made: it belongs to {owner}, \
         made by another Pulumi stack or tool, and was left untouched. {}",
        stack.name, stack.status, claim.what, claim.fix
    )))
}

async fn create_and_wait(
    cfn: &Cfn<'_>,
    request: &StackRequest,
    claim: &Claim,
    ctx: &Context,
) -> Result<Applied, Error> {
    let mut request = request.clone();
    request.client_token = attempt_token("create-stack");
    match cfn.stacks.create_stack(&request).await {
        Ok(_) => {}
        // The SDK retried a create whose answer was lost, and the first try made the stack
        // (AWS honours the token; emulators and older endpoints may not): if its tags are ours,
        // it is the one we asked for.
        Err(e) if e.is_already_exists() => {
            let found = cfn
                .stacks
                .describe_stack(&request.name)
                .await
                .map_err(cloud_failed)?
                .ok_or_else(|| cloud_failed(e))?;
            ensure_claim(&found, claim)?;
        }
        Err(e) => return Err(cloud_failed(e)),
    }
    settled(cfn, &request.name, ctx).await
}

async fn update_and_wait(
    cfn: &Cfn<'_>,
    request: &StackRequest,
    ctx: &Context,
) -> Result<Applied, Error> {
    let mut request = request.clone();
    // A token per attempt: CloudFormation refuses a token it has seen before, so a token made
    // from the template would fail an A -> B -> A change.
    request.client_token = attempt_token("update-stack");
    match cfn
        .stacks
        .update_stack(&request)
        .await
        .map_err(cloud_failed)?
    {
        // Already as requested, whatever the last operation was (after a rollback of another
        // change, UPDATE_ROLLBACK_COMPLETE with this template is success).
        UpdateOutcome::NoChanges => match cfn
            .stacks
            .describe_stack(&request.name)
            .await
            .map_err(cloud_failed)?
        {
            Some(state) => Ok(Applied::Done(state)),
            None => Ok(Applied::Failed {
                state: None,
                reason: format!("stack {} disappeared while it was updated", request.name),
            }),
        },
        UpdateOutcome::Started => settled(cfn, &request.name, ctx).await,
    }
}

/// Waits for the operation just started and tells how it ended. A stack just created may not
/// be listed for a moment (DescribeStacks is eventually consistent): it is looked for again
/// for a few seconds before it counts as gone.
async fn settled(cfn: &Cfn<'_>, name: &str, ctx: &Context) -> Result<Applied, Error> {
    let mut waited = wait_for_stack(cfn, name, ctx).await?;
    for _ in 0..5 {
        if waited.is_some() {
            break;
        }
        ctx.sleep(Duration::from_secs(2)).await?;
        waited = wait_for_stack(cfn, name, ctx).await?;
    }
    match waited {
        Some(state) if is_success(&state.status) => Ok(Applied::Done(state)),
        Some(state) => Ok(Applied::Failed {
            reason: format!(
                "stack {name} ({}): {}",
                state.status,
                failure_reasons(cfn.stacks, name).await
            ),
            state: Some(state),
        }),
        None => Ok(Applied::Failed {
            state: None,
            reason: format!("stack {name} disappeared while it was applied"),
        }),
    }
}

/// A delete CloudFormation could not complete: the stack's status and the reasons it gave
/// (AWS's words, newest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeleteFailed {
    pub(crate) status: String,
    pub(crate) reasons: String,
}

impl DeleteFailed {
    pub(crate) fn into_error(self, name: &str) -> Error {
        Error::Failed(format!(
            "deleting stack {name} failed ({}): {}. Resources that still use it (services, tasks, network interfaces) must go first; then run `pulumi destroy` again",
            self.status, self.reasons
        ))
    }
}

/// Deletes the stack if it exists and `claim` holds, and waits until it is gone. A stack that
/// is not ours is refused; a missing one is success.
pub(crate) async fn delete_and_wait(
    cfn: &Cfn<'_>,
    name: &str,
    claim: &Claim,
    ctx: &Context,
) -> Result<(), Error> {
    match delete_once(cfn, name, claim, ctx).await? {
        None => Ok(()),
        Some(failed) => Err(failed.into_error(name)),
    }
}

/// [`delete_and_wait`], with a delete CloudFormation could not complete as a value, for callers
/// that decide on its reasons (e.g. to wait for what still uses the stack).
pub(crate) async fn delete_once(
    cfn: &Cfn<'_>,
    name: &str,
    claim: &Claim,
    ctx: &Context,
) -> Result<Option<DeleteFailed>, Error> {
    let Some(found) = cfn
        .stacks
        .describe_stack(name)
        .await
        .map_err(cloud_failed)?
    else {
        return Ok(None);
    };
    ensure_claim(&found, claim)?;
    // An operation still running must settle before CloudFormation accepts the delete.
    wait_for_stack(cfn, name, ctx).await?;
    // A token per attempt, so that deleting a DELETE_FAILED stack again really runs again.
    cfn.stacks
        .delete_stack(name, &attempt_token("delete-stack"))
        .await
        .map_err(cloud_failed)?;
    match wait_for_stack(cfn, name, ctx).await? {
        None => Ok(None),
        Some(s) if s.status == "DELETE_COMPLETE" => Ok(None),
        Some(s) => Ok(Some(DeleteFailed {
            status: s.status,
            reasons: failure_reasons(cfn.stacks, name).await,
        })),
    }
}

/// Waits until the stack is not in progress, through the shared poller (see
/// [`crate::poller`]), showing each change as a status message. Returns the settled stack,
/// `None` if it does not exist (any more).
pub(crate) async fn wait_for_stack(
    cfn: &Cfn<'_>,
    name: &str,
    ctx: &Context,
) -> Result<Option<StackState>, Error> {
    // The state right now first: most waits are over before they begin (an update with no
    // changes, an operation another command already waited for).
    let Some(state) = cfn
        .stacks
        .describe_stack(name)
        .await
        .map_err(cloud_failed)?
    else {
        return Ok(None);
    };
    if !state.is_in_progress() {
        return Ok(Some(state));
    }
    ctx.log.status(&state.status).await;
    let mut updates = cfn.poller.watch_stack(name);
    let waited =
        await_condition(
            ctx,
            &mut updates,
            None,
            Some(state.status),
            |observed| match observed {
                Some(Ok(Some(StackProgress::Settled(state)))) => (None, Verdict::Done(state)),
                Some(Ok(Some(StackProgress::Running { status, latest }))) => {
                    let message = match latest {
                        Some(latest) => format!("{status}: {latest}"),
                        None => status,
                    };
                    (Some(message), Verdict::Wait)
                }
                Some(Err(err)) => (None, Verdict::Fail(cloud_failed(err))),
                Some(Ok(None)) | None => (None, Verdict::Wait),
            },
        )
        .await?;
    match waited {
        Waited::Done(state) => Ok(state),
        Waited::Interrupted(_) => {
            ctx.check()?;
            Err(Error::Interrupted("the operation was interrupted".into()))
        }
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

// Not through the kit's Driver: these test the stack operations a Project or Service step is
// built on (apply_stack, delete_and_wait), each stack state alone, with a context of their own.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ownership::{OWNER_TAG, PROJECT_TAG, owner_id};
    use crate::testing::{FakeStacks, context};
    use std::collections::BTreeMap;

    const URN: &str = "urn:pulumi:t::p::defang:index:Project::shop";

    fn request(template: &str) -> StackRequest {
        StackRequest {
            name: "defang-shop".into(),
            template: template.into(),
            tags: BTreeMap::from([
                (PROJECT_TAG.to_string(), "shop".to_string()),
                (OWNER_TAG.to_string(), owner_id(URN)),
            ]),
            parameters: Default::default(),
            client_token: String::new(),
        }
    }

    /// The stack operations over `stacks`, with a poller of their own (leaked: a test's).
    fn cfn(stacks: &FakeStacks) -> Cfn<'_> {
        let poller = Box::leak(Box::new(Poller::new(
            std::sync::Arc::new(crate::testing::FakeEcs::default()),
            None,
            None,
        )));
        Cfn { stacks, poller }
    }

    fn with_status(stacks: &FakeStacks, status: &str) {
        let mut all = stacks.stacks.lock().unwrap();
        let s = all.get_mut("defang-shop").unwrap();
        s.status = status.into();
        s.tags = request("{}").tags;
    }

    #[tokio::test(start_paused = true)]
    async fn no_changes_after_a_rolled_back_update_is_success() {
        let stacks = FakeStacks::with_project("shop");
        with_status(&stacks, "UPDATE_ROLLBACK_COMPLETE");
        stacks.faults.lock().unwrap().no_changes = true;
        let claim = Claim::project("shop", Some(URN));
        let applied = apply_stack(&cfn(&stacks), &request("{}"), &claim, &context(None))
            .await
            .unwrap();
        let state = applied.done().expect("done");
        assert_eq!(state.status, "UPDATE_ROLLBACK_COMPLETE");
    }

    #[tokio::test(start_paused = true)]
    async fn stacks_that_only_accept_a_delete_are_made_again() {
        for status in ["REVIEW_IN_PROGRESS", "DELETE_FAILED", "ROLLBACK_COMPLETE"] {
            let stacks = FakeStacks::with_project("shop");
            with_status(&stacks, status);
            let claim = Claim::project("shop", Some(URN));
            let state = apply_stack(&cfn(&stacks), &request("{}"), &claim, &context(None))
                .await
                .unwrap()
                .done()
                .expect(status);
            assert_eq!(state.status, "CREATE_COMPLETE", "{status}");
            let calls = stacks.calls.lock().unwrap();
            assert!(
                calls.contains(&"DeleteStack".to_string()),
                "{status}: {calls:?}"
            );
            assert!(
                !calls.contains(&"UpdateStack".to_string()),
                "{status}: {calls:?}"
            );
        }
    }

    /// DescribeStacks right after CreateStack may not list the stack yet.
    #[tokio::test(start_paused = true)]
    async fn a_new_stack_not_yet_listed_is_waited_for() {
        let stacks = FakeStacks::default();
        stacks.faults.lock().unwrap().invisible_after_create = 2;
        let claim = Claim::project("shop", Some(URN));
        let state = apply_stack(&cfn(&stacks), &request("{}"), &claim, &context(None))
            .await
            .unwrap()
            .done()
            .expect("created");
        assert_eq!(state.status, "CREATE_COMPLETE");
    }

    #[tokio::test(start_paused = true)]
    async fn update_rollback_failed_says_how_to_continue() {
        let stacks = FakeStacks::with_project("shop");
        with_status(&stacks, "UPDATE_ROLLBACK_FAILED");
        let claim = Claim::project("shop", Some(URN));
        let err = apply_stack(&cfn(&stacks), &request("{}"), &claim, &context(None))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("aws cloudformation continue-update-rollback --stack-name defang-shop"),
            "{err}"
        );
        assert!(
            !stacks
                .calls
                .lock()
                .unwrap()
                .contains(&"UpdateStack".to_string())
        );
    }

    /// A -> B -> A: CloudFormation refuses a token it has seen, so each update has its own.
    #[tokio::test(start_paused = true)]
    async fn every_attempt_has_its_own_token() {
        let stacks = FakeStacks::with_project("shop");
        with_status(&stacks, "CREATE_COMPLETE");
        let claim = Claim::project("shop", Some(URN));
        for template in ["{}", "{\"Outputs\":{}}", "{}"] {
            apply_stack(&cfn(&stacks), &request(template), &claim, &context(None))
                .await
                .unwrap()
                .done()
                .unwrap();
        }
        delete_and_wait(&cfn(&stacks), "defang-shop", &claim, &context(None))
            .await
            .unwrap();
        let tokens = stacks.faults.lock().unwrap().tokens.clone();
        assert_eq!(tokens.len(), 4);
        let unique: std::collections::BTreeSet<_> = tokens.iter().collect();
        assert_eq!(unique.len(), 4, "{tokens:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stack_that_is_not_ours_is_neither_updated_nor_deleted() {
        let stacks = FakeStacks::with_project("shop");
        // Untagged: not made by Defang at all.
        let claim = Claim::project("shop", Some(URN));
        let err = apply_stack(&cfn(&stacks), &request("{}"), &claim, &context(None))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not a Defang stack"), "{err}");
        let err = delete_and_wait(&cfn(&stacks), "defang-shop", &claim, &context(None))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("left untouched"), "{err}");
        let calls = stacks.calls.lock().unwrap();
        assert!(calls.iter().all(|c| c == "DescribeStacks"), "{calls:?}");
    }
}
