//! AWS SDK adapters implementing the resource layer's cloud traits, one module per service.
//! They translate between plain data and SDK calls and classify errors; the decisions
//! (what to create, when to retry, how to wait) live in `defang-resources`.

pub mod autoscaling;
pub mod codebuild;
pub mod config;
pub mod ecr;
pub mod ecs;
pub mod elb;
mod errors;
pub mod iam;
pub mod inventory;
pub mod logs;
pub mod route53;
pub mod s3;
pub mod ssm;
pub mod stack;

pub use autoscaling::AutoScalingAdapter;
pub use codebuild::{BUILDSPEC, CodeBuildAdapter};
pub use config::{AwsSettings, load};
pub use ecr::EcrAdapter;
pub use ecs::EcsAdapter;
pub use elb::ElbAdapter;
pub use iam::IamAdapter;
pub use inventory::InventoryAdapter;
pub use logs::LogsAdapter;
pub use route53::Route53Adapter;
pub use s3::S3Adapter;
pub use ssm::SsmAdapter;
pub use stack::StackAdapter;

use aws_config::SdkConfig;
use defang_resources::runtime::Cloud;
use std::sync::Arc;

/// The cloud traits backed by AWS, for one account and region; fails only without a region.
pub fn cloud_from_config(config: &SdkConfig) -> Result<Cloud, String> {
    let region = config
        .region()
        .map(|r| r.as_ref().to_owned())
        .ok_or_else(|| "the AWS configuration has no region".to_owned())?;
    Ok(Cloud {
        ecs: Arc::new(EcsAdapter::new(config::ecs_client(config))),
        stacks: Arc::new(StackAdapter::new(config::cloudformation_client(config))),
        builds: Arc::new(CodeBuildAdapter::new(config::codebuild_client(config))),
        objects: Arc::new(S3Adapter::new(config::s3_client(config))),
        registry: Arc::new(EcrAdapter::new(config::ecr_client(config))),
        logs: Arc::new(LogsAdapter::new(config::logs_client(config))),
        dns: Arc::new(Route53Adapter::new(config::route53_client(config))),
        listeners: Arc::new(ElbAdapter::new(config::elb_client(config))),
        parameters: Arc::new(SsmAdapter::new(config::ssm_client(config))),
        autoscaling: Arc::new(AutoScalingAdapter::new(config::autoscaling_client(config))),
        roles: Arc::new(IamAdapter::new(config::iam_client(config))),
        region,
    })
}

/// Loads the standard AWS configuration (see [`config::load`]) and builds the adapters.
pub async fn connect(settings: &AwsSettings) -> Result<Cloud, String> {
    cloud_from_config(&config::load(settings).await?)
}
