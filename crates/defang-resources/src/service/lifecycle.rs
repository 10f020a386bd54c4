//! Deploying a service (create and update): a task definition revision and an ECS service on
//! Fargate with the circuit breaker on, waited on until the rollout settles. What is planned
//! before is in [`super::plan`], refresh in [`super::refresh`], delete in [`super::delete`].

use super::deployed_names;
use super::inputs::PortMode;
use super::inputs::{ResolvedService, ServiceInputs};
use super::network_stack;
use super::outputs::{Deployed, ServiceOutputs};
use super::plan::{adopted_zone, preview, resolve_planned};
use super::rollout::{RolloutEnd, describe_one, wait_for_rollout};
use super::rule_priorities;
use super::scaling;
use super::secrets;
use super::stack_repair;
use super::status::{ServiceStatus, failure_reason, rollout_status};
use super::task_definition::plan_task_definition;
use crate::aws_names;
use crate::build::image_build::{BuildFailure, build_image, current_build_hash};
use crate::cloud::{LoadBalancerTarget, Routing, StackRequest, StackState};
use crate::cloud::{ServiceSpec, ServiceState, ServiceUpdate};
use crate::cloudformation::stacks::{Applied, apply_stack, apply_stack_from, ensure_claim};
use crate::ownership::{Claim, OWNER_TAG, client_token, owner_id};
use crate::project::ProjectInfo;
use crate::runtime::Runtime;
use crate::wait::retry_settling;
use pulumi_plugin::value::{Computed, MaybeSecret, from_properties, to_properties};
use pulumi_plugin::{Context, Create, Error, PartialState, PropertyMap, Update, Value};
use std::time::Duration;

pub const TOKEN: &str = "defang:index:Service";

/// Identity: another project or name is another ECS service.
/// Inputs whose change replaces the resource (the diff, and the schema's `willReplaceOnChanges`).
pub const REPLACE_ON_CHANGES: &[&str] = &["project", "name"];

/// Behind a load balancer, new tasks get a minute to start before failed health checks count
/// (otherwise slow starters are killed in a loop), unless `healthCheckGracePeriod` says.
pub const DEFAULT_HEALTH_CHECK_GRACE_PERIOD: u32 = 60;

/// Rollouts behind health checks can take a while; users can set customTimeouts.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// `<project>/<service>`: readable, and enough to find the service for refresh and import.
pub fn service_id(project: &str, name: &str) -> String {
    format!("{project}/{name}")
}

pub(super) fn parse_id(id: &str) -> Result<(&str, &str), Error> {
    id.split_once('/')
        .filter(|(p, s)| !p.is_empty() && !s.is_empty() && !s.contains('/'))
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "\"{id}\" is not a service id; ids look like <project>/<service>, e.g. shop/web"
            ))
        })
}

pub(super) fn decode(
    inputs: &PropertyMap,
    resource_name: &str,
) -> Result<(ServiceInputs, ResolvedService), Error> {
    let parsed: ServiceInputs =
        from_properties(inputs).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let resolved = resolve(&parsed, resource_name)?;
    Ok((parsed, resolved))
}

/// [`ServiceInputs::resolved`], with what it refuses as an error.
pub(super) fn resolve(
    inputs: &ServiceInputs,
    resource_name: &str,
) -> Result<ResolvedService, Error> {
    inputs
        .resolved(resource_name)
        .map_err(|f| Error::InvalidArgument(format!("{}: {}", f.property, f.reason)))
}

async fn project_info(env: &Runtime, project: &str) -> Result<ProjectInfo, Error> {
    let stack = env
        .cloud
        .stacks
        .describe_stack(&aws_names::project_stack(project))
        .await
        .map_err(|e| Error::Failed(format!("CloudFormation: {e}")))?
        .ok_or_else(|| {
            Error::Failed(format!(
                "project \"{project}\" does not exist in {}: declare a defang:index:Project named \"{project}\" and pass its `name` output as this service's `project` (that also makes Pulumi create the project first)",
                env.cloud.region
            ))
        })?;
    ProjectInfo::from_stack(&stack).map_err(Error::Failed)
}

