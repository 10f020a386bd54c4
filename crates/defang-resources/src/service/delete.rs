//! Delete of a service: the ECS service (scaled down and drained), its secret parameters, its
//! task definition revisions, its own stack and its image repository.

use super::deployed_names;
use super::lifecycle::{DEFAULT_TIMEOUT, ecs_failed, parse_id};
use super::outputs::ServiceOutputs;
use super::secrets;
use crate::aws_names;
use crate::ownership::{Claim, PROJECT_TAG, SERVICE_TAG};
use crate::runtime::Runtime;
use pulumi_plugin::{Context, Error, Verdict, Waited, await_condition};

/// Deletes the service of `id`; `outputs` are its state (the task definition it ran).
pub async fn delete(
    env: &Runtime,
    id: &str,
    outputs: &ServiceOutputs,
    ctx: Context,
) -> Result<(), Error> {
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let (project, name) = parse_id(id)?;
    let ecs = env.cloud.ecs.as_ref();
    let cluster = aws_names::cluster(project);
    ecs.delete_service(&cluster, name)
        .await
        .map_err(ecs_failed)?;
    // What must wait for the drain (its own stack: the security group and target groups the
    // tasks use until they stop; and the project's cluster, after this returns) and what need
    // not (its secrets, task definition revisions and images: stopping tasks have what they
    // need) run side by side, so a delete takes the drain and little more.
    let after_drain = async {
        wait_for_drain(env, &ctx, &cluster, name).await?;
        // Its security group, private name, target groups, rules and records: its own stack,
        // only if its tags say so (the old stack names were ambiguous).
        let stacks = env.cloud.stacks.as_ref();
        let (stack_name, stack) = deployed_names::service_stack(stacks, project, name).await?;
        let claim = Claim::service(project, name, None);
        match stack {
            Some(found) if claim.holds(|k| found.tags.get(k).map(String::as_str)) => {
                crate::cloudformation::stacks::delete_and_wait(
                    &crate::cloudformation::stacks::Cfn::of(env),
                    &stack_name,
                    &claim,
                    &ctx,
                )
                .await?;
            }
            Some(found) => {
                ctx.log
                    .warn(&format!(
                        "CloudFormation stack {stack_name} is not this service's (its tags say otherwise): left untouched ({})",
                        found.status
                    ))
                    .await;
            }
            None => {}
        }
        Ok::<(), Error>(())
    };
    let meanwhile = async {
        // No new task starts: nothing reads the service's secret values any more.
        env.cloud
            .parameters
            .delete_by_path(&secrets::parameter_prefix(project, name))
            .await
            .map_err(|e| Error::Failed(format!("SSM Parameter Store: {e}")))?;
        let deployed = outputs.task_definition_arn.known().map(String::as_str);
        for (family, shared) in deployed_names::task_families(project, name, deployed) {
            for arn in ecs
                .list_task_definitions(&family)
                .await
                .map_err(ecs_failed)?
            {
                // A family name another service could share: not the revisions tagged as another
                // service's (untagged ones are what an imported service brought along).
                if shared {
                    let revision = ecs
                        .describe_task_definition(&arn)
                        .await
                        .map_err(ecs_failed)?;
                    let tag = |key: &str| {
                        revision.as_ref().and_then(|td| {
                            td.spec
                                .tags
                                .iter()
                                .find(|(k, _)| k == key)
                                .map(|(_, v)| v.as_str())
                        })
                    };
                    let others = |key: &str, ours: &str| tag(key).is_some_and(|v| v != ours);
                    if others(PROJECT_TAG, project) || others(SERVICE_TAG, name) {
                        continue;
                    }
                }
                ecs.deregister_task_definition(&arn)
                    .await
                    .map_err(ecs_failed)?;
            }
        }
        // Images built for the service go with it (a missing repository is fine).
        env.cloud
            .registry
            .delete_repository(&crate::build::image_build::repository_name(project, name))
            .await
            .map_err(|e| Error::Failed(format!("ECR: {e}")))?;
        Ok::<(), Error>(())
    };
    let (drained, cleaned) = tokio::join!(after_drain, meanwhile);
    drained.and(cleaned)
}

/// Waits (through the shared poller) until a deleted service has stopped its tasks.
async fn wait_for_drain(
    env: &Runtime,
    ctx: &Context,
    cluster: &str,
    name: &str,
) -> Result<(), Error> {
    let mut updates = env.poller.watch_service(cluster, name);
    let current = updates.borrow_and_update().clone();
    let waited = await_condition(ctx, &mut updates, Some(current), None, |observed| {
        match observed {
            // Not polled yet, or a failed poll: wait for the next round.
            None | Some(Err(_)) => (None, Verdict::Wait),
            Some(Ok(Some(s))) if s.status == "DRAINING" => (
                Some(format!("draining ({} tasks running)", s.running_count)),
                Verdict::Wait,
            ),
            Some(Ok(_)) => (None, Verdict::<(), Error>::Done(())),
        }
    })
    .await?;
    match waited {
        Waited::Done(()) => Ok(()),
        Waited::Interrupted(why) => Err(Error::Interrupted(why)),
    }
}
