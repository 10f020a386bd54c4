//! How many tasks, and where: `autoscaling` (Application Auto Scaling target tracking, in the
//! service's own stack) and `capacity` (the ECS service's capacity provider strategy over
//! Fargate and Fargate Spot). Pure: Check's rules, the stack resources, the desired count an
//! update sends, the strategy, and refresh's reading of the live range and targets.
//!
//! With autoscaling the provider owns the range, not the count: the service is created with
//! `min` tasks, and an update sends no desired count while the live one is within the range, so
//! what the scaler chose stays.

use super::inputs::{Autoscaling, Capacity, PortMode, ResolvedService, ServiceInputs};
use crate::cloud::{CapacityProviderItem, ScalableTarget, TargetTrackingPolicy};
use crate::cloudformation::blocks::r;
use crate::project::outputs::ProjectInfo;
use pulumi_plugin::CheckFailure;
use serde_json::{Value, json};

pub const FARGATE: &str = "FARGATE";
pub const FARGATE_SPOT: &str = "FARGATE_SPOT";

/// The scalable target's logical id in the service's stack.
pub const SCALABLE_TARGET: &str = "ScalableTarget";

/// The rules a schema cannot say: a range and a target that make sense together, and not
/// `replicas` beside `autoscaling` (who would own the count?).
pub fn check_scaling(
    inputs: &ServiceInputs,
    checked: &dyn Fn(&str) -> bool,
    failures: &mut Vec<CheckFailure>,
) {
    if checked("autoscaling")
        && let Some(a) = &inputs.autoscaling
    {
        if checked("replicas") && inputs.replicas.is_some() {
            failures.push(CheckFailure::new(
                "replicas",
                "cannot be set together with `autoscaling`, which chooses the count between \
                 `autoscaling.min` and `autoscaling.max`: remove `replicas` (the service starts \
                 with `autoscaling.min` tasks), or remove `autoscaling` for a fixed count",
            ));
        }
        if a.min > a.max {
            failures.push(CheckFailure::new(
                "autoscaling.min",
                format!(
                    "is {} but `autoscaling.max` is {}: the fewest tasks cannot exceed the most; \
                     lower `min` or raise `max`",
                    a.min, a.max
                ),
            ));
        }
        if a.target_cpu.is_none()
            && a.target_memory.is_none()
            && a.target_requests_per_target.is_none()
        {
            failures.push(CheckFailure::new(
                "autoscaling",
                "has no target to scale on: set `targetCpu` (percent, e.g. 70), `targetMemory` \
                 (percent) and/or `targetRequestsPerTarget` (requests per task per minute, for \
                 a service with an ingress port)",
            ));
        }
        if a.target_requests_per_target.is_some()
            && checked("ports")
            && !inputs
                .ports
                .iter()
                .any(|p| p.mode.unwrap_or_default() == PortMode::Ingress)
        {
            failures.push(CheckFailure::new(
                "autoscaling.targetRequestsPerTarget",
                "counts the load balancer's requests, but the service has no ingress port: add \
                 a port with `mode: ingress`, or scale on `targetCpu` or `targetMemory`",
            ));
        }
    }
    if checked("capacity")
        && let Some(c) = &inputs.capacity
        && c.spot.unwrap_or(0) == 0
        && c.on_demand.unwrap_or(0) == 0
    {
        failures.push(CheckFailure::new(
            "capacity",
            "needs a weight above 0: `spot: 1` runs every task on Fargate Spot, `{spot: 3, \
             onDemand: 1}` mixes them; remove `capacity` for on-demand Fargate only",
        ));
    }
}

/// The ECS capacity provider strategy, sorted by provider; empty (the FARGATE launch type) when
/// `capacity` is not set.
pub fn capacity_strategy(svc: &ResolvedService) -> Vec<CapacityProviderItem> {
    let Some(c) = &svc.capacity else {
        return Vec::new();
    };
    let (spot, on_demand, base) = (
        c.spot.unwrap_or(0),
        c.on_demand.unwrap_or(0),
        c.on_demand_base.unwrap_or(0),
    );
    let mut strategy = Vec::new();
    if on_demand > 0 || base > 0 {
        strategy.push(CapacityProviderItem {
            provider: FARGATE.into(),
            weight: on_demand,
            base,
        });
    }
    if spot > 0 {
        strategy.push(CapacityProviderItem {
            provider: FARGATE_SPOT.into(),
            weight: spot,
            base: 0,
        });
    }
    strategy.sort();
    strategy
}

