//! Refresh of what the service's own stack holds outside ECS and changes without ECS knowing:
//! the autoscaling range and targets (Application Auto Scaling) and the policies of the
//! service's own task role (IAM). Each is read only where the inputs say the service has it
//! (autoscaling, a role of its own), compared as it takes effect, and shown as drift in the
//! inputs when it changed outside Pulumi (secret where the user's was: the machinery marks
//! them); unchanged, the inputs stay exactly as the user wrote them. CloudFormation does not
//! see such changes (an `up` whose template is unchanged does nothing to them): the next `up`
//! puts them back itself ([`super::stack_repair`]).

use super::inputs::{ResolvedService, ServiceInputs};
use super::{scaling, task_role};
use crate::aws_names;
use crate::runtime::Runtime;
use pulumi_plugin::{Context, Error};

/// Applies the drift of `autoscaling`, `policies` and `policyStatements` to `inputs` (the
/// user's, already refreshed from ECS). `own_task_role` is the ARN of the role the service's
/// stack made, if any.
pub async fn apply(
    env: &Runtime,
    ctx: &Context,
    inputs: &mut ServiceInputs,
    old: &ResolvedService,
    live: &ServiceInputs,
    own_task_role: Option<&str>,
) -> Result<(), Error> {
    // The role is read only when it is the service's own and its tasks run as it (not a
    // `taskRoleArn` of the user's, given or put there outside Pulumi: not ours to read).
    let role = own_task_role
        .filter(|_| old.task_role_arn.is_none() && live.task_role_arn.is_none())
        .map(task_role::role_name);
    let (scaling, permissions) = futures::join!(read_autoscaling(env, old), async {
        match role {
            Some(role) => read_role(env, role).await.map(Some),
            None => Ok(None),
        }
    });
    if let Some(live_scaling) = scaling? {
        scaling::autoscaling_drift(
            inputs,
            old,
            live_scaling.as_ref(),
            live.replicas.unwrap_or(super::inputs::DEFAULT_REPLICAS),
        );
    }
    let Some((attached, document)) = permissions? else {
        return Ok(());
    };
    if let Some(policies) = task_role::policies_drift(&old.policies, &attached) {
        inputs.policies = policies;
    }
    let statements = match document.as_ref().map(task_role::statements_from_document) {
        None => Vec::new(),
        Some(Ok(statements)) => statements,
        Some(Err(why)) => {
            ctx.log
                .warn(&format!(
                    "refresh: the inline policy `{}` of the service's role {} cannot be said \
                     as `policyStatements` ({why}); they are kept as the program says",
                    task_role::STATEMENTS_POLICY,
                    role.unwrap_or_default()
                ))
                .await;
            return Ok(());
        }
    };
    if let Some(statements) = task_role::statements_drift(&old.policy_statements, &statements) {
        inputs.policy_statements = statements;
    }
    Ok(())
}

/// The live `autoscaling` (`Some(None)`: no scalable target), or `None` when the inputs have
/// none to compare with.
async fn read_autoscaling(
    env: &Runtime,
    old: &ResolvedService,
) -> Result<Option<Option<super::inputs::Autoscaling>>, Error> {
    if old.autoscaling.is_none() {
        return Ok(None);
    }
    let cluster = aws_names::cluster(&old.project);
    let resource_id = scaling::ecs_service_resource_id(&cluster, &old.name);
    let scaling = env.cloud.autoscaling.as_ref();
    let (target, policies) = futures::join!(
        scaling.ecs_service_target(&resource_id),
        scaling.ecs_service_policies(&resource_id)
    );
    let failed =
        |e: crate::cloud::CloudError| Error::Failed(format!("Application Auto Scaling: {e}"));
    let target = target.map_err(failed)?;
    let policies = policies.map_err(failed)?;
    Ok(Some(scaling::autoscaling_from_live(
        &cluster,
        &old.name,
        target.as_ref(),
        &policies,
    )))
}

/// The role's managed policy ARNs and the document of its statements' inline policy. A role
/// deleted outside Pulumi allows nothing: no policies, no statements.
async fn read_role(
    env: &Runtime,
    role: &str,
) -> Result<(Vec<String>, Option<serde_json::Value>), Error> {
    let roles = env.cloud.roles.as_ref();
    let (attached, document) = futures::join!(
        roles.attached_policies(role),
        roles.inline_policy(role, task_role::STATEMENTS_POLICY)
    );
    let failed = |e: crate::cloud::CloudError| Error::Failed(format!("IAM: {e}"));
    let attached = match attached {
        Ok(arns) => arns,
        Err(e) if e.is_not_found() => return Ok((Vec::new(), None)),
        Err(e) => return Err(failed(e)),
    };
    Ok((attached, document.map_err(failed)?))
}
