//! Scripted, in-memory fakes of the cloud traits, for lifecycle tests of what the emulator
//! cannot do (failed rollouts, slow ones, failing stacks).

use crate::cloud::*;
use crate::config::ProviderConfig;
use crate::provider::DefangProvider;
use crate::runtime::{Cloud, CloudConnector, Runtime};
use pulumi_plugin::testing::{Deployed, Driver};
use pulumi_plugin::tonic::{self, Status};
use pulumi_plugin::value::properties_from_struct;
use pulumi_plugin::{Context, EngineLog, PartialState, PropertyMap, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// An ECS whose services follow a script: each DescribeServices of a service pops the next
/// scripted state (the last one repeats).
#[derive(Default)]
pub struct FakeEcs {
    pub task_definitions: Mutex<BTreeMap<String, TaskDefinitionSpec>>,
    pub services: Mutex<BTreeMap<String, ServiceState>>,
    pub script: Mutex<VecDeque<ServiceState>>,
    /// Scripts per service name (take precedence over `script`).
    pub scripts: Mutex<BTreeMap<String, VecDeque<ServiceState>>>,
    pub calls: Mutex<Vec<String>>,
    /// Every UpdateService request, in order.
    pub updates: Mutex<Vec<ServiceUpdate>>,
    /// Every CreateService request, in order.
    pub creates: Mutex<Vec<ServiceSpec>>,
    /// After CreateService, this many DescribeServices calls do not list the new service yet
    /// (ECS is eventually consistent).
    pub invisible_after_create: Mutex<usize>,
    hidden_describes: Mutex<usize>,
}

impl FakeEcs {
    fn record(&self, call: &str) {
        self.calls.lock().unwrap().push(call.to_string());
    }
}

#[async_trait::async_trait]
impl Ecs for FakeEcs {
    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> CloudResult<String> {
        self.record("RegisterTaskDefinition");
        let mut tds = self.task_definitions.lock().unwrap();
        let arn = format!("arn:td/{}:{}", spec.family, tds.len() + 1);
        tds.insert(arn.clone(), spec.clone());
        Ok(arn)
    }

    async fn describe_task_definition(&self, arn: &str) -> CloudResult<Option<TaskDefinition>> {
        Ok(self
            .task_definitions
            .lock()
            .unwrap()
            .get(arn)
            .map(|spec| TaskDefinition {
                arn: arn.to_string(),
                revision: 1,
                spec: spec.clone(),
            }))
    }

    async fn list_task_definitions(&self, family: &str) -> CloudResult<Vec<String>> {
        Ok(self
            .task_definitions
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.family == family)
            .map(|(a, _)| a.clone())
            .collect())
    }

    async fn deregister_task_definition(&self, arn: &str) -> CloudResult<()> {
        self.record("DeregisterTaskDefinition");
        self.task_definitions.lock().unwrap().remove(arn);
        Ok(())
    }

    async fn create_service(&self, spec: &ServiceSpec) -> CloudResult<ServiceState> {
        self.record("CreateService");
        self.creates.lock().unwrap().push(spec.clone());
        let state = ServiceState {
            arn: format!("arn:svc/{}", spec.name),
            name: spec.name.clone(),
            cluster_arn: spec.cluster.clone(),
            status: "ACTIVE".into(),
            task_definition_arn: spec.task_definition_arn.clone(),
            desired_count: spec.desired_count as i32,
            running_count: 0,
            pending_count: 0,
            deployments: vec![deployment("d-1", RolloutState::InProgress, 0, 0, 0)],
            network: Some(spec.network.clone()),
            enable_execute_command: spec.enable_execute_command,
            health_check_grace_period_seconds: spec.health_check_grace_period_seconds,
            capacity_provider_strategy: spec.capacity_provider_strategy.clone(),
            tags: spec.tags.clone(),
            recent_events: vec![],
        };
        self.services
            .lock()
            .unwrap()
            .insert(spec.name.clone(), state.clone());
        *self.hidden_describes.lock().unwrap() = *self.invisible_after_create.lock().unwrap();
        Ok(state)
    }

    async fn update_service(&self, update: &ServiceUpdate) -> CloudResult<ServiceState> {
        self.record("UpdateService");
        self.updates.lock().unwrap().push(update.clone());
        let mut services = self.services.lock().unwrap();
        let state = services.get_mut(&update.name).ok_or_else(|| {
            CloudError::not_found(update.name.clone()).in_call("ECS", "UpdateService")
        })?;
        if let Some(td) = &update.task_definition_arn {
            state.task_definition_arn = td.clone();
        }
        if let Some(exec) = update.enable_execute_command {
            state.enable_execute_command = exec;
        }
        if update.health_check_grace_period_seconds.is_some() {
            state.health_check_grace_period_seconds = update.health_check_grace_period_seconds;
        }
        if let Some(strategy) = &update.capacity_provider_strategy {
            state.capacity_provider_strategy = strategy.clone();
        }
        // Like ECS: a desired count given is the service's (and a scaler's choice otherwise).
        if let Some(count) = update.desired_count {
            state.desired_count = count as i32;
        }
        Ok(state.clone())
    }

    async fn describe_services(
        &self,
        _cluster: &str,
        names: &[String],
    ) -> CloudResult<Vec<ServiceState>> {
        self.record("DescribeServices");
        self.record(&format!("DescribeServices x{}", names.len()));
        {
            let mut hidden = self.hidden_describes.lock().unwrap();
            if *hidden > 0 {
                *hidden -= 1;
                return Ok(Vec::new());
            }
        }
        let mut updates = Vec::new();
        {
            let mut scripts = self.scripts.lock().unwrap();
            for name in names {
                if let Some(script) = scripts.get_mut(name) {
                    updates.extend(next_of(script));
                }
            }
            if updates.is_empty() {
                updates.extend(next_of(&mut self.script.lock().unwrap()));
            }
        }
        let mut services = self.services.lock().unwrap();
        for next in updates {
            if let Some(current) = services.get_mut(&next.name) {
                // Scripts are about rollouts: what was configured stays.
                *current = ServiceState {
                    tags: current.tags.clone(),
                    enable_execute_command: current.enable_execute_command,
                    health_check_grace_period_seconds: current.health_check_grace_period_seconds,
                    capacity_provider_strategy: current.capacity_provider_strategy.clone(),
                    ..next
                };
            }
        }
        Ok(names
            .iter()
            .filter_map(|n| services.get(n).cloned())
            .collect())
    }

    async fn delete_service(&self, _cluster: &str, name: &str) -> CloudResult<()> {
        self.record("DeleteService");
        self.services.lock().unwrap().remove(name);
        Ok(())
    }
}

