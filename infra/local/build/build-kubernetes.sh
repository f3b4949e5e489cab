#!/usr/bin/env bash
# Builds the local Kubernetes control plane from the Go module proxy, once per version:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (k8s.io/kubernetes, wrapper module)
#   etcd                                                           (go.etcd.io/etcd/server/v3, wrapper module)
#   kwok                                                           (sigs.k8s.io/kwok, go install)
# and copies CRDs out of Go modules: Gateway API (sigs.k8s.io/gateway-api), Istio's networking
# CRDs (istio.io/api).
# Optional target (not built by default, used by `npm run bench -- peer`):
#   argo-rollouts                                                  (github.com/argoproj/argo-rollouts: controller + CRDs)
#   flagger                                                        (github.com/fluxcd/flagger: controller + CRDs)
# Output: $SLIPWAY_CACHE/bin/<component>-<version>/ ; a `.complete` marker makes reruns instant.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${SLIPWAY_CACHE:-$HOME/.cache/slipway}"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false"

log() { printf '[build] %s\n' "$*" >&2; }

# One build at a time per cache: concurrent `stack up`s (tests, benches, a second shell) wait for
# the first instead of compiling the same modules side by side, then find its `.complete` markers.
mkdir -p "$cache"
exec 9>"$cache/build.lock"
if ! flock -n 9; then
  log "another build holds $cache/build.lock; waiting for it"
  flock 9
fi

# wrapper_module DIR MODULE VERSION : a module of our own that requires MODULE@VERSION.
wrapper_module() {
  local dir="$1" module="$2" version="$3"
  mkdir -p "$dir"
  printf 'module slipway.local/build/%s\n\ngo 1.26\n\nrequire %s %s\n' "$(basename "$dir")" "$module" "$version" >"$dir/go.mod"
}

