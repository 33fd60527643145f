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

quick=0 keep=0 pin=1
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --keep) keep=1 ;;
    --no-pin) pin=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$top/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
node=${NODE:-node}
openssl=${OPENSSL:-openssl}
mosquitto=${MOSQUITTO:-/usr/sbin/mosquitto}
for tool in jq taskset cmake awk npm curl "$node" "$openssl"; do
    command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is needed but not installed" >&2; exit 1; }
done
[ -x "$mosquitto" ] || { echo "run.sh: no broker at $mosquitto (set MOSQUITTO)" >&2; exit 1; }

if [ "$quick" = 1 ]; then dur=2 warm=0.5; else dur=5 warm=1; fi
dur=${DURATION:-$dur}
warm=${WARMUP:-$warm}
rounds=${ROUNDS:-1}
window=${WINDOW:-500}
size=${SIZE:-200}
# openssl speed takes whole seconds
osecs=$(awk -v d="$dur" 'BEGIN { s = int(d + 0.5); print (s < 1 ? 1 : s) }')
type=https://schemas.openid.net/secevent/caep/event-type/session-revoked

echo "== building $build (Release)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMQP_TESTS=OFF -DMQP_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target setbench setpush mqload mqpushctl mqpush_plugin mqpush-bridge \
    >"$build/bench-set-build.log" 2>&1 ||
    { tail -30 "$build/bench-set-build.log" >&2; echo "run.sh: build failed" >&2; exit 1; }
if [ ! -d "$here/peer/node_modules/jose" ]; then
    echo "== installing the peer's packages (npm ci, versions from peer/package-lock.json)"
    (cd "$here/peer" && npm ci --no-audit --no-fund >/dev/null)
fi
setbench=$build/bench/set/setbench
setpush=$build/bench/set/setpush
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge
peer=$here/peer/setbench.mjs

ncpu=$(nproc)
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
    on0=(taskset -c 0) on1=(taskset -c 1) both=(taskset -c "0,1") cpu0=(--cpus 0) cpus=(--cpus "0,1")
    pin_note="one core: CPU 0 (taskset); two cores: a setbench thread or a jose process on each of CPU 0 and 1; end to end: the bridge alone on CPU 0, Mosquitto, publisher and receiver on CPU 1"
elif [ "$pin" = 1 ]; then
    on0=(taskset -c 0) on1=() both=() cpu0=(--cpus 0) cpus=()
    pin_note="one CPU only: no two-core runs; end to end shares the CPU"
else
    on0=() on1=() both=() cpu0=() cpus=()
    pin_note="not pinned ($ncpu CPUs)"
fi
two=0
[ "$ncpu" -ge 2 ] && two=1

work=$(mktemp -d "${TMPDIR:-/tmp}/mqpush-bench-set.XXXXXX")
results=$work/results.jsonl
: >"$results"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$keep" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

record() { # line phase round
    echo "$1" | jq -c --arg p "$2" --argjson r "$3" '. + {phase: $p, round: $r}' >>"$results"
}
fail_if_error() { # line what
    if [ -z "$1" ] || echo "$1" | jq -e '.error' >/dev/null 2>&1; then
        echo "run.sh: $2 failed: ${1:-no result}" >&2
        tail -5 "$work/stderr.log" >&2 2>/dev/null || true
        exit 1
    fi
}
now_s() { date +%s.%N; }

ours() { # phase round setbench-options...
    local phase=$1 round=$2 line
    shift 2
    line=$("$@" --duration "$dur" --warmup "$warm" --label "$phase" 2>>"$work/stderr.log") || true
    fail_if_error "$line" "$phase"
    record "$line" "$phase" "$round"
    echo "$line" | jq -r '"   \(.label): \(.per_s | floor) SETs/s, busy \([.thread_busy[]] | add | . * 100 | round / 100)"'
}

# openssl speed, CPU time from the shell's `times` over the wall time: busy below 1 means that
# other processes had part of CPU 0.
ossl() { # phase round
    local t0 t1 out cpu line
    t0=$(now_s)
    out=$(bash -c '"$@" >"'"$work"'/openssl.out" 2>&1; times' _ "${on0[@]}" "$openssl" speed -mr \
        -seconds "$osecs" -elapsed ecdsap256) || true
    t1=$(now_s)
    cpu=$(echo "$out" | awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } print s }')
    # -mr line: "+F4:<n>:<bits>:<sign/s>:<verify/s>"
    line=$(awk -F: -v cpu="$cpu" -v t0="$t0" -v t1="$t1" '
        /^\+F4:/ { printf "{\"what\":\"openssl\",\"alg\":\"ecdsap256\",\"per_s\":%s,\"verify_per_s\":%s,", $4, $5; ok = 1 }
        END { if (ok) printf "\"busy\":%.3f,\"elapsed_s\":%.2f}\n", cpu / (t1 - t0), t1 - t0 }' "$work/openssl.out")
    fail_if_error "$line" "openssl speed ecdsap256"
    record "$line" "$1" "$2"
    echo "$line" | jq -r '"   openssl speed ecdsap256: \(.per_s | floor) signatures/s, busy \(.busy)"'
}

peer1() { # round
    local line
    line=$("${on0[@]}" "$node" "$peer" --duration "$dur" --warmup "$warm" --label jose-1 \
        2>>"$work/stderr.log") || true
    fail_if_error "$line" "jose, one process"
    record "$line" jose-1 "$1"
    echo "$line" | jq -r '"   jose, 1 process: \(.per_s | floor) SETs/s, busy \(.busy)"'
}

peer2() { # round: one process per CPU, measuring the same window
    local start a b
    start=$(awk -v now="$(date +%s%3N)" -v w="$warm" 'BEGIN { printf "%d", now + 1000 + w * 1000 }')
    "${on0[@]}" "$node" "$peer" --duration "$dur" --start-at "$start" --label jose-2 \
        >"$work/peer-a.out" 2>>"$work/stderr.log" &
    a=$!
    "${on1[@]}" "$node" "$peer" --duration "$dur" --start-at "$start" --label jose-2 \
        >"$work/peer-b.out" 2>>"$work/stderr.log" &
    b=$!
    pids+=("$a" "$b")
    wait "$a" || true
    wait "$b" || true
    for f in "$work/peer-a.out" "$work/peer-b.out"; do
        fail_if_error "$(cat "$f")" "jose, two processes"
        record "$(cat "$f")" jose-2 "$1"
    done
    jq -s -r '"   jose, 2 processes: \(map(.per_s) | add | floor) SETs/s, busy \(map(.busy) | add | . * 100 | round / 100)"' \
        "$work/peer-a.out" "$work/peer-b.out"
}

echo "== mqpush SET benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
echo "   $("$openssl" version); node $("$node" --version); jose $(jq -r .version "$here/peer/node_modules/jose/package.json")"
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    echo "   warning: load average $load1: other processes are busy, figures will be noisy"
fi

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

. "$here/e2e.sh"

"$here/report.sh" "$results" "$pin_note"
cp "$results" "$build/bench-set-results.jsonl"
echo "raw results: $build/bench-set-results.jsonl"
