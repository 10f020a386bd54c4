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

import argparse
import os
import signal
import sys
import threading

# moto reads its settings from the environment; set them before importing it.
# Needed so IAM roles can attach AWS-managed policies such as
# arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
# MOTO_ECS_SERVICE_RUNNING is passed through unchanged when the caller sets it.


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

    return applied


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

    app = DomainDispatcherApplication(create_backend_app)
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
        f"MOTO_ECS_SERVICE_RUNNING={os.environ.get('MOTO_ECS_SERVICE_RUNNING', '<unset>')}",
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