/// `capacity` from a live strategy (refresh and import): `None` for the launch type. The
/// inverse of [`capacity_strategy`].
pub fn capacity_from_strategy(strategy: &[CapacityProviderItem]) -> Option<Capacity> {
    if strategy.is_empty() {
        return None;
    }
    let find = |name: &str| strategy.iter().find(|i| i.provider == name);
    let spot = find(FARGATE_SPOT);
    let on_demand = find(FARGATE);
    Some(Capacity {
        spot: spot.map(|i| i.weight).filter(|w| *w > 0),
        on_demand: on_demand.map(|i| i.weight).filter(|w| *w > 0),
        on_demand_base: on_demand.map(|i| i.base).filter(|b| *b > 0),
    })
}

/// The strategy an update sends: `None` when the live one is already it (ECS would start no
/// deployment anyway), else the new one (empty: back to the launch type).
pub fn strategy_update(
    svc: &ResolvedService,
    live: &[CapacityProviderItem],
) -> Option<Vec<CapacityProviderItem>> {
    let wanted = capacity_strategy(svc);
    let mut live = live.to_vec();
    live.sort();
    (wanted != live).then_some(wanted)
}

/// The desired count to send. Without autoscaling, `replicas`. With it: `min` at creation
/// (`live` is `None`); afterwards nothing while the live count is within the range (the scaler
/// chose it), else the nearest bound (a new range, or autoscaling just turned on).
pub fn desired_count(svc: &ResolvedService, live: Option<i32>) -> Option<u32> {
    let Some(a) = &svc.autoscaling else {
        return Some(svc.replicas);
    };
    match live {
        None => Some(a.min),
        Some(n) => {
            let n = u32::try_from(n).unwrap_or(0);
            (n < a.min || n > a.max).then(|| n.clamp(a.min, a.max))
        }
    }
}

/// `service/<cluster>/<service>`: the scalable target's resource id.
pub fn resource_id(project: &ProjectInfo, svc: &ResolvedService) -> String {
    ecs_service_resource_id(&project.cluster_name, &svc.name)
}

/// `service/<cluster>/<service>`, from the names.
pub fn ecs_service_resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// The predefined metrics of `targetCpu`, `targetMemory` and `targetRequestsPerTarget`.
const CPU_METRIC: &str = "ECSServiceAverageCPUUtilization";
const MEMORY_METRIC: &str = "ECSServiceAverageMemoryUtilization";
const REQUESTS_METRIC: &str = "ALBRequestCountPerTarget";

/// `<cluster>-<service>-cpu|memory|requests`: the name of the service's policy on a metric.
fn policy_name(cluster: &str, service: &str, kind: &str) -> String {
    format!("{cluster}-{service}-{kind}")
}

/// `autoscaling` as Application Auto Scaling holds it (refresh): the scalable target's range,
/// and per metric the target value of the service's own policy on it (named as
/// [`scaling_resources`] names it), else of another target tracking policy on that metric.
/// `None` without a scalable target (deregistered outside Pulumi: its policies went with it).
pub fn autoscaling_from_live(
    cluster: &str,
    service: &str,
    target: Option<&ScalableTarget>,
    policies: &[TargetTrackingPolicy],
) -> Option<Autoscaling> {
    let target = target?;
    let value = |metric: &str, kind: &str| {
        let on_metric = || {
            policies
                .iter()
                .filter(|p| p.predefined_metric.as_deref() == Some(metric))
        };
        let own = policy_name(cluster, service, kind);
        on_metric()
            .find(|p| p.name == own)
            .or_else(|| on_metric().next())
            .map(|p| p.target_value)
    };
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    Some(Autoscaling {
        min: count(target.min_capacity),
        max: count(target.max_capacity),
        target_cpu: value(CPU_METRIC, "cpu"),
        target_memory: value(MEMORY_METRIC, "memory"),
        target_requests_per_target: value(REQUESTS_METRIC, "requests"),
    })
}

/// Drift of `autoscaling` (refresh), for a service whose inputs have it: compared as numbers,
/// the way the inputs hold them, so an unchanged one is kept exactly as the user wrote it. A
/// changed range or target gets the live values; a scalable target that is gone removes
/// `autoscaling`, and the count ECS runs then becomes `replicas` (unless it is the default).
pub fn autoscaling_drift(
    inputs: &mut ServiceInputs,
    old: &ResolvedService,
    live: Option<&Autoscaling>,
    live_replicas: u32,
) {
    let Some(was) = &old.autoscaling else {
        return;
    };
    match live {
        Some(now) if now == was => {}
        Some(now) => inputs.autoscaling = Some(now.clone()),
        None => {
            inputs.autoscaling = None;
            if live_replicas != super::inputs::DEFAULT_REPLICAS {
                inputs.replicas = Some(live_replicas);
            }
        }
    }
}

/// One target tracking policy of the service's stack: its logical id, its name's suffix, its
/// predefined metric and its target value; the requests policy also names the load balancer
/// (`app/<lb>/<id>`) whose target group's requests it counts.
struct PlannedPolicy {
    logical_id: &'static str,
    kind: &'static str,
    metric: &'static str,
    target: f64,
    load_balancer: Option<String>,
}

