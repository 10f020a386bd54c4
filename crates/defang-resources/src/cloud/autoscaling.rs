//! Application Auto Scaling: what a service's autoscaling is live (its scalable target's range
//! and its target tracking policies), for refresh to show a range or a target changed outside
//! Pulumi. The service's stack writes them; this only reads.

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
}