fn service_tags(urn: &str, svc: &ResolvedService) -> Vec<(String, String)> {
    vec![
        ("defang:project".into(), svc.project.clone()),
        ("defang:service".into(), svc.name.clone()),
        (OWNER_TAG.into(), owner_id(urn)),
    ]
}

pub(super) fn ecs_failed(e: crate::cloud::CloudError) -> Error {
    Error::Failed(format!("ECS: {e}"))
}

pub async fn create(
    env: &Runtime,
    req: Create<ServiceInputs>,
    ctx: Context,
) -> Result<(String, ServiceOutputs), Error> {
    if req.preview {
        let outputs = preview(env, &ctx, &req.inputs, &req.name).await?;
        return Ok((String::new(), outputs));
    }
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let svc = resolve(&req.inputs, &req.name)?;
    let id = service_id(&svc.project, &svc.name);
    // Boxed: the deploy's state is kilobytes, and a future holding it inline was copied whole
    // into the box of every Create, previews too (callgrind: a third of a preview's memcpy).
    let outputs = Box::pin(deploy(env, &ctx, &req.urn, &req.inputs, svc, None, None)).await?;
    Ok((id, outputs))
}

pub async fn update(
    env: &Runtime,
    req: Update<ServiceInputs, ServiceOutputs>,
    ctx: Context,
) -> Result<ServiceOutputs, Error> {
    if req.preview {
        let mut outputs = preview(env, &ctx, &req.news, &req.name).await?;
        // The service keeps its ARN; an unchanged build keeps its image.
        outputs.service_arn = req.olds.service_arn.clone();
        let svc = resolve_planned(&req.news, &req.name)?;
        // With autoscaling, the count that will run is the live one (kept, or moved into a
        // new range), not `min`.
        if svc.autoscaling.is_some()
            && let Computed::Known(live) = req.olds.desired_count
        {
            let live = i32::try_from(live).unwrap_or(i32::MAX);
            let planned = scaling::desired_count(&svc, Some(live));
            outputs.desired_count = Computed::Known(planned.unwrap_or(live as u32));
        }
        if svc.build.is_some()
            && let Ok(hash) = current_build_hash(&svc, Some(&ctx)).await
            && req.olds.build_hash.as_ref().map(|h| h.value.as_str()) == Some(hash.as_str())
        {
            outputs.build_hash = req.olds.build_hash.clone();
            outputs.deployed_image = req.olds.deployed_image.clone();
        }
        return Ok(outputs);
    }
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let svc = resolve(&req.news, &req.name)?;
    // Boxed, as in `create`.
    Box::pin(deploy(
        env,
        &ctx,
        &req.urn,
        &req.news,
        svc,
        Some(&req.olds),
        req.old_inputs.as_ref(),
    ))
    .await
}

