#!/usr/bin/env bash
# Installs everything pg_awf needs to build, run and test, from Debian 12's packages.
# Idempotent: skips apt entirely when every package is already installed.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config
  # PostgreSQL 15 server, PGXS, pg_regress and isolationtester
  postgresql-15 postgresql-server-dev-15 postgresql-client-15
  # libraries
  libpqxx-dev libpq-dev nlohmann-json3-dev libyaml-dev libboost-dev libssl-dev
  # tests (yaml-cpp: a second YAML reader of what the bridge writes)
  libgtest-dev googletest libyaml-cpp-dev curl jq procps python3
  # the fuzz harness: clang with libFuzzer and the sanitizers' runtimes
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or with sudo) to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
