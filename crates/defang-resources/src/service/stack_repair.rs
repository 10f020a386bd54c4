//! `up` puts back what the service's own stack holds outside ECS when it changed outside
//! Pulumi: the autoscaling range and policies (Application Auto Scaling) and the managed
//! policies and statements of the service's own task role (IAM), the things refresh reads back
//! ([`super::stack_drift`]). CloudFormation reconciles templates, not drift: when only the
//! outside changed, the template `up` sends is unchanged and CloudFormation does nothing, so
//! after the stack is applied the live values are read, compared as refresh compares them, and
//! only where they differ are the template's own values written directly. Writing exactly what
//! the template says makes AWS match what CloudFormation already believes the resources hold,
//! so later stack updates (which CloudFormation computes from its template, not from AWS) stay
//! consistent. Nothing is written when nothing drifted; previews never get here.

use super::inputs::ResolvedService;
use super::{scaling, task_role};
use crate::cloud::CloudError;
use crate::project::ProjectInfo;
use crate::runtime::Runtime;
use crate::wait::retry_settling;
use pulumi_plugin::{Context, Error};

fn iam_failed(e: CloudError) -> Error {
    Error::Failed(format!("IAM: {e}"))
}

fn scaling_failed(e: CloudError) -> Error {
    Error::Failed(format!("Application Auto Scaling: {e}"))
}

/// Puts back the managed policies and the statements' inline policy of the role the service's
/// stack made, `role_arn` (its output `TaskRoleArn`). Only that role: the caller passes it
/// from the stack it has claimed (so the role is CloudFormation's, made for this service), and
/// never for a service that runs as a `taskRoleArn` of the user's. A role deleted outside
/// Pulumi is warned about, not made again (CloudFormation still believes it exists).
pub(super) async fn repair_role(
    env: &Runtime,
    ctx: &Context,
    svc: &ResolvedService,
    project: &ProjectInfo,
    role_arn: &str,
) -> Result<(), Error> {
    if svc.task_role_arn.is_some() {
        return Ok(());
    }
    let role = task_role::role_name(role_arn);
    let roles = env.cloud.roles.as_ref();
    let (attached, document) = futures::join!(
        roles.attached_policies(role),
        roles.inline_policy(role, task_role::STATEMENTS_POLICY)
    );
    let attached = match attached {
        Ok(arns) => arns,
        Err(e) if e.is_not_found() && e.operation() == "ListAttachedRolePolicies" => {
            ctx.log
                .warn(&format!(
                    "the service's IAM role {role} does not exist (deleted outside Pulumi?): \
                     its tasks cannot get their permissions, and its policies cannot be put \
                     back; `pulumi destroy` and `pulumi up` make the service again with its role"
                ))
                .await;
            return Ok(());
        }
        Err(e) => return Err(iam_failed(e)),
    };
    let document = document.map_err(iam_failed)?;
    // The role's ARN names its partition; the project's execution role is in the same one.
    let partition = task_role::partition_of(role_arn)
        .or_else(|| task_role::partition_of(&project.execution_role_arn))
        .unwrap_or("aws");
    let repair = task_role::role_repair(svc, partition, &attached, document.as_ref());
    if repair.is_empty() {
        return Ok(());
    }
    // Detached first: a role's managed policies are limited (10 by default), and what goes
    // is what the program does not allow anyway.
    for arn in &repair.detach {
        let done = retry_settling(
            ctx,
            &format!("detach a policy from IAM role {role}"),
            || roles.detach_policy(role, arn),
        )
        .await;
        match done {
            // Already detached meanwhile: what was wanted.
            Err(e) if e.is_not_found() && e.operation() == "DetachRolePolicy" => {}
            other => other.map_err(iam_failed)?,
        }
    }
    for arn in &repair.attach {
        retry_settling(ctx, &format!("attach a policy to IAM role {role}"), || {
            roles.attach_policy(role, arn)
        })
        .await
        .map_err(iam_failed)?;
    }
    let statements = match &repair.statements {
        task_role::StatementsRepair::Keep => None,
        task_role::StatementsRepair::Put(document) => {
            retry_settling(
                ctx,
                &format!(
                    "put inline policy {} of IAM role {role}",
                    task_role::STATEMENTS_POLICY
                ),
                || roles.put_inline_policy(role, task_role::STATEMENTS_POLICY, document),
            )
            .await
            .map_err(iam_failed)?;
            Some("put back")
        }
        task_role::StatementsRepair::Delete => {
            let done = retry_settling(
                ctx,
                &format!(
                    "delete inline policy {} of IAM role {role}",
                    task_role::STATEMENTS_POLICY
                ),
                || roles.delete_inline_policy(role, task_role::STATEMENTS_POLICY),
            )
            .await;
            match done {
                Err(e) if e.is_not_found() && e.operation() == "DeleteRolePolicy" => {}
                other => other.map_err(iam_failed)?,
            }
            Some("deleted")
        }
    };
    // What was done, never the values (`policies` and `policyStatements` may be secret).
    let mut done = Vec::new();
    if !repair.detach.is_empty() {
        done.push(format!(
            "detached {} managed polic{} the program does not have",
            repair.detach.len(),
            if repair.detach.len() == 1 { "y" } else { "ies" }
        ));
    }
    if !repair.attach.is_empty() {
        done.push(format!(
            "attached {} of the program's managed polic{} again",
            repair.attach.len(),
            if repair.attach.len() == 1 { "y" } else { "ies" }
        ));
    }
    if let Some(how) = statements {
        done.push(format!(
            "{how} the inline policy `{}` as `policyStatements` says",
            task_role::STATEMENTS_POLICY
        ));
    }
    ctx.log
        .info(&format!(
            "IAM role {role} had changed outside Pulumi; put back to the program: {}",
            done.join(", ")
        ))
        .await;
    Ok(())
}