/// Brings the service to `svc`: builds its image when it is built from source, registers a
/// task definition revision when the task changed, creates or updates the ECS service, and
/// waits for the rollout. `old` and `old_inputs` hold the previous outputs and inputs on update.
async fn deploy(
    env: &Runtime,
    ctx: &Context,
    urn: &str,
    inputs: &ServiceInputs,
    mut svc: ResolvedService,
    old: Option<&ServiceOutputs>,
    old_inputs: Option<&ServiceInputs>,
) -> Result<ServiceOutputs, Error> {
    let project = project_info(env, &svc.project).await?;
    let ecs = env.cloud.ecs.as_ref();
    let cluster = project.cluster_name.clone();
    let id = service_id(&svc.project, &svc.name);
    let old_task_definition = old
        .and_then(|o| o.task_definition_arn.known())
        .map(String::as_str);

    // Ownership before any side effect. On create, only what this resource made (a Create
    // retried after a crash) may be taken over; on update, what belongs to this service (the
    // one in the state, perhaps imported and so tagged by another owner).
    let claim = Claim::service(&svc.project, &svc.name, old.is_none().then_some(urn));
    let existing = describe_one(ecs, &cluster, &svc.name)
        .await?
        .filter(ServiceState::is_active);
    if old.is_none()
        && let Some(existing) = &existing
        && existing.tag(OWNER_TAG) != Some(owner_id(urn).as_str())
    {
        return Err(Error::Failed(format!(
            "an ECS service named \"{}\" already exists in cluster {cluster}, made by another Pulumi stack or tool, and was left untouched. {}",
            svc.name, claim.fix
        )));
    }
    let (stack_name, stack) =
        deployed_names::service_stack(env.cloud.stacks.as_ref(), &svc.project, &svc.name).await?;
    if let Some(stack) = &stack {
        ensure_claim(stack, &claim)?;
    }
    // The first ingress service of a project makes its load balancer, zone and certificate.
    let project = match svc.first_ingress_port() {
        Some(port) => {
            // It may turn the project's ingress on: Check must read the project again.
            let _changing = env
                .project_lookups
                .changing(&aws_names::project_stack(&svc.project));
            crate::project::auto_ingress::ensure_ingress(
                crate::cloudformation::stacks::Cfn::of(env),
                project,
                (&svc.name, port.target),
                ctx,
            )
            .await?
        }
        None => project,
    };
    svc.adopted_zone = adopted_zone(&project);

    let mut build_hash = None;
    if svc.build.is_some() {
        match build_image(env, ctx, &svc, &project).await {
            Ok(built) => {
                svc.image = built.image;
                build_hash = Some(built.build_hash);
            }
            Err(failure) => return Err(build_failed(env, &svc, &id, old, failure)),
        }
    }

    // A role the service's stack has is kept while the service lives (see `task_role`).
    svc.own_task_role_exists = stack.as_ref().is_some_and(|s| {
        s.outputs
            .contains_key(network_stack::outputs::TASK_ROLE_ARN)
    });
    // Autoscaling's scalable target needs the ECS service (see `scaling`).
    svc.ecs_service_exists = existing.is_some();
    let svc = svc;

    let rollout = async {
        let deployed = match old_task_definition {
            Some(arn) => ecs.describe_task_definition(arn).await.ok().flatten(),
            None => None,
        };
        let deployed_secrets = deployed
            .as_ref()
            .map(|td| td.spec.container.secrets.clone())
            .unwrap_or_default();
        let secret_refs =
            store_secrets(env, urn, &svc, inputs, old_inputs, &deployed_secrets).await?;

        // The service's stack first: the task definition names its role, and the execution
        // role must be allowed the secrets before a task reads them.
        let applied =
            match apply_network_stack(env, ctx, urn, (&stack_name, &claim, stack), &svc, &project)
                .await
            {
                Ok(applied) => applied,
                Err(Error::Interrupted(why)) => {
                    return Err(interrupted_before_rollout(env, &svc, &id, old, why));
                }
                Err(e) => return Err(e),
            };
        let NetworkApplied {
            security_group,
            routing,
            task_role_arn,
        } = applied;
        // The role's policies as the program says, before tasks start with it: CloudFormation
        // does not put back what changed outside Pulumi (see `stack_repair`). The role is the
        // output of the stack claimed above; never a `taskRoleArn` of the user's. A role the
        // stack has just made holds the template's values (and IAM may not list it yet).
        if let Some(role_arn) = &task_role_arn
            && svc.task_role_arn.is_none()
            && svc.own_task_role_exists
        {
            stack_repair::repair_role(env, ctx, &svc, &project, role_arn).await?;
        }
        // The requests policy counts the first ingress port's target group.
        let target_group_arn = svc
            .first_ingress_port()
            .and_then(|port| {
                routing
                    .load_balancers
                    .iter()
                    .find(|lb| lb.container_port == port.target)
            })
            .map(|lb| lb.target_group_arn.clone());

        let mut spec = plan_task_definition(&svc, &project, &env.cloud.region, &secret_refs);
        spec.family = deployed_names::task_family(&svc.project, &svc.name, old_task_definition);
        if spec.task_role_arn.is_none() {
            spec.task_role_arn = task_role_arn;
        }
        // A changed secret is a new parameter, so a new revision: no forced restart is needed.
        // ECS Exec turned on or off takes effect in tasks started afterwards: restart them.
        let exec_changed = existing
            .as_ref()
            .is_some_and(|s| s.enable_execute_command != svc.enable_exec);
        // A new capacity provider strategy starts no deployment by itself: the tasks move to
        // the new capacity with a forced one.
        let capacity_provider_strategy = existing
            .as_ref()
            .and_then(|s| scaling::strategy_update(&svc, &s.capacity_provider_strategy));
        let force_new_deployment = exec_changed || capacity_provider_strategy.is_some();
        // Register a revision only when the task changes, so that replicas-only or
        // waitForSteadyState-only edits do not restart every task.
        let td_arn = match &deployed {
            Some(td) if td.spec == spec => td.arn.clone(),
            _ => retry_settling(ctx, "register task definition", || {
                ecs.register_task_definition(&spec)
            })
            .await
            .map_err(ecs_failed)?,
        };
        // ECS accepts a grace period only with load balancers.
        let health_check_grace_period = (!routing.load_balancers.is_empty()).then(|| {
            svc.health_check_grace_period
                .unwrap_or(DEFAULT_HEALTH_CHECK_GRACE_PERIOD)
        });

        let network = crate::cloud::NetworkSpec {
            subnets: project.subnet_ids.clone(),
            // Membership of the project, and the service's own port rules.
            security_groups: vec![project.security_group_id.clone(), security_group],
            assign_public_ip: project.assign_public_ip,
        };
        let update = ServiceUpdate {
            cluster: cluster.clone(),
            name: svc.name.clone(),
            task_definition_arn: Some(td_arn.clone()),
            // With autoscaling, the count the scaler chose stays (see `scaling`).
            desired_count: scaling::desired_count(&svc, existing.as_ref().map(|s| s.desired_count)),
            network: Some(network.clone()),
            routing: Some(routing.clone()),
            enable_execute_command: Some(svc.enable_exec),
            health_check_grace_period_seconds: health_check_grace_period,
            capacity_provider_strategy,
            force_new_deployment,
        };
        let created = existing.is_none();
        let state = match existing {
            Some(_) => {
                if old.is_none() {
                    ctx.log.info(&format!("resuming service {id}")).await;
                }
                retry_settling(ctx, "update ECS service", || ecs.update_service(&update))
                    .await
                    .map_err(ecs_failed)?
            }
            // New, or never created because its first build failed.
            None => {
                let spec = ServiceSpec {
                    cluster: cluster.clone(),
                    name: svc.name.clone(),
                    task_definition_arn: td_arn.clone(),
                    desired_count: svc.replicas,
                    network,
                    routing,
                    enable_execute_command: svc.enable_exec,
                    health_check_grace_period_seconds: health_check_grace_period,
                    capacity_provider_strategy: scaling::capacity_strategy(&svc),
                    tags: service_tags(urn, &svc),
                    client_token: client_token(urn, "create-service", &td_arn),
                };
                // A target group CloudFormation just attached may not be usable yet.
                let created =
                    retry_settling(ctx, "create ECS service", || ecs.create_service(&spec)).await;
                match created {
                    Ok(state) => state,
                    // A create whose answer was lost, retried by the SDK: the first try made it.
                    Err(e) if e.is_already_exists() => {
                        match describe_one(ecs, &cluster, &svc.name).await? {
                            Some(made)
                                if made.is_active()
                                    && made.tag(OWNER_TAG) == Some(owner_id(urn).as_str()) =>
                            {
                                retry_settling(ctx, "update ECS service", || {
                                    ecs.update_service(&update)
                                })
                                .await
                                .map_err(ecs_failed)?
                            }
                            _ => return Err(ecs_failed(e)),
                        }
                    }
                    Err(e) => return Err(ecs_failed(e)),
                }
            }
        };
        // A new service's scalable target and policies join its stack once it exists.
        if created && svc.autoscaling.is_some() {
            let mut with_service = svc.clone();
            with_service.ecs_service_exists = true;
            // The stack as it is now (made above): an update, not a second create.
            let current = env
                .cloud
                .stacks
                .describe_stack(&stack_name)
                .await
                .map_err(|e| Error::Failed(format!("CloudFormation: {e}")))?;
            apply_network_stack(
                env,
                ctx,
                urn,
                (&stack_name, &claim, current),
                &with_service,
                &project,
            )
            .await?;
        }
        // The scalable target and policies as the program says, once the ECS service and its
        // stack hold them: CloudFormation does not put back what changed outside Pulumi (see
        // `stack_repair`). Those of a service just created were just made from the template.
        if svc.autoscaling.is_some() && !created {
            stack_repair::repair_autoscaling(env, ctx, &svc, &project, target_group_arn.as_deref())
                .await?;
        }
        let outputs = settle(env, ctx, &svc, &id, &td_arn, state).await;
        if let Ok(o) = &outputs
            && o.status == Computed::Known(ServiceStatus::ServiceDeploymentCompleted)
        {
            prune_secrets(env, ctx, &svc, &secret_refs).await;
        }
        outputs
    };
    let mut outputs = match rollout.await {
        // A first create that failed after it made something (secrets, a task definition, the
        // service's stack) keeps the service in the state, so `destroy` removes it all and the
        // next `up` continues.
        Err(Error::Failed(reason)) if old.is_none() => Err(build_failed(
            env,
            &svc,
            &id,
            old,
            BuildFailure::Interrupted(reason, ServiceStatus::ServiceDeploymentFailed),
        )),
        other => other,
    };
    // Secret when a build input is (see `OUTPUT_SOURCES`).
    if let Some(hash) = build_hash {
        match &mut outputs {
            Ok(o) => {
                o.build_hash = Some(MaybeSecret {
                    value: hash,
                    secret: false,
                })
            }
            Err(Error::ResourceInitFailed(state)) => {
                state.outputs.insert("buildHash".into(), Value::from(hash));
            }
            Err(_) => {}
        }
    }
    outputs
}

