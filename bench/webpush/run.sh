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

bench_name=bench-webpush
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$here/../lib/common.sh"
parse_options "$@"
node=${NODE:-node}
openssl=${OPENSSL:-openssl}
need_tools jq taskset cmake awk npm "$node" "$openssl"

if [ "$quick" = 1 ]; then dur=2 warm=0.5; else dur=5 warm=1; fi
dur=${DURATION:-$dur}
warm=${WARMUP:-$warm}
rounds=${ROUNDS:-1}
subs=${SUBS:-64}
# openssl speed takes whole seconds
osecs=$(awk -v d="$dur" 'BEGIN { s = int(d + 0.5); print (s < 1 ? 1 : s) }')

build_targets wpbench
need_peer_packages web-push
wpbench=$build/bench/webpush/wpbench
peer=$here/peer/wpbench.mjs

pin_cores "one core: CPU 0 (taskset); two cores: a wpbench thread or a web-push process on each of CPU 0 and 1" \
    "one CPU only: no two-core runs"
start_work
err_logs=("$work/stderr.log")

ours() { # phase round wpbench-options...
    local phase=$1 round=$2
    shift 2
    own_rate "$phase" "$round" 'if .what == "keygen" then "keys" else "messages" end' "$@" --subs "$subs"
}
ossl() { # phase round algorithm
    local line
    line=$(openssl_speed "$3")
    fail_if_error "$line" "openssl speed $3"
    record "$line" "$1" "$2"
    echo "$line" | jq -r '"   openssl speed \(.alg): \(.per_s | floor)/s\(if .verify_per_s then " (sign)" else "" end), busy \(.busy)"'
}
peer1() { peer_one web-push-1 web-push messages "$1" --subs "$subs"; }
peer2() { peer_two web-push-2 web-push messages "$1" --subs "$subs"; }

echo "== mqpush Web Push benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
echo "   $("$openssl" version); node $("$node" --version); web-push $(jq -r .version "$here/peer/node_modules/web-push/package.json")"
warn_if_loaded

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
save_results
