#!/usr/bin/env python3
"""Probe: the project stack (load balancer on) and a service's network stack on moto.

Test setup only. Checks that the CloudFormation resource types our templates use are
created, described through their own APIs, referenced, updated and deleted (patches 7-15
in cfn_patches.py, together with 1-6 in server.py):

  1. create the project stack -> CREATE_COMPLETE, every output resolved; certificate ISSUED
     with its DNS validation CNAME in the zone; zone, namespace (+ its private zone), DHCP
     options, CodeBuild project (and a build on it that pushes to ECR), load balancer,
     listeners, bucket settings, IAM policy ARNs as AWS would have them;
  1b. update it: tags, description, timeout, attributes, comment, lifecycle, retention change
     in place (same ids); new DHCP options replace the old ones and the VPC follows;
  2. create the service stack with the project's real ids -> target group, host-header rule,
     alias A record, security group rules, Cloud Map service;
  2b. update it in place: health check, target group attribute, Cloud Map TTL, SG tags;
  3. update the service stack without its ingress port -> target group, rule and record gone,
     the security group keeps its id and loses the port-80 rule;
  4. delete the service stack -> all of it gone;
  5. delete the project stack -> everything gone (only moto's defaults remain);
  6. create and delete the project stack once more (nothing left behind that conflicts).

Runs in a fresh moto account (x-moto-account-id), so it can share a server. Usage:

    .cache/moto-venv/bin/python scripts/moto/probe_ingress.py            # starts its own server.py
    .cache/moto-venv/bin/python scripts/moto/probe_ingress.py --endpoint http://127.0.0.1:PORT

Exits 0 when every check passed, 1 otherwise. Prints each check and the step timings.
"""

import argparse
import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
PROJECT_STACK = "defang-shop-probe"
SERVICE_STACK = "defang-shop-web-probe"
ZONE_NAME = "shop.alice.defang.app."
HOST = "web--80.shop.alice.defang.app."


class Failed(Exception):
    pass


