//! A project's load balancer, public zone and certificate made when its first service with an
//! ingress port deploys (`loadBalancer` unset): the service turns the project stack's `Ingress`
//! parameter on, the template kept as it is, so it needs nothing of the project's inputs and
//! preview never promises an ingress port that `up` would refuse.

use super::ingress::outputs::LOAD_BALANCER_ARN;
use super::outputs::ProjectInfo;
use super::template::INGRESS;
use crate::aws_names;
use crate::cloudformation::stacks::{
    Cfn, cloud_failed, ensure_claim, failure_reasons, is_success, wait_for_stack,
};
use crate::ownership::{Claim, attempt_token};
use pulumi_plugin::{Context, Error};

/// Why `project` (which has no load balancer) cannot serve an ingress port, with the fix;
/// `None` when its first ingress service may make the load balancer. Check says it at the
/// port's path, `ensure_ingress` before anything is deployed.
pub fn refusal(project: &ProjectInfo) -> Option<String> {
    match project.load_balancer_policy.as_deref() {
        Some("auto") => None,
        Some("never") => Some(format!(
            "is an ingress port, but project \"{}\" has `loadBalancer: false`: remove that (the project's load balancer is then made for this service), or make the port `mode: host` (private)",
            project.name
        )),
        _ => Some(format!(
            "is an ingress port, but project \"{}\" has no load balancer and was deployed by an earlier version of the provider: set `loadBalancer: true` on the project, or make the port `mode: host` (private)",
            project.name
        )),
    }
}

/// What a service with an ingress port needs of `project`: its ingress, made now if the
/// project's policy allows; `Err` says what to change when it does not. `port` and `service`
/// are for messages.
pub(crate) async fn ensure_ingress(
    cfn: Cfn<'_>,
    project: ProjectInfo,
    (service, port): (&str, u16),
    ctx: &Context,
) -> Result<ProjectInfo, Error> {
    if project.ingress.is_some() {
        return Ok(project);
    }
    if let Some(reason) = refusal(&project) {
        return Err(Error::Failed(format!(
            "port {port} of service \"{service}\" {reason}"
        )));
    }
    let name = aws_names::project_stack(&project.name);
    let claim = Claim::project(&project.name, None);
    let mut announced = false;
    // Services deploying at once may all find no load balancer: one update runs, the others
    // find the stack busy, wait for it, and find the load balancer made.
    for _ in 0..20 {
        let found = cfn
            .stacks
            .describe_stack(&name)
            .await
            .map_err(cloud_failed)?
            .ok_or_else(|| gone(&project.name))?;
        ensure_claim(&found, &claim)?;
        let settled = wait_for_stack(&cfn, &name, ctx)
            .await?
            .ok_or_else(|| gone(&project.name))?;
        if settled.outputs.contains_key(LOAD_BALANCER_ARN) {
            return ProjectInfo::from_stack(&settled).map_err(Error::Failed);
        }
        if !announced {
            ctx.log
                .info(&format!(
                    "project \"{}\" has no load balancer yet: making its load balancer, public zone and certificate for service \"{service}\"",
                    project.name
                ))
                .await;
            announced = true;
        }
        let on = [(INGRESS.to_string(), "true".to_string())].into();
        match cfn
            .stacks
            .update_parameters(&name, &on, &attempt_token("ingress-on"))
            .await
        {
            Ok(_) => {
                let after = wait_for_stack(&cfn, &name, ctx)
                    .await?
                    .ok_or_else(|| gone(&project.name))?;
                if !is_success(&after.status) || !after.outputs.contains_key(LOAD_BALANCER_ARN) {
                    return Err(Error::Failed(format!(
                        "making project \"{}\"'s load balancer failed (stack {name} is {}): {}",
                        project.name,
                        after.status,
                        failure_reasons(cfn.stacks, &name).await
                    )));
                }
                return ProjectInfo::from_stack(&after).map_err(Error::Failed);
            }
            // Another service (or the project) is updating the stack: wait, and look again.
            Err(e) if e.is_busy() => continue,
            Err(e) => return Err(cloud_failed(e)),
        }
    }
    Err(Error::Failed(format!(
        "project \"{}\"'s stack {name} stayed busy: run `pulumi up` again",
        project.name
    )))
}

fn gone(project: &str) -> Error {
    Error::Failed(format!(
        "project \"{project}\"'s stack disappeared while its load balancer was being made"
    ))
}
