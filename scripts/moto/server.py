#!/usr/bin/env python3
"""Launcher for the local AWS emulator (moto server) used by our tests.

Run with the venv made by scripts/moto/install.sh:

    .cache/moto-venv/bin/python scripts/moto/server.py --port 0 --port-file /tmp/moto.port

Binds 127.0.0.1 only (never "localhost": clients then use S3 path-style
addressing). --port 0 picks a free port; the port actually bound is written
atomically to --port-file once the server accepts connections.

Before moto handles any request, a few monkeypatches are applied for emulator
gaps we hit. Each one is labelled "emulator gap, test setup only": they make
moto behave more like AWS for our templates and change nothing in our product.
Runs until SIGTERM/SIGINT.
"""

import inspect
import argparse
import os
import signal
import sys
import threading
import time

# moto reads its settings from the environment; set them before importing it.
# Needed so IAM roles can attach AWS-managed policies such as
# arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
# MOTO_ECS_SERVICE_RUNNING is passed through unchanged when the caller sets it;
# MOTO_ECS_ROLLOUT_SECONDS, MOTO_ECS_DRAIN_SECONDS and MOTO_ECS_ROLLOUT_SEED are read by patch 18.


def _add_method(cls, name, fn, applied):
    """Add a method moto lacks; fail loudly if a moto upgrade brings its own."""
    assert not hasattr(cls, name), f"moto now has {cls.__name__}.{name}; re-check this patch"
    setattr(cls, name, fn)
    applied.append(f"{cls.__name__}.{name}")


