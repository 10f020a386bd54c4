#!/usr/bin/env bash
# demo.sh (`make demo`): deploys examples/yaml-web-and-api with the real `pulumi` CLI to a local
# AWS emulator (moto), prints the services' status, domain and endpoints, and what to try next.
# `make demo-compose` does the same for examples/compose-app (a Compose file).
#
# On a fresh machine it installs what it needs (the pinned moto emulator, the pinned pulumi CLI
# built from Go modules), builds the provider, and runs everything offline: a file backend and
# PULUMI_HOME under the demo's work dir, no update check, no plugin downloads.
#
#   scripts/demo.sh           deploy, print, then stop the emulator it started
#   scripts/demo.sh --keep    leave the emulator running, so that refresh/destroy can be tried
#   scripts/demo.sh --stop    stop an emulator left running by --keep
#   scripts/demo.sh --example compose-app [--keep | --stop]
#                             the Compose example instead (its own work dir, demo-compose-app)
#
# Environment:
#   DEFANG_CACHE_DIR   tools and the demo's work dir (<repo>/.cache by default); the demo lives in
#                      $DEFANG_CACHE_DIR/demo: project/ (a copy of the example), home/
#                      (PULUMI_HOME), backend/ (the stack state), moto/ (the emulator's pid/log)
#   DEFANG_PULUMI_BIN  a directory with your own `pulumi` (and `pulumi-language-yaml`) to use
#                      instead of building the pinned one
#   CARGO_TARGET_DIR   honoured when locating the provider build
#
# Re-running: the emulator keeps its resources in memory only, so a freshly started emulator is
# empty while the stack state from the previous run still lists the resources. When the demo
# starts the emulator itself, it therefore removes that stale stack state (`pulumi stack rm
# --force`) and deploys from scratch; this works whatever state the last run ended in (even
# one interrupted half-way). When the emulator is still running from `--keep`, the state is live
# and kept, and `pulumi up` just brings the stack up to date.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export DEFANG_CACHE_DIR="${DEFANG_CACHE_DIR:-$repo/.cache}"
mkdir -p "$DEFANG_CACHE_DIR"
DEFANG_CACHE_DIR=$(cd "$DEFANG_CACHE_DIR" && pwd)

example=yaml-web-and-api
if [[ ${1:-} == --example ]]; then
	example=${2:?--example needs the name of a folder in examples/}
	[[ -f examples/$example/Pulumi.yaml ]] || { echo "no examples/$example/Pulumi.yaml" >&2; exit 2; }
	shift 2
fi
stack=demo
work=$DEFANG_CACHE_DIR/demo
[[ $example == yaml-web-and-api ]] || work=$DEFANG_CACHE_DIR/demo-$example
moto_state=$work/moto
# Test values: the emulator accepts any credentials; the passphrase only protects this demo
# stack's secrets (the example's apiToken). Never use them for a real stack.
demo_passphrase=defang-demo-passphrase
demo_api_token=demo-token-not-a-real-secret

keep=0
case "${1:-}" in
	"") ;;
	--keep) keep=1 ;;
	--stop)
		scripts/moto/moto.sh stop --state-dir "$moto_state"
		exit 0
		;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: $0 [--example NAME] [--keep | --stop]" >&2
		exit 2
		;;
esac

started=$(date +%s)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() {
	printf 'demo: error: %s\n' "$*" >&2
	exit 1
}

command -v cargo >/dev/null || die "cargo is needed to build the provider (https://rustup.rs)"
command -v python3 >/dev/null || die "python3 is needed (for the emulator)"

# --- tools --------------------------------------------------------------------
step "Installing the AWS emulator (moto) and the pulumi CLI (cached after the first run)"
scripts/moto/install.sh >/dev/null
pulumi_bin=$(scripts/install-pulumi.sh | tail -n 1)
[[ -x $pulumi_bin/pulumi ]] || die "no pulumi in $pulumi_bin"

