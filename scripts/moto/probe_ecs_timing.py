#!/usr/bin/env python3
"""Probe: ECS rollouts and drains that take time (patch 18 in server.py) on moto.

Test setup only. Starts its own server.py processes (each on a free port) and checks:

  1. without MOTO_ECS_ROLLOUT_SECONDS / MOTO_ECS_DRAIN_SECONDS, moto is as before: patch 18 is
     not applied, a service (MOTO_ECS_SERVICE_RUNNING=1) is COMPLETED at once, DeleteService
     makes it INACTIVE at once, and GET /moto-api/defang/ecs-timeline is [];
  2. with MOTO_ECS_ROLLOUT_SECONDS=1-2 and MOTO_ECS_DRAIN_SECONDS=1-2: each CreateService is
     IN_PROGRESS with no task running until the completes_at the timeline lists (drawn once, in
     the range), then COMPLETED with runningCount = desiredCount; forceNewDeployment and a new
     task definition start a new deployment (new id) with its own timeline entry; a desired
     count changed while rolling out keeps it rolling out; DeleteService leaves the service
     DRAINING until its drain's completes_at, then INACTIVE with runningCount 0;
     POST /moto-api/reset empties the timeline;
  3. the same seed gives the same delays in a new server; another seed gives others;
  4. a bad range makes the server exit at start with a message naming the variable.

Usage:

    .cache/moto-venv/bin/python scripts/moto/probe_ecs_timing.py

Exits 0 when every check passed, 1 otherwise.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
TIMING_VARS = ("MOTO_ECS_ROLLOUT_SECONDS", "MOTO_ECS_DRAIN_SECONDS", "MOTO_ECS_ROLLOUT_SEED")
# Timing slack of a check made right before or after a completes_at (request round trips).
SLACK = 0.25


class Server:
    def __init__(self, env):
        self.dir = tempfile.mkdtemp(prefix="probe-ecs-timing-")
        port_file = os.path.join(self.dir, "moto.port")
        self.log_path = os.path.join(self.dir, "moto.log")
        full_env = {k: v for k, v in os.environ.items() if k not in TIMING_VARS + ("MOTO_ECS_SERVICE_RUNNING",)}
        full_env.update(env)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-u", os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file],
                stdout=log, stderr=subprocess.STDOUT, env=full_env,
            )
        deadline = time.time() + 30
        self.endpoint = None
        while time.time() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    self.endpoint = f"http://127.0.0.1:{f.read().strip()}"
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.endpoint is not None:
            self.ecs = boto3.client(
                "ecs", endpoint_url=self.endpoint, region_name=REGION,
                aws_access_key_id="test", aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 1}),
            )

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def timeline(self):
        with urllib.request.urlopen(self.endpoint + "/moto-api/defang/ecs-timeline", timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Probe:
    def __init__(self):
        self.failures = []
        self.checks = 0

    def check(self, ok, what, detail=None):
        self.checks += 1
        if ok:
            print(f"  ok    {what}")
        else:
            msg = what + (f": {detail}" if detail is not None else "")
            print(f"  FAIL  {msg}")
            self.failures.append(msg)
        return ok


def setup(ecs, cluster="probe"):
    ecs.create_cluster(clusterName=cluster)
    arns = []
    for image in ("nginx:1", "nginx:2"):
        td = ecs.register_task_definition(
            family="probe", containerDefinitions=[{"name": "web", "image": image, "memory": 128}]
        )
        arns.append(td["taskDefinition"]["taskDefinitionArn"])
    return cluster, arns


def describe(ecs, cluster, name):
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def primary(svc):
    return next(d for d in svc["deployments"] if d["status"] == "PRIMARY")


def entry_for(server, kind, name, deployment_id=None):
    found = [
        e for e in server.timeline()
        if e["kind"] == kind and e["service"] == name and (deployment_id is None or e["deployment_id"] == deployment_id)
    ]
    return found[-1] if found else None


def sleep_until(t):
    time.sleep(max(0.0, t - time.time()))


def step_unset(p):
    print("== 1. timing variables unset: moto as before")
    s = Server({"MOTO_ECS_SERVICE_RUNNING": "1"})
    try:
        if not p.check(s.endpoint is not None, "server started", s.log()[-2000:]):
            return
        p.check("ecs.rollout_and_drain_timing" not in s.log(), "patch 18 not applied")
        cluster, tds = setup(s.ecs)
        s.ecs.create_service(cluster=cluster, serviceName="a", taskDefinition=tds[0], desiredCount=1)
        svc = describe(s.ecs, cluster, "a")
        d = primary(svc)
        p.check((d["rolloutState"], svc["runningCount"]) == ("COMPLETED", 1), "COMPLETED at once", (d["rolloutState"], svc["runningCount"]))
        s.ecs.update_service(cluster=cluster, service="a", taskDefinition=tds[1])
        p.check(primary(describe(s.ecs, cluster, "a"))["id"] == d["id"], "a new task definition keeps the deployment id (moto)")
        s.ecs.update_service(cluster=cluster, service="a", desiredCount=0)
        s.ecs.delete_service(cluster=cluster, service="a")
        p.check(describe(s.ecs, cluster, "a")["status"] == "INACTIVE", "INACTIVE at once after DeleteService")
        p.check(s.timeline() == [], "the timeline is empty")
    finally:
        s.stop()


def step_timed(p):
    print("== 2. MOTO_ECS_ROLLOUT_SECONDS=1-2 MOTO_ECS_DRAIN_SECONDS=1-2")
    s = Server({"MOTO_ECS_SERVICE_RUNNING": "1", "MOTO_ECS_ROLLOUT_SECONDS": "1-2", "MOTO_ECS_DRAIN_SECONDS": "1-2"})
    try:
        if not p.check(s.endpoint is not None, "server started", s.log()[-2000:]):
            return None
        p.check("ecs.rollout_and_drain_timing" in s.log(), "patch 18 applied")
        cluster, tds = setup(s.ecs)
        names = ["a", "b", "c"]
        created = {}
        for name in names:
            out = s.ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=tds[0], desiredCount=2)
            created[name] = out["service"]
        for name in names:
            d = primary(created[name])
            p.check(
                (d["rolloutState"], d["runningCount"], d["pendingCount"], created[name]["runningCount"], created[name]["pendingCount"])
                == ("IN_PROGRESS", 0, 2, 0, 2),
                f"{name}: CreateService answers IN_PROGRESS, 0 running, 2 pending",
                (d["rolloutState"], d["runningCount"], d["pendingCount"]),
            )
        entries = {name: entry_for(s, "rollout", name) for name in names}
        for name, e in entries.items():
            ok = e is not None and e["deployment_id"] == primary(created[name])["id"] and e["cluster"] == cluster
            p.check(ok, f"{name}: timeline lists the rollout of its deployment", e)
            if ok:
                delay = e["completes_at"] - e["started_at"]
                p.check(1 <= delay <= 2, f"{name}: delay {delay:.3f}s in 1-2")
                created_at = primary(created[name])["createdAt"].timestamp()
                p.check(abs(created_at - e["started_at"]) < 0.01, f"{name}: deployment createdAt = started_at")
        p.check(len({round(e["completes_at"] - e["started_at"], 6) for e in entries.values() if e}) == 3, "three different delays")

        # Desired count changed while rolling out: still rolling out, with the new count pending.
        s.ecs.update_service(cluster=cluster, service="c", desiredCount=3)
        svc = describe(s.ecs, cluster, "c")
        p.check(
            (primary(svc)["rolloutState"], svc["runningCount"], svc["pendingCount"]) == ("IN_PROGRESS", 0, 3),
            "c: desiredCount 3 during the rollout keeps it IN_PROGRESS (0 running, 3 pending)",
            (primary(svc)["rolloutState"], svc["runningCount"], svc["pendingCount"]),
        )
        entries["c"] = entry_for(s, "rollout", "c")

        for name in sorted(names, key=lambda n: entries[n]["completes_at"]):
            e = entries[name]
            sleep_until(e["completes_at"] - SLACK)
            before = describe(s.ecs, cluster, name)
            if time.time() < e["completes_at"]:
                p.check(primary(before)["rolloutState"] == "IN_PROGRESS" and before["runningCount"] == 0,
                        f"{name}: IN_PROGRESS just before completes_at")
            sleep_until(e["completes_at"])
            after = describe(s.ecs, cluster, name)
            d = primary(after)
            want = after["desiredCount"]
            p.check(
                (d["rolloutState"], d["runningCount"], d["pendingCount"], after["runningCount"], after["pendingCount"])
                == ("COMPLETED", want, 0, want, 0),
                f"{name}: COMPLETED at completes_at with runningCount = desiredCount ({want})",
                (d["rolloutState"], d["runningCount"], after["runningCount"]),
            )
            p.check(time.time() - e["completes_at"] < 1.0, f"{name}: seen {time.time() - e['completes_at']:.3f}s after completes_at")

        # New deployments by UpdateService.
        old = primary(describe(s.ecs, cluster, "a"))["id"]
        s.ecs.update_service(cluster=cluster, service="a", forceNewDeployment=True)
        svc = describe(s.ecs, cluster, "a")
        d = primary(svc)
        p.check(d["id"] != old and d["rolloutState"] == "IN_PROGRESS" and svc["runningCount"] == 0,
                "a: forceNewDeployment starts a new deployment, IN_PROGRESS", (d["id"], d["rolloutState"]))
        p.check(entry_for(s, "rollout", "a", d["id"]) is not None, "a: the new deployment is in the timeline")
        old = primary(describe(s.ecs, cluster, "b"))["id"]
        out = s.ecs.update_service(cluster=cluster, service="b", taskDefinition=tds[1])
        d = primary(out["service"])
        p.check(d["id"] != old and d["taskDefinition"] == tds[1] and d["rolloutState"] == "IN_PROGRESS",
                "b: a new task definition starts a new deployment (UpdateService answers it)", (d["id"], d["taskDefinition"]))
        out = s.ecs.update_service(cluster=cluster, service="c", desiredCount=3)
        p.check(primary(out["service"])["rolloutState"] == "COMPLETED", "c: the same settings again start nothing")
        e = entry_for(s, "rollout", "b", d["id"])
        sleep_until(e["completes_at"])
        p.check(primary(describe(s.ecs, cluster, "b"))["rolloutState"] == "COMPLETED", "b: the new deployment completes")

        # Drains.
        for name in names:
            s.ecs.update_service(cluster=cluster, service=name, desiredCount=0)
        s.ecs.update_service(cluster=cluster, service="c", desiredCount=3)  # c is deleted by force with 3 running
        sleep_until(entry_for(s, "rollout", "a")["completes_at"])
        deleted = {}
        for name in names:
            deleted[name] = s.ecs.delete_service(cluster=cluster, service=name, force=(name == "c"))["service"]
        for name in names:
            p.check(deleted[name]["status"] == "DRAINING", f"{name}: DeleteService answers DRAINING", deleted[name]["status"])
        p.check(deleted["c"]["runningCount"] == 3, "c: DRAINING with its running tasks", deleted["c"]["runningCount"])
        drains = {name: entry_for(s, "drain", name) for name in names}
        for name in names:
            e = drains[name]
            p.check(e is not None and 1 <= e["completes_at"] - e["started_at"] <= 2, f"{name}: timeline lists its drain (1-2 s)", e)
            if e is not None and time.time() < e["completes_at"] - SLACK:
                again = s.ecs.delete_service(cluster=cluster, service=name, force=True)["service"]
                p.check(again["status"] == "DRAINING" and len([x for x in s.timeline() if x["kind"] == "drain" and x["service"] == name]) == 1,
                        f"{name}: a second DeleteService while draining keeps the one drain")
        for name in sorted((n for n in names if drains[n]), key=lambda n: drains[n]["completes_at"]):
            e = drains[name]
            sleep_until(e["completes_at"] - SLACK)
            if time.time() < e["completes_at"]:
                p.check(describe(s.ecs, cluster, name)["status"] == "DRAINING", f"{name}: DRAINING just before completes_at")
            sleep_until(e["completes_at"])
            svc = describe(s.ecs, cluster, name)
            p.check((svc["status"], svc["runningCount"]) == ("INACTIVE", 0), f"{name}: INACTIVE with 0 running at completes_at",
                    (svc["status"], svc["runningCount"]))
        delays = [e["completes_at"] - e["started_at"] for e in s.timeline()]
        urllib.request.urlopen(urllib.request.Request(s.endpoint + "/moto-api/reset", method="POST"), timeout=5).read()
        p.check(s.timeline() == [], "POST /moto-api/reset empties the timeline")
        return delays
    finally:
        s.stop()


def delays_of(env, n=3):
    s = Server(env)
    try:
        cluster, tds = setup(s.ecs)
        for i in range(n):
            s.ecs.create_service(cluster=cluster, serviceName=f"s{i}", taskDefinition=tds[0], desiredCount=1)
        return [round(e["completes_at"] - e["started_at"], 6) for e in s.timeline()]
    finally:
        s.stop()


def step_seed(p):
    print("== 3. seeded delays")
    env = {"MOTO_ECS_ROLLOUT_SECONDS": "3-30"}
    first, again = delays_of(env), delays_of(env)
    p.check(first == again and len(first) == 3, "the same seed (default 1) gives the same delays", (first, again))
    other = delays_of({**env, "MOTO_ECS_ROLLOUT_SEED": "2"})
    p.check(other != first, "MOTO_ECS_ROLLOUT_SEED=2 gives others", other)
    p.check(all(3 <= d <= 30 for d in first + other), "all in 3-30", first + other)
    zero = delays_of({"MOTO_ECS_ROLLOUT_SECONDS": "0"}, 1)
    p.check(zero == [0.0], "MOTO_ECS_ROLLOUT_SECONDS=0: no delay", zero)


def step_bad(p):
    print("== 4. a bad range")
    for value in ("30-3", "abc", "-1"):
        s = Server({"MOTO_ECS_DRAIN_SECONDS": value})
        try:
            s.proc.wait(timeout=30)
            p.check(s.proc.returncode not in (0, None) and "MOTO_ECS_DRAIN_SECONDS" in s.log(),
                    f"MOTO_ECS_DRAIN_SECONDS={value!r}: the server exits with a message", s.log()[-300:])
        finally:
            s.stop()


def main():
    t0 = time.time()
    p = Probe()
    try:
        step_unset(p)
        step_timed(p)
        step_seed(p)
        step_bad(p)
    except Exception as e:  # an API error or an emulator 500
        p.check(False, f"unexpected error: {type(e).__name__}: {str(e)[:500]}")
    print(f"== total {time.time() - t0:.1f}s")
    if p.failures:
        print(f"probe_ecs_timing: {len(p.failures)} of {p.checks} checks FAILED")
        for f in p.failures:
            print(f"  - {f}")
        return 1
    print(f"probe_ecs_timing: all {p.checks} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
