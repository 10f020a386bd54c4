//! Delete of a service: the ECS service (scaled down and drained), its secret parameters, its
//! task definition revisions, its own stack and its image repository.

use super::lifecycle::{DEFAULT_TIMEOUT, ecs_failed, parse_id};
use super::network_stack;
use super::secrets;
use crate::cloud_env::Env;
use crate::project::inputs::cluster_name;
use pulumi_plugin::{Context, DeleteRequest, Error};

pub async fn delete(env: &Env, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let (project, name) = parse_id(&req.id)?;
    let ecs = env.cloud.ecs.as_ref();
    let cluster = cluster_name(project);
    ecs.delete_service(&cluster, name)
        .await
        .map_err(ecs_failed)?;
    // The project (cluster) can only go once its services are gone: wait for the drain.
    wait_for_drain(env, &ctx, &cluster, name).await?;
    // No task can read the service's secret values any more.
    env.cloud
        .parameters
        .delete_by_path(&secrets::parameter_prefix(project, name))
        .await
        .map_err(|e| Error::Failed(format!("SSM Parameter Store: {e}")))?;
    // Then its security group, private name, target groups, rules and records.
    crate::stack_ops::delete_and_wait(
        env.cloud.stacks.as_ref(),
        &network_stack::stack_name(project, name),
        &req.urn,
        &ctx,
    )
    .await?;
    let family = super::task_definition::family(project, name);
    for arn in ecs
        .list_task_definitions(&family)
        .await
        .map_err(ecs_failed)?
    {
        ecs.deregister_task_definition(&arn)
            .await
            .map_err(ecs_failed)?;
    }
    // Images built for the service go with it (a missing repository is fine).
    env.cloud
        .registry
        .delete_repository(&super::image_build::repository_name(project, name))
        .await
        .map_err(|e| Error::Failed(format!("ECR: {e}")))?;
    Ok(())
}

/// Waits (through the shared poller) until a deleted service has stopped its tasks.
async fn wait_for_drain(env: &Env, ctx: &Context, cluster: &str, name: &str) -> Result<(), Error> {
    let mut updates = env.poller.watch_service(cluster, name);
    loop {
        let current = updates.borrow_and_update().clone();
        match current {
            // Not polled yet, or a failed poll: wait for the next round.
            None | Some(Err(_)) => {}
            Some(Ok(Some(s))) if s.status == "DRAINING" => {
                ctx.log
                    .status(&format!("draining ({} tasks running)", s.running_count))
                    .await;
            }
            Some(Ok(_)) => return Ok(()),
        }
        tokio::select! {
            why = ctx.interrupted() => return Err(Error::Interrupted(why)),
            changed = updates.changed() => {
                if changed.is_err() {
                    return Err(Error::Internal("the status poller stopped".into()));
                }
            }
        }
    }
}