step "Building the provider (cargo build -p pulumi-resource-defang)"
cargo build -p pulumi-resource-defang
target_dir=$(cargo metadata --format-version 1 --no-deps |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
provider_dir=$target_dir/debug
[[ -x $provider_dir/pulumi-resource-defang ]] || die "no provider binary in $provider_dir"

# --- emulator -----------------------------------------------------------------
step "Starting the AWS emulator"
mkdir -p "$moto_state"
fresh_emulator=1
if scripts/moto/moto.sh status --state-dir "$moto_state" >/dev/null 2>&1; then
	fresh_emulator=0 # left running by `--keep`: its resources match the stack state
fi
stop_emulator() {
	if [[ $keep == 0 ]]; then
		"$repo/scripts/moto/moto.sh" stop --state-dir "$moto_state" >/dev/null 2>&1 || true
	fi
}
trap stop_emulator EXIT
# Rollouts complete in the emulator only when its running-task count equals the desired count;
# every service of the example runs 1 replica.
eval "$(MOTO_ECS_SERVICE_RUNNING=1 scripts/moto/moto.sh start --state-dir "$moto_state")"

# --- offline pulumi -----------------------------------------------------------
export PATH="$pulumi_bin:$PATH"
export PULUMI_HOME=$work/home
export PULUMI_BACKEND_URL=file://$work/backend
export PULUMI_CONFIG_PASSPHRASE=$demo_passphrase
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "$PULUMI_HOME" "$work/backend" "$work/project"

# A copy of the example, with the provider path made absolute (target dirs vary).
project=$work/project
# Everything (a Compose file, build contexts), then the program with the absolute path.
cp -R "examples/$example/." "$project/"
sed "s#path: ../../target/debug#path: $provider_dir#" "examples/$example/Pulumi.yaml" >"$project/Pulumi.yaml"
grep -q "path: $provider_dir\$" "$project/Pulumi.yaml" ||
	die "examples/$example/Pulumi.yaml no longer names the provider as 'path: ../../target/debug'"
cd "$project"

step "Stack '$stack' (state in $work/backend)"
if pulumi stack ls --json 2>/dev/null | grep -q "\"name\": *\"$stack\""; then
	if [[ $fresh_emulator == 1 ]]; then
		echo "The emulator was just started, so it is empty: removing the stale state of the last run."
		pulumi stack rm "$stack" --force --yes --non-interactive >/dev/null
		pulumi stack init "$stack" --secrets-provider passphrase --non-interactive
	else
		echo "The emulator from the last run (--keep) is still up: keeping its stack state."
		pulumi stack select "$stack" --non-interactive
	fi
else
	pulumi stack init "$stack" --secrets-provider passphrase --non-interactive
fi
pulumi config set defang:region us-east-1 --stack "$stack" --non-interactive
pulumi config set defang:username demo --stack "$stack" --non-interactive
# The example's secret config (apiToken, or apiKey for the Compose example).
secret_key=$(python3 -c 'import re,sys; t=open(sys.argv[1]).read(); m=re.search(r"^  (\w+):\n    type: string\n    secret: true", t, re.M); print(m.group(1) if m else "")' Pulumi.yaml)
if [[ -n $secret_key ]]; then
	pulumi config set "$secret_key" "$demo_api_token" --secret --stack "$stack" --non-interactive
fi

step "pulumi up"
pulumi up --yes --skip-preview=false --stack "$stack" --non-interactive

step "Deployed"
pulumi stack output --json --stack "$stack" --non-interactive | python3 -c '
import json, sys
out = json.load(sys.stdin)
def show(v):
    if isinstance(v, list):
        return ", ".join(show(x) for x in v) or "(none)"
    if isinstance(v, dict):
        return json.dumps(v, sort_keys=True)
    return "(none)" if v is None else str(v)
if isinstance(out.get("services"), dict):  # a Compose component: every service
    services = {name: {k.capitalize(): v for k, v in o.items()} for name, o in out["services"].items()}
else:
    services = {svc: {k: out[svc + k] for k in ("Status", "Domain", "Endpoints") if svc + k in out}
                for svc in ("web", "api")}
for svc, values in services.items():
    print("  " + svc)
    for label, key in (("status", "Status"), ("domain", "Domain"), ("endpoints", "Endpoints")):
        if key in values and values[key] is not None:
            print("    %-10s %s" % (label, show(values[key])))
        elif key == "Domain":
            print("    %-10s %s" % (label, "(none: a private service)"))
'

cat <<EOF

(Everything ran on the local AWS emulator: the domains are what Defang would serve on AWS; the
emulator does not run containers. The stack passphrase below and the example's apiToken are demo
values set by this script.)

Try next: paste this into a shell, then run the commands below.

  export PATH="$pulumi_bin:\$PATH"
  export PULUMI_HOME="$PULUMI_HOME"
  export PULUMI_BACKEND_URL="$PULUMI_BACKEND_URL"
  export PULUMI_CONFIG_PASSPHRASE=$demo_passphrase
  export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
  cd "$project"

  pulumi stack output                      # the outputs again (add --show-secrets, --json)
  pulumi stack export                      # the state; the apiToken is stored encrypted
  pulumi refresh --yes                     # compare the state with what runs
  pulumi destroy --yes                     # remove the project and its services
EOF
echo
echo "(The demo took $(($(date +%s) - started)) s.)"
if [[ $keep == 1 ]]; then
	cat <<EOF

The emulator keeps running (pid file in $moto_state); stop it with: scripts/demo.sh --stop
EOF
else
	cat <<EOF

The emulator is being stopped now, and it keeps its resources in memory only: 'stack output'
and 'stack export' work as they are, but refresh and destroy need it running. For those, run
'scripts/demo.sh --keep' (it leaves the emulator up; 'scripts/demo.sh --stop' stops it).
EOF
fi
