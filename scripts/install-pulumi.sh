#!/usr/bin/env bash
# install-pulumi.sh - build a pinned `pulumi` CLI plus the `pulumi-language-yaml`
# language host from Go modules (only the Go module proxy is needed; no
# get.pulumi.com download), cached under <repo>/.cache/pulumi/<version>/bin/.
#
# Usage:
#   bin=$(scripts/install-pulumi.sh | tail -1)   # last stdout line = bin dir
#   PATH="$bin:$PATH" pulumi version
#
# The language host sits next to `pulumi`, where the CLI looks for bundled
# plugins, so the bin dir does not have to be on PATH.
#
# Versions:
#   - pulumi (pkg/v3 + sdk/v3): taken from scripts/pulumi-cli/go.mod, a wrapper
#     module (with committed go.sum) that copies the release's non-local
#     replace directives; `go install pulumi@version` refuses pulumi's modules.
#   - pulumi-yaml: PULUMI_YAML_VERSION below, built with `go install ...@ver`
#     (that module has no replace directives; its own go.sum pins its deps).
#
# Environment:
#   DEFANG_PULUMI_BIN   Directory that already contains a `pulumi` binary (and
#                       ideally `pulumi-language-yaml`). If set, nothing is
#                       built; the directory is checked and printed as is.
#   PULUMI_EXTRA_LANGS  Optional, space/comma separated subset of
#                       "go nodejs python": also build these language hosts.
#                       They have no tags, so pin them by the release commit's
#                       pseudo-version via PULUMI_LANG_PSEUDO_VERSION
#                       (e.g. v3.0.0-20261105124506-<12 hex of the commit>).
#   DEFANG_PULUMI_CLEAN_GO_CACHE=1
#                       Delete <repo>/.cache/go (module + build cache, ~3 GB)
#                       after a successful build, keeping only the binaries.
#   GO                  Go command to use (default: `go` on PATH, else
#                       /usr/local/go/bin/go). Needs Go >= the `go` line of
#                       scripts/pulumi-cli/go.mod, or GOTOOLCHAIN=auto.
#   GOPROXY/GOSUMDB/GOTOOLCHAIN are honoured as set by the caller.
#
# Caches (all under the git-ignored <repo>/.cache/):
#   .cache/pulumi/<version>/bin/  the binaries (+ .stamp-* files); reused when
#                                 the stamps match, so a second run is instant.
#   .cache/go/{mod,build,path}    GOMODCACHE / GOCACHE / GOPATH used for the
#                                 build. Only useful to speed up a rebuild with
#                                 different versions; CI only needs to cache
#                                 .cache/pulumi (key: hash of this script and
#                                 scripts/pulumi-cli/go.{mod,sum}).
set -euo pipefail

PULUMI_YAML_VERSION=v1.38.1