/// Writes the secret environment values to SSM (SecureString), each value to a parameter of
/// its own version (see [`secrets`]); returns the `(variable, parameter ARN)` references for
/// the task definition. `deployed` are the running revision's references, `old_inputs` the
/// inputs it was made from.
async fn store_secrets(
    env: &Runtime,
    urn: &str,
    svc: &ResolvedService,
    inputs: &ServiceInputs,
    old_inputs: Option<&ServiceInputs>,
    deployed: &[(String, String)],
) -> Result<Vec<(String, String)>, Error> {
    let tags = service_tags(urn, svc);
    let new = inputs.secret_environment();
    let old = old_inputs
        .map(ServiceInputs::secret_environment)
        .unwrap_or_default();
    let mut refs = Vec::new();
    for (var, version) in secrets::plan_versions(deployed, &old, &new) {
        let value = &new[&var];
        let name = secrets::parameter_name(&svc.project, &svc.name, &var, version);
        // The error names the parameter, never the value.
        let arn = env
            .cloud
            .parameters
            .put_secure(&name, value, &tags)
            .await
            .map_err(|e| Error::Failed(format!("SSM Parameter Store: {e}")))?;
        refs.push((var, arn));
    }
    Ok(refs)
}

/// Once a rollout has completed (no task can need them again, not even a rollback), deletes
/// the service's parameters that the deployed revision does not reference: older versions, and
/// variables no longer secret or gone. A failure only warns: the service is deployed, and its
/// delete removes every parameter anyway.
async fn prune_secrets(
    env: &Runtime,
    ctx: &Context,
    svc: &ResolvedService,
    secret_refs: &[(String, String)],
) {
    // ARNs end with the parameter's name: `arn:…:parameter/defang/…`.
    let keep: Vec<String> = secret_refs
        .iter()
        .filter_map(|(_, arn)| {
            arn.split_once(":parameter")
                .map(|(_, name)| name.to_string())
        })
        .collect();
    let prefix = secrets::parameter_prefix(&svc.project, &svc.name);
    match env
        .cloud
        .parameters
        .delete_by_path_except(&prefix, &keep)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::debug!(%prefix, n, "deleted unused secret parameters"),
        Err(e) => {
            ctx.log
                .warn(&format!(
                    "could not delete unused secret parameters under {prefix}: {e}"
                ))
                .await
        }
    }
}

