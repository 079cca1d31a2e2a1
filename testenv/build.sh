#!/usr/bin/env bash
# Ensures the test control plane's kube-apiserver and etcd binaries exist and prints their folder.
#
# The versions are the ones pinned in testenv/kube-apiserver/go.mod and testenv/etcd/go.mod
# (regenerate those with testenv/pin.sh). Binaries are built with the machine's Go toolchain from
# the Go module proxy into a cache outside the repository, one folder per version pair, so every
# clone on this machine reuses them; a cached pair is reused only if both binaries still run.
#
#   testenv/build.sh          build when missing, then print the folder (laid out like KUBEBUILDER_ASSETS)
#   testenv/build.sh --dir    print the folder without building
#   testenv/build.sh --force  rebuild even when cached
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

pinned_version() { # module go.mod → the version required for module
  awk -v name="$1" '{ for (i = 1; i < NF; i++) if ($i == name) { print $(i + 1); exit } }' "$2"
}
k8s_version="$(pinned_version k8s.io/kubernetes "$here/kube-apiserver/go.mod")"
etcd_version="$(pinned_version go.etcd.io/etcd/server/v3 "$here/etcd/go.mod")"
[ -n "$k8s_version" ] && [ -n "$etcd_version" ] || { echo "testenv: cannot read pinned versions" >&2; exit 1; }

cache_root="${IRONLB_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ironlb/testenv}"
dir="$cache_root/k8s-${k8s_version}_etcd-${etcd_version}"

mode="${1:-ensure}"
if [ "$mode" = "--dir" ]; then
  echo "$dir"
  exit 0
fi

runs() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

mkdir -p "$cache_root"
# One build at a time per machine: setup.sh and a test run may both ask.
exec 9>"$cache_root/.build.lock"
flock 9

if [ "$mode" != "--force" ] && runs "$dir/kube-apiserver" && runs "$dir/etcd"; then
  echo "$dir"
  exit 0
fi

go_bin="$(command -v go || true)"
[ -n "$go_bin" ] || go_bin=/usr/local/go/bin/go
[ -x "$go_bin" ] || { echo "testenv: Go toolchain not found (install Go >= 1.26, or set KUBEBUILDER_ASSETS)" >&2; exit 1; }

staging="$(mktemp -d "$cache_root/.build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

minor="${k8s_version#v1.}"
minor="${minor%%.*}"
version_flags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -mod=readonly -buildvcs=false"
start=$(date +%s)
echo "testenv: building kube-apiserver $k8s_version and etcd $etcd_version with $("$go_bin" version | cut -d' ' -f3) (first time only; several minutes)" >&2
(cd "$here/etcd" && "$go_bin" build -p 2 -ldflags "-s -w" -o "$staging/etcd" go.etcd.io/etcd/server/v3)
(cd "$here/kube-apiserver" && "$go_bin" build -p 2 -ldflags "-s -w$version_flags" -o "$staging/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
runs "$staging/etcd" && runs "$staging/kube-apiserver" || { echo "testenv: built binaries do not run" >&2; exit 1; }

mkdir -p "$dir"
mv -f "$staging/etcd" "$dir/etcd"
mv -f "$staging/kube-apiserver" "$dir/kube-apiserver"
echo "testenv: built in $(($(date +%s) - start)) s" >&2
echo "$dir"
