//! A service's AWS permissions, in its own CloudFormation stack (see [`super::network_stack`]):
//! - the application's role (the task role, never the execution role), `TaskRole`, with the
//!   service's `policies` (managed policies), `policyStatements` (one inline policy) and, with
//!   `enableExec`, the `ssmmessages` channels ECS Exec opens. It trusts ECS tasks of this
//!   account only (AWS's advice against the confused deputy). No role is made when the service
//!   has none of these (least privilege: no AWS permissions at all), or when it runs as a role
//!   of the user's own (`taskRoleArn`); one that exists is kept while the service lives, even
//!   without policies, so that tasks still running (or rolled back to) never lose their role.
//! - `ExistingSecretsAccess`: a policy on the project's shared execution role allowing exactly
//!   the service's `secrets` (existing SSM parameters and Secrets Manager secrets) to be read
//!   when its tasks start. Each service's policy has a name of its own, so services never
//!   overwrite each other's, and deleting the service's stack removes it.

use super::existing_secrets::{AccountScope, grants};
use super::inputs::{PolicyStatement, ResolvedService, ServiceInputs};
use pulumi_plugin::{CheckFailure, PropertyPath};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The stack's output with the ARN of the service's own role.
pub const TASK_ROLE_ARN_OUTPUT: &str = "TaskRoleArn";

/// What ECS Exec's agent in the task needs (AWS's ECS Exec documentation).
pub const EXEC_ACTIONS: [&str; 4] = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

/// IAM's hard limit of managed policies per role (the default quota is 10).
const MAX_MANAGED_POLICIES: usize = 20;

/// The name of the role's inline policy that holds `policyStatements`.
pub const STATEMENTS_POLICY: &str = "statements";

/// A managed policy's ARN: an ARN as given, a name as the AWS managed policy's ARN in the
/// stack's partition.
pub fn policy_arn(policy: &str) -> Value {
    if policy.starts_with("arn:") {
        json!(policy)
    } else {
        json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:iam::aws:policy/{}", policy.trim_start_matches('/')) })
    }
}

/// A managed policy's ARN as the stack's role gets it, in `partition`: an ARN as given, a name as
/// the AWS managed policy's ARN (what [`policy_arn`]'s `Fn::Sub` becomes).
pub fn policy_arn_in(policy: &str, partition: &str) -> String {
    if policy.starts_with("arn:") {
        policy.to_string()
    } else {
        format!(
            "arn:{partition}:iam::aws:policy/{}",
            policy.trim_start_matches('/')
        )
    }
}

/// The partition of an ARN (`arn:aws-cn:…` → `aws-cn`).
pub fn partition_of(arn: &str) -> Option<&str> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, ..] if !partition.is_empty() => Some(partition),
        _ => None,
    }
}

/// The document of the role's inline policy [`STATEMENTS_POLICY`] exactly as the stack writes
/// it; `None` when the service has no statements (the stack then has no such policy).
pub fn statements_document(svc: &ResolvedService) -> Option<Value> {
    if svc.policy_statements.is_empty() {
        return None;
    }
    Some(json!({
        "Version": "2012-10-17",
        "Statement": svc.policy_statements.iter().map(statement_json).collect::<Vec<_>>(),
    }))
}

/// A statement in IAM's JSON form.
fn statement_json(statement: &PolicyStatement) -> Value {
    let mut out = json!({
        "Effect": statement.effect.unwrap_or_default().as_str(),
        "Action": statement.actions,
        "Resource": statement.resources,
    });
    if !statement.condition.is_empty() {
        out["Condition"] = json!(statement.condition);
    }
    out
}

/// Adds `TaskRole` (and its output) to the stack's resources when the service has one
/// ([`ResolvedService::has_own_task_role`]).
pub fn task_role_resources(
    svc: &ResolvedService,
    tags: &Value,
    resources: &mut serde_json::Map<String, Value>,
    outs: &mut serde_json::Map<String, Value>,
) {
    if !svc.has_own_task_role() {
        return;
    }
    let mut policies = Vec::new();
    if let Some(document) = statements_document(svc) {
        policies.push(json!({
            "PolicyName": STATEMENTS_POLICY,
            "PolicyDocument": document,
        }));
    }
    // With `taskRoleArn`, the user's role runs the tasks: this one is only kept, unused.
    if svc.enable_exec && svc.task_role_arn.is_none() {
        policies.push(json!({
            "PolicyName": "ecs-exec",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "EcsExecChannels",
                    "Effect": "Allow",
                    "Action": EXEC_ACTIONS,
                    "Resource": "*",
                }]
            }
        }));
    }
    let managed: Vec<Value> = if svc.task_role_arn.is_none() {
        svc.policies.iter().map(|p| policy_arn(p)).collect()
    } else {
        Vec::new()
    };
    resources.insert(
        "TaskRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": format!("Defang service {} of project {}: the application's permissions", svc.name, svc.project),
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": { "Service": "ecs-tasks.amazonaws.com" },
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } },
                            "ArnLike": { "aws:SourceArn": { "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*" } }
                        }
                    }]
                },
                "ManagedPolicyArns": managed,
                "Policies": policies,
                "Tags": tags,
            }
        }),
    );
    outs.insert(
        TASK_ROLE_ARN_OUTPUT.into(),
        json!({ "Value": crate::cloudformation::blocks::attr("TaskRole", "Arn") }),
    );
}

