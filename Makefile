# The two commands of the README, and a few helpers. Everything is installed by the scripts.
.PHONY: demo test build lint schema sdk

# The main job: a real `pulumi up` of an example against the local AWS emulator.
demo:
	bash scripts/demo.sh

# The same for a Compose file: examples/compose-app, one defang:index:Compose.
.PHONY: demo-compose
demo-compose:
	bash scripts/demo.sh --example compose-app

# Every check and test (installs moto and the pulumi CLI on first use).
test:
	bash scripts/test.sh

build:
	cargo build -p pulumi-resource-defang

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# schema.json, generated from the Rust types and their doc comments (commit the result; a test
# fails when it and the types disagree). Then `make sdk`.
schema:
	cargo run -q -p defang-resources --bin write-schema

# The TypeScript, Python and Go SDKs in sdk/, generated from schema.json (commit the result; the
# drift test fails when sdk/ and schema.json disagree).
sdk:
	bash scripts/gen-sdk.sh

# The fault-injection suite, full profile: 20 services through a proxy that throttles, fails and
# loses responses, the provider killed mid-create, Ctrl-C during a rollout; prints the figures.
.PHONY: faults
faults:
	bash scripts/faults.sh

# Upgrading from 0.1: deploy with the 0.1 provider (built from git), update with this one,
# check that nothing is renamed or recreated and destroy leaves nothing.
.PHONY: upgrade-check
upgrade-check:
	bash scripts/upgrade-check.sh

# The benchmark: cold start and RSS, Check reply sizes, criterion benches of the hot paths,
# preview/up/no-op/refresh/destroy of 10, 100 and 1,000 services on moto (provider CPU, RSS,
# AWS calls per service), detection latency of rollouts and drains, destroy with slow drains.
# Prints tables; not a test (about 20 minutes on 2 cores; BENCH_SERVICES=10,100 is quicker).
.PHONY: bench
bench:
	bash scripts/bench.sh
