//! Create, read, update and delete of a project: one CloudFormation stack, waited on with
//! progress shown live, idempotent across retries and crashes.

use super::inputs::{ProjectInputs, ResolvedProject, pulumi_project_of, pulumi_stack_of};
use super::outputs::{ProjectOutputs, inputs_from_stack};
use super::template::render;
use crate::aws_names;
use crate::cloud::{StackRequest, StackState, Stacks};
use crate::cloudformation::stacks::{Applied, Cfn, apply_stack, cloud_failed, delete_once};
use crate::ownership::Claim;
use crate::ownership::{OWNER_TAG, owner_id};
use crate::runtime::Runtime;
use pulumi_plugin::value::{Computed, to_properties};
use pulumi_plugin::{Context, Create, Diff, Error, PartialState, Update};
use std::collections::BTreeMap;
use std::time::Duration;

pub const TOKEN: &str = "defang:index:Project";

/// CloudFormation creates a VPC, cluster and role in a few minutes; deleting can take longer
/// while ENIs of stopped tasks are released.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Inputs whose change replaces the resource (the diff, and the schema's `willReplaceOnChanges`):
/// they make a new stack (name) or a new network, which services cannot move into in place.
pub const REPLACE_ON_CHANGES: &[&str] = &["name", "vpcId", "vpcCidr"];

/// A project of the same name has the same stack name: the old one must go before the new one
/// is made; a new name can be made first.
pub fn order_replacement(mut diff: Diff) -> Diff {
    diff.delete_before_replace = !diff.replaces().iter().any(|k| k == "name");
    diff
}

fn resolve(env: &Runtime, urn: &str, inputs: &ProjectInputs) -> ResolvedProject {
    inputs.resolve(
        pulumi_project_of(urn).unwrap_or_default(),
        &env.config.username,
        &env.config.domain_suffix,
    )
}

fn stack_tags(
    env: &Runtime,
    urn: &str,
    project: &str,
    user: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut tags = user.clone();
    tags.insert("defang:project".into(), project.to_string());
    tags.insert("defang:username".into(), env.config.username.clone());
    tags.insert(OWNER_TAG.into(), owner_id(urn));
    if let Some(stack) = pulumi_stack_of(urn) {
        tags.insert("pulumi:stack".into(), stack.to_string());
    }
    if let Some(project) = pulumi_project_of(urn) {
        tags.insert("pulumi:project".into(), project.to_string());
    }
    tags
}

pub async fn create(
    env: &Runtime,
    req: Create<ProjectInputs>,
    ctx: Context,
) -> Result<(String, ProjectOutputs), Error> {
    let project = resolve(env, &req.urn, &req.inputs);
    let stack = aws_names::project_stack(&project.name);
    let _changing = env.project_lookups.changing(&stack);
    if req.preview {
        return Ok((stack, ProjectOutputs::planned(&project, &env.cloud.region)));
    }
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let stacks = env.cloud.stacks.as_ref();
    let mut project = with_adopted_zone(env, project).await?;
    // A create retried after a crash finds its stack, perhaps with ingress a service turned on.
    let deployed = stacks.describe_stack(&stack).await.map_err(cloud_failed)?;
    project.keep_deployed_ingress(deployed.as_ref());
    let template = render(&project, &env.cloud.region).map_err(Error::InvalidArgument)?;
    let request = StackRequest {
        name: stack.clone(),
        template,
        tags: stack_tags(env, &req.urn, &project.name, &project.tags),
        parameters: super::template::parameters(&project),
        client_token: String::new(),
    };
    // Only a stack this resource made (a Create retried after a crash or timeout) is resumed.
    let claim = Claim::project(&project.name, Some(&req.urn));
    let applied = apply_stack(&Cfn::of(env), &request, &claim, &ctx).await;
    let state = finish(env, &req.inputs, &stack, applied, &ctx, stacks, "create").await?;
    let outputs = ProjectOutputs::of_stack(&req.inputs, &state, &env.cloud.region);
    Ok((stack, outputs))
}