/// The service's target tracking policies, one per target: the stack's and what `up` puts
/// back ([`planned_scaling`]) come from here, so they are the same. The requests policy needs
/// an ingress port and the project's load balancer.
fn planned_policies(svc: &ResolvedService, project: &ProjectInfo) -> Vec<PlannedPolicy> {
    let Some(a) = &svc.autoscaling else {
        return Vec::new();
    };
    let mut policies = Vec::new();
    if let Some(target) = a.target_cpu {
        policies.push(PlannedPolicy {
            logical_id: "ScalingPolicyCpu",
            kind: "cpu",
            metric: CPU_METRIC,
            target,
            load_balancer: None,
        });
    }
    if let Some(target) = a.target_memory {
        policies.push(PlannedPolicy {
            logical_id: "ScalingPolicyMemory",
            kind: "memory",
            metric: MEMORY_METRIC,
            target,
            load_balancer: None,
        });
    }
    if let (Some(target), Some(_), Some(ingress)) = (
        a.target_requests_per_target,
        svc.first_ingress_port(),
        &project.ingress,
    ) && let Some(load_balancer) = load_balancer_label(&ingress.https_listener_arn)
    {
        policies.push(PlannedPolicy {
            logical_id: "ScalingPolicyRequests",
            kind: "requests",
            metric: REQUESTS_METRIC,
            target,
            load_balancer: Some(load_balancer),
        });
    }
    policies
}

/// The scalable target and one target tracking policy per target, into the service's stack:
/// only once the ECS service exists (Application Auto Scaling refuses a target for a service
/// that does not). No `RoleARN`: Application Auto Scaling uses its service-linked role for ECS.
pub fn scaling_resources(
    svc: &ResolvedService,
    project: &ProjectInfo,
    resources: &mut serde_json::Map<String, Value>,
) {
    let Some(a) = &svc.autoscaling else {
        return;
    };
    if !svc.ecs_service_exists {
        return;
    }
    resources.insert(
        SCALABLE_TARGET.into(),
        json!({
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": resource_id(project, svc),
                "MinCapacity": a.min,
                "MaxCapacity": a.max,
            }
        }),
    );
    for planned in planned_policies(svc, project) {
        let mut metric = json!({ "PredefinedMetricType": planned.metric });
        if let (Some(load_balancer), Some(port)) =
            (&planned.load_balancer, svc.first_ingress_port())
        {
            // `app/<lb>/<id>/targetgroup/<tg>/<id>`; the target group's part is the end of its ARN.
            let target_group = json!({ "Fn::Select": [5, { "Fn::Split": [":", r(&super::network_stack::outputs::target_group(port.target))] }] });
            metric["ResourceLabel"] = json!({ "Fn::Join": ["/", [load_balancer, target_group]] });
        }
        resources.insert(
            planned.logical_id.into(),
            json!({
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": policy_name(&project.cluster_name, &svc.name, planned.kind),
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": r(SCALABLE_TARGET),
                    "TargetTrackingScalingPolicyConfiguration": {
                        "TargetValue": planned.target,
                        "PredefinedMetricSpecification": metric,
                    }
                }
            }),
        );
    }
}

/// What the service's stack holds in Application Auto Scaling (once the ECS service exists), as
/// values: the range, and the policies with the names and configuration
/// [`scaling_resources`] gives them (the requests policy's resource label from the target
/// group's ARN, as the stack computes it).
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedScaling {
    pub resource_id: String,
    pub min: i32,
    pub max: i32,
    pub policies: Vec<TargetTrackingPolicy>,
    /// Names of the stack's policies that cannot be said as values (a requests policy whose
    /// target group's ARN does not have the parts its label needs): left alone.
    pub unwritable: Vec<String>,
}

/// [`PlannedScaling`] of a service with autoscaling; `target_group_arn` is its first ingress
/// port's target group (for the requests policy). A requests policy whose label cannot be
/// made from that ARN is left out (and then left alone by [`scaling_repair`]).
pub fn planned_scaling(
    svc: &ResolvedService,
    project: &ProjectInfo,
    target_group_arn: Option<&str>,
) -> Option<PlannedScaling> {
    let a = svc.autoscaling.as_ref()?;
    // `arn:<partition>:elasticloadbalancing:<region>:<account>:targetgroup/<tg>/<id>`.
    let target_group = target_group_arn
        .and_then(|arn| arn.split(':').nth(5))
        .filter(|part| part.starts_with("targetgroup/"));
    let mut policies = Vec::new();
    let mut unwritable = Vec::new();
    for planned in planned_policies(svc, project) {
        let name = policy_name(&project.cluster_name, &svc.name, planned.kind);
        let resource_label = match (&planned.load_balancer, target_group) {
            (None, _) => None,
            (Some(load_balancer), Some(target_group)) => {
                Some(format!("{load_balancer}/{target_group}"))
            }
            (Some(_), None) => {
                unwritable.push(name);
                continue;
            }
        };
        policies.push(TargetTrackingPolicy {
            name,
            predefined_metric: Some(planned.metric.to_string()),
            resource_label,
            target_value: planned.target,
        });
    }
    let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    Some(PlannedScaling {
        resource_id: resource_id(project, svc),
        min: count(a.min),
        max: count(a.max),
        policies,
        unwritable,
    })
}