class Probe:
    def __init__(self, endpoint, account):
        self.endpoint = endpoint
        self.account = account
        self.failures = []
        self.checks = 0
        self._clients = {}

    def c(self, service):
        if service not in self._clients:
            client = boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
            )

            def add_account(request, **kwargs):
                request.headers["x-moto-account-id"] = self.account

            client.meta.events.register("before-sign.*.*", add_account)
            self._clients[service] = client
        return self._clients[service]

    def check(self, ok, what, detail=None):
        self.checks += 1
        if ok:
            print(f"  ok    {what}")
        else:
            msg = f"{what}" + (f": {detail}" if detail is not None else "")
            print(f"  FAIL  {msg}")
            self.failures.append(msg)
        return ok

    def require(self, ok, what, detail=None):
        if not self.check(ok, what, detail):
            raise Failed(what)

    def error_code(self, fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except ClientError as e:
            return e.response["Error"]["Code"]
        return None

    # -- CloudFormation helpers
    def stack(self, name):
        return self.c("cloudformation").describe_stacks(StackName=name)["Stacks"][0]

    def outputs(self, name):
        return {o["OutputKey"]: o["OutputValue"] for o in self.stack(name).get("Outputs", [])}

    def last_event_reason(self, name):
        events = self.c("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
        return next((e.get("ResourceStatusReason") for e in events if e.get("ResourceStatusReason")), None)


def load(path):
    with open(path) as f:
        return json.load(f)


def substitute(value, mapping):
    """Replace the template's placeholder *values* (exact strings) with real ids."""
    if isinstance(value, dict):
        return {k: substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    return value


def without_ingress_port(template, port):
    """The service template as the provider renders it when the port is no longer ingress."""
    t = copy.deepcopy(template)
    for logical in (f"HostRule{port}", f"Record{port}", f"TargetGroup{port}"):
        t["Resources"].pop(logical)
    t["Outputs"].pop(f"TargetGroup{port}")
    sg = t["Resources"]["TaskSecurityGroup"]["Properties"]
    sg["SecurityGroupIngress"] = [r for r in sg["SecurityGroupIngress"] if r["FromPort"] != port]
    return t


def records(p, zone_id):
    out = []
    for page in p.c("route53").get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
        out += page["ResourceRecordSets"]
    return out


def ingress_rules(p, group_id):
    group = p.c("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    rules = []
    for perm in group["IpPermissions"]:
        for pair in perm.get("UserIdGroupPairs", []):
            rules.append((perm.get("FromPort"), perm.get("ToPort"), pair["GroupId"], pair.get("Description")))
        for r in perm.get("IpRanges", []):
            rules.append((perm.get("FromPort"), perm.get("ToPort"), r["CidrIp"], r.get("Description")))
    return sorted(rules, key=str)


# ---------------------------------------------------------------------------------------
def step_create_project(p, template):
    cfn = p.c("cloudformation")
    cfn.create_stack(StackName=PROJECT_STACK, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    st = p.stack(PROJECT_STACK)
    p.require(st["StackStatus"] == "CREATE_COMPLETE", "project stack CREATE_COMPLETE", st["StackStatus"])
    out = p.outputs(PROJECT_STACK)
    missing = sorted(set(template["Outputs"]) - set(out))
    p.check(not missing, f"all {len(template['Outputs'])} outputs present", missing)
    unresolved = {k: v for k, v in out.items() if not v or "{" in v or "Fn::" in v or "None" == v}
    p.check(not unresolved, "every output resolved (no empty/None/literal intrinsic)", unresolved)
    print("  outputs: " + ", ".join(f"{k}={out.get(k)}" for k in (
        "NameServers", "LoadBalancerDnsName", "LoadBalancerZoneId", "CertificateArn",
        "PrivateNamespaceId", "BuildProject", "ZoneId")))

    ns_list = out.get("NameServers", "").split(",")
    p.check(len(ns_list) >= 2 and all("." in n for n in ns_list), "NameServers: a comma list of name servers", out.get("NameServers"))

    # Route 53 zone: by name (trailing dot), comment, tags, its own NS set.
    r53 = p.c("route53")
    zone_id = out["ZoneId"]
    zones = r53.list_hosted_zones_by_name(DNSName=ZONE_NAME)["HostedZones"]
    zone = next((z for z in zones if z["Name"] == ZONE_NAME), None)
    p.require(zone is not None and zone["Id"].endswith("/" + zone_id), "zone found by name (trailing dot) with Ref = its id", zones)
    p.check(zone["Config"].get("Comment") == "Defang project shop: service domains", "zone comment from HostedZoneConfig", zone["Config"])
    got = r53.get_hosted_zone(Id=zone_id)
    p.check(sorted(got["DelegationSet"]["NameServers"]) == sorted(ns_list), "GetAtt NameServers = the zone's delegation set")
    tags = {t["Key"]: t["Value"] for t in r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"]["Tags"]}
    p.check(tags.get("defang:project") == "shop", "zone tags from HostedZoneTags", tags)

    # Certificate: ISSUED, validation record written into the zone.
    acm = p.c("acm")
    cert = acm.describe_certificate(CertificateArn=out["CertificateArn"])["Certificate"]
    p.check(cert["Status"] == "ISSUED", "certificate ISSUED", cert["Status"])
    p.check(set(cert["SubjectAlternativeNames"]) == {"*.shop.alice.defang.app", "shop.alice.defang.app"},
            "certificate names: *.zone and zone", cert["SubjectAlternativeNames"])
    cert_tags = {t["Key"]: t.get("Value") for t in acm.list_tags_for_certificate(CertificateArn=out["CertificateArn"])["Tags"]}
    p.check(cert_tags.get("defang:project") == "shop", "certificate tags", cert_tags)
    wanted = {(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"]) for o in cert["DomainValidationOptions"]}
    cnames = {(r["Name"], r["ResourceRecords"][0]["Value"]) for r in records(p, zone_id) if r["Type"] == "CNAME"}
    p.check(wanted and wanted <= cnames, "validation CNAME(s) from DescribeCertificate are in the zone", (wanted, cnames))
    p.check(all(n.startswith("_") and v.endswith(".acm-validations.aws.") for n, v in wanted),
            "validation record shape _<hash>.<domain> -> _<hash>....acm-validations.aws.", wanted)

    # Cloud Map namespace and its private zone.
    sd = p.c("servicediscovery")
    ns = sd.get_namespace(Id=out["PrivateNamespaceId"])["Namespace"]
    p.check(ns["Name"] == "shop.internal" and ns["Type"] == "DNS_PRIVATE", "namespace shop.internal, DNS_PRIVATE", ns)
    private_zone_id = ns["Properties"]["DnsProperties"]["HostedZoneId"]
    pz = r53.get_hosted_zone(Id=private_zone_id)
    p.check(pz["HostedZone"]["Name"] == "shop.internal." and pz["HostedZone"]["Config"]["PrivateZone"],
            "namespace's private zone is shop.internal.", pz["HostedZone"])
    p.check([v["VPCId"] for v in pz.get("VPCs", [])] == [out["VpcId"]], "private zone associated with the VPC", pz.get("VPCs"))

    # DHCP options associated with the VPC.
    ec2 = p.c("ec2")
    vpc = ec2.describe_vpcs(VpcIds=[out["VpcId"]])["Vpcs"][0]
    dopt_id = vpc["DhcpOptionsId"]
    p.check(dopt_id.startswith("dopt-"), "VPC uses the stack's DHCP options", dopt_id)
    dopt = ec2.describe_dhcp_options(DhcpOptionsIds=[dopt_id])["DhcpOptions"][0]
    conf = {c["Key"]: [v["Value"] for v in c["Values"]] for c in dopt["DhcpConfigurations"]}
    p.check(conf.get("domain-name") == ["shop.internal ec2.internal"] and conf.get("domain-name-servers") == ["AmazonProvidedDNS"],
            "DHCP options: domain-name and domain-name-servers", conf)
    dtags = {t["Key"]: t["Value"] for t in dopt.get("Tags", [])}
    p.check(dtags.get("Name") == "defang-shop" and dtags.get("aws:cloudformation:logical-id") == "DhcpOptions",
            "DHCP options tags (template + aws:cloudformation:*)", dtags)

    # CodeBuild project.
    cb = p.c("codebuild")
    projects = cb.batch_get_projects(names=[out["BuildProject"]])["projects"]
    p.require(len(projects) == 1, "CodeBuild project exists", out["BuildProject"])
    proj = projects[0]
    p.check(proj["source"]["type"] == "S3" and proj["source"]["location"] == f"{out['ContextBucket']}/contexts/none.tar.gz"
            and proj["source"].get("buildspec", "").startswith("version: 0.2"), "project source S3 + buildspec", proj["source"].get("location"))
    p.check(proj["environment"].get("privilegedMode") is True and proj["environment"].get("computeType") == "BUILD_GENERAL1_MEDIUM",
            "project environment (privileged, compute type)", proj["environment"])
    p.check(proj.get("logsConfig", {}).get("cloudWatchLogs", {}).get("groupName") == "/defang/shop", "project logsConfig group", proj.get("logsConfig"))
    p.check(proj["serviceRole"].endswith(":role/" + proj["serviceRole"].split("/")[-1]) and proj.get("timeoutInMinutes") == 60,
            "project service role ARN and timeout", (proj["serviceRole"], proj.get("timeoutInMinutes")))

    # A build on the CFN-made project still pushes (patch 6).
    s3 = p.c("s3")
    ecr = p.c("ecr")
    bucket = out["ContextBucket"]
    key = "contexts/probe.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=b"\x1f\x8b probe")
    repo_uri = ecr.create_repository(repositoryName="defang/shop/web")["repository"]["repositoryUri"]
    build = cb.start_build(
        projectName=out["BuildProject"],
        sourceLocationOverride=f"{bucket}/{key}",
        environmentVariablesOverride=[
            {"name": "IMAGE_REPO_URI", "value": repo_uri, "type": "PLAINTEXT"},
            {"name": "IMAGE_TAG", "value": "probe1", "type": "PLAINTEXT"},
        ],
    )["build"]
    done = cb.batch_get_builds(ids=[build["id"]])["builds"][0]
    p.check(done["buildStatus"] == "SUCCEEDED" and done["logs"]["groupName"] == "/defang/shop"
            and done["logs"]["streamName"].startswith("builds/"), "StartBuild on it: SUCCEEDED, logs in /defang/shop builds/…",
            (done["buildStatus"], done.get("logs", {}).get("streamName")))
    images = ecr.describe_images(repositoryName="defang/shop/web")["imageDetails"]
    p.check(any("probe1" in i.get("imageTags", []) and i["imageDigest"].startswith("sha256:") for i in images),
            "build pushed defang/shop/web:probe1 to ECR", images)
    # Clean up what is not the stack's (a non-empty bucket blocks DeleteStack, as on AWS).
    s3.delete_object(Bucket=bucket, Key=key)
    ecr.delete_repository(repositoryName="defang/shop/web", force=True)

    # Load balancer and listeners.
    elb = p.c("elbv2")
    lb = elb.describe_load_balancers(LoadBalancerArns=[out["LoadBalancerArn"]])["LoadBalancers"][0]
    p.check(lb["DNSName"] == out["LoadBalancerDnsName"] and lb["CanonicalHostedZoneId"] == out["LoadBalancerZoneId"],
            "GetAtt DNSName / CanonicalHostedZoneID = DescribeLoadBalancers", (lb["DNSName"], lb["CanonicalHostedZoneId"]))
    p.check(len(lb["AvailabilityZones"]) == 2 and lb["SecurityGroups"] == [out["LoadBalancerSecurityGroupId"]],
            "load balancer in the 2 subnets (Fn::Split) with its security group", (lb["AvailabilityZones"], lb["SecurityGroups"]))
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]}
    p.check(attrs.get("routing.http.drop_invalid_header_fields.enabled") == "true", "LoadBalancerAttributes applied", attrs)
    lbtags = {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]}
    p.check(lbtags.get("Name") == "defang-shop-lb", "load balancer tags", lbtags)
    listeners = {l["Port"]: l for l in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}
    https = listeners.get(443, {})
    p.check(https.get("ListenerArn") == out["HttpsListenerArn"] and https.get("Certificates", [{}])[0].get("CertificateArn") == out["CertificateArn"],
            "HTTPS listener uses the certificate", https.get("Certificates"))
    p.check(listeners.get(80, {}).get("DefaultActions", [{}])[0].get("Type") == "redirect", "HTTP listener redirects")

    # Bucket settings.
    p.check(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True, "bucket public access block")
    p.check(s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced",
            "bucket ownership controls")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    p.check(rules and rules[0]["ID"] == "expire-contexts" and rules[0]["Expiration"]["Days"] == 30, "bucket lifecycle rule", rules)
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    p.check(enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", "bucket encryption")

    # Fn::Sub with ${ContextBucket.Arn}, ${LogGroup.Arn} and pseudo parameters.
    iam = p.c("iam")
    role = next(r["PhysicalResourceId"] for r in p.c("cloudformation").list_stack_resources(StackName=PROJECT_STACK)["StackResourceSummaries"]
                if r["LogicalResourceId"] == "BuildRole")
    doc = iam.get_role_policy(RoleName=role, PolicyName="build")["PolicyDocument"]
    if isinstance(doc, str):  # moto returns the (URL-encoded) JSON text
        doc = json.loads(urllib.parse.unquote(doc))
    resources = {s["Sid"]: s["Resource"] for s in doc["Statement"]}
    p.check(resources["ReadContexts"] == f"arn:aws:s3:::{bucket}/contexts/*", "Fn::Sub ${ContextBucket.Arn}", resources["ReadContexts"])
    p.check(resources["WriteBuildLogs"] == f"arn:aws:logs:{REGION}:{p.account}:log-group:/defang/shop:*", "Fn::Sub ${LogGroup.Arn} (…:*)", resources["WriteBuildLogs"])
    p.check(resources["PushToProjectRepositories"] == f"arn:aws:ecr:{REGION}:{p.account}:repository/defang/shop/*",
            "Fn::Sub pseudo parameters", resources["PushToProjectRepositories"])
    return out


def step_create_service(p, template, out):
    mapping = {
        "vpc-1": out["VpcId"],
        "sg-members": out["SecurityGroupId"],
        "sg-lb": out["LoadBalancerSecurityGroupId"],
        "Z1": out["ZoneId"],
        "arn:listener": out["HttpsListenerArn"],
        "lb.example": out["LoadBalancerDnsName"],
        "Z2": out["LoadBalancerZoneId"],
        "ns-1": out["PrivateNamespaceId"],
    }
    t = substitute(template, mapping)
    p.c("cloudformation").create_stack(StackName=SERVICE_STACK, TemplateBody=json.dumps(t))
    st = p.stack(SERVICE_STACK)
    p.require(st["StackStatus"] == "CREATE_COMPLETE", "service stack CREATE_COMPLETE", st["StackStatus"])
    sout = p.outputs(SERVICE_STACK)
    p.check(set(sout) == set(template["Outputs"]) and all(v and "{" not in v for v in sout.values()), "service outputs resolved", sout)

    elb = p.c("elbv2")
    tg = elb.describe_target_groups(TargetGroupArns=[sout["TargetGroup80"]])["TargetGroups"][0]
    p.check((tg["Port"], tg["Protocol"], tg.get("ProtocolVersion"), tg["TargetType"], tg["VpcId"]) == (80, "HTTP", "HTTP1", "ip", out["VpcId"]),
            "target group port/protocol/ProtocolVersion/type/VPC", tg)
    p.check((tg["Matcher"].get("HttpCode"), tg["HealthCheckIntervalSeconds"], tg["HealthCheckTimeoutSeconds"], tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"]) == ("200-399", 15, 5, 2, 3),
            "target group health check and Matcher", tg)
    tga = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    p.check(tga.get("deregistration_delay.timeout_seconds") == "30", "TargetGroupAttributes applied", tga.get("deregistration_delay.timeout_seconds"))
    tgt = {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[tg["TargetGroupArn"]])["TagDescriptions"][0]["Tags"]}
    p.check(tgt.get("defang:service") == "web", "target group tags", tgt)

    rules = [r for r in elb.describe_rules(ListenerArn=out["HttpsListenerArn"])["Rules"] if not r["IsDefault"]]
    rule = rules[0] if len(rules) == 1 else {}
    hosts = [c.get("HostHeaderConfig", {}).get("Values") or c.get("Values") for c in rule.get("Conditions", [])]
    p.check(str(rule.get("Priority")) == "2748" and hosts == [["web--80.shop.alice.defang.app"]], "listener rule: host header, priority", rules)
    p.check(rule.get("Actions", [{}])[0].get("TargetGroupArn") == tg["TargetGroupArn"], "listener rule forwards to the target group")

    rec = [r for r in records(p, out["ZoneId"]) if r["Name"] == HOST]
    p.check(len(rec) == 1 and rec[0]["Type"] == "A" and rec[0].get("AliasTarget", {}).get("DNSName", "").rstrip(".") == out["LoadBalancerDnsName"]
            and rec[0]["AliasTarget"]["HostedZoneId"] == out["LoadBalancerZoneId"], "alias A record in the zone -> load balancer", rec)

    rules = ingress_rules(p, sout["SecurityGroupId"])
    want = sorted([(80, 80, out["LoadBalancerSecurityGroupId"], "port 80 from the load balancer"),
                   (9000, 9000, out["SecurityGroupId"], "port 9000 from the project's services")], key=str)
    p.check(rules == want, "security group: 80 from the LB SG, 9000 from the members SG (with descriptions)", rules)

    sd = p.c("servicediscovery")
    services = sd.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": [out["PrivateNamespaceId"]]}])["Services"]
    svc = next((s for s in services if s["Name"] == "web"), None)
    p.require(svc is not None, "Cloud Map service web listed", services)
    got = sd.get_service(Id=svc["Id"])["Service"]
    p.check(got["Arn"] == sout["RegistryArn"] and got["NamespaceId"] == out["PrivateNamespaceId"]
            and got["DnsConfig"]["DnsRecords"] == [{"TTL": 10, "Type": "A"}] and got["HealthCheckCustomConfig"] == {"FailureThreshold": 1},
            "Cloud Map service: GetAtt Arn, namespace, DnsConfig, HealthCheckCustomConfig", got)
    return t, sout, svc["Id"]


def step_update_project(p, template, out):
    """Trivial updates in place, plus one replacement (DHCP options) that CloudFormation
    propagates to the association."""
    t = copy.deepcopy(template)
    r = t["Resources"]
    r["Certificate"]["Properties"]["Tags"].append({"Key": "probe", "Value": "updated"})
    r["PrivateNamespace"]["Properties"]["Description"] = "updated by the probe"
    r["DhcpOptions"]["Properties"]["DomainName"] = "shop.internal"
    r["BuildProject"]["Properties"]["TimeoutInMinutes"] = 30
    r["LoadBalancer"]["Properties"]["LoadBalancerAttributes"].append({"Key": "idle_timeout.timeout_seconds", "Value": "120"})
    r["PublicZone"]["Properties"]["HostedZoneConfig"]["Comment"] = "updated by the probe"
    r["ContextBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] = 7
    r["LogGroup"]["Properties"]["RetentionInDays"] = 7
    ec2 = p.c("ec2")
    old_dopt = ec2.describe_vpcs(VpcIds=[out["VpcId"]])["Vpcs"][0]["DhcpOptionsId"]
    p.c("cloudformation").update_stack(StackName=PROJECT_STACK, TemplateBody=json.dumps(t), Capabilities=["CAPABILITY_IAM"])
    st = p.stack(PROJECT_STACK)
    p.require(st["StackStatus"] == "UPDATE_COMPLETE", "project stack UPDATE_COMPLETE", st["StackStatus"])
    new = p.outputs(PROJECT_STACK)
    same = [k for k in ("CertificateArn", "PrivateNamespaceId", "BuildProject", "LoadBalancerArn", "ZoneId", "ContextBucket", "VpcId") if new[k] != out[k]]
    p.check(not same, "certificate, namespace, project, load balancer, zone, bucket kept (in place)", same)
    acm = p.c("acm")
    tags = {x["Key"]: x.get("Value") for x in acm.list_tags_for_certificate(CertificateArn=out["CertificateArn"])["Tags"]}
    p.check(tags.get("probe") == "updated", "certificate tags updated", tags)
    p.check(p.c("servicediscovery").get_namespace(Id=out["PrivateNamespaceId"])["Namespace"].get("Description") == "updated by the probe",
            "namespace description updated")
    dopt = ec2.describe_vpcs(VpcIds=[out["VpcId"]])["Vpcs"][0]["DhcpOptionsId"]
    p.check(dopt != old_dopt and p.error_code(ec2.describe_dhcp_options, DhcpOptionsIds=[old_dopt]) == "InvalidDhcpOptionID.NotFound",
            "DHCP options replaced: VPC re-associated, old options deleted", (old_dopt, dopt))
    conf = {c["Key"]: [v["Value"] for v in c["Values"]] for c in ec2.describe_dhcp_options(DhcpOptionsIds=[dopt])["DhcpOptions"][0]["DhcpConfigurations"]}
    p.check(conf.get("domain-name") == ["shop.internal"], "new DHCP options' domain-name", conf)
    cb = p.c("codebuild")
    proj = cb.batch_get_projects(names=[out["BuildProject"]])["projects"][0]
    p.check(proj.get("timeoutInMinutes") == 30 and len(cb.list_builds_for_project(projectName=out["BuildProject"])["ids"]) == 1,
            "CodeBuild project updated in place (timeout 30, build history kept)", proj.get("timeoutInMinutes"))
    attrs = {a["Key"]: a["Value"] for a in p.c("elbv2").describe_load_balancer_attributes(LoadBalancerArn=out["LoadBalancerArn"])["Attributes"]}
    p.check(attrs.get("idle_timeout.timeout_seconds") == "120", "load balancer attribute updated", attrs)
    p.check(p.c("route53").get_hosted_zone(Id=out["ZoneId"])["HostedZone"]["Config"].get("Comment") == "updated by the probe", "zone comment updated")
    rules = p.c("s3").get_bucket_lifecycle_configuration(Bucket=out["ContextBucket"])["Rules"]
    p.check(rules[0]["Expiration"]["Days"] == 7, "bucket lifecycle updated", rules)
    groups = p.c("logs").describe_log_groups(logGroupNamePrefix="/defang/shop")["logGroups"]
    p.check(groups and groups[0].get("retentionInDays") == 7, "log group retention updated", groups)
    return new


def step_update_service_in_place(p, template, out, sout, service_id):
    t = copy.deepcopy(template)
    t["Resources"]["TargetGroup80"]["Properties"]["HealthCheckPath"] = "/healthz"
    t["Resources"]["TargetGroup80"]["Properties"]["TargetGroupAttributes"][0]["Value"] = "10"
    t["Resources"]["Registry"]["Properties"]["DnsConfig"]["DnsRecords"][0]["TTL"] = 20
    t["Resources"]["TaskSecurityGroup"]["Properties"]["Tags"].append({"Key": "probe", "Value": "updated"})
    p.c("cloudformation").update_stack(StackName=SERVICE_STACK, TemplateBody=json.dumps(t))
    p.require(p.stack(SERVICE_STACK)["StackStatus"] == "UPDATE_COMPLETE", "service stack UPDATE_COMPLETE (in-place changes)")
    new = p.outputs(SERVICE_STACK)
    p.check(new == sout, "target group, security group and Cloud Map service kept their ids", (sout, new))
    elb = p.c("elbv2")
    tg = elb.describe_target_groups(TargetGroupArns=[sout["TargetGroup80"]])["TargetGroups"][0]
    tga = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    p.check(tg["HealthCheckPath"] == "/healthz" and tga.get("deregistration_delay.timeout_seconds") == "10",
            "target group health check path and attribute updated", (tg["HealthCheckPath"], tga.get("deregistration_delay.timeout_seconds")))
    svc = p.c("servicediscovery").get_service(Id=service_id)["Service"]
    p.check(svc["DnsConfig"]["DnsRecords"] == [{"TTL": 20, "Type": "A"}], "Cloud Map DnsRecords TTL updated", svc["DnsConfig"])
    group = p.c("ec2").describe_security_groups(GroupIds=[sout["SecurityGroupId"]])["SecurityGroups"][0]
    tags = {x["Key"]: x["Value"] for x in group.get("Tags", [])}
    p.check(tags.get("probe") == "updated" and len(ingress_rules(p, sout["SecurityGroupId"])) == 2, "security group tags updated, rules kept", tags)


def step_update_service(p, template, out, sout, service_id):
    t = without_ingress_port(template, 80)
    p.c("cloudformation").update_stack(StackName=SERVICE_STACK, TemplateBody=json.dumps(t))
    st = p.stack(SERVICE_STACK)
    p.require(st["StackStatus"] == "UPDATE_COMPLETE", "service stack UPDATE_COMPLETE (ingress port 80 removed)", st["StackStatus"])
    elb = p.c("elbv2")
    p.check(p.error_code(elb.describe_target_groups, TargetGroupArns=[sout["TargetGroup80"]]) == "TargetGroupNotFound", "target group gone")
    rules = [r for r in elb.describe_rules(ListenerArn=out["HttpsListenerArn"])["Rules"] if not r["IsDefault"]]
    p.check(rules == [], "listener rule gone", rules)
    p.check(not [r for r in records(p, out["ZoneId"]) if r["Name"] == HOST], "alias record gone")
    new_out = p.outputs(SERVICE_STACK)
    p.check(new_out.get("SecurityGroupId") == sout["SecurityGroupId"], "security group updated in place (same id)", new_out.get("SecurityGroupId"))
    rules = ingress_rules(p, sout["SecurityGroupId"])
    p.check([r[0] for r in rules] == [9000], "security group: only the 9000 rule left", rules)
    p.check(p.c("servicediscovery").get_service(Id=service_id)["Service"]["Id"] == service_id, "Cloud Map service unchanged")


def step_delete_service(p, out, sout, service_id):
    cfn = p.c("cloudformation")
    stack_id = p.stack(SERVICE_STACK)["StackId"]
    cfn.delete_stack(StackName=SERVICE_STACK)
    p.require(p.stack(stack_id)["StackStatus"] == "DELETE_COMPLETE", "service stack DELETE_COMPLETE", p.last_event_reason(stack_id))
    p.check(p.error_code(p.c("ec2").describe_security_groups, GroupIds=[sout["SecurityGroupId"]]) == "InvalidGroup.NotFound", "service security group gone")
    p.check(p.error_code(p.c("servicediscovery").get_service, Id=service_id) == "ServiceNotFound", "Cloud Map service gone")
    p.check(p.c("elbv2").describe_target_groups()["TargetGroups"] == [], "no target groups")
    left = sorted({r["Type"] for r in records(p, out["ZoneId"])})
    p.check(left == ["CNAME", "NS", "SOA"], "zone holds only NS, SOA and the validation CNAME", left)


def inventory(p):
    """What the account holds, minus moto's defaults (default VPC and its parts)."""
    ec2, r53 = p.c("ec2"), p.c("route53")
    default_vpcs = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"]}
    inv = {
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] not in default_vpcs],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] not in default_vpcs],
        "security groups": [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["VpcId"] not in default_vpcs],
        "route tables": [r["RouteTableId"] for r in ec2.describe_route_tables()["RouteTables"] if r["VpcId"] not in default_vpcs],
        "internet gateways": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]],
        "dhcp options": [d["DhcpOptionsId"] for d in ec2.describe_dhcp_options()["DhcpOptions"]],
        "hosted zones": [z["Name"] for z in r53.list_hosted_zones()["HostedZones"]],
        "certificates": [c["CertificateArn"] for c in p.c("acm").list_certificates()["CertificateSummaryList"]],
        "load balancers": [lb["LoadBalancerName"] for lb in p.c("elbv2").describe_load_balancers()["LoadBalancers"]],
        "target groups": [t["TargetGroupName"] for t in p.c("elbv2").describe_target_groups()["TargetGroups"]],
        "namespaces": [n["Name"] for n in p.c("servicediscovery").list_namespaces()["Namespaces"]],
        "cloud map services": [s["Name"] for s in p.c("servicediscovery").list_services()["Services"]],
        "codebuild projects": p.c("codebuild").list_projects()["projects"],
        "buckets": [b["Name"] for b in p.c("s3").list_buckets()["Buckets"]],
        "ecs clusters": p.c("ecs").list_clusters()["clusterArns"],
        "log groups": [g["logGroupName"] for g in p.c("logs").describe_log_groups()["logGroups"]],
        "iam roles": [r["RoleName"] for r in p.c("iam").list_roles()["Roles"]],
    }
    return inv


def step_delete_project(p, out, label="project stack"):
    cfn = p.c("cloudformation")
    stack_id = p.stack(PROJECT_STACK)["StackId"]
    elb = p.c("elbv2")
    lb_arn = out["LoadBalancerArn"]
    cfn.delete_stack(StackName=PROJECT_STACK)
    status = p.stack(stack_id)["StackStatus"]
    p.require(status == "DELETE_COMPLETE", f"{label} DELETE_COMPLETE", (status, p.last_event_reason(stack_id)))
    p.check(p.error_code(cfn.describe_stacks, StackName=PROJECT_STACK) == "ValidationError", "DescribeStacks by name: does not exist")
    p.check(p.error_code(elb.describe_listeners, LoadBalancerArn=lb_arn) == "LoadBalancerNotFound", "listeners gone with the load balancer")
    p.check(p.error_code(p.c("acm").describe_certificate, CertificateArn=out["CertificateArn"]) == "ResourceNotFoundException", "certificate gone")
    p.check(p.error_code(p.c("servicediscovery").get_namespace, Id=out["PrivateNamespaceId"]) == "NamespaceNotFound", "namespace gone")
    inv = inventory(p)
    for kind, items in inv.items():
        p.check(items == [], f"no {kind} left", items)


def start_server(log_dir):
    port_file = os.path.join(log_dir, "moto.port")
    log = open(os.path.join(log_dir, "moto.log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-u", os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file],
        stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, f"http://127.0.0.1:{f.read().strip()}"
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    with open(os.path.join(log_dir, "moto.log")) as f:
        sys.stderr.write(f.read()[-3000:])
    raise SystemExit("probe: moto server did not start")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", help="a running server (default: start scripts/moto/server.py on a free port)")
    ap.add_argument("--account", help="moto account id to use (default: a fresh random one)")
    ap.add_argument("--project-template", default=os.path.join(HERE, "testdata", "project_lb_template.json"))
    ap.add_argument("--service-template", default=os.path.join(HERE, "testdata", "service_network_template.json"))
    args = ap.parse_args()

    project = load(args.project_template)
    service = load(args.service_template)
    proc = None
    tmp = None
    t0 = time.time()
    endpoint = args.endpoint
    if not endpoint:
        tmp = tempfile.mkdtemp(prefix="probe-ingress-")  # the server's log; kept when a check fails
        proc, endpoint = start_server(tmp)
    account = args.account or str(random.randint(10**11, 10**12 - 1))
    p = Probe(endpoint, account)
    print(f"probe_ingress: endpoint {endpoint}, account {account}" + (f" (server started in {time.time() - t0:.1f}s, log {tmp}/moto.log)" if proc else ""))
    timings = []

    def step(name, fn, *a):
        print(f"== {name}")
        s = time.time()
        try:
            return fn(*a)
        finally:
            timings.append((name, time.time() - s))

    try:
        out = step("1. create the project stack", step_create_project, p, project)
        out = step("1b. update the project stack in place (+ DHCP options replaced)", step_update_project, p, project, out)
        t, sout, service_id = step("2. create the service stack", step_create_service, p, service, out)
        step("2b. update the service stack in place", step_update_service_in_place, p, t, out, sout, service_id)
        step("3. update the service stack: ingress port 80 removed", step_update_service, p, t, out, sout, service_id)
        step("4. delete the service stack", step_delete_service, p, out, sout, service_id)
        step("5. delete the project stack", step_delete_project, p, out)
        out2 = step("6a. create the project stack again", lambda: (p.c("cloudformation").create_stack(
            StackName=PROJECT_STACK, TemplateBody=json.dumps(project), Capabilities=["CAPABILITY_IAM"]), p.outputs(PROJECT_STACK))[1])
        p.check(p.stack(PROJECT_STACK)["StackStatus"] == "CREATE_COMPLETE", "project stack CREATE_COMPLETE again")
        step("6b. delete it again", step_delete_project, p, out2, "project stack (again)")
    except Failed as e:
        print(f"  aborted after a failed prerequisite: {e}")
    except Exception as e:  # an API error or an emulator 500: report it, exit 1
        msg = f"unexpected error: {type(e).__name__}: {str(e)[:500]}"
        p.check(False, msg)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    print("== timings: " + ", ".join(f"{n.split('.')[0]} {s:.2f}s" for n, s in timings) + f"; total {time.time() - t0:.1f}s")
    if p.failures:
        print(f"probe_ingress: {len(p.failures)} of {p.checks} checks FAILED")
        for f in p.failures:
            print(f"  - {f}")
        if tmp:
            print(f"server log kept: {tmp}/moto.log")
        return 1
    print(f"probe_ingress: all {p.checks} checks passed")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
