#!/usr/bin/env bash
# Install what is missing, build with ASan+UBSan and -Werror, build the fuzz targets with
# clang, and run the whole suite (unit, integration, fuzz) through ctest.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"

"$here/deps.sh"

jobs=$(nproc 2>/dev/null || echo 2)
build=${MQP_TEST_BUILD_DIR:-$top/build/test}
fuzz_build=${MQP_FUZZ_BUILD_DIR:-$top/build/fuzz}
fuzz_seconds=${MQP_FUZZ_SECONDS:-20}
valgrind_build=${MQP_VALGRIND_BUILD_DIR:-$top/build/valgrind}

CC=clang cmake -S "$top" -B "$fuzz_build" -DMQP_FUZZ=ON -DMQP_TESTS=OFF -DMQP_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$fuzz_build" -j"$jobs"

# valgrind cannot run ASan binaries: the bridge, the plugin and mqpushctl once more, plain Debug,
# for the valgrind test (tests/valgrind)
CC=gcc cmake -S "$top" -B "$valgrind_build" -DMQP_TESTS=OFF -DMQP_BENCH=OFF -DMQP_WERROR=ON \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$valgrind_build" -j"$jobs" --target mqpush-bridge mqpush_plugin mqpushctl

CC=gcc cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMQP_WERROR=ON -DMQP_SANITIZE=ON \
    -DMQP_BENCH=ON -DMQP_FUZZ_BUILD_DIR="$fuzz_build" -DMQP_FUZZ_SECONDS="$fuzz_seconds" \
    -DMQP_VALGRIND_BUILD_DIR="$valgrind_build" >/dev/null
cmake --build "$build" -j"$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
ctest --output-on-failure -j"$jobs" "$@"
