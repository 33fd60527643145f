#!/usr/bin/env bash
# SET benchmark: Security Event Tokens (RFC 8417, SSF 1.0) built and ES256-signed per second by
# the bridge's SSF transmitter code (setbench, this folder), beside npm jose signing the same
# claims in Node (peer/) and `openssl speed ecdsap256`, all in one run; then end to end: the
# real bridge pushing SETs (RFC 8935) for events published flat out into Mosquitto with the
# plugin, to a local receiver (setpush). One core: everything on CPU 0, one after the other.
# Two cores: setbench with a thread on each CPU, then two jose processes, one on each CPU. End
# to end: the bridge alone on CPU 0 (its figures are per core), Mosquitto, the publisher and the
# receiver on CPU 1. See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF2'
usage: bench/set/run.sh [--quick] [--keep] [--no-pin]
  --quick   about 40 s: 2 s runs
  --keep    keep the work directory (results.jsonl, configs, logs)
  --no-pin  do not pin to CPUs with taskset
Environment: BUILD_DIR (build tree, <repo>/build-bench), DURATION (seconds per measured run,
5), WARMUP (seconds before each, 1), ROUNDS (rounds of the signing runs; the report takes the
median, 1), WINDOW (end to end: most events the publisher runs ahead of the SETs received,
500), SIZE (end to end: event payload bytes, 200), MOSQUITTO (/usr/sbin/mosquitto), NODE
(node), OPENSSL (openssl).
EOF2
}

bench_name=bench-set
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$here/../lib/common.sh"
parse_options "$@"
node=${NODE:-node}
openssl=${OPENSSL:-openssl}
need_tools jq taskset cmake awk npm curl "$node" "$openssl"
need_broker

if [ "$quick" = 1 ]; then dur=2 warm=0.5; else dur=5 warm=1; fi
dur=${DURATION:-$dur}
warm=${WARMUP:-$warm}
rounds=${ROUNDS:-1}
window=${WINDOW:-500}
size=${SIZE:-200}
# openssl speed takes whole seconds
osecs=$(awk -v d="$dur" 'BEGIN { s = int(d + 0.5); print (s < 1 ? 1 : s) }')
type=https://schemas.openid.net/secevent/caep/event-type/session-revoked

build_targets setbench setpush mqload mqpushctl mqpush_plugin mqpush-bridge
need_peer_packages jose
setbench=$build/bench/set/setbench
setpush=$build/bench/set/setpush
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge
peer=$here/peer/setbench.mjs

pin_cores "one core: CPU 0 (taskset); two cores: a setbench thread or a jose process on each of CPU 0 and 1; end to end: the bridge alone on CPU 0, Mosquitto, publisher and receiver on CPU 1" \
    "one CPU only: no two-core runs; end to end shares the CPU"
start_work
err_logs=("$work/stderr.log")

ours() { # phase round setbench-options...
    local phase=$1 round=$2
    shift 2
    own_rate "$phase" "$round" '"SETs"' "$@"
}
ossl() { # phase round
    local line
    line=$(openssl_speed ecdsap256)
    fail_if_error "$line" "openssl speed ecdsap256"
    record "$line" "$1" "$2"
    echo "$line" | jq -r '"   openssl speed ecdsap256: \(.per_s | floor) signatures/s, busy \(.busy)"'
}
peer1() { peer_one jose-1 jose SETs "$1"; }
peer2() { peer_two jose-2 jose SETs "$1"; }

echo "== mqpush SET benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
echo "   $("$openssl" version); node $("$node" --version); jose $(jq -r .version "$here/peer/node_modules/jose/package.json")"
warn_if_loaded

# The bridge's SET must verify with the library the peer signs with.
"$setbench" --sample "$work/sample.json"
echo "== check: $("$node" "$peer" --verify "$work/sample.json")"

for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds: one core (CPU 0), $dur s per run"
    ossl openssl-ecdsa "$round"
    ours ours-1 "$round" "${on0[@]}" "$setbench" --threads 1 "${cpu0[@]}"
    ours sign-1 "$round" "${on0[@]}" "$setbench" --threads 1 --sign-only "${cpu0[@]}"
    peer1 "$round"
    if [ "$two" = 1 ]; then
        echo "== round $round of $rounds: two cores"
        ours ours-2 "$round" "${both[@]}" "$setbench" --threads 2 "${cpus[@]}"
        ours sign-2 "$round" "${both[@]}" "$setbench" --threads 2 --sign-only "${cpus[@]}"
        peer2 "$round"
    fi
done

# shellcheck source-path=SCRIPTDIR source=e2e.sh
. "$here/e2e.sh"

"$here/report.sh" "$results" "$pin_note"
save_results