/// The writes that make Application Auto Scaling hold what the service's stack says again
/// (`up` after a change outside Pulumi): nothing when nothing drifted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScalingRepair {
    /// RegisterScalableTarget with the planned range: the range changed, or the target was
    /// deregistered (and its policies with it).
    pub register: bool,
    /// PutScalingPolicy: the service's policies that are missing or changed (the same name
    /// updates in place).
    pub put: Vec<TargetTrackingPolicy>,
    /// DeleteScalingPolicy: policies with the service's names that the stack does not have.
    pub delete: Vec<String>,
}

impl ScalingRepair {
    pub fn is_empty(&self) -> bool {
        !self.register && self.put.is_empty() && self.delete.is_empty()
    }
}

/// Compares the live target and policies with `planned` as refresh does (the range as
/// numbers; a policy by its predefined metric and target value), policy by policy: only the
/// service's own policies (named as its stack names them) are put or deleted; another one on
/// the target is not the service's and is left alone.
pub fn scaling_repair(
    planned: &PlannedScaling,
    cluster: &str,
    service: &str,
    live_target: Option<&ScalableTarget>,
    live_policies: &[TargetTrackingPolicy],
) -> ScalingRepair {
    let register = live_target
        != Some(&ScalableTarget {
            min_capacity: planned.min,
            max_capacity: planned.max,
        });
    // A deregistered target took its policies with it.
    let live_policies = if live_target.is_none() {
        &[][..]
    } else {
        live_policies
    };
    let put = planned
        .policies
        .iter()
        .filter(|want| {
            !live_policies.iter().any(|p| {
                p.name == want.name
                    && p.predefined_metric == want.predefined_metric
                    && p.target_value == want.target_value
            })
        })
        .cloned()
        .collect();
    let ours: Vec<String> = ["cpu", "memory", "requests"]
        .iter()
        .map(|kind| policy_name(cluster, service, kind))
        .collect();
    let delete = live_policies
        .iter()
        .filter(|p| ours.contains(&p.name) && !planned.unwritable.contains(&p.name))
        .filter(|p| planned.policies.iter().all(|want| want.name != p.name))
        .map(|p| p.name.clone())
        .collect();
    ScalingRepair {
        register,
        put,
        delete,
    }
}

