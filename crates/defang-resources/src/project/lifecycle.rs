//! Create, read, update and delete of a project: one CloudFormation stack, waited on with
//! progress shown live, idempotent across retries and crashes.

use super::check::check_project;
use super::inputs::{ProjectInputs, pulumi_project_of, pulumi_stack_of, stack_name};
use super::outputs::{inputs_from_stack, planned_outputs, stack_outputs};
use super::template::render;
use crate::cloud::{StackRequest, StackState, Stacks};
use crate::cloud_env::Env;
use crate::ownership::{OWNER_TAG, owner_id};
use crate::stack_ops::{
    cloud_failed, create_and_wait, delete_and_wait, failure_reasons, is_failed_create, is_success,
    update_and_wait, wait_for_stack,
};
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
const REPLACE_KEYS: [&str; 3] = ["name", "vpcId", "vpcCidr"];

pub fn check(req: &CheckRequest) -> CheckResponse {
    let (inputs, failures) = check_project(&req.urn, &req.olds, &req.news);
    CheckResponse { inputs, failures }
}

pub fn diff(req: &DiffRequest) -> Diff {
    let mut diff = diff_properties(&req.old_inputs, &req.news, &REPLACE_KEYS);
    // Same name means the same stack name: the old one must go before the new one is made.
    diff.delete_before_replace = !diff.replaces().iter().any(|k| k == "name");
    diff
}

fn decode(inputs: &PropertyMap) -> Result<ProjectInputs, Error> {
    from_properties(inputs).map_err(|e| Error::InvalidArgument(e.to_string()))
}