/// What the service's own stack gave: its security group, how ECS should register the tasks,
/// and the service's own task role, if it has one.
struct NetworkApplied {
    security_group: String,
    routing: Routing,
    task_role_arn: Option<String>,
}

/// Applies the service's own stack (security group, private name, load balancer routing, DNS
/// and permissions).
async fn apply_network_stack(
    env: &Runtime,
    ctx: &Context,
    urn: &str,
    (stack_name, claim, mut found): (&str, &Claim, Option<StackState>),
    svc: &ResolvedService,
    project: &ProjectInfo,
) -> Result<NetworkApplied, Error> {
    let custom_zone = match &svc.domain_name {
        Some(domain) => Some(custom_domain_zone(env, domain).await?),
        None => None,
    };
    let hosts = network_stack::rule_hosts(svc, project, custom_zone.is_some());
    // Services created at the same time may reach for the same free priority: the one whose
    // stack loses allocates again, from the rules as they are then.
    let mut attempt = 0;
    let (request, stack) = loop {
        attempt += 1;
        let priorities = match (&project.ingress, hosts.is_empty()) {
            (Some(ingress), false) => {
                let rules = env
                    .cloud
                    .listeners
                    .listener_rules(&ingress.https_listener_arn)
                    .await
                    .map_err(|e| Error::Failed(format!("Elastic Load Balancing: {e}")))?;
                rule_priorities::allocate(&hosts, &rules).map_err(Error::Failed)?
            }
            _ => rule_priorities::Priorities::new(),
        };
        let template = network_stack::render(svc, project, custom_zone.as_ref(), &priorities)
            .map_err(Error::Failed)?;
        let request = StackRequest {
            name: stack_name.to_string(),
            template,
            tags: service_tags(urn, svc).into_iter().collect(),
            parameters: Default::default(),
            client_token: String::new(),
        };
        let cfn = crate::cloudformation::stacks::Cfn::of(env);
        // The first attempt starts from the stack as the deploy found it (one call fewer);
        // another, after a priority conflict, describes it again.
        let applied = match (attempt, found.take()) {
            (1, found) => apply_stack_from(&cfn, &request, claim, found, ctx).await?,
            _ => apply_stack(&cfn, &request, claim, ctx).await?,
        };
        match applied {
            Applied::Failed { reason, .. }
                if attempt < 3 && rule_priorities::is_priority_conflict(&reason) =>
            {
                ctx.log
                    .info(&format!(
                        "a listener rule priority was taken meanwhile; allocating again ({reason})"
                    ))
                    .await;
            }
            applied => break (request, applied.done()?),
        }
    };
    let output = |key: &str| {
        stack
            .outputs
            .get(key)
            .cloned()
            .ok_or_else(|| Error::Failed(format!("stack {} has no output {key}", request.name)))
    };
    let mut routing = Routing::default();
    for port in svc.ports.iter().filter(|p| p.mode == PortMode::Ingress) {
        routing.load_balancers.push(LoadBalancerTarget {
            target_group_arn: output(&network_stack::outputs::target_group(port.target))?,
            container_name: svc.name.clone(),
            container_port: port.target,
        });
    }
    if let Some(registry) = stack.outputs.get(network_stack::outputs::REGISTRY_ARN) {
        routing.service_registries.push(registry.clone());
    }
    let task_role_arn = match svc.has_own_task_role() {
        true => Some(output(network_stack::outputs::TASK_ROLE_ARN)?),
        false => None,
    };
    Ok(NetworkApplied {
        security_group: output(network_stack::outputs::SECURITY_GROUP_ID)?,
        routing,
        task_role_arn,
    })
}