/// `app/<name>/<id>` from a listener ARN (`…:listener/app/<name>/<id>/<listener id>`).
fn load_balancer_label(listener_arn: &str) -> Option<String> {
    let (_, path) = listener_arn.split_once(":listener/")?;
    let (lb, _) = path.rsplit_once('/')?;
    (lb.split('/').count() == 3).then(|| lb.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::outputs::IngressInfo;
    use pulumi_plugin::value::{from_properties, propagate_secrets, to_properties};
    use pulumi_plugin::{PropertyMap, Value as PValue};

    fn inputs(value: serde_json::Value) -> ServiceInputs {
        serde_json::from_value(value).unwrap()
    }

    fn failures_of(value: serde_json::Value) -> Vec<CheckFailure> {
        let props: PropertyMap = to_properties(&inputs(value));
        super::super::check::check_service(&props, "web").1
    }

    fn props(failures: &[CheckFailure]) -> Vec<String> {
        failures.iter().map(|f| f.property.to_string()).collect()
    }

    fn resolved(value: serde_json::Value) -> ResolvedService {
        inputs(value).resolved("web").unwrap()
    }

    fn project() -> ProjectInfo {
        ProjectInfo {
            name: "shop".into(),
            cluster_name: "defang-shop".into(),
            subnet_ids: vec!["subnet-1".into()],
            security_group_id: "sg-members".into(),
            execution_role_arn: "arn:role".into(),
            log_group_name: "/defang/shop".into(),
            assign_public_ip: true,
            context_bucket: None,
            build_project: None,
            vpc_id: "vpc-1".into(),
            private_namespace_id: None,
            load_balancer_policy: None,
            ingress: Some(IngressInfo {
                zone_id: "Z1".into(),
                zone_name: "shop.alice.defang.app".into(),
                https_listener_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/defang-shop/50dc6c495c0c9188/f2f7dc8efc522ab2".into(),
                load_balancer_dns_name: "lb.example".into(),
                load_balancer_zone_id: "Z2".into(),
                load_balancer_security_group_id: "sg-lb".into(),
                adopted: false,
            }),
        }
    }

    fn tracking(name: &str, metric: &str, target: f64) -> TargetTrackingPolicy {
        TargetTrackingPolicy {
            name: name.into(),
            predefined_metric: Some(metric.into()),
            resource_label: None,
            target_value: target,
        }
    }

    /// The range and targets from what Application Auto Scaling holds: the service's own
    /// policy on a metric first, another one on it else; customized metrics say nothing.
    #[test]
    fn live_autoscaling_reads_the_range_and_the_targets_by_metric() {
        let target = ScalableTarget {
            min_capacity: 2,
            max_capacity: 6,
        };
        let policies = [
            tracking("someone-elses-cpu", CPU_METRIC, 50.0),
            tracking("defang-shop-web-cpu", CPU_METRIC, 70.0),
            tracking("defang-shop-web-requests", REQUESTS_METRIC, 500.0),
            TargetTrackingPolicy {
                name: "custom".into(),
                predefined_metric: None,
                resource_label: None,
                target_value: 1.0,
            },
        ];
        let live = autoscaling_from_live("defang-shop", "web", Some(&target), &policies);
        assert_eq!(
            live,
            Some(Autoscaling {
                min: 2,
                max: 6,
                target_cpu: Some(70.0),
                target_memory: None,
                target_requests_per_target: Some(500.0),
            })
        );
        // Ours gone, another on the metric: that one is what scales.
        let live = autoscaling_from_live("defang-shop", "web", Some(&target), &policies[..1]);
        assert_eq!(live.unwrap().target_cpu, Some(50.0));
        // No target: no autoscaling (its policies go with it).
        assert_eq!(
            autoscaling_from_live("defang-shop", "web", None, &policies),
            None
        );
        // The policy names are the ones the stack gives.
        let mut resources = serde_json::Map::new();
        let mut svc = resolved(json!({"project": "shop", "image": "nginx",
            "ports": [{"target": 80}],
            "autoscaling": {"min": 1, "max": 2, "targetCpu": 70, "targetMemory": 60,
                "targetRequestsPerTarget": 500}}));
        svc.ecs_service_exists = true;
        scaling_resources(&svc, &project(), &mut resources);
        let names: Vec<&str> = resources
            .values()
            .filter_map(|r| r["Properties"]["PolicyName"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "defang-shop-web-cpu",
                "defang-shop-web-memory",
                "defang-shop-web-requests"
            ]
        );
    }

    /// Refresh's drift of `autoscaling`: numbers compared as the inputs hold them (an integer
    /// the user wrote and the float AWS returns are equal: no drift, the inputs untouched); a
    /// changed range or target shows; a removed target removes it and the count becomes
    /// `replicas`.
    #[test]
    fn autoscaling_drift_compares_numbers_and_shows_changes_and_removal() {
        let old_inputs: PropertyMap = to_properties(&inputs(json!({"project": "shop",
            "image": "nginx", "autoscaling": {"min": 2, "max": 6, "targetCpu": 70}})));
        let old = inputs(json!({"project": "shop", "image": "nginx",
            "autoscaling": {"min": 2, "max": 6, "targetCpu": 70}}))
        .resolved("web")
        .unwrap();
        let live = |min, max, cpu: f64| Autoscaling {
            min,
            max,
            target_cpu: Some(cpu),
            target_memory: None,
            target_requests_per_target: None,
        };
        // As refresh's answer reaches the engine: properties, secret where the old were.
        fn drift_of(
            old_inputs: &PropertyMap,
            old: &ResolvedService,
            now: Option<&Autoscaling>,
            replicas: u32,
        ) -> PropertyMap {
            let mut typed: ServiceInputs = from_properties(old_inputs).unwrap();
            autoscaling_drift(&mut typed, old, now, replicas);
            let mut inputs = to_properties(&typed);
            propagate_secrets(old_inputs, &mut inputs);
            inputs
        }
        let drift =
            |now: Option<&Autoscaling>, replicas| drift_of(&old_inputs, &old, now, replicas);
        assert_eq!(drift(Some(&live(2, 6, 70.0)), 4), old_inputs, "no drift");

        let changed = drift(Some(&live(2, 9, 55.5)), 4);
        assert_eq!(
            changed["autoscaling"],
            PValue::Object(PropertyMap::from([
                ("min".to_string(), PValue::Number(2.0)),
                ("max".to_string(), PValue::Number(9.0)),
                ("targetCpu".to_string(), PValue::Number(55.5)),
            ]))
        );
        assert!(!changed.contains_key("replicas"), "the scaler's count");

        let removed = drift(None, 4);
        assert!(!removed.contains_key("autoscaling"), "{removed:?}");
        assert_eq!(removed["replicas"], PValue::Number(4.0));
        let removed = drift(None, 1);
        assert!(!removed.contains_key("replicas"), "1 is the default");
        super::super::lifecycle::decode(&removed, "web").expect("refresh's inputs decode");

        // A secret `autoscaling` stays secret.
        let mut secret_inputs = old_inputs.clone();
        let v = secret_inputs.remove("autoscaling").unwrap();
        secret_inputs.insert("autoscaling".into(), v.into_secret());
        let secret_inputs = drift_of(&secret_inputs, &old, Some(&live(3, 6, 70.0)), 4);
        assert!(secret_inputs["autoscaling"].is_secret());

        // Without autoscaling in the inputs there is nothing to compare.
        let fixed = inputs(json!({"project": "shop", "image": "nginx", "replicas": 2}))
            .resolved("web")
            .unwrap();
        let fixed_inputs = to_properties(&inputs(json!({"project": "shop", "image": "nginx",
            "replicas": 2})));
        let drifted = drift_of(&fixed_inputs, &fixed, Some(&live(1, 2, 50.0)), 2);
        assert_eq!(drifted, fixed_inputs);
    }

    #[test]
    fn check_accepts_a_sane_range_with_a_target() {
        let f = failures_of(
            json!({"project": "shop", "image": "nginx", "ports": [{"target": 80}],
            "autoscaling": {"min": 1, "max": 10, "targetCpu": 70, "targetRequestsPerTarget": 500},
            "capacity": {"spot": 3, "onDemand": 1, "onDemandBase": 1}}),
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn check_refuses_what_makes_no_sense_and_names_the_fix() {
        let f = failures_of(json!({"project": "shop", "image": "nginx", "replicas": 2,
            "ports": [{"target": 80, "mode": "host"}],
            "autoscaling": {"min": 5, "max": 2, "targetRequestsPerTarget": 100}}));
        assert_eq!(
            props(&f),
            [
                "replicas",
                "autoscaling.min",
                "autoscaling.targetRequestsPerTarget"
            ]
        );
        assert!(f[0].reason.contains("remove `replicas`"), "{f:?}");
        assert!(f[1].reason.contains("lower `min` or raise `max`"), "{f:?}");
        assert!(
            f[2].reason.contains("add a port with `mode: ingress`"),
            "{f:?}"
        );

        let f = failures_of(json!({"project": "shop", "image": "nginx",
            "autoscaling": {"min": 1, "max": 3}, "capacity": {"spot": 0}}));
        assert_eq!(props(&f), ["autoscaling", "capacity"]);
        assert!(f[0].reason.contains("set `targetCpu`"), "{f:?}");
        assert!(f[1].reason.contains("`spot: 1`"), "{f:?}");
    }

    #[test]
    fn check_bounds_come_from_the_schema() {
        let f = failures_of(json!({"project": "shop", "image": "nginx",
            "autoscaling": {"min": 1, "max": 5000, "targetCpu": 150},
            "capacity": {"spot": 2000}}));
        let p = props(&f);
        for expected in ["autoscaling.max", "autoscaling.targetCpu", "capacity.spot"] {
            assert!(p.iter().any(|x| x == expected), "{expected}: {f:?}");
        }
    }

    #[test]
    fn the_service_starts_at_min_and_updates_leave_the_scalers_count() {
        let svc = resolved(json!({"project": "shop", "image": "nginx",
            "autoscaling": {"min": 2, "max": 6, "targetCpu": 60}}));
        assert_eq!(svc.replicas, 2);
        assert_eq!(desired_count(&svc, None), Some(2), "create starts at min");
        assert_eq!(desired_count(&svc, Some(5)), None, "the scaler's 5 stays");
        assert_eq!(desired_count(&svc, Some(2)), None);
        assert_eq!(desired_count(&svc, Some(6)), None);
        assert_eq!(desired_count(&svc, Some(1)), Some(2), "below a new min");
        assert_eq!(desired_count(&svc, Some(9)), Some(6), "above a new max");
        // Without autoscaling, `replicas` is sent every time.
        let fixed = resolved(json!({"project": "shop", "image": "nginx", "replicas": 3}));
        assert_eq!(desired_count(&fixed, Some(5)), Some(3));
        assert_eq!(desired_count(&fixed, None), Some(3));
    }

    #[test]
    fn capacity_maps_to_a_strategy_over_fargate_and_spot() {
        let of = |c: serde_json::Value| {
            capacity_strategy(&resolved(
                json!({"project": "shop", "image": "nginx", "capacity": c}),
            ))
        };
        let item = |provider: &str, weight, base| CapacityProviderItem {
            provider: provider.into(),
            weight,
            base,
        };
        assert_eq!(of(json!({"spot": 1})), [item(FARGATE_SPOT, 1, 0)]);
        assert_eq!(
            of(json!({"spot": 3, "onDemand": 1, "onDemandBase": 2})),
            [item(FARGATE, 1, 2), item(FARGATE_SPOT, 3, 0)]
        );
        assert_eq!(
            of(json!({"spot": 1, "onDemandBase": 1})),
            [item(FARGATE, 0, 1), item(FARGATE_SPOT, 1, 0)]
        );
        assert_eq!(of(json!({"onDemand": 1})), [item(FARGATE, 1, 0)]);
        let none = resolved(json!({"project": "shop", "image": "nginx"}));
        assert!(capacity_strategy(&none).is_empty(), "the launch type");

        // Updates send a strategy only when it changes; an empty one returns to the launch type.
        let spot = resolved(json!({"project": "shop", "image": "nginx", "capacity": {"spot": 1}}));
        assert_eq!(strategy_update(&spot, &[item(FARGATE_SPOT, 1, 0)]), None);
        assert_eq!(
            strategy_update(&spot, &[]),
            Some(vec![item(FARGATE_SPOT, 1, 0)])
        );
        assert_eq!(strategy_update(&none, &[]), None);
        // Refresh reads it back as the same input.
        for c in [
            json!({"spot": 1}),
            json!({"spot": 3, "onDemand": 1, "onDemandBase": 2}),
            json!({"onDemand": 2}),
        ] {
            let strategy = of(c.clone());
            assert_eq!(
                capacity_from_strategy(&strategy),
                Some(serde_json::from_value(c).unwrap())
            );
        }
        assert_eq!(capacity_from_strategy(&[]), None);
        assert_eq!(
            strategy_update(&none, &[item(FARGATE_SPOT, 1, 0)]),
            Some(vec![])
        );
    }

    #[test]
    fn scaling_resources_once_the_service_exists() {
        let mut svc = resolved(json!({"project": "shop", "name": "web", "image": "nginx",
            "ports": [{"target": 80}],
            "autoscaling": {"min": 1, "max": 4, "targetCpu": 70, "targetMemory": 80,
                            "targetRequestsPerTarget": 1000}}));
        let mut resources = serde_json::Map::new();
        scaling_resources(&svc, &project(), &mut resources);
        assert!(resources.is_empty(), "not before the ECS service exists");

        svc.ecs_service_exists = true;
        scaling_resources(&svc, &project(), &mut resources);
        let target = &resources[SCALABLE_TARGET]["Properties"];
        assert_eq!(target["ResourceId"], "service/defang-shop/web");
        assert_eq!(target["ScalableDimension"], "ecs:service:DesiredCount");
        assert_eq!(
            (target["MinCapacity"].clone(), target["MaxCapacity"].clone()),
            (json!(1), json!(4))
        );
        assert!(target.get("RoleARN").is_none(), "the service-linked role");
        let config = |id: &str| {
            resources[id]["Properties"]["TargetTrackingScalingPolicyConfiguration"].clone()
        };
        assert_eq!(config("ScalingPolicyCpu")["TargetValue"], json!(70.0));
        assert_eq!(
            config("ScalingPolicyCpu")["PredefinedMetricSpecification"]["PredefinedMetricType"],
            "ECSServiceAverageCPUUtilization"
        );
        assert_eq!(
            config("ScalingPolicyMemory")["PredefinedMetricSpecification"]["PredefinedMetricType"],
            "ECSServiceAverageMemoryUtilization"
        );
        let requests = config("ScalingPolicyRequests");
        assert_eq!(requests["TargetValue"], json!(1000.0));
        assert_eq!(
            requests["PredefinedMetricSpecification"]["ResourceLabel"]["Fn::Join"][1][0],
            "app/defang-shop/50dc6c495c0c9188"
        );
        assert_eq!(
            resources["ScalingPolicyCpu"]["Properties"]["ScalingTargetId"],
            json!({"Ref": SCALABLE_TARGET})
        );

        // Off: no target, no policies (the stack update deletes them).
        svc.autoscaling = None;
        let mut resources = serde_json::Map::new();
        scaling_resources(&svc, &project(), &mut resources);
        assert!(resources.is_empty());
    }

    /// What `up` writes back is what the stack says, as values: the same names, metrics and
    /// targets, the requests policy's label from the target group's ARN as the stack's
    /// `Fn::Select`/`Fn::Split` makes it.
    #[test]
    fn the_planned_scaling_is_the_stacks_as_values() {
        let mut svc = resolved(json!({"project": "shop", "image": "nginx",
            "ports": [{"target": 80}],
            "autoscaling": {"min": 2, "max": 6, "targetCpu": 70, "targetRequestsPerTarget": 500}}));
        svc.ecs_service_exists = true;
        let tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-80/73e2d6bc24d8a067";
        let planned = planned_scaling(&svc, &project(), Some(tg)).unwrap();
        assert_eq!(planned.resource_id, "service/defang-shop/web");
        assert_eq!((planned.min, planned.max), (2, 6));
        assert_eq!(
            planned.policies,
            [
                TargetTrackingPolicy {
                    name: "defang-shop-web-cpu".into(),
                    predefined_metric: Some(CPU_METRIC.into()),
                    resource_label: None,
                    target_value: 70.0,
                },
                TargetTrackingPolicy {
                    name: "defang-shop-web-requests".into(),
                    predefined_metric: Some(REQUESTS_METRIC.into()),
                    resource_label: Some(
                        "app/defang-shop/50dc6c495c0c9188/targetgroup/web-80/73e2d6bc24d8a067"
                            .into()
                    ),
                    target_value: 500.0,
                },
            ]
        );
        assert!(planned.unwritable.is_empty());
        // The stack's policies have the same names and targets.
        let mut resources = serde_json::Map::new();
        scaling_resources(&svc, &project(), &mut resources);
        for (id, want) in ["ScalingPolicyCpu", "ScalingPolicyRequests"]
            .iter()
            .zip(&planned.policies)
        {
            let props = &resources[*id]["Properties"];
            assert_eq!(props["PolicyName"], want.name.as_str());
            let config = &props["TargetTrackingScalingPolicyConfiguration"];
            assert_eq!(config["TargetValue"], json!(want.target_value));
            assert_eq!(
                config["PredefinedMetricSpecification"]["PredefinedMetricType"],
                want.predefined_metric.as_deref().unwrap()
            );
        }
        // A target group ARN without its parts: the requests policy is left alone.
        let planned = planned_scaling(&svc, &project(), Some("not-an-arn")).unwrap();
        assert_eq!(planned.policies.len(), 1);
        assert_eq!(planned.unwritable, ["defang-shop-web-requests"]);
        // Without autoscaling there is nothing to plan.
        let fixed = resolved(json!({"project": "shop", "image": "nginx"}));
        assert_eq!(planned_scaling(&fixed, &project(), None), None);
    }

    /// What `up` writes when Application Auto Scaling no longer holds what the stack says:
    /// nothing when it does (numbers compared as numbers); the range; a changed or missing
    /// policy of the service's; one of its names the stack does not have; everything after a
    /// deregistration; never another policy on the target.
    #[test]
    fn the_scaling_repair_writes_only_what_drifted() {
        let svc = resolved(json!({"project": "shop", "image": "nginx",
            "autoscaling": {"min": 2, "max": 6, "targetCpu": 70}}));
        let planned = planned_scaling(&svc, &project(), None).unwrap();
        let range = |min, max| ScalableTarget {
            min_capacity: min,
            max_capacity: max,
        };
        let cpu = |target| tracking("defang-shop-web-cpu", CPU_METRIC, target);
        let repair = |target: Option<&ScalableTarget>, policies: &[TargetTrackingPolicy]| {
            scaling_repair(&planned, "defang-shop", "web", target, policies)
        };
        let nothing = repair(Some(&range(2, 6)), &[cpu(70.0)]);
        assert!(nothing.is_empty(), "{nothing:?}");
        // Another policy on the target is not the service's: left alone.
        let foreign = tracking("someone-elses", MEMORY_METRIC, 50.0);
        assert!(repair(Some(&range(2, 6)), &[cpu(70.0), foreign.clone()]).is_empty());

        let changed = repair(Some(&range(2, 9)), &[cpu(55.5), foreign.clone()]);
        assert_eq!(
            changed,
            ScalingRepair {
                register: true,
                put: vec![cpu(70.0)],
                delete: vec![],
            }
        );
        // The metric changed under the service's name: put back too.
        let other_metric = tracking("defang-shop-web-cpu", MEMORY_METRIC, 70.0);
        assert_eq!(repair(Some(&range(2, 6)), &[other_metric]).put, [cpu(70.0)]);
        // A policy with the service's name the stack does not have: deleted.
        let memory = tracking("defang-shop-web-memory", MEMORY_METRIC, 60.0);
        let extra = repair(Some(&range(2, 6)), &[cpu(70.0), memory]);
        assert_eq!(extra.delete, ["defang-shop-web-memory"]);
        assert!(!extra.register && extra.put.is_empty());
        // Deregistered: the target and every policy again (they went with it).
        let gone = repair(None, &[cpu(70.0)]);
        assert_eq!(
            gone,
            ScalingRepair {
                register: true,
                put: vec![cpu(70.0)],
                delete: vec![],
            }
        );
    }

    #[test]
    fn load_balancer_label_comes_from_the_listener_arn() {
        assert_eq!(
            load_balancer_label("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/lb/abc/def"),
            Some("app/lb/abc".into())
        );
        assert_eq!(load_balancer_label("arn:listener"), None);
    }
}
