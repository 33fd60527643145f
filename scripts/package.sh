#!/usr/bin/env bash
# Build the Debian package: a Release build configured for /usr, then `cpack -G DEB`.
#   ./scripts/package.sh [BUILD_DIR]     (default build/package)
# Prints the path of the .deb as its last line. Install it with
#   apt install ./mqpush_<version>-1_<arch>.deb
# (see docs/debian.md for what the package sets up).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
build=${1:-$top/build/package}

# The test suite calls this with MQP_SKIP_DEPS=1: its own set-up already installed everything.
if [ "${MQP_SKIP_DEPS:-0}" != 1 ]; then
    "$here/deps.sh"
fi

# Debian's hardening flags (fortify, stack protector, relro, bindnow), as dpkg-buildpackage
# would pass them; read at the first configure of the build directory.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
export CFLAGS LDFLAGS

# Release flags only: no sanitizers (their runtimes are not what a package depends on), the
# plugin in /usr/lib/mqpush as README.md and mosquitto.conf.example name it, no tests or
# benchmarks.
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_INSTALL_LIBDIR=lib -DMQP_SANITIZE=OFF -DMQP_FUZZ=OFF -DMQP_TESTS=OFF \
    -DMQP_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)"
rm -f "$build"/mqpush_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/mqpush_*.deb
