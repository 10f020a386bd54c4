//! Create, read, update and delete of a project: one CloudFormation stack, waited on with
//! progress shown live, idempotent across retries and crashes.

use super::check::check_project;
use super::inputs::{ProjectInputs, pulumi_project_of, pulumi_stack_of};
use super::outputs::{inputs_from_stack, planned_outputs, stack_outputs};
use super::template::render;
use crate::aws_names;
use crate::cloud::{StackRequest, StackState, Stacks};
use crate::cloudformation::stacks::{Applied, Cfn, apply_stack, cloud_failed, delete_once};
use crate::ownership::Claim;
use crate::ownership::{OWNER_TAG, owner_id};
use crate::runtime::Runtime;
use pulumi_plugin::value::from_properties;
use pulumi_plugin::{
    CheckRequest, CheckResponse, Context, CreateRequest, CreateResponse, DeleteRequest, Diff,
    DiffRequest, Error, PartialState, PropertyMap, ReadRequest, ReadResponse, UpdateRequest,
    diff_properties,
};
use std::collections::BTreeMap;
use std::time::Duration;

pub const TOKEN: &str = "defang:index:Project";

/// CloudFormation creates a VPC, cluster and role in a few minutes; deleting can take longer
/// while ENIs of stopped tasks are released.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Changing these makes a new stack (name) or a new network, which services cannot move into
/// in place.
/// Inputs whose change replaces the resource (the diff, and the schema's `willReplaceOnChanges`).
pub const REPLACE_ON_CHANGES: &[&str] = &["name", "vpcId", "vpcCidr"];

pub fn check(req: &CheckRequest) -> CheckResponse {
    let (inputs, failures) = check_project(&req.urn, &req.olds, &req.news);
    CheckResponse { inputs, failures }
}

pub fn diff(req: &DiffRequest) -> Diff {
    let mut diff = diff_properties(&req.old_inputs, &req.news, REPLACE_ON_CHANGES);
    // Same name means the same stack name: the old one must go before the new one is made.
    diff.delete_before_replace = !diff.replaces().iter().any(|k| k == "name");
    diff
}

fn decode(inputs: &PropertyMap) -> Result<ProjectInputs, Error> {
    from_properties(inputs).map_err(|e| Error::InvalidArgument(e.to_string()))
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
    req: CreateRequest,
    ctx: Context,
) -> Result<CreateResponse, Error> {
    let inputs = decode(&req.inputs)?;
    let project = inputs.resolve(
        pulumi_project_of(&req.urn).unwrap_or_default(),
        &env.config.username,
        &env.config.domain_suffix,
    );
    let stack = aws_names::project_stack(&project.name);
    let _changing = env.project_lookups.changing(&stack);
    if req.preview {
        return Ok(CreateResponse {
            id: stack,
            outputs: planned_outputs(&req.inputs, &project, &env.cloud.region),
        });
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
    Ok(CreateResponse {
        id: stack,
        outputs: stack_outputs(&req.inputs, &state, &env.cloud.region),
    })
}

pub async fn update(env: &Runtime, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error> {
    let inputs = decode(&req.news)?;
    let mut project = inputs.resolve(
        pulumi_project_of(&req.urn).unwrap_or_default(),
        &env.config.username,
        &env.config.domain_suffix,
    );
    if req.preview {
        project.keep_load_balancer_name(
            req.old_outputs
                .get("loadBalancerDnsName")
                .and_then(pulumi_plugin::Value::as_str),
        );
        let mut out = planned_outputs(&req.news, &project, &env.cloud.region);
        // Keep what is already known and not changing.
        for (k, v) in &req.old_outputs {
            if out.get(k).is_some_and(|o| o.is_unknown()) {
                out.insert(k.clone(), v.clone());
            }
        }
        return Ok(out);
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
    Ok(stack_outputs(&req.news, &state, &env.cloud.region))
}

/// A project with its own `domain` serves it from the user's zone of exactly that name.
async fn with_adopted_zone(
    env: &Runtime,
    mut project: super::inputs::ResolvedProject,
) -> Result<super::inputs::ResolvedProject, Error> {
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

pub async fn read(env: &Runtime, req: ReadRequest) -> Result<ReadResponse, Error> {
    let Some(stack) = env
        .cloud
        .stacks
        .describe_stack(&req.id)
        .await
        .map_err(cloud_failed)?
    else {
        return Ok(ReadResponse::gone());
    };
    let inputs = if req.old_inputs.is_empty() {
        inputs_from_stack(&stack)
    } else {
        req.old_inputs.clone()
    };
    Ok(ReadResponse {
        id: Some(stack.name.clone()),
        outputs: stack_outputs(&inputs, &stack, &env.cloud.region),
        inputs,
    })
}

pub async fn delete(env: &Runtime, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let stacks = env.cloud.stacks.as_ref();
    let project = req
        .old_outputs
        .get("name")
        .or_else(|| req.old_inputs.get("name"))
        .and_then(pulumi_plugin::Value::as_str)
        .unwrap_or_default()
        .to_string();
    let claim = Claim::project(&project, None);
    let _changing = env.project_lookups.changing(&req.id);
    // CloudFormation only deletes an empty bucket: the uploaded build contexts go first.
    if let Some(stack) = stacks.describe_stack(&req.id).await.map_err(cloud_failed)?
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
        match delete_once(&Cfn::of(env), &req.id, &claim, &ctx).await? {
            None => return Ok(()),
            Some(failed)
                if still_in_use(&failed.reasons) && tokio::time::Instant::now() < give_up =>
            {
                ctx.log
                    .status("waiting for the project's services to be deleted")
                    .await;
                if ctx.sleep(backoff.next_delay()).await.is_err() {
                    return Err(failed.into_error(&req.id));
                }
            }
            Some(failed) => return Err(failed.into_error(&req.id)),
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
    inputs: &PropertyMap,
    stack: &str,
    applied: Result<Applied, Error>,
    ctx: &Context,
    stacks: &dyn Stacks,
    operation: &str,
) -> Result<StackState, Error> {
    let partial = |current: Option<StackState>, reason: String| {
        let mut outputs = match &current {
            Some(s) => stack_outputs(inputs, s, &env.cloud.region),
            None => inputs.clone(),
        };
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