/// The next scripted state; the last one repeats.
fn next_of(script: &mut VecDeque<ServiceState>) -> Option<ServiceState> {
    if script.len() > 1 {
        script.pop_front()
    } else {
        script.front().cloned()
    }
}

pub fn deployment(
    id: &str,
    rollout: RolloutState,
    running: i32,
    pending: i32,
    failed: i32,
) -> Deployment {
    Deployment {
        id: id.into(),
        status: "PRIMARY".into(),
        task_definition_arn: "arn:td".into(),
        rollout_state: Some(rollout),
        rollout_state_reason: None,
        desired_count: 1,
        running_count: running,
        pending_count: pending,
        failed_tasks: failed,
        spot_interrupted_tasks: 0,
    }
}

/// A service state for scripts.
pub fn service_state(
    name: &str,
    running: i32,
    deployment: Deployment,
    events: &[&str],
) -> ServiceState {
    ServiceState {
        arn: format!("arn:svc/{name}"),
        name: name.into(),
        cluster_arn: "arn:cluster".into(),
        status: "ACTIVE".into(),
        task_definition_arn: "arn:td".into(),
        desired_count: 1,
        running_count: running,
        pending_count: 0,
        deployments: vec![deployment],
        network: None,
        enable_execute_command: false,
        health_check_grace_period_seconds: None,
        capacity_provider_strategy: vec![],
        tags: vec![],
        recent_events: events.iter().map(|e| e.to_string()).collect(),
    }
}

/// Stacks that already exist, complete, with the outputs a project stack has.
#[derive(Default)]
pub struct FakeStacks {
    pub stacks: Mutex<BTreeMap<String, StackState>>,
    pub calls: Mutex<Vec<String>>,
    /// The last template each stack was created or updated with, by stack name.
    pub templates: Mutex<BTreeMap<String, String>>,
    /// What goes wrong, for the next calls.
    pub faults: Mutex<StackFaults>,
    /// Where the stacks' scalable targets and scaling policies live ([`env`] uses it).
    pub autoscaling: Arc<FakeAutoScaling>,
    /// Where the stacks' IAM roles live ([`env`] uses it).
    pub roles: Arc<FakeRoles>,
}

/// Failures [`FakeStacks`] can play.
#[derive(Default)]
pub struct StackFaults {
    /// CreateStack makes the stack, then answers AlreadyExists (a lost response, retried).
    pub lose_create_response: bool,
    /// CreateStack leaves the stack in this state (e.g. ROLLBACK_COMPLETE).
    pub create_status: Option<String>,
    /// UpdateStack answers "No updates are to be performed" without changing the stack.
    pub no_changes: bool,
    /// The client tokens of every create, update and delete, in order.
    pub tokens: Vec<String>,
    /// After CreateStack, this many DescribeStacks calls do not list the new stack yet.
    pub invisible_after_create: usize,
    hidden_describes: usize,
}