log() { printf 'install-pulumi: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
wrapper_dir=$repo_root/scripts/pulumi-cli

print_versions() { # $1 = bin dir; everything to stderr
	local dir=$1 host
	log "pulumi: $("$dir/pulumi" version)"
	for host in "$dir"/pulumi-language-*; do
		[[ -x $host ]] || continue
		# Language hosts have no --version flag; read the Go build info.
		local v
		v=$("$GO" version -m "$host" 2>/dev/null | awk '$1 == "mod" { print $3; exit }') || true
		[[ -n $v ]] || v=$(cat "$dir/.stamp-$(basename "$host")" 2>/dev/null || echo unknown)
		log "$(basename "$host"): $v"
	done
}

find_go() {
	if [[ -n ${GO:-} ]]; then
		:
	elif command -v go >/dev/null 2>&1; then
		GO=go
	elif [[ -x /usr/local/go/bin/go ]]; then
		GO=/usr/local/go/bin/go
	else
		GO=""
	fi
}

# --- bring-your-own CLI -------------------------------------------------------
if [[ -n ${DEFANG_PULUMI_BIN:-} ]]; then
	[[ -x $DEFANG_PULUMI_BIN/pulumi ]] ||
		die "DEFANG_PULUMI_BIN=$DEFANG_PULUMI_BIN does not contain an executable 'pulumi'"
	DEFANG_PULUMI_BIN=$(cd "$DEFANG_PULUMI_BIN" && pwd)
	[[ -x $DEFANG_PULUMI_BIN/pulumi-language-yaml ]] ||
		log "warning: no pulumi-language-yaml in $DEFANG_PULUMI_BIN (YAML programs need it)"
	find_go
	if [[ -n $GO ]]; then print_versions "$DEFANG_PULUMI_BIN"; else log "pulumi: $("$DEFANG_PULUMI_BIN/pulumi" version)"; fi
	printf '%s\n' "$DEFANG_PULUMI_BIN"
	exit 0
fi

# --- versions -----------------------------------------------------------------
mod_version() { # module path -> version required by the wrapper go.mod
	awk -v m="$1" '($1 == m && NF >= 2) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' \
		"$wrapper_dir/go.mod"
}
PULUMI_VERSION=$(mod_version github.com/pulumi/pulumi/pkg/v3)
sdk_version=$(mod_version github.com/pulumi/pulumi/sdk/v3)
[[ -n $PULUMI_VERSION ]] || die "cannot read pkg/v3 version from $wrapper_dir/go.mod"
[[ $PULUMI_VERSION == "$sdk_version" ]] ||
	die "scripts/pulumi-cli/go.mod: pkg/v3 $PULUMI_VERSION != sdk/v3 $sdk_version (must be one release)"

cache_root=${DEFANG_CACHE_DIR:-$repo_root/.cache}
bin_dir=$cache_root/pulumi/$PULUMI_VERSION/bin

# Stamps record what produced each binary; a matching stamp means "reuse".
wrapper_hash=$(cat "$wrapper_dir/go.mod" "$wrapper_dir/go.sum" | sha256sum | cut -c1-16)
pulumi_stamp="pulumi $PULUMI_VERSION wrapper=$wrapper_hash"
yaml_stamp="pulumi-yaml $PULUMI_YAML_VERSION"

extra_langs=$(printf '%s' "${PULUMI_EXTRA_LANGS:-}" | tr ',' ' ')
for lang in $extra_langs; do
	case $lang in go | nodejs | python) ;; *) die "unknown language in PULUMI_EXTRA_LANGS: $lang (supported: go nodejs python)" ;; esac
done

up_to_date() { # name expected-stamp
	[[ -x $bin_dir/$1 ]] && [[ "$(cat "$bin_dir/.stamp-$1" 2>/dev/null)" == "$2" ]]
}

all_up_to_date() {
	up_to_date pulumi "$pulumi_stamp" || return 1
	up_to_date pulumi-language-yaml "$yaml_stamp" || return 1
	local l
	for l in $extra_langs; do
		up_to_date "pulumi-language-$l" "$(extra_lang_stamp "$l")" || return 1
	done
}

# --- optional extra language hosts ---------------------------------------------
# pulumi/pulumi tags only pkg/ and sdk/, so the language-host modules can only be
# resolved by a pseudo-version of the release commit; they also carry replace
# directives, so they are built from a throw-away copy of the wrapper module.
# Note: the Go module proxy used in this project's sandbox did not serve these
# modules at all (403), so this path is untested there.
extra_lang_module() {
	case $1 in
	go) echo github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3 ;;
	nodejs) echo github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 ;;
	python) echo github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 ;;
	*) die "unknown language in PULUMI_EXTRA_LANGS: $1 (supported: go nodejs python)" ;;
	esac
}
extra_lang_stamp() { echo "$(extra_lang_module "$1") ${PULUMI_LANG_PSEUDO_VERSION:-unset} wrapper=$wrapper_hash"; }

build_extra_lang() { # lang outdir
	local lang=$1 out=$2 mod
	mod=$(extra_lang_module "$lang")
	[[ -n ${PULUMI_LANG_PSEUDO_VERSION:-} ]] ||
		die "PULUMI_EXTRA_LANGS needs PULUMI_LANG_PSEUDO_VERSION (pseudo-version of the $PULUMI_VERSION release commit)"
	local work=$cache_root/pulumi/$PULUMI_VERSION/lang-$lang
	rm -rf "$work" && mkdir -p "$work"
	cp "$wrapper_dir/go.mod" "$wrapper_dir/go.sum" "$work/"
	log "building pulumi-language-$lang ($mod@$PULUMI_LANG_PSEUDO_VERSION)"
	(
		cd "$work"
		"$GO" mod edit -module defang.local/pulumi-lang-"$lang"
		# Fail early and readably if the proxy does not have that version.
		"$GO" mod download "$mod@$PULUMI_LANG_PSEUDO_VERSION" ||
			die "cannot fetch $mod@$PULUMI_LANG_PSEUDO_VERSION from the Go module proxy"
		# May raise shared dependencies (MVS); that only affects this copy.
		"$GO" get "$mod@$PULUMI_LANG_PSEUDO_VERSION"
		"$GO" build -trimpath -tags osusergo,grpcnotrace \
			-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
			-o "$out/pulumi-language-$lang" "$mod"
	)
	# The python host also wants pulumi-language-python-exec (a script outside
	# that module) and the `pulumi` pip package; nodejs wants @pulumi/pulumi from
	# npm. Code generation (`pulumi package gen-sdk`) works without them.
}

