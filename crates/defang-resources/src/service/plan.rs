//! What a service will be, before anything is touched: Check (inputs, and what only the
//! configured provider can tell: domain lengths, the user's zone, the project's load balancer),
//! Diff (inputs, build sources, secretness) and the outputs a preview plans.

use super::inputs::{ResolvedService, ServiceInputs};
use super::lifecycle::{custom_domain_zone, decode, resolve};
use super::outputs::{Deployed, ServiceOutputs};
use super::secrets;
use super::status::ServiceStatus;
use crate::aws_names;
use crate::build::image_build::current_build_hash;
use crate::project::ProjectInfo;
use crate::runtime::Runtime;
use pulumi_plugin::{CheckFailure, Context, Diff, DiffRequest, Error, Value};

/// The checks that need the configured provider: the domain must fit DNS limits with this
/// user's name, a custom domain needs the user's zone, and ingress ports need the project's
/// load balancer. Only for inputs that passed the other checks.
pub async fn check_live(
    env: &Runtime,
    resource_name: &str,
    parsed: &ServiceInputs,
) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    let Ok(svc) = parsed.resolved(resource_name) else {
        return failures;
    };
    let project = match env
        .project_lookups
        .get(
            env.cloud.stacks.as_ref(),
            &aws_names::project_stack(&svc.project),
        )
        .await
    {
        Ok(Some(stack)) => ProjectInfo::from_stack(&stack).ok(),
        _ => None,
    };
    let adopted = project.as_ref().and_then(adopted_zone);
    if let Err(failure) = super::domain::check_domain_length(
        &svc,
        &env.config.username,
        &env.config.domain_suffix,
        adopted.as_deref(),
    ) {
        failures.push(failure);
    }
    // A custom domain needs the user's zone; say so before anything is created.
    if let Some(domain) = &svc.domain_name
        && let Err(Error::Failed(reason)) = custom_domain_zone(env, domain).await
    {
        let reason = reason.strip_prefix("domainName: ").unwrap_or(&reason);
        failures.push(CheckFailure::new("domainName", reason));
    }
    // Ingress ports need the project's load balancer, which the first ingress service
    // makes unless the project says `loadBalancer: false` (or was made before projects
    // could). A project that exists already can be asked now; one created in the same
    // update is checked when the service deploys.
    if let Some(port) = svc.first_ingress_port()
        && let Some(project) = &project
        && project.ingress.is_none()
        && let Some(reason) = crate::project::auto_ingress::refusal(project)
    {
        let index = svc.ports.iter().position(|p| p == port).unwrap_or_default();
        failures.push(CheckFailure::new(
            format!("ports[{index}].mode"),
            format!("port {} {reason}", port.target),
        ));
    }
    failures
}

/// The diff beyond the inputs' (`planned`): build sources and secretness are not inputs.
pub async fn diff(req: &DiffRequest, mut diff: Diff) -> Diff {
    // Sources are not inputs: a changed file changes the build hash, which is an update (a
    // rebuild). A build that failed last time is retried.
    if let Ok((_, svc)) = decode(&req.news, &req.name)
        && svc.build.is_some()
        && !diff.detailed.keys().any(|k| k.starts_with("build"))
    {
        let old_hash = req.old_outputs.get("buildHash").and_then(Value::as_str);
        let failed = req.old_outputs.get("status").and_then(Value::as_str)
            == Some(ServiceStatus::BuildFailed.as_str());
        let changed = match current_build_hash(&svc, None).await {
            Ok(hash) => old_hash != Some(hash.as_str()),
            Err(_) => true,
        };
        if changed || failed {
            diff.add(
                &pulumi_plugin::PropertyPath::root().key("build"),
                pulumi_plugin::DiffKind::Update,
                false,
            );
        }
    }
    // A variable made secret (or plain) with the same value moves between the task definition
    // and SSM: a change, though the value compares equal.
    for var in secrets::secretness_changes(&req.old_inputs, &req.news) {
        diff.add(
            &pulumi_plugin::PropertyPath::root()
                .key("environment")
                .key(&var),
            pulumi_plugin::DiffKind::Update,
            false,
        );
    }
    // ECS service names are unique per cluster: the old service goes before the new one.
    diff.delete_before_replace = true;
    diff
}

/// Planned outputs for a preview, and what `up` will do that preview cannot show as a resource,
/// said as a warning (see [`preview_notes`]). Inputs that are not known yet resolve to
/// stand-ins so the rest can be planned; every output that depends on them is unknown (see
/// [`super::outputs::OUTPUT_SOURCES`]). The project is read once (and shared by the Checks and
/// previews of its other services, see [`crate::project::lookups`]).
pub(super) async fn preview(
    env: &Runtime,
    ctx: &Context,
    inputs: &ServiceInputs,
    resource_name: &str,
) -> Result<ServiceOutputs, Error> {
    // A project that exists already may have its own domain; a new one is planned with the
    // default pattern (its domain is known once it exists).
    let project = match inputs.project.known() {
        Some(project) => existing_project(env, project).await,
        None => None,
    };
    let mut svc = resolve_planned(inputs, resource_name)?;
    if !inputs.has_stand_ins() {
        preview_notes(ctx, &svc, project.as_ref()).await;
    }
    svc.adopted_zone = project.as_ref().and_then(adopted_zone);
    Ok(ServiceOutputs::of(&svc, env, Deployed::default()))
}

/// The service a preview plans: an `image` not known yet (neither it nor `build` is there,
/// which Check refuses outside a preview) is planned as no image yet, as for a build; its
/// `deployedImage` is unknown.
pub(super) fn resolve_planned(
    inputs: &ServiceInputs,
    resource_name: &str,
) -> Result<ResolvedService, Error> {
    if inputs.image.is_none() && inputs.build.is_none() {
        let mut planned = inputs.clone();
        planned.image = Some(String::new());
        return resolve(&planned, resource_name);
    }
    resolve(inputs, resource_name)
}

/// A project that exists already (best effort, from what Check read lately: for previews and
/// refresh).
async fn existing_project(env: &Runtime, project: &str) -> Option<ProjectInfo> {
    match env
        .project_lookups
        .get(
            env.cloud.stacks.as_ref(),
            &aws_names::project_stack(project),
        )
        .await
    {
        Ok(Some(stack)) => ProjectInfo::from_stack(&stack).ok(),
        _ => None,
    }
}

/// The adopted zone of a project that exists already (see [`existing_project`]).
pub(super) async fn existing_adopted_zone(env: &Runtime, project: &str) -> Option<String> {
    existing_project(env, project)
        .await
        .as_ref()
        .and_then(adopted_zone)
}

/// The project's zone when it adopted one of the user's (not `<project>.<username>.<suffix>`).
pub(super) fn adopted_zone(project: &ProjectInfo) -> Option<String> {
    project
        .ingress
        .as_ref()
        .filter(|i| i.adopted)
        .map(|i| i.zone_name.clone())
}

/// What `up` will do that preview cannot show as a resource, said as a warning: the first
/// ingress service of a project makes the project's load balancer, zone and certificate.
async fn preview_notes(ctx: &Context, svc: &ResolvedService, project: Option<&ProjectInfo>) {
    let Some(port) = svc.first_ingress_port() else {
        return;
    };
    if let Some(project) = project
        && project.ingress.is_none()
        && project.load_balancer_policy.as_deref() == Some("auto")
    {
        ctx.log
            .warn(&format!(
                "port {} is the first ingress port of project \"{}\": `up` makes the project's HTTPS load balancer, public zone and wildcard certificate (the load balancer is billed by the hour)",
                port.target, svc.project
            ))
            .await;
    }
}