/// What a managed policy entry means, whatever its spelling: an AWS managed policy's name
/// (`AmazonS3ReadOnlyAccess`, `service-role/X`) and its ARN in any partition are the same
/// policy (`aws:<path/name>`); another ARN is `<account>:<path/name>`.
fn policy_key(policy: &str) -> String {
    if let Some(rest) = policy.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if let [_partition, "iam", "", account, resource] = parts.as_slice()
            && let Some(name) = resource.strip_prefix("policy/")
        {
            return format!("{account}:{}", name.trim_start_matches('/'));
        }
        return policy.to_string();
    }
    format!("aws:{}", policy.trim_start_matches('/'))
}

/// Drift of `policies` (refresh): the managed policies attached to the service's role,
/// compared as policies (a name and its ARN are one; order and repeats do not count).
/// `None` when they are the user's; else the list to record: the user's entries the role
/// still has, as the user spelt them and in the user's order, then the other ones attached,
/// by ARN.
pub fn policies_drift(user: &[String], attached: &[String]) -> Option<Vec<String>> {
    use std::collections::BTreeSet;
    let wanted: BTreeSet<String> = user.iter().map(|p| policy_key(p)).collect();
    let live: BTreeSet<String> = attached.iter().map(|p| policy_key(p)).collect();
    if wanted == live {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for policy in user.iter().chain(attached) {
        let key = policy_key(policy);
        if live.contains(&key) && seen.insert(key) {
            out.push(policy.clone());
        }
    }
    Some(out)
}

/// The statements of an inline policy document as `policyStatements` says them. IAM keeps a
/// document as written, so one edited elsewhere may say a single action, resource or condition
/// value as a string, a number or a boolean instead of a list: all read as lists of strings.
/// A statement `policyStatements` cannot say (`NotAction`, `NotResource`, `Principal`, an
/// effect other than Allow or Deny) is an error naming it.
pub fn statements_from_document(document: &Value) -> Result<Vec<PolicyStatement>, String> {
    let statements = match document.get("Statement") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list.as_slice(),
        Some(one) => std::slice::from_ref(one),
    };
    statements
        .iter()
        .enumerate()
        .map(|(i, statement)| {
            statement_from_json(statement).map_err(|why| format!("statement {}: {why}", i + 1))
        })
        .collect()
}

fn statement_from_json(statement: &Value) -> Result<PolicyStatement, String> {
    let Some(fields) = statement.as_object() else {
        return Err("is not an object".into());
    };
    if let Some(key) = ["NotAction", "NotResource", "Principal", "NotPrincipal"]
        .into_iter()
        .find(|k| fields.contains_key(*k))
    {
        return Err(format!("has `{key}`, which `policyStatements` cannot say"));
    }
    let effect = match fields.get("Effect").and_then(Value::as_str) {
        Some("Allow") => None,
        Some("Deny") => Some(super::inputs::PolicyEffect::Deny),
        other => return Err(format!("has the effect {other:?}, neither Allow nor Deny")),
    };
    let strings = |key: &str| -> Result<Vec<String>, String> {
        let scalar = |v: &Value| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(format!("`{key}` holds {other}, not a string")),
        };
        match fields.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(list)) => list.iter().map(scalar).collect(),
            Some(one) => Ok(vec![scalar(one)?]),
        }
    };
    let mut condition = BTreeMap::new();
    if let Some(block) = fields.get("Condition") {
        let Some(operators) = block.as_object() else {
            return Err("has a `Condition` that is not an object".into());
        };
        for (operator, keys) in operators {
            let Some(keys) = keys.as_object() else {
                return Err(format!(
                    "has a condition `{operator}` that is not an object"
                ));
            };
            let mut values = BTreeMap::new();
            for (key, value) in keys {
                let list = match value {
                    Value::Array(list) => list.clone(),
                    one => vec![one.clone()],
                };
                let list = list
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        Value::Bool(b) => Ok(b.to_string()),
                        other => Err(format!("condition `{operator}.{key}` holds {other}")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                values.insert(key.clone(), list);
            }
            condition.insert(operator.clone(), values);
        }
    }
    Ok(PolicyStatement {
        effect,
        actions: strings("Action")?,
        resources: strings("Resource")?,
        condition,
    })
}

