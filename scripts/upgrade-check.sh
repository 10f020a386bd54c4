#!/usr/bin/env bash
# Upgrading from 0.1 (`make upgrade-check`): deploys examples/yaml-web-and-api as 0.1 had it,
# with the 0.1 provider built from git (commit 7bd26a0, cached in $DEFANG_CACHE_DIR), switches
# the program to this checkout's provider, and checks against moto that:
#   - a preview and an `up` without program changes change nothing;
#   - an update keeps 0.1's names (service stacks defang-shop-<service>, task families
#     shop-<service>: new revisions, no new stack or family) and moves the secret to /v1;
#   - destroy leaves no stack, no active revision, no parameter.
# Not part of `make test`: building 0.1 takes minutes the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
old_commit=7bd26a0
export DEFANG_CACHE_DIR="${DEFANG_CACHE_DIR:-$PWD/.cache}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }
fail() { echo "upgrade-check: FAILED: $*" >&2; exit 1; }

step "moto and the pulumi CLI"
scripts/moto/install.sh >/dev/null
PATH="$(scripts/install-pulumi.sh | tail -n 1):$PATH"
PY="$DEFANG_CACHE_DIR/moto-venv/bin/python"

step "the 0.1 provider ($old_commit)"
old_src="$DEFANG_CACHE_DIR/upgrade/src-$old_commit"
if [ ! -d "$old_src" ]; then
    mkdir -p "$old_src"
    git archive "$old_commit" | tar -x -C "$old_src"
fi
# A target directory of its own: the two workspaces have crates of the same names.
(cd "$old_src" && CARGO_TARGET_DIR="$DEFANG_CACHE_DIR/upgrade/target" cargo build -q -p pulumi-resource-defang)
old_bin="$DEFANG_CACHE_DIR/upgrade/target/debug/pulumi-resource-defang"

step "this provider"
cargo build -q -p pulumi-resource-defang
new_bin="${CARGO_TARGET_DIR:-$repo/target}/debug/pulumi-resource-defang"

export MOTO_ECS_SERVICE_RUNNING=1
eval "$(scripts/moto/moto.sh start --state-dir "$work/moto")"
trap 'scripts/moto/moto.sh stop --state-dir "$work/moto" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/project" "$work/home" "$work/backend" "$work/plugin"
export PULUMI_HOME="$work/home" PULUMI_BACKEND_URL="file://$work/backend" PULUMI_CONFIG_PASSPHRASE=upgrade
export PULUMI_SKIP_UPDATE_CHECK=1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
git show "$old_commit:examples/yaml-web-and-api/Pulumi.yaml" \
    | sed "s|path: ../../target/debug|path: $work/plugin|" >"$work/project/Pulumi.yaml"
cp "$old_bin" "$work/plugin/pulumi-resource-defang"
cd "$work/project"
pulumi stack init dev --non-interactive >/dev/null
pulumi config set defang:region us-east-1
pulumi config set defang:username alice
pulumi config set --secret apiToken upgrade-token-1

inventory() {
    "$PY" - <<'PY'
import boto3, json, os
kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
cfn, ecs, ssm = (boto3.client(s, **kw) for s in ("cloudformation", "ecs", "ssm"))
print(json.dumps({
    "stacks": sorted(s["StackName"] for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"),
    "revisions": sorted(a.split("/")[-1] for a in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]),
    "parameters": sorted(p["Name"] for p in ssm.describe_parameters()["Parameters"]),
}))
PY
}
expect() { # what, actual, expected
    [ "$2" = "$3" ] || fail "$1: got $2, expected $3"
    echo "ok: $1"
}

step "up with 0.1"
pulumi up --yes --skip-preview --non-interactive >"$work/up-old.log" 2>&1 || { tail -30 "$work/up-old.log"; fail "0.1's up"; }
inv="$(inventory)"; echo "$inv"
expect "0.1's names" "$inv" '{"stacks": ["defang-shop", "defang-shop-api", "defang-shop-web"], "revisions": ["shop-api:1", "shop-web:1"], "parameters": ["/defang/shop/api/API_TOKEN"]}'

step "switch to this provider: preview and up without changes"
cp "$new_bin" "$work/plugin/pulumi-resource-defang"
pulumi preview --non-interactive --json >"$work/preview.json"
changes="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("changeSummary"))' "$work/preview.json")"
expect "preview after the upgrade" "$changes" "{'same': 4}"
pulumi up --yes --skip-preview --non-interactive >/dev/null
expect "no-op up after the upgrade" "$(inventory)" "$inv"

step "update: a new variable on web, a new secret on api"
sed -i 's|      memory: 512Mi|      memory: 512Mi\n      environment:\n        GREETING: hello|' Pulumi.yaml
pulumi config set --secret apiToken upgrade-token-2
pulumi up --yes --skip-preview --non-interactive >"$work/up-new.log" 2>&1 || { tail -30 "$work/up-new.log"; fail "the update"; }
grep -q "replaced" "$work/up-new.log" && fail "the update replaced something"
inv="$(inventory)"; echo "$inv"
expect "0.1's names kept" "$inv" '{"stacks": ["defang-shop", "defang-shop-api", "defang-shop-web"], "revisions": ["shop-api:1", "shop-api:2", "shop-web:1", "shop-web:2"], "parameters": ["/defang/shop/api/API_TOKEN/v1"]}'

step "destroy"
pulumi destroy --yes --skip-preview --non-interactive >/dev/null
expect "nothing left" "$(inventory)" '{"stacks": [], "revisions": [], "parameters": []}'
echo "upgrade-check: passed"
