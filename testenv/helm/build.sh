#!/usr/bin/env bash
# Ensures a Helm binary at the version pinned in testenv/helm/go.mod and prints its path.
#
# Built with the machine's Go toolchain from the Go module proxy into a cache outside the
# repository (${XDG_CACHE_HOME:-$HOME/.cache}/ironlb/helm-<version>/helm), reused while it runs.
#
#   testenv/helm/build.sh          build when missing, then print the binary's path
#   testenv/helm/build.sh --path   print the path without building
#   testenv/helm/build.sh --force  rebuild even when cached
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

version="$(awk '$1 == "helm.sh/helm/v3" { print $2; exit } $1 == "require" && $2 == "helm.sh/helm/v3" { print $3; exit }' "$here/go.mod")"
[ -n "$version" ] || { echo "helm: cannot read the pinned version from $here/go.mod" >&2; exit 1; }

cache_root="${IRONLB_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ironlb}"
binary="$cache_root/helm-$version/helm"

mode="${1:-ensure}"
if [ "$mode" = "--path" ]; then
  echo "$binary"
  exit 0
fi

runs() { [ -x "$1" ] && "$1" version --short >/dev/null 2>&1; }

mkdir -p "$cache_root"
# One build at a time per machine: setup.sh and a test run may both ask.
exec 9>"$cache_root/.helm-build.lock"
flock 9

if [ "$mode" != "--force" ] && runs "$binary"; then
  echo "$binary"
  exit 0
fi

go_bin="$(command -v go || true)"
[ -n "$go_bin" ] || go_bin=/usr/local/go/bin/go
[ -x "$go_bin" ] || { echo "helm: Go toolchain not found (install Go >= 1.26)" >&2; exit 1; }

staging="$(mktemp -d "$cache_root/.helm-build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

# Helm's default Kubernetes version (Capabilities.KubeVersion, the kubeVersion check) is the
# client-go it is built with, as Helm's own Makefile sets it.
client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$here/go.mod")"
k8s_minor="${client_go#v0.}"
k8s_minor="${k8s_minor%%.*}"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -mod=readonly -buildvcs=false"
start=$(date +%s)
echo "helm: building helm $version with $("$go_bin" version | cut -d' ' -f3) (first time only; a few minutes)" >&2
(cd "$here" && "$go_bin" build -p 2 -ldflags "$ldflags" -o "$staging/helm" helm.sh/helm/v3/cmd/helm)
runs "$staging/helm" || { echo "helm: built binary does not run" >&2; exit 1; }

mkdir -p "$(dirname "$binary")"
mv -f "$staging/helm" "$binary"
echo "helm: built in $(($(date +%s) - start)) s" >&2
echo "$binary"