/// What a statement allows or denies, for comparison: the effect (unset is Allow), the actions
/// (IAM reads them case-insensitively), resources and condition values as sets.
fn statement_key(statement: &PolicyStatement) -> impl Ord + use<> {
    use std::collections::BTreeSet;
    let effect = statement.effect.unwrap_or_default().as_str();
    let actions: BTreeSet<String> = statement
        .actions
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let resources: BTreeSet<String> = statement.resources.iter().cloned().collect();
    let condition: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = statement
        .condition
        .iter()
        .map(|(op, keys)| {
            let keys = keys
                .iter()
                .map(|(k, values)| (k.clone(), values.iter().cloned().collect()))
                .collect();
            (op.clone(), keys)
        })
        .collect();
    (effect, actions, resources, condition)
}

/// Drift of `policyStatements` (refresh): the statements of the role's inline policy compared
/// by what they allow or deny (order, repeats, a string for a one-item list and the case of
/// actions do not count). `None` when they are the user's; else the live statements, each one
/// as the user wrote it when the user has one that means the same.
pub fn statements_drift(
    user: &[PolicyStatement],
    live: &[PolicyStatement],
) -> Option<Vec<PolicyStatement>> {
    use std::collections::BTreeSet;
    let wanted: BTreeSet<_> = user.iter().map(statement_key).collect();
    let now: BTreeSet<_> = live.iter().map(statement_key).collect();
    if wanted == now {
        return None;
    }
    Some(
        live.iter()
            .map(|s| {
                let key = statement_key(s);
                user.iter()
                    .find(|u| statement_key(u) == key)
                    .unwrap_or(s)
                    .clone()
            })
            .collect(),
    )
}

/// The writes that make the service's own role hold what its stack says again (`up` after a
/// change outside Pulumi): nothing when nothing drifted. Only the managed policies and the
/// statements' inline policy, which refresh reads; the stack's other inline policy
/// (`ecs-exec`) is left alone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleRepair {
    /// Managed policies attached that the program does not have, by their attached ARN.
    pub detach: Vec<String>,
    /// The program's managed policies that are not attached, as the ARN the stack attaches.
    pub attach: Vec<String>,
    pub statements: StatementsRepair,
}

/// What to do with the role's inline policy [`STATEMENTS_POLICY`].
#[derive(Clone, Debug, Default, PartialEq)]
pub enum StatementsRepair {
    /// It means what the program says (or neither has one).
    #[default]
    Keep,
    /// Put this document, the one the stack writes: missing, or edited.
    Put(Value),
    /// The program has no statements, but the role has the policy.
    Delete,
}

impl RoleRepair {
    pub fn is_empty(&self) -> bool {
        self.detach.is_empty()
            && self.attach.is_empty()
            && self.statements == StatementsRepair::Keep
    }
}

/// Compares the role's live managed policies and statements document with the program as
/// refresh does ([`policies_drift`]: a name and its ARN are one; [`statements_drift`]: by
/// meaning). `partition` makes the ARNs of the AWS managed policies the program names. A
/// document `policyStatements` cannot say is not the program's: it is put back.
pub fn role_repair(
    svc: &ResolvedService,
    partition: &str,
    attached: &[String],
    document: Option<&Value>,
) -> RoleRepair {
    use std::collections::BTreeSet;
    let wanted: BTreeSet<String> = svc.policies.iter().map(|p| policy_key(p)).collect();
    let live: BTreeSet<String> = attached.iter().map(|p| policy_key(p)).collect();
    let mut seen = BTreeSet::new();
    let detach = attached
        .iter()
        .filter(|arn| !wanted.contains(&policy_key(arn)) && seen.insert(policy_key(arn)))
        .cloned()
        .collect();
    let attach = svc
        .policies
        .iter()
        .filter(|p| !live.contains(&policy_key(p)) && seen.insert(policy_key(p)))
        .map(|p| policy_arn_in(p, partition))
        .collect();
    let statements = match (statements_document(svc), document) {
        (None, None) => StatementsRepair::Keep,
        (None, Some(_)) => StatementsRepair::Delete,
        (Some(want), None) => StatementsRepair::Put(want),
        (Some(want), Some(live)) => match statements_from_document(live) {
            Ok(live) if statements_drift(&svc.policy_statements, &live).is_none() => {
                StatementsRepair::Keep
            }
            _ => StatementsRepair::Put(want),
        },
    };
    RoleRepair {
        detach,
        attach,
        statements,
    }
}

