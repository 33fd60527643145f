#!/usr/bin/env bash
# Install what mqpush needs to build, test and run, from Debian's packages and the npm
# registry. Safe to run again: only what is missing is installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root or sudo to install packages" >&2; exit 1; }
    sudo_cmd=(sudo)
fi

packages=(
    build-essential cmake pkg-config git
    clang libclang-rt-14-dev clang-format
    mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev
    libjson-c-dev libssl-dev libcmocka-dev uthash-dev
    libwebsockets-dev libuv1-dev libsqlite3-dev libcurl4-openssl-dev
    libpq-dev postgresql
    openssl procps iproute2 ca-certificates curl
    valgrind
    file dpkg-dev
    chromium
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Debian package starts a system-wide broker on port 1883; mqpush runs its own.
if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    "${sudo_cmd[@]}" systemctl stop mosquitto || true
    "${sudo_cmd[@]}" systemctl disable mosquitto >/dev/null 2>&1 || true
fi

# npm packages of the integration tests, pinned by their lockfile.
for dir in tests/integration; do
    if [ -f "$top/$dir/package-lock.json" ]; then
        if [ ! -d "$top/$dir/node_modules" ] || [ "$top/$dir/package-lock.json" -nt "$top/$dir/node_modules/.package-lock.json" ]; then
            echo "deps: npm ci in $dir"
            (cd "$top/$dir" && npm ci --no-audit --no-fund --loglevel=error)
        fi
    fi
done
