//! The project's CloudFormation template, generated from resolved inputs (pure, so it can be
//! unit-tested and diffed). CloudFormation then owns dependency order, retries and rollback on
//! real AWS, and deleting the stack removes everything the project made.

use super::cidr::Cidr;
use super::inputs::{Network, ResolvedProject};
use crate::aws_names;
use crate::cloudformation::blocks::{attr, r};
use serde_json::{Value, json};

/// Output keys of the stack, read back by the project and by services.
pub mod outputs {
    pub const PROJECT_NAME: &str = "ProjectName";
    pub const CLUSTER_NAME: &str = "ClusterName";
    pub const CLUSTER_ARN: &str = "ClusterArn";
    pub const VPC_ID: &str = "VpcId";
    pub const VPC_ADOPTED: &str = "VpcAdopted";
    pub const VPC_CIDR: &str = "VpcCidr";
    pub const SUBNET_IDS: &str = "SubnetIds";
    pub const ASSIGN_PUBLIC_IP: &str = "AssignPublicIp";
    pub const SECURITY_GROUP_ID: &str = "SecurityGroupId";
    pub const EXECUTION_ROLE_ARN: &str = "ExecutionRoleArn";
    pub const LOG_GROUP_NAME: &str = "LogGroupName";
    pub const LOG_RETENTION_DAYS: &str = "LogRetentionDays";
    pub const CONTEXT_BUCKET: &str = "ContextBucket";
    pub const BUILD_PROJECT: &str = "BuildProject";
    /// `auto`, `always` or `never`: whether a service may turn the ingress resources on.
    pub const LOAD_BALANCER_POLICY: &str = "LoadBalancerPolicy";
    /// The zone of the project's ingress domains, known before its load balancer exists.
    pub const PUBLIC_DOMAIN: &str = "PublicDomain";
}

/// The template's parameter, and condition, that create the ingress resources (zone,
/// certificate, load balancer, listeners) when `"true"`. They are always in the template, so
/// that the first service with an ingress port can turn them on with an update of this one
/// parameter (the previous template kept), without knowing the project's inputs.
pub const INGRESS: &str = "Ingress";

/// The stack's parameter values for `project`.
pub fn parameters(project: &ResolvedProject) -> std::collections::BTreeMap<String, String> {
    [(INGRESS.to_string(), project.load_balancer.to_string())].into()
}

/// ECR repositories of a project's services live under this prefix, which is also what the
/// build role may push to.
pub fn repository_prefix(project: &str) -> String {
    format!("defang/{project}/")
}

fn tags(project: &ResolvedProject, name: &str) -> Value {
    // Stack tags propagate to every resource; the Name tag makes the console readable.
    json!([{ "Key": "Name", "Value": name }, { "Key": "defang:project", "Value": project.name }])
}