/// The user's public zone for a custom domain, or what to do without one.
pub(super) async fn custom_domain_zone(
    env: &Runtime,
    domain: &str,
) -> Result<crate::cloud::HostedZone, Error> {
    env.cloud
        .dns
        .find_public_zone(domain)
        .await
        .map_err(|e| Error::Failed(format!("Route 53: {e}")))?
        .ok_or_else(|| {
            Error::Failed(format!(
                "domainName: this account has no public Route 53 zone for {domain} or its parent domains: create one (and point the domain's registrar at its name servers), or remove `domainName`"
            ))
        })
}

/// Cancelled or timed out before the ECS service was touched: the resource is kept in the
/// state as queued, with what ran before.
fn interrupted_before_rollout(
    env: &Runtime,
    svc: &ResolvedService,
    id: &str,
    old: Option<&ServiceOutputs>,
    why: String,
) -> Error {
    build_failed(
        env,
        svc,
        id,
        old,
        BuildFailure::Interrupted(
            format!(
                "{why} while the service's network was being set up; the next `pulumi up` continues"
            ),
            ServiceStatus::UpdateQueued,
        ),
    )
}

/// A build that did not produce an image: the resource stays in the state with BUILD_FAILED
/// (or the status it had reached when interrupted) and what ran before, so the next `up`
/// builds again; the previous build hash is kept, so it also diffs as a change.
fn build_failed(
    env: &Runtime,
    svc: &ResolvedService,
    id: &str,
    old: Option<&ServiceOutputs>,
    failure: BuildFailure,
) -> Error {
    let (status, reason) = match failure {
        BuildFailure::Failed(reason) => (ServiceStatus::BuildFailed, reason),
        BuildFailure::Interrupted(reason, status) => (status, reason),
        BuildFailure::Error(e) => return e,
    };
    let mut outputs = to_properties(&ServiceOutputs::of(
        svc,
        env,
        Deployed {
            state: None,
            task_definition_arn: None,
            status: Some(status),
        },
    ));
    // What still runs is the previous image, if any.
    ServiceOutputs::keep_deployed(&mut outputs, old);
    Error::ResourceInitFailed(Box::new(PartialState {
        id: id.to_string(),
        outputs,
        inputs: None,
        reasons: vec![reason],
    }))
}