/// The execution role's name in its ARN (`arn:aws:iam::1:role/path/name` → `name`).
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

/// Adds `ExistingSecretsAccess` on the project's execution role when the service references
/// secrets that exist: reading exactly those. Names become ARNs of the stack's own partition,
/// region and account (`Fn::Sub`), the ones the task definition names.
pub fn existing_secrets_resources(
    svc: &ResolvedService,
    execution_role_arn: &str,
    resources: &mut serde_json::Map<String, Value>,
) {
    let scope = AccountScope {
        partition: "${AWS::Partition}".into(),
        region: "${AWS::Region}".into(),
        account: "${AWS::AccountId}".into(),
    };
    // Sorted and without repeats, so that an unchanged service renders the same policy.
    let mut by_action: BTreeMap<&str, std::collections::BTreeSet<String>> = BTreeMap::new();
    for reference in svc.secrets.values() {
        for (action, resource) in grants(reference, &scope) {
            by_action.entry(action).or_default().insert(resource);
        }
    }
    if by_action.is_empty() {
        return;
    }
    let statements: Vec<Value> = by_action
        .into_iter()
        .map(|(action, resources)| {
            json!({
                "Effect": "Allow",
                "Action": action,
                "Resource": resources
                    .into_iter()
                    .map(|arn| json!({ "Fn::Sub": arn }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    resources.insert(
        "ExistingSecretsAccess".into(),
        json!({
            "Type": "AWS::IAM::Policy",
            "Properties": {
                // One per service on the shared role: named after the service.
                "PolicyName": existing_secrets_policy_name(&svc.project, &svc.name),
                "Roles": [role_name(execution_role_arn)],
                "PolicyDocument": { "Version": "2012-10-17", "Statement": statements },
            }
        }),
    );
}

/// `<service stack name>-secrets`: the service's policy on the execution role.
pub fn existing_secrets_policy_name(project: &str, service: &str) -> String {
    format!(
        "{}-secrets",
        crate::aws_names::service_stack(project, service)
    )
}

/// Check of `taskRoleArn`, `policies` and `policyStatements` (and how they go together).
pub fn check_permissions(
    inputs: &ServiceInputs,
    checked: &dyn Fn(&str) -> bool,
    failures: &mut Vec<CheckFailure>,
) {
    if checked("taskRoleArn")
        && let Some(arn) = &inputs.task_role_arn
    {
        if !is_role_arn(arn) {
            failures.push(CheckFailure::new(
                "taskRoleArn",
                format!(
                    "{} is not an IAM role ARN: they look like arn:aws:iam::123456789012:role/my-app",
                    crate::names::quoted(arn)
                ),
            ));
        }
        for key in ["policies", "policyStatements"] {
            let set = match key {
                "policies" => !inputs.policies.is_empty(),
                _ => !inputs.policy_statements.is_empty(),
            };
            if set {
                failures.push(CheckFailure::new(
                    key,
                    "cannot be combined with `taskRoleArn`, a role of your own that is not changed: attach the policies to that role, or remove `taskRoleArn` to give the service a role of its own with these",
                ));
            }
        }
    }
    if checked("policies") {
        if inputs.policies.len() > MAX_MANAGED_POLICIES {
            failures.push(CheckFailure::new(
                "policies",
                format!(
                    "lists {} policies; an IAM role takes at most {MAX_MANAGED_POLICIES} managed policies: merge some into one, or move them into `policyStatements`",
                    inputs.policies.len()
                ),
            ));
        }
        for (i, policy) in inputs.policies.iter().enumerate() {
            if let Err(reason) = check_policy(policy) {
                failures.push(CheckFailure::new(
                    PropertyPath::root().key("policies").index(i).to_string(),
                    reason,
                ));
            }
        }
    }
    if checked("policyStatements") {
        for (i, statement) in inputs.policy_statements.iter().enumerate() {
            check_statement(i, statement, failures);
        }
    }
}

fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if !partition.is_empty()
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty() && !n.ends_with('/')))
}

fn check_policy(policy: &str) -> Result<(), String> {
    if policy.starts_with("arn:") {
        let parts: Vec<&str> = policy.splitn(6, ':').collect();
        let ok = matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty()
                && (*account == "aws" || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())))
                && resource.strip_prefix("policy/").is_some_and(|n| !n.is_empty()));
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "{} is not an IAM policy ARN: they look like arn:aws:iam::123456789012:policy/app-data, or arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess for AWS's (or give an AWS managed policy's name, AmazonS3ReadOnlyAccess)",
                crate::names::quoted(policy)
            ))
        };
    }
    let valid = !policy.is_empty()
        && policy.len() <= 128 + 512
        && policy
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
        && !policy.ends_with('/');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{} is neither a policy ARN nor the name of an AWS managed policy, e.g. AmazonS3ReadOnlyAccess or service-role/AmazonECSTaskExecutionRolePolicy",
            crate::names::quoted(policy)
        ))
    }
}