def apply_patches() -> list:
    """Apply our moto monkeypatches; returns the names of what was patched.

    Background for the delete patches: on DeleteStack (and for resources removed
    by UpdateStack) moto calls `resource.delete(account_id, region_name)` on each
    parsed resource and falls back to the class's `delete_from_cloudformation_json`
    (moto/cloudformation/parsing.py, ResourceMap._delete_resource). When neither
    exists the resource is dropped from the stack but stays in its backend. The
    deletes run in any order and moto retries the ones that raise while others
    make progress, so each delete below tolerates running before/after its
    neighbours.
    """
    applied = []

    import moto.cloudformation.parsing as cfn_parsing
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.route_tables import Route, RouteTable
    from moto.ec2.models.subnets import SubnetRouteTableAssociation
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment
    from moto.ecs.exceptions import ECSException
    from moto.ecs.models import Cluster, ecs_backends
    from moto.logs.models import LogGroup

    # -- emulator gap, test setup only: (1) CloudFormation cannot delete route tables.
    # RouteTable / Route / SubnetRouteTableAssociation have no CloudFormation delete,
    # so the route table outlives DeleteStack and the VPC's delete fails with
    # DependencyViolation ("The vpc ... has dependencies"): DeleteStack errors out.
    def route_table_delete(self, account_id, region_name):
        backend = self.ec2_backend
        for association_id in list(self._associations):  # disassociate subnets/gateways
            backend.disassociate_route_table(association_id)
        self._routes.clear()  # delete its routes (incl. the local one)
        backend.route_tables.pop(self.id, None)  # delete the table

    def route_delete(self, account_id, region_name):
        self.route_table._routes.pop(self.id, None)

    def subnet_association_delete(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        backend.subnet_associations.pop(f"{self.route_table_id}:{self.subnet_id}", None)

    _add_method(RouteTable, "delete", route_table_delete, applied)
    _add_method(Route, "delete", route_delete, applied)
    _add_method(SubnetRouteTableAssociation, "delete", subnet_association_delete, applied)

    # -- emulator gap, test setup only: (2) internet gateways outlive DeleteStack.
    # InternetGateway / VPCGatewayAttachment have no CloudFormation delete: the IGW
    # stays, still "attached" to the deleted VPC.
    def igw_delete(self, account_id, region_name):
        # DependencyViolation while still attached; moto retries after the detach.
        self.ec2_backend.delete_internet_gateway(self.id)

    def gateway_attachment_delete(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        if (self.gateway_id or "").startswith("igw-"):
            igw = backend.internet_gateways.get(self.gateway_id)
            if igw is not None and igw.vpc is not None and igw.vpc.id == self.vpc_id:
                igw.vpc = None  # detach

    _add_method(InternetGateway, "delete", igw_delete, applied)
    _add_method(VPCGatewayAttachment, "delete", gateway_attachment_delete, applied)

    # -- emulator gap, test setup only: (3) ECS clusters outlive DeleteStack.
    # ecs Cluster has no CloudFormation delete: the cluster stays ACTIVE. Like AWS,
    # refuse while the cluster has ACTIVE services; then remove it (AWS marks it
    # INACTIVE and forgets it later; we model the later state, so ListClusters is empty).
    def cluster_delete(self, account_id, region_name):
        backend = ecs_backends[account_id][region_name]
        if any(s.cluster_arn == self.arn and s.status == "ACTIVE" for s in backend.services.values()):
            raise ECSException(
                "ClusterContainsServicesException",
                "The Cluster cannot be deleted while Services are active.",
            )
        backend.clusters.pop(self.name, None)

    _add_method(Cluster, "delete", cluster_delete, applied)

    # -- emulator gap, test setup only: (3b) a failed DeleteStack loses the stack.
    # moto removes the stack from its list before deleting its resources and turns a
    # resource failure into an error response of DeleteStack itself; the stack is gone
    # and the failed resources stay orphaned. AWS accepts DeleteStack and the stack ends
    # in DELETE_FAILED (still describable, retryable). Emulate that.
    from moto.cloudformation.models import CloudFormationBackend

    orig_delete_stack = CloudFormationBackend.delete_stack

    def delete_stack(self, name_or_stack_id):
        stack = self.stacks.get(name_or_stack_id) or next(
            (s for s in self.stacks.values() if s.name == name_or_stack_id), None
        )
        if stack is None:
            return orig_delete_stack(self, name_or_stack_id)
        stack.outputs  # resolve (and cache) the outputs while their resources exist
        try:
            orig_delete_stack(self, stack.stack_id)
        except Exception as e:  # put the stack back, as DELETE_FAILED
            self.deleted_stacks.pop(stack.stack_id, None)
            self.stacks[stack.stack_id] = stack
            stack.status = "DELETE_FAILED"
            reason = getattr(e, "message", None) or str(e)
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
            # moto's resource map lazily *creates* any resource it is asked for and no
            # longer holds: keep only the resources that were not deleted, so that
            # DescribeStacks/ListStackResources do not resurrect the deleted ones.
            rm = stack.resource_map
            rm._resource_json_map = {
                k: v for k, v in rm._resource_json_map.items() if k in rm._parsed_resources
            }

    CloudFormationBackend.delete_stack = delete_stack
    applied.append("CloudFormationBackend.delete_stack")

    # -- emulator gap, test setup only: (4) UpdateStack forgets resources it cannot update.
    # For a resource type without update_from_cloudformation_json, moto's UpdateStack
    # stores None as the stack's resource when its properties change; the real
    # resource is then never deleted by DeleteStack (e.g. a LogGroup whose
    # RetentionInDays changed survives, and re-creating the stack fails with
    # ResourceAlreadyExistsException). Keep tracking the unchanged original instead.
    orig_parse_and_update = cfn_parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
        new = orig_parse_and_update(logical_id, resource_json, resources_map, account_id, region_name)
        if new is None:
            return resources_map._parsed_resources.get(logical_id)
        return new

    cfn_parsing.parse_and_update_resource = parse_and_update_resource
    applied.append("cloudformation.parse_and_update_resource")

    # -- emulator gap, test setup only: (5) AWS::Logs::LogGroup has no CloudFormation
    # update: apply RetentionInDays in place; a changed LogGroupName replaces the group.
    assert hasattr(LogGroup.update_from_cloudformation_json, "__isabstractmethod__"), (
        "moto now implements LogGroup.update_from_cloudformation_json; re-check this patch"
    )

    def log_group_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = cloudformation_json.get("Properties", {})
        name = props.get("LogGroupName")
        if name and name != original_resource.name:
            new = cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
            original_resource.delete(account_id, region_name)
            return new
        original_resource.set_retention_policy(props.get("RetentionInDays"))
        return original_resource

    LogGroup.update_from_cloudformation_json = classmethod(log_group_update)
    applied.append("LogGroup.update_from_cloudformation_json")

    _patch_codebuild(applied)
    _patch_ecs_timing(applied)
    _patch_ecs_create_service(applied)
    _patch_ecs_capacity(applied)
    _patch_scaling_policy_filter(applied)

    # Patches 7-16: CloudFormation resource types of the project and service network stacks
    # (certificate, Cloud Map, DHCP options, CodeBuild project; Route 53, ELBv2, security
    # group, S3, log group and IAM role fixes). Same rules as above; they live in cfn_patches.py.
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    sys.dont_write_bytecode = True  # no scripts/moto/__pycache__ in the work tree
    import cfn_patches

    cfn_patches.apply(applied, _add_method)

    return applied


def _patch_ecs_create_service(applied):
    """-- emulator gap, test setup only: (20) CreateService drops enableExecuteCommand and
    healthCheckGracePeriodSeconds (UpdateService stores them, as it does deploymentConfiguration),
    so a service created with ECS Exec on read back as off. They are stored at create now, with
    AWS's defaults (false, and no grace period) when absent.
    """
    from moto.ecs.responses import EC2ContainerServiceResponse

    orig = EC2ContainerServiceResponse.create_service
    src = inspect.getsource(orig)
    assert "enableExecuteCommand" not in src and "healthCheckGracePeriodSeconds" not in src, (
        "moto's CreateService reads ECS Exec or the grace period now; re-check patch 20"
    )

    def create_service(self):
        result = orig(self)
        cluster = self._get_param("cluster", "default").split("/")[-1]
        name = self._get_param("serviceName")
        service = self.ecs_backend.services.get(f"{cluster}:{name}")
        if service is None:  # a cluster ARN: find it by name
            service = next(
                (s for s in self.ecs_backend.services.values() if s.name == name and s.cluster_name == cluster),
                None,
            )
        if service is not None:
            service.enable_execute_command = bool(self._get_param("enableExecuteCommand", False))
            grace = self._get_param("healthCheckGracePeriodSeconds")
            if grace is not None:
                service.health_check_grace_period_seconds = int(grace)
        return result

    EC2ContainerServiceResponse.create_service = create_service
    applied.append("EC2ContainerServiceResponse.create_service")


def _patch_scaling_policy_filter(applied):
    """-- emulator gap, test setup only: (23) DescribeScalingPolicies matched ResourceId and
    ScalableDimension as substrings (`policy.resource_id in resource_id`), so the policies of
    service `web` were also listed for `web-api` (`service/c/web` is in `service/c/web-api`).
    AWS matches them exactly; so does this. (23b) DeregisterScalableTarget kept the target's
    policies; AWS deletes them with the target, and so does this.
    """
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend

    orig = ApplicationAutoscalingBackend.describe_scaling_policies
    src = inspect.getsource(orig)
    assert "policy.resource_id in resource_id" in src, (
        "moto's DescribeScalingPolicies filters differently now; re-check patch 23"
    )

    def describe_scaling_policies(self, service_namespace, resource_id, scalable_dimension, max_results, next_token):
        max_results = max_results or 100
        policies = [
            p
            for p in self.policies.values()
            if p.service_namespace == service_namespace
            and (not resource_id or p.resource_id == resource_id)
            and (not scalable_dimension or p.scalable_dimension == scalable_dimension)
        ]
        start = int(next_token) if next_token else 0
        end = start + max_results
        return (str(end) if end < len(policies) else None), policies[start:end]

    ApplicationAutoscalingBackend.describe_scaling_policies = describe_scaling_policies
    applied.append("ApplicationAutoscalingBackend.describe_scaling_policies")

    # (23b) DeregisterScalableTarget kept the target's policies; AWS deletes them with it.
    orig_deregister = ApplicationAutoscalingBackend.deregister_scalable_target
    assert "policies" not in inspect.getsource(orig_deregister), (
        "moto's DeregisterScalableTarget handles policies now; re-check patch 23"
    )

    def deregister_scalable_target(self, namespace, r_id, dimension):
        orig_deregister(self, namespace, r_id, dimension)
        for key, policy in list(self.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (namespace, r_id, dimension):
                del self.policies[key]

    ApplicationAutoscalingBackend.deregister_scalable_target = deregister_scalable_target
    applied.append("ApplicationAutoscalingBackend.deregister_scalable_target")

    _patch_scaling_policy_writes(applied)


def _patch_scaling_policy_writes(applied):
    """-- emulator gap, test setup only: (24) PutScalingPolicy and DeleteScalingPolicy as AWS
    answers them (what `up` writes back when a service's autoscaling changed outside Pulumi).
    (24a) PutScalingPolicy on an existing name made a new policy with a new ARN, and left the old
    one's CloudWatch alarms behind; AWS updates the policy in place: the same ARN (which the
    service's stack holds as the policy's physical id), its alarms replaced. (24b) It accepted a
    policy for a target that is not registered; AWS answers ObjectNotFoundException. (24c)
    DeleteScalingPolicy of a policy that does not exist answered ValidationException; AWS answers
    ObjectNotFoundException.
    """
    from moto.applicationautoscaling.models import (
        ApplicationAutoscalingBackend,
        FakeApplicationAutoscalingPolicy,
    )
    from moto.core.exceptions import JsonRESTError

    orig_put = ApplicationAutoscalingBackend.put_scaling_policy
    src = inspect.getsource(orig_put)
    assert "_scalable_target_exists" not in src and "policy_arn" not in src, (
        "moto's PutScalingPolicy checks the target or keeps the ARN now; re-check patch 24"
    )
    orig_delete = ApplicationAutoscalingBackend.delete_scaling_policy
    assert "AWSValidationException" in inspect.getsource(orig_delete), (
        "moto's DeleteScalingPolicy answers differently now; re-check patch 24"
    )

    def not_found(message):
        return JsonRESTError("ObjectNotFoundException", message)

    def put_scaling_policy(self, policy_name, service_namespace, resource_id, scalable_dimension, policy_body, policy_type):
        if not self._scalable_target_exists(resource_id, scalable_dimension):
            raise not_found(
                f"No scalable target registered for service namespace: {service_namespace}, "
                f"resource ID: {resource_id}, scalable dimension: {scalable_dimension}"
            )
        key = FakeApplicationAutoscalingPolicy.formulate_key(service_namespace, resource_id, scalable_dimension, policy_name)
        old = self.policies.get(key)
        if old is not None:
            old.delete_alarms(self.account_id, self.region_name)
        policy = orig_put(self, policy_name, service_namespace, resource_id, scalable_dimension, policy_body, policy_type)
        if old is not None:
            # The same policy, updated: its identity, and alarms that name it.
            policy.delete_alarms(self.account_id, self.region_name)
            policy.alarms = []
            policy._guid = old._guid
            policy.policy_arn = old.policy_arn
            policy.creation_time = old.creation_time
            policy.create_alarms()
        return policy

    def delete_scaling_policy(self, policy_name, service_namespace, resource_id, scalable_dimension):
        key = FakeApplicationAutoscalingPolicy.formulate_key(service_namespace, resource_id, scalable_dimension, policy_name)
        if key not in self.policies:
            raise not_found(
                f"No scaling policy found for service namespace: {service_namespace}, resource ID: {resource_id}, "
                f"scalable dimension: {scalable_dimension}, policy name: {policy_name}"
            )
        orig_delete(self, policy_name, service_namespace, resource_id, scalable_dimension)

    ApplicationAutoscalingBackend.put_scaling_policy = put_scaling_policy
    ApplicationAutoscalingBackend.delete_scaling_policy = delete_scaling_policy
    applied += ["ApplicationAutoscalingBackend.put_scaling_policy", "ApplicationAutoscalingBackend.delete_scaling_policy"]


def _patch_ecs_capacity(applied):
    """-- emulator gap, test setup only: (22) Fargate capacity providers.

    moto's CloudFormation created clusters without `CapacityProviders` and
    `DefaultCapacityProviderStrategy`, and CreateService dropped `capacityProviderStrategy` (a
    Spot service read back as an EC2 one). Like AWS now: the cluster gets its providers (created
    and updated in place); CreateService refuses a launch type together with a strategy, and a
    strategy naming a provider the cluster does not have; the service keeps its strategy and has
    no launch type. UpdateService checks the providers the same way; a strategy replaces the
    launch type, and an empty one goes back to FARGATE.
    """
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.models import Cluster, EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    for fn in (Cluster.create_from_cloudformation_json, EC2ContainerServiceBackend.create_service):
        src = inspect.getsource(fn)
        assert "CapacityProviders" not in src and "capacity_provider_strategy" not in src, (
            f"moto's {fn.__qualname__} handles capacity providers now; re-check patch 22"
        )

    def with_providers(cluster, props):
        cluster.capacity_providers = list(props.get("CapacityProviders") or [])
        cluster.default_capacity_provider_strategy = [
            {"capacityProvider": i["CapacityProvider"], "weight": int(i.get("Weight", 0)), "base": int(i.get("Base", 0))}
            for i in props.get("DefaultCapacityProviderStrategy") or []
        ]
        return cluster

    orig_create = Cluster.create_from_cloudformation_json.__func__
    orig_update = Cluster.update_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        cluster = orig_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        return with_providers(cluster, cloudformation_json.get("Properties") or {})

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        cluster = orig_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        return with_providers(cluster, cloudformation_json.get("Properties") or {})

    Cluster.create_from_cloudformation_json = classmethod(create)
    Cluster.update_from_cloudformation_json = classmethod(update)
    applied += ["Cluster.create_from_cloudformation_json", "Cluster.update_from_cloudformation_json"]

    def check_providers(backend, cluster_name, strategy):
        cluster = backend._get_cluster(cluster_name)
        for item in strategy:
            if item.get("capacityProvider") not in (cluster.capacity_providers or []):
                raise InvalidParameterException(
                    "The specified capacity provider strategy cannot contain a capacity provider that is not "
                    f"associated with the cluster ({item.get('capacityProvider')}). Associate the capacity "
                    "provider with the cluster or specify a valid capacity provider and try again."
                )

    def normalized(strategy):
        return [
            {"capacityProvider": i["capacityProvider"], "weight": int(i.get("weight", 0)), "base": int(i.get("base", 0))}
            for i in strategy
        ]

    orig_create_service = EC2ContainerServiceResponse.create_service

    def create_service(self):
        strategy = self._get_param("capacityProviderStrategy")
        cluster = self._get_param("cluster", "default").split("/")[-1]
        name = self._get_param("serviceName")
        if strategy:
            if self._get_param("launchType"):
                raise InvalidParameterException(
                    "Specifying both a launch type and capacity provider strategy is not supported. "
                    "Remove one and try again."
                )
            check_providers(self.ecs_backend, cluster, strategy)
        result = orig_create_service(self)
        service = self.ecs_backend.services.get(f"{cluster}:{name}")
        if service is not None:
            service.capacity_provider_strategy = normalized(strategy or [])
            if strategy:
                service.launch_type = None
                for deployment in service.deployments:
                    deployment["launchType"] = None
                    deployment["capacityProviderStrategy"] = service.capacity_provider_strategy
        return result

    EC2ContainerServiceResponse.create_service = create_service
    applied.append("EC2ContainerServiceResponse.create_service (capacity)")

    orig_update_service = EC2ContainerServiceBackend.update_service

    def update_service(self, service_properties):
        strategy = service_properties.get("capacity_provider_strategy")
        cluster = (service_properties.get("cluster") or "default").split("/")[-1]
        if strategy:
            check_providers(self, cluster, strategy)
        service = orig_update_service(self, service_properties)
        if strategy is not None:
            service.capacity_provider_strategy = normalized(strategy)
            service.launch_type = None if strategy else "FARGATE"
        return service

    EC2ContainerServiceBackend.update_service = update_service
    applied.append("EC2ContainerServiceBackend.update_service (capacity)")


# Outcomes a test can script for an emulated build (see _patch_codebuild).
BUILD_RESULTS = ("SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "RUNNING")
BUILD_RESULT_NAME = "DEFANG_EMULATOR_BUILD_RESULT"


def _patch_codebuild(applied):
    """-- emulator gap, test setup only: (6) CodeBuild builds that "push" their image.

    moto's CodeBuild runs nothing: a build is SUCCEEDED at the first BatchGetBuilds,
    no image is ever pushed (so a deploy cannot find the image digest), every
    BatchGetBuilds appends nine more phases and turns even a STOPPED build into
    SUCCEEDED, and StartBuild ignores its overrides and idempotency token. This patch:

    - completes a build once, at the first BatchGetBuilds, with the phases AWS shows
      (SUBMITTED, QUEUED, PROVISIONING ... FINALIZING, then COMPLETED without a status);
    - emulates the buildspec's push: with overrides IMAGE_REPO_URI and IMAGE_TAG, it puts
      an image with that tag into moto's ECR repository (the URI's path), with a manifest
      derived from (repository, tag, ETag of the context object named by the override
      CONTEXT_S3_URI), so describe_images returns a stable digest. Like a real push it
      fails the build when the repository does not exist, or when an IMMUTABLE repository
      has the tag with other content;
    - fails the build in PRE_BUILD, where the buildspec's `aws s3 cp "$CONTEXT_S3_URI"`
      runs (builds have no CodeBuild source), when that object does not exist;
    - scripts the outcome for failure tests: the build argument (BUILD_ARG_<n> =
      "DEFANG_EMULATOR_BUILD_RESULT=FAILED") or an override DEFANG_EMULATOR_BUILD_RESULT,
      else MOTO_CODEBUILD_RESULT in the server's environment, else SUCCEEDED; one of
      SUCCEEDED, FAILED, FAULT, TIMED_OUT, or RUNNING: a build that stays IN_PROGRESS in its
      BUILD phase until StopBuild (for Ctrl-C tests). A failed build pushes nothing;
    - reports the overrides back (source, environment type/image/privileged mode and
      variables, logs) as AWS does, writes a few emulator lines into the build's log stream,
      returns the same build for a repeated idempotency token, and StopBuild stops a build
      that is not complete (a complete one is returned unchanged).
    """
    import hashlib
    import json

    from moto.codebuild.exceptions import InvalidInputException
    from moto.codebuild.models import CodeBuildBackend
    from moto.codebuild.responses import CodeBuildResponse
    from moto.core.responses import ActionResult
    from moto.core.utils import iso_8601_datetime_with_milliseconds, unix_time_millis
    from moto.ecr.models import ecr_backends
    from moto.logs.models import logs_backends
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    # The methods replaced below are the quirky ones described above; re-check on upgrade.
    assert hasattr(CodeBuildBackend, "_set_phases"), "moto's CodeBuild changed; re-check patch 6"

    lock = threading.Lock()
    plans = {}  # build id -> what the build will do, decided at StartBuild
    tokens = {}  # (account, region, project, idempotency token) -> build id

    def scripted_result(env):
        value = env.get(BUILD_RESULT_NAME)
        for name, arg in env.items():
            if name.startswith("BUILD_ARG_") and arg.startswith(BUILD_RESULT_NAME + "="):
                value = arg.split("=", 1)[1]
        if value is None:
            value = os.environ.get("MOTO_CODEBUILD_RESULT", "SUCCEEDED")
        value = value.strip().upper()
        if value not in BUILD_RESULTS:
            raise InvalidInputException(
                f"{BUILD_RESULT_NAME} must be one of {', '.join(BUILD_RESULTS)}"
            )
        return value

    def context_etag(account, region, uri):
        """(found, etag) of the context `s3://bucket/key`; found is None without one."""
        if not uri or not uri.startswith("s3://") or "/" not in uri[5:]:
            return None, None
        bucket, key = uri[5:].split("/", 1)
        try:
            obj = s3_backends[account][get_partition(region)].get_object(bucket, key)
        except Exception:  # missing bucket
            obj = None
        return (obj is not None), (obj.etag.strip('"') if obj is not None else None)

    def log_location(project, build_id, override):
        project_logs = project.project_metadata.get("logsConfig") or {}
        config = (override or {}).get("cloudWatchLogs") or project_logs.get("cloudWatchLogs") or {}
        if config.get("status", "ENABLED") != "ENABLED":
            return None, None
        group = config.get("groupName") or f"/aws/codebuild/{project.project_metadata['name']}"
        build_uuid = build_id.split(":", 1)[1]
        prefix = config.get("streamName")
        return group, (f"{prefix}/{build_uuid}" if prefix else build_uuid)

    def start_build(self):
        backend = self.codebuild_backend
        project_name = self._get_param("projectName")
        overrides = self._get_param("environmentVariablesOverride") or []
        env = {v["name"]: v.get("value", "") for v in overrides}
        token = self._get_param("idempotencyToken")
        key = (self.current_account, self.region, project_name, token)
        with lock:
            if token and key in tokens:
                for build in backend.build_metadata_history.get(project_name, []):
                    if build["id"] == tokens[key]:
                        return ActionResult({"build": build})
        result = scripted_result(env)  # refuse a bad value before a build exists
        response = orig_start_build(self)
        build = response.result["build"]
        project = backend.codebuild_projects[project_name]
        # What AWS reports: the project's settings with this build's overrides applied.
        source = dict(project.project_metadata.get("source") or {})
        source.pop("buildspec", None)
        source["type"] = self._get_param("sourceTypeOverride") or source.get("type")
        source["location"] = self._get_param("sourceLocationOverride") or source.get("location")
        if source["type"] == "NO_SOURCE":
            source.pop("location", None)
        environment = dict(project.project_metadata.get("environment") or build["environment"])
        variables = {v["name"]: v for v in environment.get("environmentVariables") or []}
        variables.update({n: {"name": n, "value": v, "type": "PLAINTEXT"} for n, v in env.items()})
        environment["environmentVariables"] = list(variables.values())
        for field, param in (
            ("type", "environmentTypeOverride"),
            ("image", "imageOverride"),
            ("computeType", "computeTypeOverride"),
            ("privilegedMode", "privilegedModeOverride"),
        ):
            if self._get_param(param) is not None:
                environment[field] = self._get_param(param)
        build["source"] = source
        build["environment"] = environment
        group, stream = log_location(project, build["id"], self._get_param("logsConfigOverride"))
        if group:
            build["logs"] = {
                "groupName": group,
                "streamName": stream,
                "deepLink": "https://console.aws.amazon.com/cloudwatch/home"
                f"?region={self.region}#logEvent:group={group};stream={stream}",
                "cloudWatchLogs": {"status": "ENABLED", "groupName": group, "streamName": stream},
                "s3Logs": {"status": "DISABLED", "encryptionDisabled": False},
            }
        context = env.get("CONTEXT_S3_URI")
        found, etag = context_etag(self.current_account, self.region, context)
        with lock:
            plans[build["id"]] = {
                "account": self.current_account,
                "region": self.region,
                "result": result,
                "context": context,
                "source_found": found,
                "source_etag": etag,
                "repo_uri": env.get("IMAGE_REPO_URI"),
                "tag": env.get("IMAGE_TAG"),
            }
            if token:
                tokens[key] = build["id"]
        return response

    def phase(kind, status=None, context=None):
        now = iso_8601_datetime_with_milliseconds()
        entry = {"phaseType": kind, "startTime": now}
        if status is not None:
            entry.update(phaseStatus=status, endTime=now, durationInSeconds=0)
        if context is not None:
            entry["contexts"] = [{"statusCode": context[0], "message": context[1]}]
        return entry

    def push(plan):
        """(digest or None, failure message or None) of the emulated `docker push`."""
        uri, tag = plan["repo_uri"], plan["tag"]
        if not uri or not tag:
            return None, None  # not an image build: nothing to push
        name = uri.split("/", 1)[1] if "/" in uri else uri
        ecr = ecr_backends[plan["account"]][plan["region"]]
        repo = ecr.repositories.get(name)
        if repo is None:
            return None, f"name unknown: The repository with name '{name}' does not exist in the registry"
        seed = f"{name}\n{tag}\n{plan['source_etag'] or ''}".encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": 1024,
                    "digest": "sha256:" + hashlib.sha256(b"config\n" + seed).hexdigest(),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": 4096,
                        "digest": "sha256:" + hashlib.sha256(b"layer\n" + seed).hexdigest(),
                    }
                ],
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        existing = next((i for i in repo.images if tag in i.image_tags), None)
        if existing is not None and existing.image_manifest == manifest:
            return existing.image_digest, None
        if existing is not None and str(repo.image_tag_mutability).startswith("IMMUTABLE"):
            return None, (
                f"tag invalid: The image tag '{tag}' already exists in the '{name}' repository "
                "and cannot be overwritten because the repository is immutable."
            )
        image = ecr.put_image(name, manifest, tag, None, digest)
        return image.image_digest, None

    def write_log(plan, build, lines):
        logs = build.get("logs") or {}
        group, stream = logs.get("groupName"), logs.get("streamName")
        if not group or not stream:
            return
        backend = logs_backends[plan["account"]][plan["region"]]
        if group not in backend.groups:
            backend.create_log_group(group, tags={})
        if stream not in backend.groups[group].streams:
            backend.create_log_stream(group, stream)
        now = int(unix_time_millis())
        backend.put_log_events(group, stream, [{"timestamp": now, "message": line} for line in lines])

    def complete(build):
        """Run the planned build, all at once (moto has no clock to wait on)."""
        # No plan (cannot happen while StartBuild is patched): a plain success, as before.
        plan = plans.get(build["id"]) or {"result": "SUCCEEDED", "source_found": None, "repo_uri": None, "tag": None}
        done = [phase("SUBMITTED", "SUCCEEDED"), phase("QUEUED", "SUCCEEDED")]
        lines = ["[Container] moto emulator: nothing ran; this build is emulated (test setup only)"]
        digest, failure = None, None
        if plan["source_found"] is False:
            status = "FAILED"
            reason = f"NoSuchKey: the build context {plan['context']} does not exist"
            message = f"Error while executing command: aws s3 cp (emulated: {reason}). Reason: exit status 1"
            for kind in ("PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL"):
                done.append(phase(kind, "SUCCEEDED"))
            done.append(phase("PRE_BUILD", "FAILED", ("COMMAND_EXECUTION_ERROR", message)))
            lines += [f"[Container] {reason}", "[Container] Phase complete: PRE_BUILD State: FAILED"]
        else:
            for kind in ("PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD"):
                done.append(phase(kind, "SUCCEEDED"))
            status = plan["result"]
            if status == "SUCCEEDED":
                digest, failure = push(plan)
                if failure:
                    status = "FAILED"
            if status == "SUCCEEDED":
                done += [phase("BUILD", "SUCCEEDED"), phase("POST_BUILD", "SUCCEEDED")]
                if digest:
                    lines.append(f"[Container] Pushed {plan['repo_uri']}:{plan['tag']} ({digest})")
            else:
                reason = failure or f"{BUILD_RESULT_NAME}={status}"
                codes = {"FAULT": "INTERNAL_ERROR", "TIMED_OUT": "BUILD_TIMED_OUT"}
                code = codes.get(status, "COMMAND_EXECUTION_ERROR")
                message = (
                    f"Error while executing command: docker buildx build (emulated: {reason}). "
                    "Reason: exit status 1"
                )
                done.append(phase("BUILD", status, (code, message)))
                lines += [f"[Container] {reason}", f"[Container] Phase complete: BUILD State: {status}"]
        done += [phase("UPLOAD_ARTIFACTS", "SUCCEEDED"), phase("FINALIZING", "SUCCEEDED"), phase("COMPLETED")]
        build.update(
            phases=done,
            currentPhase="COMPLETED",
            buildStatus=status,
            buildComplete=True,
            endTime=iso_8601_datetime_with_milliseconds(),
        )
        write_log(plan, build, lines)

    def batch_get_builds(self, ids):
        found = []
        with lock:
            for history in self.build_metadata_history.values():
                for build in history:
                    if build["id"] in ids:
                        if not build.get("buildComplete"):
                            plan = plans.get(build["id"]) or {}
                            if plan.get("result") == "RUNNING":
                                build.update(
                                    phases=[phase(k, "SUCCEEDED") for k in ("SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD")]
                                    + [phase("BUILD")],
                                    currentPhase="BUILD",
                                    buildStatus="IN_PROGRESS",
                                )
                            else:
                                complete(build)
                        found.append(build)
        return found

    def stop_build(self, build_id):
        with lock:
            for history in self.build_metadata_history.values():
                for build in history:
                    if build["id"] == build_id:
                        if not build.get("buildComplete"):
                            build.update(
                                phases=[
                                    phase("SUBMITTED", "SUCCEEDED"),
                                    phase("QUEUED", "STOPPED"),
                                    phase("FINALIZING", "SUCCEEDED"),
                                    phase("COMPLETED"),
                                ],
                                currentPhase="COMPLETED",
                                buildStatus="STOPPED",
                                buildComplete=True,
                                endTime=iso_8601_datetime_with_milliseconds(),
                            )
                        return build
        return None

    orig_start_build = CodeBuildResponse.start_build
    CodeBuildResponse.start_build = start_build
    CodeBuildBackend.batch_get_builds = batch_get_builds
    CodeBuildBackend.stop_build = stop_build
    applied.append("codebuild.emulated_builds")


# Settings of patch 18 (read once, at server start).
ROLLOUT_ENV = "MOTO_ECS_ROLLOUT_SECONDS"
DRAIN_ENV = "MOTO_ECS_DRAIN_SECONDS"
SEED_ENV = "MOTO_ECS_ROLLOUT_SEED"
TIMELINE_PATH = "/moto-api/defang/ecs-timeline"

# Every rollout and drain patch 18 scheduled, in order: what GET TIMELINE_PATH returns.
_timeline = []
_timeline_lock = threading.Lock()


def seconds_range(name):
    """(min, max) seconds from `N` or `MIN-MAX` in the environment variable, or None if unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    low, _, high = value.partition("-")
    try:
        lo = float(low)
        hi = float(high) if high else lo
    except ValueError:
        lo = hi = -1.0
    if not (0 <= lo <= hi) or hi != hi or hi == float("inf"):
        raise SystemExit(f"{name}={value!r}: expected SECONDS or MIN-MAX (0 <= MIN <= MAX), e.g. 3-30")
    return lo, hi


def ecs_timeline():
    with _timeline_lock:
        return [dict(e) for e in _timeline]


def _patch_ecs_timing(applied):
    """-- emulator gap, test setup only: (18) ECS rollouts and drains that take time.

    moto settles an ECS service at once: CreateService returns a deployment already
    COMPLETED (with MOTO_ECS_SERVICE_RUNNING >= desired), an UpdateService never starts a new
    deployment (a new task definition keeps the old deployment and its id; forceNewDeployment
    only renews the id) and DeleteService makes the service INACTIVE at once. So nothing can
    measure how soon a wait notices a rollout's end or a drain's. With MOTO_ECS_ROLLOUT_SECONDS
    and/or MOTO_ECS_DRAIN_SECONDS set (`N` or `MIN-MAX` seconds, floats allowed) at server start:

    - each new deployment (CreateService; an UpdateService with forceNewDeployment or another
      task definition, which then gets a new deployment id and its taskDefinition) gets a delay
      drawn uniformly from the rollout range by a seeded RNG (MOTO_ECS_ROLLOUT_SEED, default 1;
      draws in the order of the calls). Until createdAt + delay the PRIMARY deployment is
      IN_PROGRESS with runningCount 0 and pendingCount = desired, and so is the service; from
      then on it is COMPLETED with runningCount = desiredCount, pendingCount 0, as AWS reports;
    - DeleteService (after moto's own checks) leaves the service DRAINING, with the running
      count it had, for a delay drawn from the drain range (its own stream of the same seed);
      then it is INACTIVE with runningCount 0 (moto's INACTIVE keeps the old count);
    - each such moment is computed once, when the deployment or the delete happens, and listed
      by GET /moto-api/defang/ecs-timeline: JSON [{account, region, cluster, service,
      deployment_id, kind: "rollout"|"drain", started_at, completes_at}], epoch seconds (this
      machine's clock). The states change when an ECS call (DescribeServices, UpdateService,
      DeleteService) looks at the service at or after completes_at.

    With neither variable set nothing is wrapped and moto behaves exactly as before (the
    endpoint then lists nothing). The old PRIMARY deployment of an update is not kept as an
    ACTIVE one while the new one rolls out (moto has a single deployment per service).
    """
    import datetime
    import inspect
    import random

    from moto.ecs.models import EC2ContainerServiceBackend, Service
    from moto.moto_api._internal import mock_random

    # What the wrappers assume moto still does; re-check on upgrade.
    assert 'service.status = "INACTIVE"' in inspect.getsource(EC2ContainerServiceBackend.delete_service), (
        "moto's ECS delete_service changed; re-check patch 18"
    )
    assert '"rolloutState": rollout_state' in inspect.getsource(Service.__init__), (
        "moto's ECS deployments changed; re-check patch 18"
    )
    assert not hasattr(Service, "_defang_timing"), "re-check patch 18"

    rollout = seconds_range(ROLLOUT_ENV)
    drain = seconds_range(DRAIN_ENV)
    if rollout is None and drain is None:
        return
    seed = os.environ.get(SEED_ENV, "1").strip() or "1"
    rngs = {"rollout": random.Random(f"rollout:{seed}"), "drain": random.Random(f"drain:{seed}")}
    ranges = {"rollout": rollout, "drain": drain}
    lock = threading.RLock()

    def as_datetime(epoch):  # moto's naive UTC datetimes
        return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)

    def timing(service):
        if not hasattr(service, "_defang_timing"):
            service._defang_timing = {"rollout": None, "drain": None}  # kind -> [entry, done]
        return service._defang_timing

    def schedule(backend, service, kind, deployment_id):
        lo, hi = ranges[kind]
        now = time.time()
        entry = {
            "account": backend.account_id,
            "region": backend.region_name,
            "cluster": service.cluster_name,
            "service": service.name,
            "deployment_id": deployment_id,
            "kind": kind,
            "started_at": now,
            "completes_at": now + rngs[kind].uniform(lo, hi),
        }
        with _timeline_lock:
            _timeline.append(entry)
        timing(service)[kind] = [entry, False]
        return entry

    def primary(service):
        return next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)

    def set_counts(backend, service, running, pending):
        """The service's counts, keeping moto's cluster task counters in step while ACTIVE."""
        cluster = backend.clusters.get(service.cluster_name)
        if cluster is not None and service.status == "ACTIVE":
            backend.update_cluster_resources(cluster, running - service.running_count, task_state="RUNNING")
            backend.update_cluster_resources(cluster, pending - service.pending_count, task_state="PENDING")
        service.running_count = running
        service.pending_count = pending

    def show_in_progress(backend, service):
        d = primary(service)
        if d is not None:
            d.update(
                rolloutState="IN_PROGRESS",
                rolloutStateReason=f"ECS deployment {d['id']} in progress.",
                desiredCount=service.desired_count,
                runningCount=0,
                pendingCount=service.desired_count,
            )
        set_counts(backend, service, 0, service.desired_count)

    def start_rollout(backend, service):
        d = primary(service)
        if rollout is None or d is None:
            return
        entry = schedule(backend, service, "rollout", d["id"])
        d["createdAt"] = d["updatedAt"] = as_datetime(entry["started_at"])
        show_in_progress(backend, service)
        advance(backend, service)  # a zero delay completes at once

    def advance(backend, service):
        """Applies the rollout's and the drain's end once their moment has come."""
        now = time.time()
        t = timing(service)
        if t["rollout"] and not t["rollout"][1]:
            entry = t["rollout"][0]
            d = primary(service)
            if d is None or d["id"] != entry["deployment_id"] or service.status != "ACTIVE":
                t["rollout"][1] = True  # superseded or deleted: never completes
            elif now >= entry["completes_at"]:
                d.update(
                    rolloutState="COMPLETED",
                    rolloutStateReason=f"ECS deployment {d['id']} completed.",
                    desiredCount=service.desired_count,
                    runningCount=service.desired_count,
                    pendingCount=0,
                    updatedAt=as_datetime(entry["completes_at"]),
                )
                set_counts(backend, service, service.desired_count, 0)
                t["rollout"][1] = True
        if t["drain"] and not t["drain"][1] and now >= t["drain"][0]["completes_at"]:
            service.status = "INACTIVE"
            service.running_count = 0
            service.pending_count = 0
            t["drain"][1] = True

    def in_progress(service):
        r = timing(service)["rollout"]
        return r is not None and not r[1]

    def task_definition_arn(backend, name_or_arn):
        try:
            return backend.describe_task_definition(name_or_arn).arn
        except Exception:
            return name_or_arn

    orig_create = EC2ContainerServiceBackend.create_service
    orig_update = EC2ContainerServiceBackend.update_service
    orig_delete = EC2ContainerServiceBackend.delete_service
    orig_describe = EC2ContainerServiceBackend.describe_services

    def create_service(self, *args, **kwargs):
        with lock:
            service = orig_create(self, *args, **kwargs)
            service._defang_timing = {"rollout": None, "drain": None}  # a re-created name starts afresh
            start_rollout(self, service)
            return service

    def update_service(self, service_properties):
        with lock:
            try:
                service = self._get_service(
                    service_properties.get("cluster", "default"), service_properties["service"].split("/")[-1]
                )
            except Exception:
                service = None
            if service is None:
                return orig_update(self, service_properties)  # moto's own error
            advance(self, service)
            old_td = task_definition_arn(self, service.task_definition) if service.task_definition else None
            new_td = service_properties.get("task_definition")
            new_td = task_definition_arn(self, new_td) if new_td else None
            force = bool(service_properties.get("force_new_deployment"))
            service = orig_update(self, service_properties)
            d = primary(service)
            if rollout is not None and d is not None and (force or (new_td and new_td != old_td)):
                if not force:  # moto renews the id only when forced
                    d["id"] = f"ecs-svc/{mock_random.randint(0, 32**12)}"
                if new_td:
                    d["taskDefinition"] = new_td
                start_rollout(self, service)
            elif in_progress(service):
                show_in_progress(self, service)  # a new desired count while rolling out
            return service

    def delete_service(self, cluster_name, service_name, force):
        with lock:
            service = self._get_service(cluster_name, service_name)
            advance(self, service)
            status = service.status
            drain_pending = timing(service)["drain"] is not None and not timing(service)["drain"][1]
            service = orig_delete(self, cluster_name, service_name, force)
            if drain is not None and (status == "ACTIVE" or drain_pending):
                service.status = "DRAINING"
                if status == "ACTIVE":
                    d = primary(service)
                    schedule(self, service, "drain", d["id"] if d else None)
                advance(self, service)  # a zero delay drains at once
            return service

    def describe_services(self, cluster_str, service_names_or_arns):
        with lock:
            services, failures = orig_describe(self, cluster_str, service_names_or_arns)
            for service in services:
                advance(self, service)
            return services, failures

    EC2ContainerServiceBackend.create_service = create_service
    EC2ContainerServiceBackend.update_service = update_service
    EC2ContainerServiceBackend.delete_service = delete_service
    EC2ContainerServiceBackend.describe_services = describe_services
    applied.append("ecs.rollout_and_drain_timing")


def with_defang_api(app):
    """Our own endpoints in front of moto's app (patch 18): GET TIMELINE_PATH; POST
    /moto-api/reset also forgets the timeline."""

    def wsgi(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == TIMELINE_PATH:
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                start_response("405 Method Not Allowed", [("Allow", "GET"), ("Content-Length", "0")])
                return [b""]
            import json

            body = json.dumps(ecs_timeline()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body] if environ.get("REQUEST_METHOD") == "GET" else [b""]
        if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            with _timeline_lock:
                _timeline.clear()
        return app(environ, start_response)

    return wsgi


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port to bind on 127.0.0.1 (0 = pick a free one)")
    parser.add_argument("--port-file", help="write the bound port to this file")
    args = parser.parse_args()

    applied = apply_patches()

    # Same wiring as moto.server.ThreadedMotoServer, but the socket is bound here in the
    # main thread, so a busy port ends this process (exit 1) instead of hanging.
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = with_defang_api(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    host, port = server.server_address[:2]
    # Some moto responses embed the server's own URL; tell moto the real port.
    os.environ["MOTO_PORT"] = str(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    if args.port_file:
        tmp = f"{args.port_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)

    import moto

    print(
        f"moto {moto.__version__} listening on http://{host}:{port} pid={os.getpid()} "
        f"patches={','.join(applied)} "
        f"MOTO_ECS_SERVICE_RUNNING={os.environ.get('MOTO_ECS_SERVICE_RUNNING', '<unset>')} "
        f"MOTO_CODEBUILD_RESULT={os.environ.get('MOTO_CODEBUILD_RESULT', '<unset>')}"
        + "".join(
            f" {name}={os.environ[name]}" for name in (ROLLOUT_ENV, DRAIN_ENV, SEED_ENV) if os.environ.get(name)
        ),
        flush=True,
    )

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # A background job of a non-interactive shell ignores SIGINT; keep it that way,
    # so Ctrl-C in the terminal that started us does not stop the shared server.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    thread.join()
    if args.port_file:
        try:
            os.remove(args.port_file)
        except FileNotFoundError:
            pass
    print("moto stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
