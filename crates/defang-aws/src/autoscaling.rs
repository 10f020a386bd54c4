//! [`AutoScaling`] over Application Auto Scaling: an ECS service's scalable target and its
//! target tracking policies, read (the service's stack writes them).

use crate::errors::{APPLICATION_AUTO_SCALING, classify};
use aws_sdk_applicationautoscaling::types::{PolicyType, ScalableDimension, ServiceNamespace};
use defang_resources::cloud::{AutoScaling, CloudResult, ScalableTarget, TargetTrackingPolicy};

pub struct AutoScalingAdapter {
    client: aws_sdk_applicationautoscaling::Client,
}

impl AutoScalingAdapter {
    pub fn new(client: aws_sdk_applicationautoscaling::Client) -> Self {
        AutoScalingAdapter { client }
    }
}

#[async_trait::async_trait]
impl AutoScaling for AutoScalingAdapter {
    async fn ecs_service_target(&self, resource_id: &str) -> CloudResult<Option<ScalableTarget>> {
        let mut next_token: Option<String> = None;
        // One resource id and dimension: at most one target, but the answer still pages.
        loop {
            let out = self
                .client
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .resource_ids(resource_id)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| {
                    classify(
                        APPLICATION_AUTO_SCALING,
                        "DescribeScalableTargets",
                        &format!("describe the scalable target of {resource_id}"),
                        &e,
                    )
                })?;
            if let Some(target) = out
                .scalable_targets()
                .iter()
                .find(|t| t.resource_id() == resource_id)
            {
                return Ok(Some(ScalableTarget {
                    min_capacity: target.min_capacity(),
                    max_capacity: target.max_capacity(),
                }));
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => next_token = Some(next.to_string()),
                _ => return Ok(None),
            }
        }
    }

    async fn ecs_service_policies(
        &self,
        resource_id: &str,
    ) -> CloudResult<Vec<TargetTrackingPolicy>> {
        let mut policies = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_scaling_policies()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .resource_id(resource_id)
                // AWS's largest page (and its default).
                .max_results(50)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| {
                    classify(
                        APPLICATION_AUTO_SCALING,
                        "DescribeScalingPolicies",
                        &format!("describe the scaling policies of {resource_id}"),
                        &e,
                    )
                })?;
            policies.extend(
                out.scaling_policies()
                    .iter()
                    .filter(|p| p.policy_type() == &PolicyType::TargetTrackingScaling)
                    .filter_map(|p| {
                        let config = p.target_tracking_scaling_policy_configuration()?;
                        Some(TargetTrackingPolicy {
                            name: p.policy_name().to_string(),
                            predefined_metric: config
                                .predefined_metric_specification()
                                .map(|m| m.predefined_metric_type().as_str().to_string()),
                            target_value: config.target_value(),
                        })
                    }),
            );
            match out.next_token() {
                Some(next) if !next.is_empty() => next_token = Some(next.to_string()),
                _ => return Ok(policies),
            }
        }
    }
}
