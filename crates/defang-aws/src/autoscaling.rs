//! [`AutoScaling`] over Application Auto Scaling: an ECS service's scalable target and its
//! target tracking policies, read, and written back when they changed outside Pulumi (the
//! service's stack makes them).

use crate::errors::{APPLICATION_AUTO_SCALING, classify};
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use defang_resources::cloud::{
    AutoScaling, CloudError, CloudResult, ScalableTarget, TargetTrackingPolicy,
};

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
        // One resource id and dimension: at most one target, but the answer still pages.
        let mut pages = self
            .client
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_ids(resource_id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(
                    APPLICATION_AUTO_SCALING,
                    "DescribeScalableTargets",
                    &format!("describe the scalable target of {resource_id}"),
                    &e,
                )
            })?;
            if let Some(target) = page
                .scalable_targets()
                .iter()
                .find(|t| t.resource_id() == resource_id)
            {
                return Ok(Some(ScalableTarget {
                    min_capacity: target.min_capacity(),
                    max_capacity: target.max_capacity(),
                }));
            }
        }
        Ok(None)
    }

    async fn ecs_service_policies(
        &self,
        resource_id: &str,
    ) -> CloudResult<Vec<TargetTrackingPolicy>> {
        let mut policies = Vec::new();
        let mut pages = self
            .client
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(resource_id)
            // AWS's largest page (and its default).
            .max_results(50)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(
                    APPLICATION_AUTO_SCALING,
                    "DescribeScalingPolicies",
                    &format!("describe the scaling policies of {resource_id}"),
                    &e,
                )
            })?;
            policies.extend(
                page.scaling_policies()
                    .iter()
                    .filter(|p| p.policy_type() == &PolicyType::TargetTrackingScaling)
                    .filter_map(|p| {
                        let config = p.target_tracking_scaling_policy_configuration()?;
                        let metric = config.predefined_metric_specification();
                        Some(TargetTrackingPolicy {
                            name: p.policy_name().to_string(),
                            predefined_metric: metric
                                .map(|m| m.predefined_metric_type().as_str().to_string()),
                            resource_label: metric
                                .and_then(|m| m.resource_label())
                                .map(str::to_owned),
                            target_value: config.target_value(),
                        })
                    }),
            );
        }
        Ok(policies)
    }

    async fn register_ecs_service_target(
        &self,
        resource_id: &str,
        min_capacity: i32,
        max_capacity: i32,
    ) -> CloudResult<()> {
        self.client
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(resource_id)
            .min_capacity(min_capacity)
            .max_capacity(max_capacity)
            .send()
            .await
            .map_err(|e| {
                classify(
                    APPLICATION_AUTO_SCALING,
                    "RegisterScalableTarget",
                    &format!("register the scalable target of {resource_id}"),
                    &e,
                )
            })?;
        Ok(())
    }

    async fn put_target_tracking_policy(
        &self,
        resource_id: &str,
        policy: &TargetTrackingPolicy,
    ) -> CloudResult<()> {
        let action = format!("put scaling policy {} of {resource_id}", policy.name);
        let unsendable = |why: String| {
            CloudError::invalid(format!("{action}: {why}"))
                .in_call(APPLICATION_AUTO_SCALING, "PutScalingPolicy")
        };
        let metric = policy
            .predefined_metric
            .as_deref()
            .ok_or_else(|| unsendable("no predefined metric".into()))?;
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from(metric))
            .set_resource_label(policy.resource_label.clone())
            .build()
            .map_err(|e| unsendable(e.to_string()))?;
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(policy.target_value)
            .predefined_metric_specification(metric)
            .build()
            .map_err(|e| unsendable(e.to_string()))?;
        self.client
            .put_scaling_policy()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(resource_id)
            .policy_name(&policy.name)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config)
            .send()
            .await
            .map_err(|e| classify(APPLICATION_AUTO_SCALING, "PutScalingPolicy", &action, &e))?;
        Ok(())
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> CloudResult<()> {
        self.client
            .delete_scaling_policy()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(resource_id)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| {
                classify(
                    APPLICATION_AUTO_SCALING,
                    "DeleteScalingPolicy",
                    &format!("delete scaling policy {name} of {resource_id}"),
                    &e,
                )
            })?;
        Ok(())
    }
}
