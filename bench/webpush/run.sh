#!/usr/bin/env bash
# Web Push benchmark: messages encrypted (RFC 8291 aes128gcm) and signed (VAPID, RFC 8292) per
# second by the bridge's code (wpbench, this folder), beside npm web-push's
# generateRequestDetails() (peer/) and OpenSSL's own P-256 rates (`openssl speed ecdhp256
# ecdsap256`, and key generation measured by wpbench --keygen), all in one run. One core:
# everything on CPU 0, one after the other. Two cores: wpbench with a thread on each CPU, then
# two web-push processes, one on each CPU. The bridge's VAPID signer runs in two modes: cached
# (one JWT per push service, as the bridge sends) and fresh (a signature per message, as
# web-push does). See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/webpush/run.sh [--quick] [--keep] [--no-pin]
  --quick   about 40 s: 2 s runs
  --keep    keep the work directory (results.jsonl, the sample message, logs)
  --no-pin  do not pin to CPUs with taskset
Environment: BUILD_DIR (build tree, <repo>/build-bench), DURATION (seconds per measured run,
5), WARMUP (seconds before each, 1), ROUNDS (rounds of all runs; the report takes the median,
1), SUBS (subscriptions, 64), NODE (node), OPENSSL (openssl).
EOF
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
for tool in jq taskset cmake awk npm "$node" "$openssl"; do
    command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is needed but not installed" >&2; exit 1; }
done

if [ "$quick" = 1 ]; then dur=2 warm=0.5; else dur=5 warm=1; fi
dur=${DURATION:-$dur}
warm=${WARMUP:-$warm}
rounds=${ROUNDS:-1}
subs=${SUBS:-64}
# openssl speed takes whole seconds
osecs=$(awk -v d="$dur" 'BEGIN { s = int(d + 0.5); print (s < 1 ? 1 : s) }')

echo "== building $build (Release)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMQP_TESTS=OFF -DMQP_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target wpbench >"$build/bench-webpush-build.log" 2>&1 ||
    { tail -30 "$build/bench-webpush-build.log" >&2; echo "run.sh: build failed" >&2; exit 1; }
if [ ! -d "$here/peer/node_modules/web-push" ]; then
    echo "== installing the peer's packages (npm ci, versions from peer/package-lock.json)"
    (cd "$here/peer" && npm ci --no-audit --no-fund >/dev/null)
fi
wpbench=$build/bench/webpush/wpbench
peer=$here/peer/wpbench.mjs

ncpu=$(nproc)
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
    on0=(taskset -c 0) on1=(taskset -c 1) both=(taskset -c "0,1") cpu0=(--cpus 0) cpus=(--cpus "0,1")
    pin_note="one core: CPU 0 (taskset); two cores: a wpbench thread or a web-push process on each of CPU 0 and 1"
elif [ "$pin" = 1 ]; then
    on0=(taskset -c 0) on1=() both=() cpu0=(--cpus 0) cpus=()
    pin_note="one CPU only: no two-core runs"
else
    on0=() on1=() both=() cpu0=() cpus=()
    pin_note="not pinned ($ncpu CPUs)"
fi
two=0
[ "$ncpu" -ge 2 ] && two=1

work=$(mktemp -d "${TMPDIR:-/tmp}/mqpush-bench-webpush.XXXXXX")
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

ours() { # phase round wpbench-options...
    local phase=$1 round=$2 line
    shift 2
    line=$("$@" --duration "$dur" --warmup "$warm" --subs "$subs" --label "$phase" \
        2>>"$work/stderr.log") || true
    fail_if_error "$line" "$phase"
    record "$line" "$phase" "$round"
    echo "$line" | jq -r '"   \(.label): \(.per_s | floor) \(if .what == "keygen" then "keys" else "messages" end)/s, busy \([.thread_busy[]] | add | . * 100 | round / 100)"'
}