fn check_statement(i: usize, statement: &PolicyStatement, failures: &mut Vec<CheckFailure>) {
    let at = PropertyPath::root().key("policyStatements").index(i);
    if statement.actions.is_empty() {
        failures.push(CheckFailure::new(
            at.key("actions").to_string(),
            "must list at least one action, e.g. [\"s3:GetObject\"]",
        ));
    }
    for (j, action) in statement.actions.iter().enumerate() {
        let valid = action == "*"
            || action.split_once(':').is_some_and(|(service, name)| {
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
            });
        if !valid {
            failures.push(CheckFailure::new(
                at.key("actions").index(j).to_string(),
                format!(
                    "{} is not an IAM action: they are `service:Action`, e.g. \"s3:GetObject\" or \"dynamodb:*\"",
                    crate::names::quoted(action)
                ),
            ));
        }
    }
    if statement.resources.is_empty() {
        failures.push(CheckFailure::new(
            at.key("resources").to_string(),
            "must list at least one resource: ARNs (wildcards allowed), or \"*\" for all",
        ));
    }
    for (j, resource) in statement.resources.iter().enumerate() {
        let valid =
            resource == "*" || (resource.starts_with("arn:") && resource.split(':').count() >= 6);
        if !valid {
            failures.push(CheckFailure::new(
                at.key("resources").index(j).to_string(),
                format!(
                    "{} is not a resource ARN: they look like arn:aws:s3:::my-bucket/* (six ':'-separated parts), or \"*\" for all",
                    crate::names::quoted(resource)
                ),
            ));
        }
    }
    for (operator, keys) in &statement.condition {
        if keys.is_empty() || keys.values().any(Vec::is_empty) {
            failures.push(CheckFailure::new(
                at.key("condition").key(operator).to_string(),
                "needs condition keys with at least one value each, e.g. {\"aws:RequestedRegion\": [\"us-east-1\"]}",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(value: Value) -> ResolvedService {
        let mut v = json!({"project": "shop", "name": "web", "image": "nginx"});
        v.as_object_mut()
            .unwrap()
            .extend(value.as_object().unwrap().clone());
        let inputs: ServiceInputs = serde_json::from_value(v).unwrap();
        inputs.resolved("web").unwrap()
    }

    fn rendered(svc: &ResolvedService, had_role: bool) -> (Value, Value) {
        let mut svc = svc.clone();
        svc.own_task_role_exists = had_role;
        let (mut resources, mut outs) = (serde_json::Map::new(), serde_json::Map::new());
        task_role_resources(&svc, &json!([]), &mut resources, &mut outs);
        (Value::Object(resources), Value::Object(outs))
    }

    /// A managed policy's name and its ARN (in any partition) are one policy; order does not
    /// count; what changed shows with the user's spelling kept for the rest.
    #[test]
    fn policies_compare_names_with_arns() {
        let user = [
            "AmazonS3ReadOnlyAccess".to_string(),
            "service-role/AWSLambdaRole".to_string(),
            "arn:aws:iam::123456789012:policy/app-data".to_string(),
        ];
        let attached = [
            "arn:aws:iam::123456789012:policy/app-data".to_string(),
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole".to_string(),
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string(),
        ];
        assert_eq!(policies_drift(&user, &attached), None, "the same policies");
        let china = ["arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string()];
        assert_eq!(
            policies_drift(&user[..1], &china),
            None,
            "another partition"
        );
        assert_eq!(policies_drift(&[], &[]), None);

        // One detached and one attached outside Pulumi.
        let drifted = [
            attached[0].clone(),
            "arn:aws:iam::aws:policy/AmazonSQSFullAccess".to_string(),
            attached[2].clone(),
        ];
        assert_eq!(
            policies_drift(&user, &drifted),
            Some(vec![
                "AmazonS3ReadOnlyAccess".to_string(),
                "arn:aws:iam::123456789012:policy/app-data".to_string(),
                "arn:aws:iam::aws:policy/AmazonSQSFullAccess".to_string(),
            ])
        );
        // All detached: none.
        assert_eq!(policies_drift(&user, &[]), Some(vec![]));
        // A customer policy of another account is another policy.
        assert_eq!(
            policies_drift(
                &user[2..],
                &["arn:aws:iam::210987654321:policy/app-data".to_string()]
            ),
            Some(vec![
                "arn:aws:iam::210987654321:policy/app-data".to_string()
            ])
        );
    }

    /// Statements read from a document as IAM keeps it: single values as strings, condition
    /// values as numbers or booleans, one statement as an object; `Sid` and `Version` ignored.
    #[test]
    fn statements_read_from_documents_in_any_spelling() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Queue", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:123456789012:jobs"},
            {"Effect": "Deny", "Action": ["s3:DeleteObject"], "Resource": ["*"],
             "Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:max-keys": 10},
                           "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}},
        ]});
        let statements = statements_from_document(&doc).unwrap();
        assert_eq!(
            statements,
            vec![
                PolicyStatement {
                    effect: None,
                    actions: vec!["sqs:SendMessage".into()],
                    resources: vec!["arn:aws:sqs:us-east-1:123456789012:jobs".into()],
                    condition: BTreeMap::new(),
                },
                PolicyStatement {
                    effect: Some(super::super::inputs::PolicyEffect::Deny),
                    actions: vec!["s3:DeleteObject".into()],
                    resources: vec!["*".into()],
                    condition: BTreeMap::from([
                        (
                            "Bool".to_string(),
                            BTreeMap::from([(
                                "aws:SecureTransport".to_string(),
                                vec!["false".to_string()]
                            )])
                        ),
                        (
                            "NumericLessThan".to_string(),
                            BTreeMap::from([("s3:max-keys".to_string(), vec!["10".to_string()])])
                        ),
                        (
                            "StringEquals".to_string(),
                            BTreeMap::from([(
                                "aws:RequestedRegion".to_string(),
                                vec!["us-east-1".to_string(), "eu-west-1".to_string()]
                            )])
                        ),
                    ]),
                },
            ]
        );
        let one =
            json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}});
        assert_eq!(statements_from_document(&one).unwrap().len(), 1);
        assert_eq!(statements_from_document(&json!({})).unwrap(), vec![]);
        // What `policyStatements` cannot say is named.
        let not_action = json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]});
        let err = statements_from_document(&not_action).unwrap_err();
        assert!(err.starts_with("statement 2: has `NotAction`"), "{err}");
        let odd =
            json!({"Statement": [{"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}]});
        assert!(
            statements_from_document(&odd)
                .unwrap_err()
                .contains("neither Allow nor Deny")
        );
    }

    /// Statements compared by what they allow or deny: the document the stack wrote reads
    /// back as no drift whatever the spelling; an edited one shows, the unchanged ones as the
    /// user wrote them.
    #[test]
    fn statements_compare_by_meaning() {
        let user: Vec<PolicyStatement> = serde_json::from_value(json!([
            {"actions": ["sqs:SendMessage", "sqs:GetQueueUrl"], "resources": ["arn:aws:sqs:us-east-1:123456789012:jobs"]},
            {"effect": "Deny", "actions": ["s3:DeleteObject"], "resources": ["*"],
             "condition": {"Bool": {"aws:SecureTransport": ["false"]}}},
        ]))
        .unwrap();
        // What the stack wrote, read back: no drift.
        let svc = service(json!({"policyStatements": serde_json::to_value(&user).unwrap()}));
        let (resources, _) = rendered(&svc, false);
        let written = &resources["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"];
        let live = statements_from_document(written).unwrap();
        assert_eq!(statements_drift(&user, &live), None);

        // The same, reordered, with another spelling (and the Allow spelt out).
        let respelt = statements_from_document(&json!({"Statement": [
            {"Effect": "Deny", "Action": "s3:deleteobject", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": false}}},
            {"Effect": "Allow", "Action": ["sqs:GetQueueUrl", "sqs:SendMessage", "sqs:SendMessage"],
             "Resource": "arn:aws:sqs:us-east-1:123456789012:jobs"},
        ]}))
        .unwrap();
        assert_eq!(statements_drift(&user, &respelt), None, "the same meaning");

        // One edited outside Pulumi: the live statements, the unchanged one as the user's.
        let edited = statements_from_document(&json!({"Statement": [
            {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": false}}},
        ]}))
        .unwrap();
        let drifted = statements_drift(&user, &edited).expect("drift");
        assert_eq!(drifted[0].resources, ["*"]);
        assert_eq!(
            drifted[1], user[1],
            "the user's spelling of an unchanged one"
        );
        // Removed outside Pulumi: none.
        assert_eq!(statements_drift(&user, &[]), Some(vec![]));
        assert_eq!(statements_drift(&[], &[]), None);
    }

    /// What `up` writes to the service's role: nothing when it holds what the program says
    /// (a name as its ARN, statements by meaning); else exactly the difference, names as the
    /// ARNs the stack attaches, and the statements' document as the stack renders it.
    #[test]
    fn the_role_repair_writes_only_what_drifted() {
        let svc = service(json!({
            "policies": ["AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/app-data"],
            "policyStatements": [{"actions": ["sqs:SendMessage"], "resources": ["*"]}],
            "enableExec": true,
        }));
        let (resources, _) = rendered(&svc, false);
        let written = resources["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"].clone();
        assert_eq!(statements_document(&svc).as_ref(), Some(&written));
        let deployed = [
            "arn:aws:iam::123456789012:policy/app-data".to_string(),
            "arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string(),
        ];
        let respelt =
            json!({"Statement": {"Effect": "Allow", "Action": "SQS:SendMessage", "Resource": "*"}});
        assert!(role_repair(&svc, "aws-cn", &deployed, Some(&written)).is_empty());
        assert!(role_repair(&svc, "aws-cn", &deployed, Some(&respelt)).is_empty());

        // One detached, another attached, the statements edited.
        let drifted = [
            "arn:aws:iam::aws:policy/AmazonSQSFullAccess".to_string(),
            "arn:aws:iam::123456789012:policy/app-data".to_string(),
        ];
        let edited =
            json!({"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]});
        assert_eq!(
            role_repair(&svc, "aws", &drifted, Some(&edited)),
            RoleRepair {
                detach: vec!["arn:aws:iam::aws:policy/AmazonSQSFullAccess".into()],
                attach: vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into()],
                statements: StatementsRepair::Put(written.clone()),
            }
        );
        // Deleted, or unsayable as `policyStatements`: put back.
        assert_eq!(
            role_repair(&svc, "aws", &deployed, None).statements,
            StatementsRepair::Put(written.clone())
        );
        let unsayable =
            json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]});
        assert_eq!(
            role_repair(&svc, "aws", &deployed, Some(&unsayable)).statements,
            StatementsRepair::Put(written)
        );
        // No statements in the program: a policy of that name is deleted.
        let bare = service(json!({"enableExec": true}));
        assert_eq!(
            role_repair(&bare, "aws", &[], Some(&edited)).statements,
            StatementsRepair::Delete
        );
        assert!(role_repair(&bare, "aws", &[], None).is_empty());
        assert_eq!(
            partition_of("arn:aws-us-gov:iam::1:role/x"),
            Some("aws-us-gov")
        );
        assert_eq!(partition_of("fake:stack:TaskRoleArn"), None);
    }

    #[test]
    fn no_permissions_no_role() {
        let (resources, outs) = rendered(&service(json!({})), false);
        assert_eq!(resources, json!({}));
        assert_eq!(outs, json!({}));
    }

    #[test]
    fn the_role_has_exactly_the_services_policies() {
        let svc = service(json!({
            "policies": ["AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/app-data"],
            "policyStatements": [
                {"actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:us-east-1:123456789012:jobs"]},
                {"effect": "Deny", "actions": ["s3:DeleteObject"], "resources": ["*"],
                 "condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1"]}}},
            ],
            "enableExec": true,
        }));
        let (resources, outs) = rendered(&svc, false);
        let role = &resources["TaskRole"]["Properties"];
        assert_eq!(
            role["ManagedPolicyArns"],
            json!([
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonS3ReadOnlyAccess"},
                "arn:aws:iam::123456789012:policy/app-data",
            ])
        );
        assert_eq!(role["Policies"][0]["PolicyName"], "statements");
        assert_eq!(
            role["Policies"][0]["PolicyDocument"]["Statement"],
            json!([
                {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["arn:aws:sqs:us-east-1:123456789012:jobs"]},
                {"Effect": "Deny", "Action": ["s3:DeleteObject"], "Resource": ["*"],
                 "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1"]}}},
            ])
        );
        assert_eq!(role["Policies"][1]["PolicyName"], "ecs-exec");
        assert_eq!(
            role["Policies"][1]["PolicyDocument"]["Statement"][0]["Action"],
            json!(EXEC_ACTIONS)
        );
        let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(trust["Principal"]["Service"], "ecs-tasks.amazonaws.com");
        assert_eq!(
            trust["Condition"]["StringEquals"]["aws:SourceAccount"],
            json!({"Ref": "AWS::AccountId"})
        );
        assert_eq!(
            outs["TaskRoleArn"]["Value"],
            json!({"Fn::GetAtt": ["TaskRole", "Arn"]})
        );
    }

    #[test]
    fn exec_alone_makes_a_role_and_a_kept_role_stays_empty() {
        let (resources, _) = rendered(&service(json!({"enableExec": true})), false);
        assert_eq!(
            resources["TaskRole"]["Properties"]["ManagedPolicyArns"],
            json!([])
        );
        assert_eq!(
            resources["TaskRole"]["Properties"]["Policies"][0]["PolicyName"],
            "ecs-exec"
        );
        // Policies removed: the role stays, without permissions.
        let (resources, _) = rendered(&service(json!({})), true);
        assert_eq!(resources["TaskRole"]["Properties"]["Policies"], json!([]));
        assert_eq!(
            resources["TaskRole"]["Properties"]["ManagedPolicyArns"],
            json!([])
        );
        // A role of the user's own: nothing is made for it.
        let (resources, _) = rendered(
            &service(
                json!({"taskRoleArn": "arn:aws:iam::123456789012:role/mine", "enableExec": true}),
            ),
            false,
        );
        assert_eq!(resources, json!({}));
    }

    #[test]
    fn the_execution_role_may_read_exactly_the_referenced_secrets() {
        let svc = service(json!({"secrets": {
            "DB": {"ssm": "/app/db"},
            "API": {"secretsManager": "prod/api", "key": "token"},
            "API_USER": {"secretsManager": "prod/api", "key": "user"},
        }}));
        let mut resources = serde_json::Map::new();
        existing_secrets_resources(
            &svc,
            "arn:aws:iam::123456789012:role/defang-shop-TaskExecutionRole-ABC",
            &mut resources,
        );
        let policy = &resources["ExistingSecretsAccess"]["Properties"];
        assert_eq!(policy["PolicyName"], "defang-shop-S-web-secrets");
        assert_eq!(
            policy["Roles"],
            json!(["defang-shop-TaskExecutionRole-ABC"])
        );
        assert_eq!(
            policy["PolicyDocument"]["Statement"],
            json!([
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [
                    {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/api"},
                    {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/api-??????"},
                ]},
                {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [
                    {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/app/db"},
                ]},
            ])
        );
        let mut none = serde_json::Map::new();
        existing_secrets_resources(&service(json!({})), "arn:aws:iam::1:role/x", &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn check_names_the_property_and_the_fix() {
        let failures = |value: Value| {
            let mut v = json!({"project": "shop", "image": "nginx"});
            v.as_object_mut()
                .unwrap()
                .extend(value.as_object().unwrap().clone());
            let inputs: ServiceInputs = serde_json::from_value(v).unwrap();
            let mut failures = Vec::new();
            check_permissions(&inputs, &|_| true, &mut failures);
            failures
                .into_iter()
                .map(|f| format!("{}: {}", f.property, f.reason))
                .collect::<Vec<_>>()
        };
        assert!(
            failures(json!({
                "policies": ["AmazonS3ReadOnlyAccess", "service-role/AWSLambdaRole", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
                "policyStatements": [{"actions": ["s3:Get*", "*"], "resources": ["arn:aws:s3:::b/*", "*"]}],
            }))
            .is_empty()
        );
        let got = failures(
            json!({"taskRoleArn": "arn:aws:iam::123456789012:role/mine", "policies": ["ReadOnlyAccess"]}),
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("policies: cannot be combined with `taskRoleArn`"));
        assert!(
            failures(json!({"taskRoleArn": "arn:aws:iam::123456789012:user/me"}))[0].starts_with(
                "taskRoleArn: \"arn:aws:iam::123456789012:user/me\" is not an IAM role ARN"
            )
        );
        assert!(
            failures(json!({"policies": ["arn:aws:iam::12:policy/x"]}))[0]
                .starts_with("policies[0]: ")
        );
        assert!(failures(json!({"policies": ["Read Only"]}))[0].contains("AmazonS3ReadOnlyAccess"));
        let many: Vec<String> = (0..21).map(|i| format!("P{i}")).collect();
        assert!(failures(json!({"policies": many}))[0].contains("at most 20"));
        let got = failures(json!({"policyStatements": [
            {"actions": [], "resources": []},
            {"actions": ["s3 GetObject"], "resources": ["my-bucket"], "condition": {"StringEquals": {}}},
        ]}));
        assert_eq!(
            got.iter()
                .map(|f| f.split(": ").next().unwrap())
                .collect::<Vec<_>>(),
            vec![
                "policyStatements[0].actions",
                "policyStatements[0].resources",
                "policyStatements[1].actions[0]",
                "policyStatements[1].resources[0]",
                "policyStatements[1].condition.StringEquals",
            ]
        );
        assert!(got[2].contains("`service:Action`"), "{}", got[2]);
    }
}