pub async fn update(
    env: &Runtime,
    req: Update<ProjectInputs, ProjectOutputs>,
    ctx: Context,
) -> Result<ProjectOutputs, Error> {
    let mut project = resolve(env, &req.urn, &req.news);
    if req.preview {
        project.keep_load_balancer_name(
            req.olds
                .load_balancer_dns_name
                .as_ref()
                .and_then(Computed::known)
                .map(String::as_str),
        );
        // Keep what is already known and not changing.
        let planned = ProjectOutputs::planned(&project, &env.cloud.region);
        return Ok(planned.keeping_known(&req.olds));
    }
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let stacks = env.cloud.stacks.as_ref();
    let mut project = with_adopted_zone(env, project).await?;
    let stack = req.id.clone();
    let _changing = env.project_lookups.changing(&stack);
    // What is deployed, not what the state says: a service may have turned ingress on since.
    let deployed = stacks.describe_stack(&stack).await.map_err(cloud_failed)?;
    project.keep_deployed_ingress(deployed.as_ref());
    project.keep_load_balancer_name(
        deployed
            .as_ref()
            .and_then(|s| {
                s.outputs
                    .get(super::ingress::outputs::LOAD_BALANCER_DNS_NAME)
            })
            .map(String::as_str),
    );
    let request = StackRequest {
        name: stack.clone(),
        template: render(&project, &env.cloud.region).map_err(Error::InvalidArgument)?,
        tags: stack_tags(env, &req.urn, &project.name, &project.tags),
        parameters: super::template::parameters(&project),
        client_token: String::new(),
    };
    // The stack in the state (perhaps imported: then not tagged with this resource's URN).
    let claim = Claim::project(&project.name, None);
    let applied = apply_stack(&Cfn::of(env), &request, &claim, &ctx).await;
    let state = finish(env, &req.news, &stack, applied, &ctx, stacks, "update").await?;
    Ok(ProjectOutputs::of_stack(
        &req.news,
        &state,
        &env.cloud.region,
    ))
}

/// A project with its own `domain` serves it from the user's zone of exactly that name.
async fn with_adopted_zone(
    env: &Runtime,
    mut project: ResolvedProject,
) -> Result<ResolvedProject, Error> {
    if project.own_domain {
        let domain = project.public_domain.clone();
        let zone = env
            .cloud
            .dns
            .find_public_zone(&domain)
            .await
            .map_err(|e| Error::Failed(format!("Route 53: {e}")))?
            .filter(|z| z.name == domain)
            .ok_or_else(|| {
                Error::Failed(format!(
                    "domain: this account has no public Route 53 zone named {domain}: create it (and delegate it from its parent), or remove `domain` to use {}",
                    super::inputs::public_domain(&project.name, &env.config.username, &env.config.domain_suffix)
                ))
            })?;
        project.adopted_zone_id = Some(zone.id);
    }
    Ok(project)
}

/// Refresh: the stack as it is now, or `None` when it is gone.
pub async fn read(
    env: &Runtime,
    id: &str,
    inputs: ProjectInputs,
) -> Result<Option<(ProjectInputs, ProjectOutputs)>, Error> {
    let Some(stack) = env
        .cloud
        .stacks
        .describe_stack(id)
        .await
        .map_err(cloud_failed)?
    else {
        return Ok(None);
    };
    // Check always names the project: inputs without a name are a state that lost them.
    let inputs = if inputs.name.is_none() {
        inputs_from_stack(&stack)
    } else {
        inputs
    };
    let outputs = ProjectOutputs::of_stack(&inputs, &stack, &env.cloud.region);
    Ok(Some((inputs, outputs)))
}

/// `pulumi import`: the inputs that describe the stack as it is, and its outputs.
pub async fn import(
    env: &Runtime,
    id: &str,
) -> Result<Option<(ProjectInputs, ProjectOutputs)>, Error> {
    read(env, id, ProjectInputs::default()).await
}