/// The template as JSON text. `Err` only if the inputs were not checked (bad CIDR).
pub fn render(project: &ResolvedProject, region: &str) -> Result<String, String> {
    let mut resources = serde_json::Map::new();
    let mut outs = serde_json::Map::new();
    let mut out = |key: &str, value: Value| {
        outs.insert(key.to_string(), json!({ "Value": value }));
    };
    let prefix = format!("defang-{}", project.name);

    let (vpc_id, subnets): (Value, Value) = match &project.network {
        Network::Created { cidr } => {
            let cidr = Cidr::parse(cidr)?;
            network_resources(project, &cidr, &prefix, &mut resources);
            out(outputs::VPC_ADOPTED, json!("false"));
            out(outputs::VPC_CIDR, json!(cidr.to_string()));
            (
                r("Vpc"),
                json!({ "Fn::Join": [",", [r("SubnetA"), r("SubnetB")]] }),
            )
        }
        Network::Adopted { vpc_id, subnet_ids } => {
            out(outputs::VPC_ADOPTED, json!("true"));
            (json!(vpc_id), json!(subnet_ids.join(",")))
        }
    };

    resources.insert(
        "ServiceSecurityGroup".into(),
        json!({
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                // Membership only: it has no rules of its own. Each service's own group opens its
                // private ports to this group and its ingress ports to the load balancer.
                "GroupDescription": format!("Defang project {}: member tasks of its services", project.name),
                "VpcId": vpc_id.clone(),
                "Tags": tags(project, &format!("{prefix}-services")),
            }
        }),
    );
    resources.insert(
        "Cluster".into(),
        json!({
            "Type": "AWS::ECS::Cluster",
            "Properties": {
                "ClusterName": aws_names::cluster(&project.name),
                "CapacityProviders": ["FARGATE", "FARGATE_SPOT"],
                "Tags": tags(project, &aws_names::cluster(&project.name)),
            }
        }),
    );
    resources.insert(
        "LogGroup".into(),
        json!({
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": aws_names::log_group(&project.name),
                "RetentionInDays": project.log_retention_days,
            }
        }),
    );
    // The role ECS uses to pull images, write logs and read secret environment values (not
    // the role the app runs as).
    let secret_parameters = format!(
        "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/defang/{}/*",
        project.name
    );
    resources.insert(
        "TaskExecutionRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": format!("Defang project {}: ECS task execution", project.name),
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": { "Service": "ecs-tasks.amazonaws.com" },
                        "Action": "sts:AssumeRole"
                    }]
                },
                "ManagedPolicyArns": [
                    { "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" }
                ],
                // Secret environment values: ECS reads the services' SecureString parameters
                // when a task starts. They are encrypted with the AWS-managed `aws/ssm` key,
                // whose key policy lets any principal of the account decrypt through SSM: no
                // kms:Decrypt is needed here.
                "Policies": [{
                    "PolicyName": "read-secrets",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Sid": "ReadProjectSecrets",
                            "Effect": "Allow",
                            "Action": "ssm:GetParameters",
                            "Resource": { "Fn::Sub": secret_parameters }
                        }]
                    }
                }],
                "Tags": tags(project, &format!("{prefix}-task-execution")),
            }
        }),
    );

    build_pipeline(project, &prefix, &mut resources);
    let name_tags = |name: &str| tags(project, name);
    super::private_dns::private_dns_resources(
        project,
        &vpc_id,
        &super::private_dns::region_domain(region),
        &name_tags,
        &mut resources,
        &mut out,
    );
    let mut ingress = serde_json::Map::new();
    let mut ingress_outs = Vec::new();
    super::ingress::ingress_resources(
        project,
        &vpc_id,
        &subnets,
        &name_tags,
        &mut ingress,
        &mut |key, value| ingress_outs.push((key.to_string(), value)),
    );
    for (key, mut resource) in ingress {
        resource["Condition"] = json!(INGRESS);
        resources.insert(key, resource);
    }
    out(
        outputs::LOAD_BALANCER_POLICY,
        json!(project.load_balancer_policy.as_str()),
    );
    if project.load_balancer_policy != super::inputs::LoadBalancerPolicy::Never {
        out(outputs::PUBLIC_DOMAIN, json!(project.public_domain));
    }
    out(outputs::CONTEXT_BUCKET, r("ContextBucket"));
    out(outputs::BUILD_PROJECT, r("BuildProject"));

    out(outputs::PROJECT_NAME, json!(project.name));
    out(outputs::CLUSTER_NAME, r("Cluster"));
    out(outputs::CLUSTER_ARN, attr("Cluster", "Arn"));
    out(outputs::VPC_ID, vpc_id);
    out(outputs::SUBNET_IDS, subnets);
    out(
        outputs::ASSIGN_PUBLIC_IP,
        json!(project.assign_public_ip.to_string()),
    );
    out(
        outputs::SECURITY_GROUP_ID,
        attr("ServiceSecurityGroup", "GroupId"),
    );
    out(
        outputs::EXECUTION_ROLE_ARN,
        attr("TaskExecutionRole", "Arn"),
    );
    out(outputs::LOG_GROUP_NAME, r("LogGroup"));
    out(
        outputs::LOG_RETENTION_DAYS,
        json!(project.log_retention_days.to_string()),
    );

    for (key, value) in ingress_outs {
        outs.insert(key, json!({ "Value": value, "Condition": INGRESS }));
    }
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("Defang project {}: network, cluster, roles and logs shared by its services (managed by Pulumi; do not edit)", project.name),
        "Parameters": {
            INGRESS: {
                "Type": "String",
                "AllowedValues": ["true", "false"],
                "Default": project.load_balancer.to_string(),
                "Description": "Whether the project has its public zone, certificate and HTTPS load balancer (a service with an ingress port turns them on)",
            }
        },
        "Conditions": {
            INGRESS: { "Fn::Equals": [{ "Ref": INGRESS }, "true"] }
        },
        "Resources": resources,
        "Outputs": outs,
    });
    serde_json::to_string_pretty(&template).map_err(|e| e.to_string())
}