# --- fast path ----------------------------------------------------------------
find_go
if all_up_to_date; then
	log "using cached $bin_dir"
	if [[ -n $GO ]]; then print_versions "$bin_dir"; else log "pulumi: $("$bin_dir/pulumi" version)"; fi
	printf '%s\n' "$bin_dir"
	exit 0
fi

# --- build --------------------------------------------------------------------
[[ -n $GO ]] || die "no Go toolchain found (set GO=/path/to/go)"
mkdir -p "$bin_dir"

# Serialise concurrent runs (several builds of the same tree in parallel).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache_root/pulumi/$PULUMI_VERSION/.lock"
	flock 9
	if all_up_to_date; then # someone else finished it while we waited
		print_versions "$bin_dir"
		printf '%s\n' "$bin_dir"
		exit 0
	fi
fi

export GOPATH=$cache_root/go/path
export GOMODCACHE=$cache_root/go/mod
export GOCACHE=$cache_root/go/build
# -modcacherw: keep the module cache deletable with plain `rm -rf .cache`.
# -buildvcs=false: the wrapper module lives in this repo; don't stamp VCS info.
export GOFLAGS="-modcacherw -buildvcs=false"
# Static binaries, like the official releases (goreleaser uses CGO_ENABLED=0).
export CGO_ENABLED=0

tmp_out=$(mktemp -d "$cache_root/pulumi/$PULUMI_VERSION/tmp.XXXXXX")
trap 'rm -rf "$tmp_out"' EXIT

install_bin() { # name stamp  (atomic rename into bin dir, then stamp)
	mv -f "$tmp_out/$1" "$bin_dir/$1"
	printf '%s\n' "$2" >"$bin_dir/.stamp-$1"
}

log "$("$GO" version); caches in $cache_root/go"

if ! up_to_date pulumi "$pulumi_stamp"; then
	# The Go example's test build (tests/src/languages/go.rs, CLI_TAGS) uses these tags and
	# -trimpath, and examples/go-web-and-api/go.mod these module versions, to reuse this build's
	# cache: keep them in step when the pin moves.
	log "building pulumi $PULUMI_VERSION (takes several minutes from scratch)"
	(
		cd "$wrapper_dir"
		"$GO" build -mod=readonly -trimpath -tags osusergo,grpcnotrace \
			-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
			-o "$tmp_out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	)
	install_bin pulumi "$pulumi_stamp"
fi

if ! up_to_date pulumi-language-yaml "$yaml_stamp"; then
	log "building pulumi-language-yaml $PULUMI_YAML_VERSION"
	(
		cd "$tmp_out" # outside the wrapper module: plain `go install mod@version`
		GOBIN=$tmp_out "$GO" install -trimpath \
			-ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$PULUMI_YAML_VERSION" \
			"github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$PULUMI_YAML_VERSION"
	)
	install_bin pulumi-language-yaml "$yaml_stamp"
fi

for lang in $extra_langs; do
	if ! up_to_date "pulumi-language-$lang" "$(extra_lang_stamp "$lang")"; then
		build_extra_lang "$lang" "$tmp_out"
		install_bin "pulumi-language-$lang" "$(extra_lang_stamp "$lang")"
	fi
done

if [[ ${DEFANG_PULUMI_CLEAN_GO_CACHE:-} == 1 ]]; then
	log "removing $cache_root/go"
	chmod -R u+w "$cache_root/go" 2>/dev/null || true
	rm -rf "$cache_root/go"
fi

print_versions "$bin_dir"
printf '%s\n' "$bin_dir"