pub async fn delete(
    env: &Runtime,
    id: &str,
    outputs: ProjectOutputs,
    ctx: Context,
) -> Result<(), Error> {
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let stacks = env.cloud.stacks.as_ref();
    let claim = Claim::project(&outputs.name, None);
    let _changing = env.project_lookups.changing(id);
    // CloudFormation only deletes an empty bucket: the uploaded build contexts go first.
    if let Some(stack) = stacks.describe_stack(id).await.map_err(cloud_failed)?
        && let Some(bucket) = stack.outputs.get(super::template::outputs::CONTEXT_BUCKET)
    {
        let removed = env.cloud.objects.empty_bucket(bucket).await.map_err(|e| {
            Error::Failed(format!(
                "S3: emptying the build context bucket {bucket}: {e}"
            ))
        })?;
        if removed > 0 {
            ctx.log
                .status(&format!("removed {removed} build contexts"))
                .await;
        }
    }
    // The engine deletes a project and services it does not know depend on it (say, imported
    // ones) at the same time: while those still use the cluster, namespace or network,
    // CloudFormation refuses. Wait for them to go and try again, for up to ten minutes (and
    // never past the operation's deadline): longer means something else uses the project.
    let mut backoff = crate::wait::Backoff::new(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(30),
    );
    let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        // The decision is on CloudFormation's reasons (AWS's data), not on our error text.
        match delete_once(&Cfn::of(env), id, &claim, &ctx).await? {
            None => return Ok(()),
            Some(failed)
                if still_in_use(&failed.reasons) && tokio::time::Instant::now() < give_up =>
            {
                ctx.log
                    .status("waiting for the project's services to be deleted")
                    .await;
                if ctx.sleep(backoff.next_delay()).await.is_err() {
                    return Err(failed.into_error(id));
                }
            }
            Some(failed) => return Err(failed.into_error(id)),
        }
    }
}

/// CloudFormation's reasons when services still use the project: the cluster still has
/// services or tasks, the namespace still has service names, or the network still has their
/// interfaces.
fn still_in_use(reason: &str) -> bool {
    [
        "Services are active",
        "ClusterContainsServices",
        "Tasks are active",
        "ClusterContainsTasks",
        "has associated services",
        "DependencyViolation",
        "has dependencies",
        "ResourceInUse",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}

/// Turns the applied result into the final state or a clear error. A create that made a stack
/// CloudFormation could not complete, and an interrupted wait, keep the stack in Pulumi's state
/// (partial failure), so that the next `up` resumes it and `destroy` removes it.
async fn finish(
    env: &Runtime,
    inputs: &ProjectInputs,
    stack: &str,
    applied: Result<Applied, Error>,
    ctx: &Context,
    stacks: &dyn Stacks,
    operation: &str,
) -> Result<StackState, Error> {
    let partial = |current: Option<StackState>, reason: String| {
        let mut outputs = to_properties(inputs);
        if let Some(s) = &current {
            outputs.extend(to_properties(&ProjectOutputs::of_stack(
                inputs,
                s,
                &env.cloud.region,
            )));
        }
        outputs.insert("stackName".into(), stack.into());
        Error::ResourceInitFailed(Box::new(PartialState {
            id: stack.to_string(),
            outputs,
            inputs: None,
            reasons: vec![reason],
        }))
    };
    match applied {
        Ok(Applied::Done(state)) => {
            ctx.log.status(&state.status).await;
            Ok(state)
        }
        Ok(Applied::Failed {
            state: Some(state),
            reason,
        }) if operation == "create" => Err(partial(
            Some(state),
            format!(
                "project stack {operation} failed: {reason}; the stack is kept in the state: fix the cause and run `pulumi up` again, or `pulumi destroy`"
            ),
        )),
        Ok(Applied::Failed { reason, .. }) => Err(Error::Failed(format!(
            "project stack {operation} failed: {reason}"
        ))),
        Err(Error::Interrupted(why)) => {
            let current = stacks.describe_stack(stack).await.ok().flatten();
            let status = current
                .as_ref()
                .map(|s| s.status.clone())
                .unwrap_or_else(|| "unknown".into());
            Err(partial(
                current,
                format!(
                    "{why} while the project stack {stack} was still changing ({status}); the next `pulumi up` waits for it and finishes"
                ),
            ))
        }
        Err(other) => Err(other),
    }
}