/// Building from source: a private bucket for build contexts (content-addressed, expiring), a
/// CodeBuild project that builds with buildx and pushes to the project's repositories, and its
/// role, allowed exactly that: read contexts, push to `defang/<project>/*`, write build logs.
/// The project has no source: each build's buildspec downloads its context with `aws s3 cp`
/// under the build role (CodeBuild documents S3 sources for ZIP archives only).
fn build_pipeline(
    project: &ResolvedProject,
    prefix: &str,
    resources: &mut serde_json::Map<String, Value>,
) {
    resources.insert(
        "ContextBucket".into(),
        json!({
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": true, "BlockPublicPolicy": true,
                    "IgnorePublicAcls": true, "RestrictPublicBuckets": true
                },
                "BucketEncryption": { "ServerSideEncryptionConfiguration": [
                    { "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }
                ]},
                "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
                // Contexts are only needed while a build runs; an unchanged one is not uploaded
                // again while it is still there. A multipart upload that was never completed
                // or aborted (say, the provider was killed) would be kept, and billed, forever.
                "LifecycleConfiguration": { "Rules": [
                    { "Id": "expire-contexts", "Status": "Enabled", "Prefix": "contexts/", "ExpirationInDays": 30 },
                    {
                        "Id": "abort-incomplete-uploads", "Status": "Enabled", "Prefix": "contexts/",
                        "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 1 }
                    }
                ]},
                "Tags": tags(project, &format!("{prefix}-contexts")),
            }
        }),
    );
    let repositories = format!(
        "arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{}*",
        repository_prefix(&project.name)
    );
    resources.insert(
        "BuildRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": format!("Defang project {}: image builds", project.name),
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": { "Service": "codebuild.amazonaws.com" },
                        "Action": "sts:AssumeRole"
                    }]
                },
                "Policies": [{
                    "PolicyName": "build",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "ReadContexts",
                                "Effect": "Allow",
                                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                                "Resource": { "Fn::Sub": "${ContextBucket.Arn}/contexts/*" }
                            },
                            {
                                "Sid": "LogInToEcr",
                                "Effect": "Allow",
                                "Action": "ecr:GetAuthorizationToken",
                                "Resource": "*"
                            },
                            {
                                "Sid": "PushToProjectRepositories",
                                "Effect": "Allow",
                                "Action": [
                                    "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                    "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload",
                                    "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"
                                ],
                                "Resource": { "Fn::Sub": repositories }
                            },
                            {
                                "Sid": "WriteBuildLogs",
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": { "Fn::Sub": "${LogGroup.Arn}" }
                            }
                        ]
                    }
                }],
                "Tags": tags(project, &format!("{prefix}-build")),
            }
        }),
    );
    resources.insert(
        "BuildProject".into(),
        json!({
            "Type": "AWS::CodeBuild::Project",
            "Properties": {
                "Name": format!("{prefix}-build"),
                "Description": format!("Defang project {}: builds service images from source", project.name),
                "ServiceRole": attr("BuildRole", "Arn"),
                // No source: the buildspec fetches the context named by each build's
                // CONTEXT_S3_URI.
                "Source": {
                    "Type": "NO_SOURCE",
                    "BuildSpec": crate::build::buildspec::BUILDSPEC,
                },
                "Artifacts": { "Type": "NO_ARTIFACTS" },
                "Environment": {
                    "Type": "LINUX_CONTAINER",
                    "ComputeType": "BUILD_GENERAL1_MEDIUM",
                    "Image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
                    // Docker builds need a privileged build container.
                    "PrivilegedMode": true,
                },
                "LogsConfig": { "CloudWatchLogs": {
                    "Status": "ENABLED",
                    "GroupName": r("LogGroup"),
                    "StreamName": "builds",
                }},
                "TimeoutInMinutes": 60,
                "QueuedTimeoutInMinutes": 60,
                "Tags": tags(project, &format!("{prefix}-build")),
            }
        }),
    );
}