impl FakeStacks {
    pub fn with_project(project: &str) -> FakeStacks {
        let outputs = BTreeMap::from(
            [
                ("ProjectName", project.to_string()),
                ("ClusterName", format!("defang-{project}")),
                ("SubnetIds", "subnet-1,subnet-2".into()),
                ("SecurityGroupId", "sg-1".into()),
                (
                    "ExecutionRoleArn",
                    format!("arn:aws:iam::123456789012:role/defang-{project}-exec"),
                ),
                ("LogGroupName", format!("/defang/{project}")),
                ("AssignPublicIp", "true".into()),
                ("ContextBucket", "contexts-bucket".into()),
                ("VpcId", "vpc-1".into()),
                ("PrivateNamespaceId", "ns-1".into()),
                ("BuildProject", format!("defang-{project}-build")),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        let name = format!("defang-{project}");
        let stack = StackState {
            id: format!("arn:stack/{name}"),
            name: name.clone(),
            status: "CREATE_COMPLETE".into(),
            status_reason: None,
            outputs,
            tags: BTreeMap::new(),
        };
        FakeStacks {
            stacks: Mutex::new(BTreeMap::from([(name, stack)])),
            ..FakeStacks::default()
        }
    }
}

impl FakeStacks {
    /// What CloudFormation does to a stack's scalable target, scaling policies and task role
    /// when its template goes from `old` to `new` (`None`: no stack): it creates, updates or
    /// deletes the resources whose properties changed in the template, and nothing else: a
    /// resource whose template is unchanged is not touched, whatever AWS holds now. An updated
    /// role gets the template's differences (managed policies attached or detached, inline
    /// policies put or deleted).
    fn apply_template(&self, stack: &str, old: Option<&str>, new: Option<&str>) {
        let resources = |template: Option<&str>| {
            template
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .and_then(|t| t["Resources"].as_object().cloned())
                .unwrap_or_default()
        };
        let (old, new) = (resources(old), resources(new));
        let target_of = |resources: &serde_json::Map<String, serde_json::Value>| {
            resources
                .values()
                .find(|r| r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget")
                .and_then(|r| r["Properties"]["ResourceId"].as_str())
                .map(str::to_string)
        };
        // The role's ARN is the stack's output `TaskRoleArn` (see `settled_stack`).
        let role = format!("fake:{stack}:TaskRoleArn");
        let managed = |props: &serde_json::Value| -> Vec<String> {
            props["ManagedPolicyArns"]
                .as_array()
                .map(|arns| {
                    arns.iter()
                        .filter_map(|arn| match arn {
                            serde_json::Value::String(arn) => Some(arn.clone()),
                            sub => sub["Fn::Sub"]
                                .as_str()
                                .map(|s| s.replace("${AWS::Partition}", "aws")),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let inline = |props: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
            props["Policies"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|p| {
                            Some((
                                p["PolicyName"].as_str()?.to_string(),
                                p["PolicyDocument"].clone(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        for (id, resource) in &new {
            let before = old.get(id);
            if before == Some(resource) {
                continue;
            }
            let props = &resource["Properties"];
            match resource["Type"].as_str() {
                Some("AWS::ApplicationAutoScaling::ScalableTarget") => {
                    let count = |key: &str| props[key].as_i64().unwrap_or(0) as i32;
                    self.autoscaling.targets.lock().unwrap().insert(
                        props["ResourceId"].as_str().unwrap_or_default().to_string(),
                        ScalableTarget {
                            min_capacity: count("MinCapacity"),
                            max_capacity: count("MaxCapacity"),
                        },
                    );
                }
                Some("AWS::ApplicationAutoScaling::ScalingPolicy") => {
                    let config = &props["TargetTrackingScalingPolicyConfiguration"];
                    let metric = &config["PredefinedMetricSpecification"];
                    let policy = TargetTrackingPolicy {
                        name: props["PolicyName"].as_str().unwrap_or_default().to_string(),
                        predefined_metric: metric["PredefinedMetricType"]
                            .as_str()
                            .map(str::to_string),
                        // A label made of intrinsic functions is not evaluated.
                        resource_label: metric["ResourceLabel"].as_str().map(str::to_string),
                        target_value: config["TargetValue"].as_f64().unwrap_or_default(),
                    };
                    let mut policies = self.autoscaling.policies.lock().unwrap();
                    let list = policies
                        .entry(target_of(&new).unwrap_or_default())
                        .or_default();
                    list.retain(|p| p.name != policy.name);
                    list.push(policy);
                }
                Some("AWS::IAM::Role") => {
                    let was = before.map(|r| &r["Properties"]);
                    let mut attached = self.roles.attached.lock().unwrap();
                    let list = attached.entry(role.clone()).or_default();
                    let old_managed = was.map(managed).unwrap_or_default();
                    let new_managed = managed(props);
                    list.retain(|arn| !old_managed.contains(arn) || new_managed.contains(arn));
                    for arn in new_managed {
                        if !old_managed.contains(&arn) && !list.contains(&arn) {
                            list.push(arn);
                        }
                    }
                    let mut policies = self.roles.inline.lock().unwrap();
                    let policies = policies.entry(role.clone()).or_default();
                    let old_inline = was.map(inline).unwrap_or_default();
                    let new_inline = inline(props);
                    for name in old_inline.keys() {
                        if !new_inline.contains_key(name) {
                            policies.remove(name);
                        }
                    }
                    for (name, document) in new_inline {
                        if old_inline.get(&name) != Some(&document) {
                            policies.insert(name, document);
                        }
                    }
                }
                _ => {}
            }
        }
        for (id, resource) in &old {
            if new.contains_key(id) {
                continue;
            }
            let props = &resource["Properties"];
            match resource["Type"].as_str() {
                Some("AWS::ApplicationAutoScaling::ScalableTarget") => {
                    let target = props["ResourceId"].as_str().unwrap_or_default();
                    self.autoscaling.targets.lock().unwrap().remove(target);
                    self.autoscaling.policies.lock().unwrap().remove(target);
                }
                Some("AWS::ApplicationAutoScaling::ScalingPolicy") => {
                    let name = props["PolicyName"].as_str().unwrap_or_default();
                    if let Some(list) = self
                        .autoscaling
                        .policies
                        .lock()
                        .unwrap()
                        .get_mut(&target_of(&old).unwrap_or_default())
                    {
                        list.retain(|p| p.name != name);
                    }
                }
                Some("AWS::IAM::Role") => {
                    self.roles.attached.lock().unwrap().remove(&role);
                    self.roles.inline.lock().unwrap().remove(&role);
                }
                _ => {}
            }
        }
    }
}

#[async_trait::async_trait]
impl Stacks for FakeStacks {
    async fn describe_stack(&self, name: &str) -> CloudResult<Option<StackState>> {
        self.calls.lock().unwrap().push("DescribeStacks".into());
        {
            let mut faults = self.faults.lock().unwrap();
            if faults.hidden_describes > 0 {
                faults.hidden_describes -= 1;
                return Ok(None);
            }
        }
        Ok(self.stacks.lock().unwrap().get(name).cloned())
    }
    async fn create_stack(&self, request: &StackRequest) -> CloudResult<String> {
        self.calls.lock().unwrap().push("CreateStack".into());
        let mut faults = self.faults.lock().unwrap();
        faults.tokens.push(request.client_token.clone());
        let status = faults.create_status.as_deref().unwrap_or("CREATE_COMPLETE");
        let stack = settled_stack(request, status)?;
        let id = stack.id.clone();
        let mut stacks = self.stacks.lock().unwrap();
        if stacks.contains_key(&request.name) {
            return Err(CloudError::already_exists(format!(
                "Stack [{}] already exists",
                request.name
            ))
            .in_call("CloudFormation", "CreateStack")
            .with_code("AlreadyExistsException"));
        }
        // Only a stack that is made has its template (a refused create changes nothing).
        self.templates
            .lock()
            .unwrap()
            .insert(request.name.clone(), request.template.clone());
        self.apply_template(&request.name, None, Some(&request.template));
        stacks.insert(request.name.clone(), stack);
        faults.hidden_describes = faults.invisible_after_create;
        if faults.lose_create_response {
            faults.lose_create_response = false;
            return Err(CloudError::already_exists(format!(
                "Stack [{}] already exists",
                request.name
            ))
            .in_call("CloudFormation", "CreateStack")
            .with_code("AlreadyExistsException"));
        }
        Ok(id)
    }
    async fn update_stack(&self, request: &StackRequest) -> CloudResult<UpdateOutcome> {
        self.calls.lock().unwrap().push("UpdateStack".into());
        let old = self
            .templates
            .lock()
            .unwrap()
            .insert(request.name.clone(), request.template.clone());
        let mut faults = self.faults.lock().unwrap();
        faults.tokens.push(request.client_token.clone());
        if faults.no_changes {
            return Ok(UpdateOutcome::NoChanges);
        }
        self.apply_template(&request.name, old.as_deref(), Some(&request.template));
        let stack = settled_stack(request, "UPDATE_COMPLETE")?;
        self.stacks
            .lock()
            .unwrap()
            .insert(request.name.clone(), stack);
        Ok(UpdateOutcome::Started)
    }
    /// Turning the `Ingress` parameter on makes the ingress outputs appear (the fake holds no
    /// template to evaluate).
    async fn update_parameters(
        &self,
        name: &str,
        parameters: &BTreeMap<String, String>,
        token: &str,
    ) -> CloudResult<UpdateOutcome> {
        self.calls
            .lock()
            .unwrap()
            .push("UpdateStackParameters".into());
        self.faults.lock().unwrap().tokens.push(token.to_string());
        let mut stacks = self.stacks.lock().unwrap();
        let stack = stacks.get_mut(name).ok_or_else(|| {
            CloudError::not_found(format!("stack {name}")).in_call("CloudFormation", "UpdateStack")
        })?;
        if parameters
            .get(crate::project::template::INGRESS)
            .map(String::as_str)
            != Some("true")
            || stack
                .outputs
                .contains_key(crate::project::ingress::outputs::LOAD_BALANCER_ARN)
        {
            return Ok(UpdateOutcome::NoChanges);
        }
        use crate::project::ingress::outputs as ingress;
        for key in [
            ingress::ZONE_ID,
            ingress::ZONE_NAME,
            ingress::CERTIFICATE_ARN,
            ingress::LOAD_BALANCER_ARN,
            ingress::LOAD_BALANCER_DNS_NAME,
            ingress::LOAD_BALANCER_ZONE_ID,
            ingress::LOAD_BALANCER_SECURITY_GROUP_ID,
            ingress::HTTPS_LISTENER_ARN,
        ] {
            let value = match key {
                ingress::ZONE_NAME => {
                    format!("{}.alice.defang.app", stack.outputs["ProjectName"])
                }
                _ => format!("fake:{name}:{key}"),
            };
            stack.outputs.insert(key.to_string(), value);
        }
        stack.status = "UPDATE_COMPLETE".into();
        Ok(UpdateOutcome::Started)
    }
    async fn delete_stack(&self, name: &str, token: &str) -> CloudResult<()> {
        self.calls.lock().unwrap().push("DeleteStack".into());
        self.faults.lock().unwrap().tokens.push(token.to_string());
        let old = self.templates.lock().unwrap().get(name).cloned();
        self.apply_template(name, old.as_deref(), None);
        self.stacks.lock().unwrap().remove(name);
        Ok(())
    }
    async fn stack_events(&self, _: &str, _: usize) -> CloudResult<Vec<StackEvent>> {
        Ok(vec![])
    }
    async fn list_in_progress(&self) -> CloudResult<BTreeMap<String, String>> {
        self.calls.lock().unwrap().push("ListStacks".into());
        Ok(self
            .stacks
            .lock()
            .unwrap()
            .values()
            .filter(|s| s.is_in_progress())
            .map(|s| (s.name.clone(), s.status.clone()))
            .collect())
    }
}

/// A stack as CloudFormation would leave it: every output of the template gets a fake value.
fn settled_stack(request: &StackRequest, status: &str) -> CloudResult<StackState> {
    let template: serde_json::Value = serde_json::from_str(&request.template)
        .map_err(|e| CloudError::invalid(format!("template: {e}")))?;
    let outputs = template["Outputs"]
        .as_object()
        .map(|o| {
            o.keys()
                .map(|k| (k.clone(), format!("fake:{}:{k}", request.name)))
                .collect()
        })
        .unwrap_or_default();
    Ok(StackState {
        id: format!("arn:stack/{}", request.name),
        name: request.name.clone(),
        status: status.into(),
        status_reason: None,
        outputs,
        tags: request.tags.clone(),
    })
}

pub fn env(ecs: Arc<FakeEcs>, stacks: Arc<FakeStacks>) -> Runtime {
    env_with_builds(ecs, stacks, Arc::new(FakeBuildCloud::default()))
}

pub fn env_with_builds(
    ecs: Arc<FakeEcs>,
    stacks: Arc<FakeStacks>,
    builds: Arc<FakeBuildCloud>,
) -> Runtime {
    env_with_all(ecs, stacks, builds, Arc::new(FakeParameters::default()))
}

pub fn env_with_parameters(
    ecs: Arc<FakeEcs>,
    stacks: Arc<FakeStacks>,
    parameters: Arc<FakeParameters>,
) -> Runtime {
    env_with_all(ecs, stacks, Arc::new(FakeBuildCloud::default()), parameters)
}

fn env_with_all(
    ecs: Arc<FakeEcs>,
    stacks: Arc<FakeStacks>,
    builds: Arc<FakeBuildCloud>,
    parameters: Arc<FakeParameters>,
) -> Runtime {
    let (autoscaling, roles) = (stacks.autoscaling.clone(), stacks.roles.clone());
    Runtime::new(
        Cloud {
            ecs,
            stacks,
            builds: builds.clone(),
            objects: builds.clone(),
            registry: builds.clone(),
            logs: builds,
            dns: Arc::new(FakeDns::default()),
            listeners: Arc::new(FakeListeners::default()),
            parameters,
            autoscaling,
            roles,
            region: "us-east-1".into(),
        },
        ProviderConfig::parse(&config()).expect("the fakes' config"),
    )
}

/// The provider configuration of every runtime of these fakes: user `alice`, in `us-east-1`.
fn config() -> PropertyMap {
    PropertyMap::from([
        ("username".to_string(), Value::from("alice")),
        ("region".to_string(), Value::from("us-east-1")),
    ])
}

/// A context with no engine and a generous timeout; time is paused in these tests.
pub fn context(timeout: Option<Duration>) -> Context {
    Context::new(
        EngineLog::default().for_resource("urn:pulumi:t::p::defang:index:Service::web"),
        CancellationToken::new(),
        timeout,
    )
}

/// CodeBuild, S3, ECR and Logs in memory. Builds follow `build_script` (one state per poll,
/// the last repeats); a build that succeeds pushes its tag.
#[derive(Default)]
pub struct FakeBuildCloud {
    pub build_script: Mutex<VecDeque<BuildState>>,
    pub started: Mutex<Vec<BuildRequest>>,
    pub stopped: Mutex<Vec<String>>,
    pub objects: Mutex<BTreeMap<String, u64>>,
    pub images: Mutex<BTreeMap<(String, String), String>>,
    pub log_lines: Mutex<Vec<String>>,
    pub calls: Mutex<Vec<String>>,
}

impl FakeBuildCloud {
    fn record(&self, call: &str) {
        self.calls.lock().unwrap().push(call.to_string());
    }
}

pub fn build_state(status: BuildStatus, phase: &str) -> BuildState {
    BuildState {
        id: "build:1".into(),
        status,
        current_phase: phase.into(),
        phases: vec![],
        log: Some(LogLocation {
            group: "/defang/shop".into(),
            stream: "builds/web/1".into(),
        }),
    }
}

#[async_trait::async_trait]
impl Builds for FakeBuildCloud {
    async fn start_build(&self, request: &BuildRequest) -> CloudResult<String> {
        self.record("StartBuild");
        self.started.lock().unwrap().push(request.clone());
        Ok("build:1".into())
    }

    async fn batch_get_builds(&self, ids: &[String]) -> CloudResult<Vec<BuildState>> {
        self.record("BatchGetBuilds");
        let next = next_build(&mut self.build_script.lock().unwrap());
        if let Some(state) = &next
            && state.status == BuildStatus::Succeeded
            && let Some(req) = self.started.lock().unwrap().last()
        {
            let repo = req
                .repository_uri
                .split_once('/')
                .map(|(_, r)| r.to_string())
                .unwrap_or_default();
            self.images.lock().unwrap().insert(
                (repo, req.image_tag.clone()),
                format!("sha256:{}", "d".repeat(64)),
            );
        }
        Ok(next.into_iter().filter(|b| ids.contains(&b.id)).collect())
    }

    async fn stop_build(&self, id: &str) -> CloudResult<()> {
        self.record("StopBuild");
        self.stopped.lock().unwrap().push(id.to_string());
        Ok(())
    }
}

fn next_build(script: &mut VecDeque<BuildState>) -> Option<BuildState> {
    if script.len() > 1 {
        script.pop_front()
    } else {
        script.front().cloned()
    }
}

#[async_trait::async_trait]
impl ObjectStore for FakeBuildCloud {
    async fn object_exists(&self, bucket: &str, key: &str) -> CloudResult<bool> {
        self.record("HeadObject");
        Ok(self
            .objects
            .lock()
            .unwrap()
            .contains_key(&format!("{bucket}/{key}")))
    }

    async fn put_file(&self, bucket: &str, key: &str, path: &std::path::Path) -> CloudResult<()> {
        self.record("PutObject");
        let size = std::fs::metadata(path)
            .map_err(|e| CloudError::other(e.to_string()))?
            .len();
        self.objects
            .lock()
            .unwrap()
            .insert(format!("{bucket}/{key}"), size);
        Ok(())
    }

    async fn empty_bucket(&self, bucket: &str) -> CloudResult<u64> {
        self.record("EmptyBucket");
        Ok(self.remove_bucket_objects(bucket))
    }
}

impl FakeBuildCloud {
    fn remove_bucket_objects(&self, bucket: &str) -> u64 {
        let mut objects = self.objects.lock().unwrap();
        let before = objects.len();
        objects.retain(|k, _| !k.starts_with(&format!("{bucket}/")));
        (before - objects.len()) as u64
    }
}

#[async_trait::async_trait]
impl Registry for FakeBuildCloud {
    async fn ensure_repository(&self, name: &str, _: &[(String, String)]) -> CloudResult<String> {
        self.record("CreateRepository");
        Ok(format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"
        ))
    }

    async fn image_digest(&self, repository: &str, tag: &str) -> CloudResult<Option<String>> {
        self.record("DescribeImages");
        Ok(self
            .images
            .lock()
            .unwrap()
            .get(&(repository.to_string(), tag.to_string()))
            .cloned())
    }

    async fn delete_repository(&self, _: &str) -> CloudResult<()> {
        self.record("DeleteRepository");
        Ok(())
    }
}

#[async_trait::async_trait]
impl LogTail for FakeBuildCloud {
    async fn tail(&self, _: &str, _: &str, lines: usize) -> CloudResult<Vec<String>> {
        let all = self.log_lines.lock().unwrap();
        Ok(all.iter().rev().take(lines).rev().cloned().collect())
    }
}

/// Listener rules in memory (none unless a test adds some).
#[derive(Default)]
pub struct FakeListeners {
    pub rules: Mutex<Vec<ListenerRule>>,
}

#[async_trait::async_trait]
impl Listeners for FakeListeners {
    async fn listener_rules(&self, _: &str) -> CloudResult<Vec<ListenerRule>> {
        Ok(self.rules.lock().unwrap().clone())
    }
}

/// Route 53 zones in memory.
#[derive(Default)]
pub struct FakeDns {
    pub zones: Mutex<Vec<HostedZone>>,
}

#[async_trait::async_trait]
impl Dns for FakeDns {
    async fn find_public_zone(&self, domain: &str) -> CloudResult<Option<HostedZone>> {
        let zones = self.zones.lock().unwrap();
        let mut candidate = domain.trim_end_matches('.');
        loop {
            if let Some(z) = zones.iter().find(|z| z.name == candidate) {
                return Ok(Some(z.clone()));
            }
            match candidate.split_once('.') {
                Some((_, parent)) if parent.contains('.') => candidate = parent,
                _ => return Ok(None),
            }
        }
    }
}

/// A stored parameter: its value and tags.
pub type FakeParameter = (String, Vec<(String, String)>);

/// SSM Parameter Store in memory, by name.
#[derive(Default)]
pub struct FakeParameters {
    pub values: Mutex<BTreeMap<String, FakeParameter>>,
    pub calls: Mutex<Vec<String>>,
}

impl FakeParameters {
    pub fn arn(name: &str) -> String {
        format!("arn:aws:ssm:us-east-1:123456789012:parameter{name}")
    }
}

#[async_trait::async_trait]
impl Parameters for FakeParameters {
    async fn put_secure(
        &self,
        name: &str,
        value: &str,
        tags: &[(String, String)],
    ) -> CloudResult<String> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("PutParameter {name}"));
        self.values
            .lock()
            .unwrap()
            .insert(name.to_string(), (value.to_string(), tags.to_vec()));
        Ok(FakeParameters::arn(name))
    }

    async fn delete_by_path_except(&self, prefix: &str, keep: &[String]) -> CloudResult<u64> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("DeleteByPath {prefix}"));
        let path = format!("{}/", prefix.trim_end_matches('/'));
        let mut values = self.values.lock().unwrap();
        let before = values.len();
        values.retain(|name, _| !name.starts_with(&path) || keep.contains(name));
        Ok((before - values.len()) as u64)
    }
}

/// Application Auto Scaling in memory: scalable targets and their target tracking policies,
/// by resource id. A test says what AWS holds, [`FakeStacks`] writes what a stack's template
/// makes (as CloudFormation would), and the write methods apply what they are asked. Every call
/// is recorded in `calls`.
#[derive(Default)]
pub struct FakeAutoScaling {
    pub targets: Mutex<BTreeMap<String, ScalableTarget>>,
    pub policies: Mutex<BTreeMap<String, Vec<TargetTrackingPolicy>>>,
    pub calls: Mutex<Vec<String>>,
    /// The next this many writes answer `ConcurrentUpdateException` (settling) and change
    /// nothing.
    pub busy_writes: Mutex<usize>,
}

impl FakeAutoScaling {
    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    /// The recorded writes (Register, Put and Delete calls), in order.
    pub fn writes(&self) -> Vec<String> {
        writes_of(&self.calls)
    }

    fn busy(&self, operation: &'static str) -> CloudResult<()> {
        let mut busy = self.busy_writes.lock().unwrap();
        if *busy == 0 {
            return Ok(());
        }
        *busy -= 1;
        Err(
            CloudError::settling("Concurrent updates are not allowed for the same target")
                .in_call("Application Auto Scaling", operation)
                .with_code("ConcurrentUpdateException"),
        )
    }
}

/// The calls of `calls` that write (not Describe, List or Get).
fn writes_of(calls: &Mutex<Vec<String>>) -> Vec<String> {
    calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| !["Describe", "List", "Get"].iter().any(|r| c.starts_with(r)))
        .cloned()
        .collect()
}

#[async_trait::async_trait]
impl AutoScaling for FakeAutoScaling {
    async fn ecs_service_target(&self, resource_id: &str) -> CloudResult<Option<ScalableTarget>> {
        self.record(format!("DescribeScalableTargets {resource_id}"));
        Ok(self.targets.lock().unwrap().get(resource_id).cloned())
    }

    async fn ecs_service_policies(
        &self,
        resource_id: &str,
    ) -> CloudResult<Vec<TargetTrackingPolicy>> {
        self.record(format!("DescribeScalingPolicies {resource_id}"));
        Ok(self
            .policies
            .lock()
            .unwrap()
            .get(resource_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn register_ecs_service_target(
        &self,
        resource_id: &str,
        min_capacity: i32,
        max_capacity: i32,
    ) -> CloudResult<()> {
        self.record(format!(
            "RegisterScalableTarget {resource_id} {min_capacity}..{max_capacity}"
        ));
        self.busy("RegisterScalableTarget")?;
        self.targets.lock().unwrap().insert(
            resource_id.to_string(),
            ScalableTarget {
                min_capacity,
                max_capacity,
            },
        );
        Ok(())
    }

    async fn put_target_tracking_policy(
        &self,
        resource_id: &str,
        policy: &TargetTrackingPolicy,
    ) -> CloudResult<()> {
        self.record(format!("PutScalingPolicy {resource_id} {}", policy.name));
        self.busy("PutScalingPolicy")?;
        if !self.targets.lock().unwrap().contains_key(resource_id) {
            return Err(
                CloudError::not_found(format!("no scalable target {resource_id}"))
                    .in_call("Application Auto Scaling", "PutScalingPolicy")
                    .with_code("ObjectNotFoundException"),
            );
        }
        let mut policies = self.policies.lock().unwrap();
        let list = policies.entry(resource_id.to_string()).or_default();
        match list.iter_mut().find(|p| p.name == policy.name) {
            Some(existing) => *existing = policy.clone(),
            None => list.push(policy.clone()),
        }
        Ok(())
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> CloudResult<()> {
        self.record(format!("DeleteScalingPolicy {resource_id} {name}"));
        self.busy("DeleteScalingPolicy")?;
        let mut policies = self.policies.lock().unwrap();
        let list = policies.entry(resource_id.to_string()).or_default();
        let before = list.len();
        list.retain(|p| p.name != name);
        if list.len() == before {
            return Err(CloudError::not_found(format!("no scaling policy {name}"))
                .in_call("Application Auto Scaling", "DeleteScalingPolicy")
                .with_code("ObjectNotFoundException"));
        }
        Ok(())
    }
}

/// IAM roles in memory, by role name: the ARNs of their managed policies and their inline
/// policies (name → document); a role exists when `attached` has it. A test says what AWS
/// holds, [`FakeStacks`] writes what a stack's template makes, and the write methods apply
/// what they are asked. Every call is recorded in `calls`.
#[derive(Default)]
pub struct FakeRoles {
    pub attached: Mutex<BTreeMap<String, Vec<String>>>,
    pub inline: Mutex<BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
    pub calls: Mutex<Vec<String>>,
    /// The next this many writes answer `ConcurrentModification` (settling) and change nothing.
    pub busy_writes: Mutex<usize>,
}

impl FakeRoles {
    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    /// The recorded writes (Attach, Detach, Put and Delete calls), in order.
    pub fn writes(&self) -> Vec<String> {
        writes_of(&self.calls)
    }

    /// Settling while `busy_writes` lasts; then NotFound unless the role exists.
    fn writable(&self, role_name: &str, operation: &'static str) -> CloudResult<()> {
        {
            let mut busy = self.busy_writes.lock().unwrap();
            if *busy > 0 {
                *busy -= 1;
                return Err(CloudError::settling(
                    "Cannot perform the operation on the same role at the same time",
                )
                .in_call("IAM", operation)
                .with_code("ConcurrentModification"));
            }
        }
        if self.attached.lock().unwrap().contains_key(role_name) {
            Ok(())
        } else {
            Err(Self::no_such(format!("role {role_name}"), operation))
        }
    }

    fn no_such(what: String, operation: &'static str) -> CloudError {
        CloudError::not_found(what)
            .in_call("IAM", operation)
            .with_code("NoSuchEntity")
    }
}

#[async_trait::async_trait]
impl Roles for FakeRoles {
    async fn attached_policies(&self, role_name: &str) -> CloudResult<Vec<String>> {
        self.record(format!("ListAttachedRolePolicies {role_name}"));
        self.attached
            .lock()
            .unwrap()
            .get(role_name)
            .cloned()
            .ok_or_else(|| Self::no_such(format!("role {role_name}"), "ListAttachedRolePolicies"))
    }

    async fn inline_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> CloudResult<Option<serde_json::Value>> {
        self.record(format!("GetRolePolicy {role_name} {policy_name}"));
        Ok(self
            .inline
            .lock()
            .unwrap()
            .get(role_name)
            .and_then(|policies| policies.get(policy_name))
            .cloned())
    }

    async fn attach_policy(&self, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        self.record(format!("AttachRolePolicy {role_name} {policy_arn}"));
        self.writable(role_name, "AttachRolePolicy")?;
        let mut attached = self.attached.lock().unwrap();
        let list = attached.entry(role_name.to_string()).or_default();
        if !list.iter().any(|a| a == policy_arn) {
            list.push(policy_arn.to_string());
        }
        Ok(())
    }

    async fn detach_policy(&self, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        self.record(format!("DetachRolePolicy {role_name} {policy_arn}"));
        self.writable(role_name, "DetachRolePolicy")?;
        let mut attached = self.attached.lock().unwrap();
        let list = attached.entry(role_name.to_string()).or_default();
        let before = list.len();
        list.retain(|a| a != policy_arn);
        if list.len() == before {
            return Err(Self::no_such(
                format!("policy {policy_arn} on role {role_name}"),
                "DetachRolePolicy",
            ));
        }
        Ok(())
    }

    async fn put_inline_policy(
        &self,
        role_name: &str,
        policy_name: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()> {
        self.record(format!("PutRolePolicy {role_name} {policy_name}"));
        self.writable(role_name, "PutRolePolicy")?;
        self.inline
            .lock()
            .unwrap()
            .entry(role_name.to_string())
            .or_default()
            .insert(policy_name.to_string(), document.clone());
        Ok(())
    }

    async fn delete_inline_policy(&self, role_name: &str, policy_name: &str) -> CloudResult<()> {
        self.record(format!("DeleteRolePolicy {role_name} {policy_name}"));
        self.writable(role_name, "DeleteRolePolicy")?;
        let removed = self
            .inline
            .lock()
            .unwrap()
            .get_mut(role_name)
            .and_then(|policies| policies.remove(policy_name));
        match removed {
            Some(_) => Ok(()),
            None => Err(Self::no_such(
                format!("policy {policy_name} of role {role_name}"),
                "DeleteRolePolicy",
            )),
        }
    }
}

/// The inputs of service `name` of project `shop` running `nginx`, with `extra` inputs on top.
pub fn service_inputs(name: &str, extra: Vec<(&str, Value)>) -> PropertyMap {
    [
        ("project", Value::from("shop")),
        ("name", Value::from(name)),
        ("image", Value::from("nginx")),
    ]
    .into_iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The inputs of service `web` of project `shop` running `nginx`, with the inputs of `extra`
/// (a JSON object) on top.
pub fn web_inputs(extra: serde_json::Value) -> PropertyMap {
    let mut inputs = service_inputs("web", vec![]);
    let Value::Object(map) = pulumi_plugin::value::from_json(extra) else {
        panic!("extra inputs must be a JSON object")
    };
    inputs.extend(map);
    inputs
}

/// ECS runs service `web` with `count` tasks (its desired count too), its rollout done, and
/// from now on answers only that (revision `task_definition`, when given).
pub fn web_running(ecs: &FakeEcs, count: i32, task_definition: Option<&str>) {
    let mut state = service_state(
        "web",
        count,
        deployment("d-1", RolloutState::Completed, count, 0, 0),
        &[],
    );
    state.desired_count = count;
    if let Some(arn) = task_definition {
        state.task_definition_arn = arn.to_string();
    }
    let mut script = ecs.script.lock().unwrap();
    script.clear();
    script.push_back(state);
}

/// The Defang provider over the fakes of `cloud`, configured as every runtime of these fakes
/// is ([`env`]), and driven in process as the engine would, through the gRPC service the
/// binary serves.
pub async fn driver(cloud: Cloud) -> Driver<DefangProvider> {
    struct Fakes(Cloud);

    #[async_trait::async_trait]
    impl CloudConnector for Fakes {
        async fn connect(&self, _: &ProviderConfig) -> Result<Cloud, String> {
            Ok(self.0.clone())
        }
    }

    let driver = Driver::new("defang", DefangProvider::new(Fakes(cloud)));
    driver.configure(config()).await.expect("configure");
    driver
}

/// Resource `name` of type `token` as the engine keeps it in state: its `id`, and the
/// `inputs` and `outputs` recorded (after a partial failure, or by an older version).
pub fn in_state(
    token: &str,
    name: &str,
    id: &str,
    inputs: PropertyMap,
    outputs: PropertyMap,
) -> Deployed {
    Deployed {
        urn: pulumi_plugin::testing::urn(token, name),
        type_token: token.to_string(),
        name: name.to_string(),
        id: id.to_string(),
        inputs,
        outputs,
    }
}

/// Service `name` (of project `shop`) as the engine keeps it in state ([`in_state`]).
pub fn service_in_state(
    name: &str,
    id: &str,
    inputs: PropertyMap,
    outputs: PropertyMap,
) -> Deployed {
    in_state(crate::service::lifecycle::TOKEN, name, id, inputs, outputs)
}

/// What a step that failed partway left, as the engine records it (the error's
/// `ResourceInitFailed` details); panics unless `status` carries one.
pub fn partial_failure(status: &Status) -> PartialState {
    let Some(detail) = pulumi_plugin::error::resource_init_failed(status) else {
        panic!("not a partial failure: {status:?}")
    };
    PartialState {
        id: detail.id,
        outputs: properties_from_struct(detail.properties.as_ref()),
        inputs: detail.inputs.map(|i| properties_from_struct(Some(&i))),
        reasons: detail.reasons,
    }
}

/// The message of a failure that changed nothing the engine does not know of
/// ([`pulumi_plugin::Error::Failed`]); panics unless `status` is one.
pub fn plain_failure(status: &Status) -> &str {
    assert_eq!(status.code(), tonic::Code::Aborted, "{status:?}");
    status.message()
}

/// Panics unless `outputs` are what the schema declares for a resource of inputs `I` and
/// outputs `O`: every key is a property of one of them, and (when nothing is unknown) the map
/// decodes into `O`, so each declared output is there with its declared type.
pub fn assert_outputs_declared<I, O>(outputs: &pulumi_plugin::PropertyMap)
where
    I: schemars::JsonSchema,
    O: schemars::JsonSchema + serde::de::DeserializeOwned,
{
    let properties = |schema: serde_json::Value| -> Vec<String> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut declared = properties(schemars::schema_for!(I).to_value());
    declared.extend(properties(schemars::schema_for!(O).to_value()));
    for key in outputs.keys() {
        assert!(
            declared.contains(key),
            "output {key} is not in the schema (declared: {declared:?})"
        );
    }
    if !outputs
        .values()
        .any(pulumi_plugin::Value::contains_unknowns)
        && let Err(err) = pulumi_plugin::value::from_properties::<O>(outputs)
    {
        panic!("the outputs do not decode into their declared type: {err}");
    }
}
