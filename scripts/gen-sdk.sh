#!/usr/bin/env bash
# gen-sdk.sh (`make sdk`): writes the TypeScript/JavaScript, Python and Go SDKs in sdk/ from
# schema.json, with Pulumi's code generators at the version the pinned CLI is built from (the
# program is scripts/pulumi-cli/gen-sdk, in the CLI's wrapper module, so both use one go.sum).
#
#   scripts/gen-sdk.sh              regenerate sdk/nodejs, sdk/python and sdk/go
#   scripts/gen-sdk.sh --out DIR    write DIR/nodejs, DIR/python and DIR/go instead
#   scripts/gen-sdk.sh --bin        only build the generator; print its path (last line)
#
# The generator binary is cached under ${DEFANG_CACHE_DIR:-.cache}/gen-sdk/<hash of its source
# and the module files>/, and built with the Go caches of scripts/install-pulumi.sh (after the
# CLI is built, the code generators are already compiled there).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
module=$repo/scripts/pulumi-cli
cache_root=${DEFANG_CACHE_DIR:-$repo/.cache}
GO=${GO:-go}

out=$repo/sdk
only_build=0
case "${1:-}" in
	"") ;;
	--out) out=${2:?--out needs a directory} ;;
	--bin) only_build=1 ;;
	*) echo "usage: $0 [--out DIR | --bin]" >&2; exit 2 ;;
esac

hash=$(cat "$module/go.mod" "$module/go.sum" "$module"/gen-sdk/*.go | sha256sum | cut -c1-16)
bin=$cache_root/gen-sdk/$hash/gen-sdk
if [[ ! -x $bin ]]; then
	start=$SECONDS
	mkdir -p "$(dirname "$bin")"
	(
		cd "$module"
		export GOPATH=$cache_root/go/path GOMODCACHE=$cache_root/go/mod GOCACHE=$cache_root/go/build
		export GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0
		"$GO" build -mod=readonly -trimpath -o "$bin.tmp" ./gen-sdk
	)
	mv -f "$bin.tmp" "$bin"
	echo "gen-sdk.sh: built the generator in $((SECONDS - start)) s" >&2
fi
if [[ $only_build == 1 ]]; then
	printf '%s\n' "$bin"
	exit 0
fi
"$bin" -schema "$repo/schema.json" -out "$out"
