#!/usr/bin/env bash
# Mosquitto under valgrind, for tests/valgrind/valgrind.test.mjs: the test points MQP_MOSQUITTO
# here, so the integration tests' broker helper (tests/integration/lib/broker.mjs) starts the
# broker, with the plugin of the build under test, through this. MQP_VG_ARGS holds valgrind's
# options, one per line (log file and suppressions included); MQP_VG_MOSQUITTO the broker
# (/usr/sbin/mosquitto).
set -euo pipefail
mapfile -t args <<<"${MQP_VG_ARGS:?MQP_VG_ARGS is not set}"
exec "${MQP_VALGRIND:-valgrind}" "${args[@]}" "${MQP_VG_MOSQUITTO:-/usr/sbin/mosquitto}" "$@"