fn stack_tags(
    env: &Env,
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

pub async fn create(env: &Env, req: CreateRequest, ctx: Context) -> Result<CreateResponse, Error> {
    let inputs = decode(&req.inputs)?;
    let project = inputs.resolve(
        pulumi_project_of(&req.urn).unwrap_or_default(),
        &env.config.username,
        &env.config.domain_suffix,
    );
    let stack = stack_name(&project.name);
    if req.preview {
        return Ok(CreateResponse {
            id: stack,
            outputs: planned_outputs(&req.inputs, &project, &env.cloud.region),
        });
    }
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let project = with_adopted_zone(env, project).await?;
    let template = render(&project, &env.cloud.region).map_err(Error::InvalidArgument)?;
    let request = StackRequest {
        name: stack.clone(),
        template,
        tags: stack_tags(env, &req.urn, &project.name, &project.tags),
        client_token: String::new(),
    };
    let stacks = env.cloud.stacks.as_ref();
    let existing = stacks.describe_stack(&stack).await.map_err(cloud_failed)?;
    let waited = match existing {
        Some(found) if found.tags.get(OWNER_TAG) != Some(&owner_id(&req.urn)) => {
            return Err(Error::Failed(format!(
                "a project named \"{}\" already exists in {} (CloudFormation stack {}), made by another Pulumi stack or tool. \
                 Set `name` to another project name, or adopt it with `pulumi import {TOKEN} <resource name> {}`",
                project.name, env.cloud.region, stack, stack
            )));
        }
        Some(found) => {
            // Our own stack: a Create retried after a crash or timeout. Finish what was started.
            ctx.log
                .info(&format!(
                    "resuming project stack {stack} ({})",
                    found.status
                ))
                .await;
            let settled = wait_for_stack(stacks, &stack, &ctx).await;
            match settled {
                Ok(Some(s)) if is_failed_create(&s.status) => {
                    // A failed first create leaves an empty stack that can only be deleted.
                    delete_and_wait(stacks, &stack, &req.urn, &ctx).await?;
                    create_and_wait(stacks, &request, &req.urn, &ctx).await
                }
                Ok(Some(_)) => update_and_wait(stacks, &request, &req.urn, &ctx).await,
                Ok(None) => create_and_wait(stacks, &request, &req.urn, &ctx).await,
                Err(e) => Err(e),
            }
        }
        None => create_and_wait(stacks, &request, &req.urn, &ctx).await,
    };
    let state = finish(env, &req.inputs, &stack, waited, &ctx, stacks, "create").await?;
    Ok(CreateResponse {
        id: stack,
        outputs: stack_outputs(&req.inputs, &state, &env.cloud.region),
    })
}

pub async fn update(env: &Env, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error> {
    let inputs = decode(&req.news)?;
    let project = inputs.resolve(
        pulumi_project_of(&req.urn).unwrap_or_default(),
        &env.config.username,
        &env.config.domain_suffix,
    );
    if req.preview {
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
    let project = with_adopted_zone(env, project).await?;
    let stack = req.id.clone();
    let request = StackRequest {
        name: stack.clone(),
        template: render(&project, &env.cloud.region).map_err(Error::InvalidArgument)?,
        tags: stack_tags(env, &req.urn, &project.name, &project.tags),
        client_token: String::new(),
    };
    let stacks = env.cloud.stacks.as_ref();
    // Let a change still running (from an interrupted earlier update) settle first.
    wait_for_stack(stacks, &stack, &ctx).await?;
    let waited = update_and_wait(stacks, &request, &req.urn, &ctx).await;
    let state = finish(env, &req.news, &stack, waited, &ctx, stacks, "update").await?;
    Ok(stack_outputs(&req.news, &state, &env.cloud.region))
}

/// A project with its own `domain` serves it from the user's zone of exactly that name.
async fn with_adopted_zone(
    env: &Env,
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

pub async fn read(env: &Env, req: ReadRequest) -> Result<ReadResponse, Error> {
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

pub async fn delete(env: &Env, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
    let ctx = ctx.with_default_timeout(DEFAULT_TIMEOUT);
    let stacks = env.cloud.stacks.as_ref();
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
        match delete_and_wait(stacks, &req.id, &req.urn, &ctx).await {
            Err(Error::Failed(reason))
                if still_in_use(&reason) && tokio::time::Instant::now() < give_up =>
            {
                ctx.log
                    .status("waiting for the project's services to be deleted")
                    .await;
                if ctx.sleep(backoff.next_delay()).await.is_err() {
                    return Err(Error::Failed(reason));
                }
            }
            done => return done,
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

/// Turns the waited-on result into the final state or a clear error. An interrupted wait keeps
/// the stack in Pulumi's state (partial failure) so that the next `up` resumes it.
async fn finish(
    env: &Env,
    inputs: &PropertyMap,
    stack: &str,
    waited: Result<Option<StackState>, Error>,
    ctx: &Context,
    stacks: &dyn Stacks,
    operation: &str,
) -> Result<StackState, Error> {
    match waited {
        Ok(Some(state)) if is_success(&state.status) => {
            ctx.log.status(&state.status).await;
            Ok(state)
        }
        Ok(Some(state)) => Err(Error::Failed(format!(
            "project stack {stack} {operation} failed ({}): {}",
            state.status,
            failure_reasons(stacks, stack).await
        ))),
        Ok(None) => Err(Error::Failed(format!(
            "project stack {stack} disappeared during {operation}"
        ))),
        Err(Error::Interrupted(why)) => {
            let current = stacks.describe_stack(stack).await.ok().flatten();
            let mut outputs = match &current {
                Some(s) => stack_outputs(inputs, s, &env.cloud.region),
                None => inputs.clone(),
            };
            outputs.insert("stackName".into(), stack.into());
            Err(Error::ResourceInitFailed(Box::new(PartialState {
                id: stack.to_string(),
                outputs,
                inputs: None,
                reasons: vec![format!(
                    "{why} while the project stack {stack} was still changing ({}); the next `pulumi up` waits for it and finishes",
                    current
                        .map(|s| s.status)
                        .unwrap_or_else(|| "unknown".into())
                )],
            })))
        }
        Err(other) => Err(other),
    }
}
