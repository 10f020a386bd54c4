#!/usr/bin/env bash
# install-langs.sh: installs what the TypeScript, Python and Go examples and their end-to-end
# tests need, pinned, into the cache, and prints the one line to eval:
#
#   eval "$(scripts/install-langs.sh)"      # exports DEFANG_LANGS_DIR
#
#   $DEFANG_LANGS_DIR/nodejs/node_modules   npm ci of scripts/langs/nodejs (package-lock.json):
#                                           @pulumi/pulumi, typescript, @types/node
#   $DEFANG_LANGS_DIR/python/venv           a virtualenv with scripts/langs/python/requirements.txt
#                                           (pulumi, mypy and every dependency, pinned)
#   ${DEFANG_CACHE_DIR}/go/mod              the Go modules of examples/go-*/go.sum (go mod
#                                           download), in the module cache the pulumi CLI build uses
#
# Each part is redone only when its lock file changes (a stamp holds the lock's hash), so a
# second run takes well under a second. The tests themselves install nothing and reach no
# registry (the Go builds run with GOPROXY=off).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_root=${DEFANG_CACHE_DIR:-$repo/.cache}
mkdir -p "$cache_root"
cache_root=$(cd "$cache_root" && pwd)
langs=$cache_root/langs
mkdir -p "$langs"

log() { printf 'install-langs: %s\n' "$*" >&2; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { [[ -f $1 && "$(cat "$1")" == "$2" ]]; } # stamp expected

# --- Node.js: npm ci into the cache ---------------------------------------------------------
node_src=$repo/scripts/langs/nodejs
node_hash=$(hash_of "$node_src/package.json" "$node_src/package-lock.json")
if ! fresh "$langs/nodejs/.stamp" "$node_hash"; then
	start=$SECONDS
	rm -rf "$langs/nodejs" && mkdir -p "$langs/nodejs"
	cp "$node_src/package.json" "$node_src/package-lock.json" "$langs/nodejs/"
	(cd "$langs/nodejs" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
	echo "$node_hash" >"$langs/nodejs/.stamp"
	log "node packages in $((SECONDS - start)) s"
fi

# --- Python: a virtualenv with the pinned requirements ---------------------------------------
py_src=$repo/scripts/langs/python/requirements.txt
py_hash=$(hash_of "$py_src")
if ! fresh "$langs/python/.stamp" "$py_hash"; then
	start=$SECONDS
	rm -rf "$langs/python" && mkdir -p "$langs/python"
	python3 -m venv "$langs/python/venv"
	"$langs/python/venv/bin/pip" install --quiet --disable-pip-version-check -r "$py_src" >&2
	echo "$py_hash" >"$langs/python/.stamp"
	log "python packages in $((SECONDS - start)) s"
fi

# --- Go: the examples' modules into the shared module cache -----------------------------------
GO=${GO:-go}
shopt -s nullglob
go_sums=("$repo"/examples/go-*/go.sum)
if ((${#go_sums[@]})); then
	go_hash=$(hash_of "${go_sums[@]}")
	if ! fresh "$langs/go.stamp" "$go_hash"; then
		start=$SECONDS
		for sum in "${go_sums[@]}"; do
			(
				cd "$(dirname "$sum")"
				export GOPATH=$cache_root/go/path GOMODCACHE=$cache_root/go/mod GOCACHE=$cache_root/go/build
				export GOFLAGS="-modcacherw -buildvcs=false"
				"$GO" mod download >&2
			)
		done
		echo "$go_hash" >"$langs/go.stamp"
		log "go modules in $((SECONDS - start)) s"
	fi
fi

printf 'export DEFANG_LANGS_DIR=%q\n' "$langs"