# openssl speed, CPU time from the shell's `times` over the wall time: busy below 1 means that
# other processes had part of CPU 0.
ossl() { # phase round algorithm
    local phase=$1 round=$2 alg=$3 t0 t1 out cpu line
    t0=$(now_s)
    out=$(bash -c '"$@" >"'"$work"'/openssl.out" 2>&1; times' _ "${on0[@]}" "$openssl" speed -mr \
        -seconds "$osecs" -elapsed "$alg") || true
    t1=$(now_s)
    cpu=$(echo "$out" | awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } print s }')
    # -mr lines: "+F5:<n>:<bits>:<ecdh ops/s>:<s/op>", "+F4:<n>:<bits>:<sign/s>:<verify/s>"
    line=$(awk -F: -v alg="$alg" -v cpu="$cpu" -v t0="$t0" -v t1="$t1" '
        /^\+F5:/ && alg ~ /ecdh/ { printf "{\"what\":\"openssl\",\"alg\":\"%s\",\"per_s\":%s,", alg, $4; ok = 1 }
        /^\+F4:/ && alg ~ /ecdsa/ { printf "{\"what\":\"openssl\",\"alg\":\"%s\",\"per_s\":%s,\"verify_per_s\":%s,", alg, $4, $5; ok = 1 }
        END { if (ok) printf "\"busy\":%.3f,\"elapsed_s\":%.2f}\n", cpu / (t1 - t0), t1 - t0 }' "$work/openssl.out")
    fail_if_error "$line" "openssl speed $alg"
    record "$line" "$phase" "$round"
    echo "$line" | jq -r '"   openssl speed \(.alg): \(.per_s | floor)/s\(if .verify_per_s then " (sign)" else "" end), busy \(.busy)"'
}

peer1() { # round
    local line
    line=$("${on0[@]}" "$node" "$peer" --duration "$dur" --warmup "$warm" --subs "$subs" \
        --label web-push-1 2>>"$work/stderr.log") || true
    fail_if_error "$line" "web-push, one process"
    record "$line" web-push-1 "$1"
    echo "$line" | jq -r '"   web-push, 1 process: \(.per_s | floor) messages/s, busy \(.busy)"'
}

peer2() { # round: one process per CPU, measuring the same window
    local start a b
    start=$(awk -v now="$(date +%s%3N)" -v w="$warm" 'BEGIN { printf "%d", now + 1000 + w * 1000 }')
    "${on0[@]}" "$node" "$peer" --duration "$dur" --start-at "$start" --subs "$subs" \
        --label web-push-2 >"$work/peer-a.out" 2>>"$work/stderr.log" &
    a=$!
    "${on1[@]}" "$node" "$peer" --duration "$dur" --start-at "$start" --subs "$subs" \
        --label web-push-2 >"$work/peer-b.out" 2>>"$work/stderr.log" &
    b=$!
    pids+=("$a" "$b")
    wait "$a" || true
    wait "$b" || true
    for f in "$work/peer-a.out" "$work/peer-b.out"; do
        fail_if_error "$(cat "$f")" "web-push, two processes"
        record "$(cat "$f")" web-push-2 "$1"
    done
    jq -s -r '"   web-push, 2 processes: \(map(.per_s) | add | floor) messages/s, busy \(map(.busy) | add | . * 100 | round / 100)"' \
        "$work/peer-a.out" "$work/peer-b.out"
}

echo "== mqpush Web Push benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
echo "   $("$openssl" version); node $("$node" --version); web-push $(jq -r .version "$here/peer/node_modules/web-push/package.json")"
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    echo "   warning: load average $load1: other processes are busy, figures will be noisy"
fi

# The bridge's body must decrypt with the library web-push itself encrypts with.
"$wpbench" --sample "$work/sample.json"
echo "== check: $("$node" "$peer" --decrypt "$work/sample.json")"

for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds: one core (CPU 0), $dur s per run"
    ossl openssl-ecdh "$round" ecdhp256
    ossl openssl-ecdsa "$round" ecdsap256
    ours keygen "$round" "${on0[@]}" "$wpbench" --keygen --threads 1 "${cpu0[@]}"
    ours ours-cached-1 "$round" "${on0[@]}" "$wpbench" --vapid cached --threads 1 "${cpu0[@]}"
    ours ours-fresh-1 "$round" "${on0[@]}" "$wpbench" --vapid fresh --threads 1 "${cpu0[@]}"
    peer1 "$round"
    if [ "$two" = 1 ]; then
        echo "== round $round of $rounds: two cores"
        ours ours-cached-2 "$round" "${both[@]}" "$wpbench" --vapid cached --threads 2 "${cpus[@]}"
        ours ours-fresh-2 "$round" "${both[@]}" "$wpbench" --vapid fresh --threads 2 "${cpus[@]}"
        peer2 "$round"
    fi
done

"$here/report.sh" "$results" "$pin_note"
cp "$results" "$build/bench-webpush-results.jsonl"
echo "raw results: $build/bench-webpush-results.jsonl"