/// Waits for the rollout (unless `waitForSteadyState` is off) and turns its end into outputs,
/// or into a partial failure that keeps the service in Pulumi's state.
async fn settle(
    env: &Runtime,
    ctx: &Context,
    svc: &ResolvedService,
    id: &str,
    td_arn: &str,
    state: ServiceState,
) -> Result<ServiceOutputs, Error> {
    let deployment = state.primary_deployment().map(|d| d.id.clone());
    let outputs_for = |state: &ServiceState, status: ServiceStatus| {
        ServiceOutputs::of(
            svc,
            env,
            Deployed {
                state: Some(state),
                task_definition_arn: Some(td_arn),
                status: Some(status),
            },
        )
    };
    if !svc.wait_for_steady_state {
        let status = rollout_status(&state, deployment.as_deref());
        return Ok(outputs_for(&state, status));
    }
    let cluster = aws_names::cluster(&svc.project);
    let end = wait_for_rollout(
        &env.poller,
        ctx,
        &cluster,
        &svc.name,
        deployment.as_deref(),
        state,
    )
    .await?;
    match end {
        RolloutEnd::Settled(state, ServiceStatus::ServiceDeploymentCompleted) => Ok(outputs_for(
            &state,
            ServiceStatus::ServiceDeploymentCompleted,
        )),
        RolloutEnd::Settled(state, status) => {
            Err(Error::ResourceInitFailed(Box::new(PartialState {
                id: id.to_string(),
                outputs: to_properties(&outputs_for(&state, status)),
                inputs: None,
                reasons: vec![failure_reason(&state, deployment.as_deref())],
            })))
        }
        RolloutEnd::Interrupted(state, status, why) => {
            Err(Error::ResourceInitFailed(Box::new(PartialState {
                id: id.to_string(),
                outputs: to_properties(&outputs_for(&state, status)),
                inputs: None,
                reasons: vec![format!(
                    "{why} while the rollout of {id} was {}; the service exists and the next `pulumi up` checks it again",
                    status.as_str()
                )],
            })))
        }
    }
}
