//! Application Auto Scaling: what a service's autoscaling is live (its scalable target's range
//! and its target tracking policies), for refresh to show a range or a target changed outside
//! Pulumi, and the writes that put them back on `up` (the service's stack makes them; when only
//! the outside changed, its template does not, and CloudFormation does nothing).

use super::CloudResult;

/// The scalable target of an ECS service's desired count: the range the scaler keeps it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalableTarget {
    pub min_capacity: i32,
    pub max_capacity: i32,
}

/// One target tracking policy of a scalable target, as Application Auto Scaling holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetTrackingPolicy {
    pub name: String,
    /// The predefined metric it tracks (`ECSServiceAverageCPUUtilization`,
    /// `ECSServiceAverageMemoryUtilization`, `ALBRequestCountPerTarget`); `None` for a
    /// customized metric.
    pub predefined_metric: Option<String>,
    /// The predefined metric's resource label (`ALBRequestCountPerTarget`'s
    /// `app/<lb>/<id>/targetgroup/<tg>/<id>`), if it has one.
    pub resource_label: Option<String>,
    pub target_value: f64,
}

#[async_trait::async_trait]
pub trait AutoScaling: Send + Sync {
    /// The scalable target of the ECS service `resource_id` (`service/<cluster>/<service>`) on
    /// `ecs:service:DesiredCount`; `None` when none is registered.
    async fn ecs_service_target(&self, resource_id: &str) -> CloudResult<Option<ScalableTarget>>;
    /// The target tracking policies on that target (all pages; other policy types are left
    /// out). None registered is an empty list.
    async fn ecs_service_policies(
        &self,
        resource_id: &str,
    ) -> CloudResult<Vec<TargetTrackingPolicy>>;
    /// Registers the scalable target of the ECS service `resource_id` with this range, or
    /// changes the range of the one registered (Application Auto Scaling's service-linked role
    /// for ECS, as the stack's target has).
    async fn register_ecs_service_target(
        &self,
        resource_id: &str,
        min_capacity: i32,
        max_capacity: i32,
    ) -> CloudResult<()>;
    /// Puts target tracking policy `policy` (a predefined metric) on that target: made, or
    /// updated in place when a policy of that name exists. The target must be registered
    /// ([`NotFound`](super::CloudErrorKind::NotFound) otherwise).
    async fn put_target_tracking_policy(
        &self,
        resource_id: &str,
        policy: &TargetTrackingPolicy,
    ) -> CloudResult<()>;
    /// Deletes the target's scaling policy `name`; one that does not exist is
    /// [`NotFound`](super::CloudErrorKind::NotFound).
    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> CloudResult<()>;
}