build_kubernetes() {
  local v="$KUBERNETES_VERSION" out="$cache/bin/kubernetes-$KUBERNETES_VERSION"
  [[ -f "$out/.complete" ]] && return 0
  log "building Kubernetes $v (cold build: tens of minutes on 2 cores)"
  local dir="$cache/build/kubernetes-$v"
  wrapper_module "$dir" k8s.io/kubernetes "$v"
  (cd "$dir" && go mod download k8s.io/kubernetes)
  local upstream_mod
  upstream_mod="$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  # Every staging module is replaced by its published twin (k8s.io/x v0.MINOR.PATCH).
  local staging_version="v0.${v#v1.}"
  {
    grep -E '^godebug ' "$upstream_mod" || true
    echo
    grep -E '=> \./staging/src/' "$upstream_mod" | awk -v sv="$staging_version" '{print "replace " $1 " => " $1 " " sv}'
    echo
    for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do echo "tool k8s.io/kubernetes/cmd/$c"; done
  } >>"$dir/go.mod"
  (cd "$dir" && go mod tidy)
  local minor="${v#v1.}"; minor="${minor%%.*}"
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$v"
  mkdir -p "$out"
  (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  touch "$out/.complete"
}

build_etcd() {
  local v="$ETCD_VERSION" out="$cache/bin/etcd-$ETCD_VERSION"
  [[ -f "$out/.complete" ]] && return 0
  log "building etcd $v"
  local dir="$cache/build/etcd-$v"
  wrapper_module "$dir" go.etcd.io/etcd/server/v3 "$v"
  echo 'tool go.etcd.io/etcd/server/v3' >>"$dir/go.mod"
  (cd "$dir" && go mod tidy)
  mkdir -p "$out"
  (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
  touch "$out/.complete"
}

build_kwok() {
  local v="$KWOK_VERSION" out="$cache/bin/kwok-$KWOK_VERSION"
  [[ -f "$out/.complete" ]] && return 0
  log "building kwok $v"
  mkdir -p "$out"
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$v"
  touch "$out/.complete"
}

# The Gateway API CRDs ship as YAML inside the Go module; copy the standard channel out of the module cache.
fetch_gateway_api_crds() {
  local v="$GATEWAY_API_VERSION" out="$cache/gateway-api-$GATEWAY_API_VERSION"
  [[ -f "$out/.complete" ]] && return 0
  log "fetching Gateway API CRDs $v from the module proxy"
  local dir
  dir="$(cd "$cache" && go mod download -json "sigs.k8s.io/gateway-api@$v" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  mkdir -p "$out"
  cp "$dir"/config/crd/standard/*.yaml "$out/"
  chmod u+w "$out"/*.yaml
  touch "$out/.complete"
}

# Istio's CRDs ship as one YAML file inside the Go module istio.io/api; keep the networking.istio.io
# ones (VirtualService, DestinationRule, Gateway…), one file per CRD.
fetch_istio_crds() {
  local v="$ISTIO_API_VERSION" out="$cache/istio-api-$ISTIO_API_VERSION"
  [[ -f "$out/.complete" ]] && return 0
  log "fetching Istio CRDs $v from the module proxy"
  local dir
  dir="$(cd "$cache" && go mod download -json "istio.io/api@$v" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  rm -rf "$out" && mkdir -p "$out"
  awk -v out="$out" '
    function flush() { if (name ~ /\.networking\.istio\.io$/) { printf "%s", doc > (out "/" name ".yaml"); close(out "/" name ".yaml") } doc = ""; name = "" }
    /^---/ { flush(); next }
    /^  name: / && name == "" && doc ~ /kind: CustomResourceDefinition/ { name = $2 }
    { doc = doc $0 "\n" }
    END { flush() }
  ' "$dir/kubernetes/customresourcedefinitions.gen.yaml"
  [[ -f "$out/virtualservices.networking.istio.io.yaml" ]] || { echo "no VirtualService CRD in istio.io/api@$v" >&2; exit 1; }
  touch "$out/.complete"
}

# The Argo Rollouts controller, the peer of `npm run bench -- peer`. Its go.mod has replace directives
# (so no `go install mod@v`) and needs Go >= 1.26.10: build inside a copy of the module source with the
# Go toolchain the module proxy serves (GOTOOLCHAIN=go1.27.3, this build only). CRDs from manifests/crds.
build_argo_rollouts() {
  local v="$ARGO_ROLLOUTS_VERSION" out="$cache/bin/argo-rollouts-$ARGO_ROLLOUTS_VERSION"
  [[ -f "$out/.complete" ]] && return 0
  log "building Argo Rollouts $v (cold build: several minutes on 2 cores)"
  local toolchain="$ARGO_ROLLOUTS_GOTOOLCHAIN"
  local src dir="$cache/build/argo-rollouts-$v"
  src="$(cd "$cache" && GOTOOLCHAIN="$toolchain" go mod download -json "github.com/argoproj/argo-rollouts@$v" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  [[ -d "$src" ]] || { echo "github.com/argoproj/argo-rollouts@$v: no module source" >&2; exit 1; }
  rm -rf "$dir" && mkdir -p "$dir" && cp -r "$src/." "$dir/" && chmod -R u+w "$dir"
  mkdir -p "$out/crds"
  (cd "$dir" && GOTOOLCHAIN="$toolchain" GOFLAGS="-buildvcs=false -mod=mod" go build -trimpath \
    -ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=${v#v} -X github.com/argoproj/argo-rollouts/utils/version.gitTag=$v" \
    -o "$out/rollouts-controller" ./cmd/rollouts-controller)
  cp "$dir"/manifests/crds/*-crd.yaml "$out/crds/"
  touch "$out/.complete"
}

# Flagger, the third side of `npm run bench -- peer --routing istio`: `go install` from the module proxy
# (its go.mod has no replace directives; go 1.21, so the machine's Go). CRDs from artifacts/flagger.
build_flagger() {
  local v="$FLAGGER_VERSION" out="$cache/bin/flagger-$FLAGGER_VERSION"
  [[ -f "$out/.complete" ]] && return 0
  log "building Flagger $v (cold build: a few minutes on 2 cores)"
  mkdir -p "$out"
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "github.com/fluxcd/flagger/cmd/flagger@$v"
  local src
  src="$(cd "$cache" && go mod download -json "github.com/fluxcd/flagger@$v" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  [[ -f "$src/artifacts/flagger/crd.yaml" ]] || { echo "github.com/fluxcd/flagger@$v: no artifacts/flagger/crd.yaml" >&2; exit 1; }
  cp "$src/artifacts/flagger/crd.yaml" "$out/crd.yaml"
  touch "$out/.complete"
}

mkdir -p "$cache/bin" "$cache/build"
targets=("${@:-etcd kwok gateway-api istio kubernetes}")
for t in ${targets[*]}; do
  case "$t" in
    etcd) build_etcd ;;
    kwok) build_kwok ;;
    gateway-api) fetch_gateway_api_crds ;;
    istio) fetch_istio_crds ;;
    kubernetes) build_kubernetes ;;
    argo-rollouts) build_argo_rollouts ;;
    flagger) build_flagger ;;
    *) echo "unknown target: $t" >&2; exit 2 ;;
  esac
done