/// Puts back the service's scalable target (its range, or itself when it was deregistered)
/// and its target tracking policies, with exactly the names and configuration its stack gives
/// them. Only once the ECS service exists and its stack holds them; the target is the one of
/// this service in the project's cluster (the ECS service the deploy has checked is ours), and
/// only the service's own policies are put or deleted. `target_group_arn` is the first ingress
/// port's target group (the requests policy counts its requests).
pub(super) async fn repair_autoscaling(
    env: &Runtime,
    ctx: &Context,
    svc: &ResolvedService,
    project: &ProjectInfo,
    target_group_arn: Option<&str>,
) -> Result<(), Error> {
    let Some(planned) = scaling::planned_scaling(svc, project, target_group_arn) else {
        return Ok(());
    };
    let scaler = env.cloud.autoscaling.as_ref();
    let resource_id = planned.resource_id.as_str();
    let (target, policies) = futures::join!(
        scaler.ecs_service_target(resource_id),
        scaler.ecs_service_policies(resource_id)
    );
    let target = target.map_err(scaling_failed)?;
    let policies = policies.map_err(scaling_failed)?;
    let repair = scaling::scaling_repair(
        &planned,
        &project.cluster_name,
        &svc.name,
        target.as_ref(),
        &policies,
    );
    if repair.is_empty() {
        return Ok(());
    }
    if repair.register {
        retry_settling(
            ctx,
            &format!("register the scalable target {resource_id}"),
            || scaler.register_ecs_service_target(resource_id, planned.min, planned.max),
        )
        .await
        .map_err(scaling_failed)?;
    }
    for policy in &repair.put {
        retry_settling(ctx, &format!("put scaling policy {}", policy.name), || {
            scaler.put_target_tracking_policy(resource_id, policy)
        })
        .await
        .map_err(scaling_failed)?;
    }
    for name in &repair.delete {
        let done = retry_settling(ctx, &format!("delete scaling policy {name}"), || {
            scaler.delete_scaling_policy(resource_id, name)
        })
        .await;
        match done {
            // Gone meanwhile: what was wanted.
            Err(e) if e.is_not_found() && e.operation() == "DeleteScalingPolicy" => {}
            other => other.map_err(scaling_failed)?,
        }
    }
    // What was done, never the values (`autoscaling` may be secret).
    let mut done = Vec::new();
    if repair.register {
        done.push(match target {
            None => "registered the scalable target again (it was deregistered)".to_string(),
            Some(_) => "set its range".to_string(),
        });
    }
    if !repair.put.is_empty() {
        let names: Vec<&str> = repair.put.iter().map(|p| p.name.as_str()).collect();
        done.push(format!("put scaling policies {}", names.join(", ")));
    }
    if !repair.delete.is_empty() {
        done.push(format!(
            "deleted scaling policies {} the program does not have",
            repair.delete.join(", ")
        ));
    }
    ctx.log
        .info(&format!(
            "the autoscaling of {resource_id} had changed outside Pulumi; put back to the \
             program: {}",
            done.join(", ")
        ))
        .await;
    Ok(())
}
