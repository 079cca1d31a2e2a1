#!/usr/bin/env bash
# Prepares a fresh machine for IronLB's lab and tests: system packages (when root), npm
# packages, the TypeScript build. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the lab and the protocol tests use (g++, make, python3: node-gyp builds the
# native addon during npm ci; iputils-ping, curl: the layer 2 tests and the lab client; bird2,
# frr, exabgp: the BGP interop peers, run by the tests under temp dirs, never as system
# services). Installed only when missing.
APT_PACKAGES=(iproute2 openssl g++ make python3 iputils-ping curl bird2 frr exabgp)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "setup: missing Debian packages (run as root to install): ${missing[*]}" >&2
  fi
fi

npm ci --no-audit --no-fund
npm run build

# kube-apiserver + etcd for the integration tests and the lab: KUBEBUILDER_ASSETS when set, else
# built once per pinned version with the machine's Go into ~/.cache/ironlb/testenv (minutes, once).
if [ -z "${KUBEBUILDER_ASSETS:-}" ]; then
  if testenv_dir="$(bash testenv/build.sh)"; then
    echo "setup: test control plane binaries in $testenv_dir"
  elif [ "${IRONLB_E2E:-}" = "require" ]; then
    echo "setup: cannot build the test control plane binaries (see above)" >&2
    exit 1
  else
    echo "setup: no test control plane binaries: integration tests will skip (see above)" >&2
  fi
fi

# Helm for the chart tests (helm lint, helm template): built once per pinned version with the
# machine's Go into ~/.cache/ironlb/helm-<version> (testenv/helm/go.mod pins it).
if helm_path="$(bash testenv/helm/build.sh)"; then
  echo "setup: helm in $helm_path"
elif [ "${IRONLB_E2E:-}" = "require" ]; then
  echo "setup: cannot build helm (see above)" >&2
  exit 1
else
  echo "setup: no helm: the chart tests will skip (see above)" >&2
fi