/// A VPC with two public subnets in the first two zones, an internet gateway and a default route.
fn network_resources(
    project: &ResolvedProject,
    cidr: &Cidr,
    prefix: &str,
    resources: &mut serde_json::Map<String, Value>,
) {
    let [subnet_a, subnet_b] = cidr.two_subnets();
    resources.insert(
        "Vpc".into(),
        json!({
            "Type": "AWS::EC2::VPC",
            "Properties": {
                "CidrBlock": cidr.to_string(),
                "EnableDnsSupport": true,
                "EnableDnsHostnames": true,
                "Tags": tags(project, prefix),
            }
        }),
    );
    resources.insert(
        "InternetGateway".into(),
        json!({ "Type": "AWS::EC2::InternetGateway", "Properties": { "Tags": tags(project, prefix) } }),
    );
    resources.insert(
        "InternetGatewayAttachment".into(),
        json!({
            "Type": "AWS::EC2::VPCGatewayAttachment",
            "Properties": { "VpcId": r("Vpc"), "InternetGatewayId": r("InternetGateway") }
        }),
    );
    resources.insert(
        "PublicRouteTable".into(),
        json!({
            "Type": "AWS::EC2::RouteTable",
            "Properties": { "VpcId": r("Vpc"), "Tags": tags(project, &format!("{prefix}-public")) }
        }),
    );
    resources.insert(
        "PublicDefaultRoute".into(),
        json!({
            "Type": "AWS::EC2::Route",
            // The route needs the gateway attached first; CloudFormation cannot infer that.
            "DependsOn": "InternetGatewayAttachment",
            "Properties": {
                "RouteTableId": r("PublicRouteTable"),
                "DestinationCidrBlock": "0.0.0.0/0",
                "GatewayId": r("InternetGateway"),
            }
        }),
    );
    for (index, (logical, subnet)) in [("SubnetA", subnet_a), ("SubnetB", subnet_b)]
        .into_iter()
        .enumerate()
    {
        resources.insert(
            logical.into(),
            json!({
                "Type": "AWS::EC2::Subnet",
                "Properties": {
                    "VpcId": r("Vpc"),
                    "CidrBlock": subnet.to_string(),
                    "AvailabilityZone": { "Fn::Select": [index, { "Fn::GetAZs": "" }] },
                    "MapPublicIpOnLaunch": true,
                    "Tags": tags(project, &format!("{prefix}-public-{}", index + 1)),
                }
            }),
        );
        resources.insert(
            format!("{logical}RouteTableAssociation"),
            json!({
                "Type": "AWS::EC2::SubnetRouteTableAssociation",
                "Properties": { "SubnetId": r(logical), "RouteTableId": r("PublicRouteTable") }
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::inputs::ProjectInputs;

    fn parsed(inputs: &ProjectInputs) -> Value {
        serde_json::from_str(
            &render(&inputs.resolve("shop", "alice", "defang.app"), "us-east-1").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn created_network() {
        let t = parsed(&ProjectInputs::default());
        let res = t["Resources"].as_object().unwrap();
        for id in [
            "Vpc",
            "InternetGateway",
            "InternetGatewayAttachment",
            "PublicRouteTable",
            "PublicDefaultRoute",
            "SubnetA",
            "SubnetB",
            "ContextBucket",
            "BuildRole",
            "BuildProject",
            "SubnetARouteTableAssociation",
            "SubnetBRouteTableAssociation",
            "ServiceSecurityGroup",
            "Cluster",
            "LogGroup",
            "TaskExecutionRole",
        ] {
            assert!(res.contains_key(id), "missing {id}");
        }
        assert_eq!(res["SubnetB"]["Properties"]["CidrBlock"], "10.0.16.0/20");
        assert_eq!(res["Cluster"]["Properties"]["ClusterName"], "defang-shop");
        assert_eq!(res["LogGroup"]["Properties"]["RetentionInDays"], 30);
        assert_eq!(t["Outputs"]["VpcAdopted"]["Value"], "false");
    }

    #[test]
    fn adopted_network_creates_no_vpc() {
        let t = parsed(&ProjectInputs {
            vpc_id: Some("vpc-123".into()),
            subnet_ids: Some(vec!["subnet-a".into(), "subnet-b".into()]),
            assign_public_ip: Some(false),
            ..Default::default()
        });
        let res = t["Resources"].as_object().unwrap();
        assert!(!res.contains_key("Vpc"));
        assert!(!res.contains_key("SubnetA"));
        assert_eq!(
            res["ServiceSecurityGroup"]["Properties"]["VpcId"],
            "vpc-123"
        );
        assert_eq!(t["Outputs"]["SubnetIds"]["Value"], "subnet-a,subnet-b");
        assert_eq!(t["Outputs"]["AssignPublicIp"]["Value"], "false");
    }

    #[test]
    fn build_role_has_least_privilege() {
        let t = parsed(&ProjectInputs::default());
        let statements = t["Resources"]["BuildRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"]
            .as_array()
            .unwrap()
            .clone();
        for s in &statements {
            if s["Resource"] == "*" {
                // Only the registry login cannot be scoped to a resource.
                assert_eq!(s["Action"], "ecr:GetAuthorizationToken", "{s}");
            }
        }
        let push = statements
            .iter()
            .find(|s| s["Sid"] == "PushToProjectRepositories")
            .unwrap();
        assert!(
            push["Resource"]["Fn::Sub"]
                .as_str()
                .unwrap()
                .ends_with(":repository/defang/shop/*"),
            "{push}"
        );
        // The buildspec reads the context object itself, with the build role's credentials.
        let read = statements
            .iter()
            .find(|s| s["Sid"] == "ReadContexts")
            .unwrap();
        assert_eq!(
            read["Resource"]["Fn::Sub"],
            "${ContextBucket.Arn}/contexts/*"
        );
        assert!(
            read["Action"]
                .as_array()
                .unwrap()
                .contains(&json!("s3:GetObject"))
        );
        let build = &t["Resources"]["BuildProject"]["Properties"];
        assert_eq!(build["Environment"]["PrivilegedMode"], true);
        assert_eq!(build["Environment"]["ComputeType"], "BUILD_GENERAL1_MEDIUM");
        assert_eq!(
            build["Source"],
            json!({ "Type": "NO_SOURCE", "BuildSpec": crate::build::buildspec::BUILDSPEC })
        );
        assert!(
            crate::build::buildspec::BUILDSPEC
                .contains(r#"aws s3 cp --only-show-errors "$CONTEXT_S3_URI" -"#)
        );
    }

    #[test]
    fn execution_role_reads_only_the_projects_secrets() {
        let t = parsed(&ProjectInputs::default());
        let role = &t["Resources"]["TaskExecutionRole"]["Properties"];
        let policies = role["Policies"].as_array().unwrap();
        assert_eq!(policies.len(), 1);
        let statements = policies[0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
        assert_eq!(
            statements,
            &vec![json!({
                "Sid": "ReadProjectSecrets",
                "Effect": "Allow",
                "Action": "ssm:GetParameters",
                "Resource": { "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/defang/shop/*" }
            })]
        );
        // Parameters are named /defang/<project>/<service>/<VAR>/v<N>: under the granted path.
        assert_eq!(
            crate::service::secrets::parameter_name("shop", "web", "TOKEN", 1),
            "/defang/shop/web/TOKEN/v1"
        );
    }

    #[test]
    fn context_bucket_expires_contexts_and_abandoned_uploads() {
        let t = parsed(&ProjectInputs::default());
        let rules =
            t["Resources"]["ContextBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
                .as_array()
                .unwrap()
                .clone();
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|r| r["Status"] == "Enabled"));
        let abort = rules
            .iter()
            .find(|r| r.get("AbortIncompleteMultipartUpload").is_some())
            .unwrap();
        assert_eq!(
            abort["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"],
            1
        );
        assert_eq!(abort["Prefix"], "contexts/");
        assert!(rules.iter().any(|r| r["ExpirationInDays"] == 30));
    }

    #[test]
    fn ingress_only_when_asked() {
        let t = parsed(&ProjectInputs::default());
        let res = t["Resources"].as_object().unwrap();
        // The ingress resources are in the template, created only while `Ingress` is true:
        // by default (unset) it is off until a service with an ingress port turns it on.
        assert_eq!(t["Parameters"]["Ingress"]["Default"], "false");
        assert_eq!(
            t["Conditions"]["Ingress"],
            json!({ "Fn::Equals": [{ "Ref": "Ingress" }, "true"] })
        );
        for key in ["LoadBalancer", "PublicZone", "Certificate", "HttpsListener"] {
            assert_eq!(res[key]["Condition"], "Ingress", "{key}");
        }
        assert_eq!(t["Outputs"]["LoadBalancerArn"]["Condition"], "Ingress");
        assert_eq!(t["Outputs"]["LoadBalancerPolicy"]["Value"], "auto");
        assert!(
            res.iter()
                .filter(|(_, r)| r.get("Condition").is_none())
                .all(|(_, r)| !serde_json::to_string(r).unwrap().contains("LoadBalancer")),
            "nothing unconditional refers to the ingress resources"
        );
        let params = |inputs: &ProjectInputs| {
            parameters(&inputs.resolve("shop", "alice", "defang.app"))["Ingress"].clone()
        };
        assert_eq!(params(&ProjectInputs::default()), "false");
        let on = ProjectInputs {
            load_balancer: Some(true),
            ..Default::default()
        };
        assert_eq!(params(&on), "true");
        assert_eq!(
            parsed(&on)["Outputs"]["LoadBalancerPolicy"]["Value"],
            "always"
        );
        assert!(res.contains_key("PrivateNamespace"));
        assert_eq!(
            res["DhcpOptions"]["Properties"]["DomainName"],
            "shop.internal ec2.internal"
        );
        let t = parsed(&ProjectInputs {
            load_balancer: Some(true),
            ..Default::default()
        });
        let res = t["Resources"].as_object().unwrap();
        assert_eq!(
            res["PublicZone"]["Properties"]["Name"],
            "shop.alice.defang.app"
        );
        assert_eq!(
            res["Certificate"]["Properties"]["DomainName"],
            "*.shop.alice.defang.app"
        );
        assert_eq!(res["Certificate"]["Properties"]["ValidationMethod"], "DNS");
        let http = &res["HttpListener"]["Properties"];
        assert_eq!(http["Port"], 80);
        assert_eq!(
            http["DefaultActions"][0]["RedirectConfig"]["Protocol"],
            "HTTPS"
        );
        let https = &res["HttpsListener"]["Properties"];
        assert_eq!(https["Port"], 443);
        assert_eq!(https["Protocol"], "HTTPS");
        // 0.0.0.0/0 appears only on the load balancer's listener ports.
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(
            text.matches("0.0.0.0/0").count(),
            3,
            "two listener rules and the default route"
        );
        assert!(res["LoadBalancerSecurityGroup"].is_object());
    }

    #[test]
    fn an_adopted_zone_is_used_not_made() {
        let mut project = ProjectInputs {
            load_balancer: Some(true),
            domain: Some("Apps.Example.com".into()),
            ..Default::default()
        }
        .resolve("shop", "alice", "defang.app");
        assert_eq!(project.public_domain, "apps.example.com");
        project.adopted_zone_id = Some("ZUSER".into());
        let t: Value = serde_json::from_str(&render(&project, "us-east-1").unwrap()).unwrap();
        let res = t["Resources"].as_object().unwrap();
        assert!(!res.contains_key("PublicZone"));
        assert_eq!(
            res["Certificate"]["Properties"]["DomainName"],
            "*.apps.example.com"
        );
        assert_eq!(
            res["Certificate"]["Properties"]["DomainValidationOptions"][0]["HostedZoneId"],
            "ZUSER"
        );
        assert_eq!(t["Outputs"]["ZoneId"]["Value"], "ZUSER");
        assert_eq!(t["Outputs"]["ZoneAdopted"]["Value"], "true");
        assert!(t["Outputs"].get("NameServers").is_none());
    }

    #[test]
    fn deterministic() {
        let a = render(
            &ProjectInputs::default().resolve("shop", "alice", "defang.app"),
            "us-east-1",
        )
        .unwrap();
        let b = render(
            &ProjectInputs::default().resolve("shop", "alice", "defang.app"),
            "us-east-1",
        )
        .unwrap();
        assert_eq!(a, b);
    }
}
