#!/usr/bin/env bash
# UnifiedPush benchmark, both sides of UnifiedPush SERV 1.0.1 on one machine, loopback only.
# Phase A (application-server side): the bridge with `unifiedpush.streams` and REGS
# registrations of one user pointing at a fast local push provider (provider.mjs: discovery GET,
# 202/201 to POSTs, counts bodies). uppub (C, bench/sse/publisher.c) publishes stream events
# into Mosquitto with the plugin, flat out (held WINDOW events ahead of the provider) and at a
# fixed rate; every event becomes REGS pushes. Measured: pushes received per second, the
# bridge's CPU per push, publish-to-provider latency; first in the SERV form (the event JSON as
# body), then in the Web Push form (keys: every push encrypted, RFC 8291, and VAPID-signed),
# the comparison with the Web Push sender.
# Phase B (push-provider side): the bridge as provider with ENDPOINTS endpoints; load.mjs POSTs
# to /up/<id> at a fixed rate and flat out, one distributor reads the SSE stream and acks.
# Measured: accepted POSTs/s, the bridge's CPU per message, POST-to-distributor p50/p99.
# The bridge runs alone on CPU 0; Mosquitto and the load (Node, uppub) on CPU 1.
# See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF2'
usage: bench/unifiedpush/run.sh [--quick] [--keep] [--no-pin]
  --quick   about a minute: 3 s runs, 200 registrations
  --keep    keep the work directory (configs, logs, results.jsonl)
  --no-pin  do not pin the bridge and the load to separate CPUs
Environment: BUILD_DIR (<repo>/build-bench), MOSQUITTO (/usr/sbin/mosquitto), NODE (node),
REGS (registrations, 1000), ENDPOINTS (phase B endpoints, 1000), DURATION (seconds per run),
WINDOW (flat out: events the publisher may be ahead, 20), SIZE (event payload bytes, 200),
RATE_A (phase A fixed rate, events/s, 5), RATE_B (phase B fixed rate, POSTs/s, 1000).
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
mosquitto=${MOSQUITTO:-/usr/sbin/mosquitto}
node=${NODE:-node}
for tool in jq taskset cmake curl awk "$node"; do
    command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is needed but not installed" >&2; exit 1; }
done
[ -x "$mosquitto" ] || { echo "run.sh: no broker at $mosquitto (set MOSQUITTO)" >&2; exit 1; }

if [ "$quick" = 1 ]; then regs=200 endpoints=200 dur=3 warm=1; else regs=1000 endpoints=1000 dur=8 warm=2; fi
regs=${REGS:-$regs}
endpoints=${ENDPOINTS:-$endpoints}
dur=${DURATION:-$dur}
window=${WINDOW:-20}
size=${SIZE:-200}
rate_a=${RATE_A:-5}
rate_b=${RATE_B:-1000}

echo "== building $build (Release)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMQP_TESTS=OFF -DMQP_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target uppub mqload mqpushctl mqpush_plugin mqpush-bridge \
    >"$build/bench-unifiedpush-build.log" 2>&1 ||
    { tail -30 "$build/bench-unifiedpush-build.log" >&2; echo "run.sh: build failed" >&2; exit 1; }
uppub=$build/bench/unifiedpush/uppub
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge

ncpu=$(nproc)
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
    on_server=(taskset -c 0) on_load=(taskset -c 1)
    pin_note="bridge alone on CPU 0; Mosquitto with the plugin, the provider and the load on CPU 1"
else
    on_server=() on_load=()
    pin_note="not pinned ($ncpu CPUs): the bridge shares its CPU with the load"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mqpush-bench-unifiedpush.XXXXXX")
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

wait_port() { # port pid name
    local i
    for i in $(seq 1 200); do
        kill -0 "$2" 2>/dev/null || { echo "run.sh: $3 exited at start:" >&2; tail -20 "$work/$3.out" >&2 2>/dev/null; exit 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "run.sh: $3 does not listen on 127.0.0.1:$1" >&2
    exit 1
}
record() { echo "$1" | jq -c --arg p "$2" '. + {phase: $p}' >>"$results"; }
fail_if_error() { # line what
    if [ -z "$1" ] || echo "$1" | jq -e '.error' >/dev/null 2>&1; then
        echo "run.sh: $2 failed: ${1:-no result}" >&2
        tail -5 "$work/load.err" "$work/bridge.out" >&2 2>/dev/null || true
        exit 1
    fi
}
# CPU seconds (user + system) of a process, from /proc/<pid>/stat
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
now_s() { date +%s.%N; }

echo "== mqpush UnifiedPush benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    echo "   warning: load average $load1: other processes are busy, figures will be noisy"
fi

# ---- keys, tokens, configuration ------------------------------------------------------------
iss=https://idp.bench.test/realms/bench
siss=https://idp.bench.test/realms/service
aud=mqpush
"$ctl" keygen --type ec --key "$work/bench.pem" --jwks "$work/bench.jwks.json" >/dev/null
"$ctl" keygen --type ec --key "$work/service.pem" --jwks "$work/service.jwks.json" >/dev/null
pub_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub bench-publisher \
    --roles mqpush-publisher --ttl 7200)
user_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub bench-user \
    --sid bench-session --ttl 7200)
"$ctl" token --key "$work/service.pem" --iss "$siss" --aud "$aud" --sub mqpush-bridge \
    --roles mqpush-bridge --ttl 7200 >"$work/bridge.token"
# Two public streams: the SERV form's registrations read "serv" (events app:serv), the Web Push
# form's read "wp" (app:wp), so each run pushes to one form only.
cat >"$work/streams.json" <<EOF2
{"service": {"issuer": "$siss", "audience": "$aud", "jwks_file": "service.jwks.json"},
 "tenants": {"bench": {"issuer": "$iss", "audience": "$aud", "jwks_file": "bench.jwks.json",
   "streams": {"serv": {"id": "serv", "name": "serv", "publicSubscribe": true,
                        "events": [{"namespace": "app", "name": "serv"}]},
               "wp": {"id": "wp", "name": "wp", "publicSubscribe": true,
                      "events": [{"namespace": "app", "name": "wp"}]}}}}}
EOF2
"$ctl" check-config "$work/streams.json" >/dev/null

mport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
qport=$("$mqload" --free-port)
{
    echo "listener $mport 127.0.0.1"
    echo "persistence false"
    echo "log_dest file $work/mosquitto.log"
    [ "$(id -u)" = 0 ] && echo "user root"
    echo "per_listener_settings false"
    echo "allow_anonymous false"
    echo "plugin $build/plugin/mqpush_plugin.so"
    echo "plugin_opt_config $work/streams.json"
} >"$work/mosquitto.conf"
max=$((regs > endpoints ? regs : endpoints))
cat >"$work/bridge.json" <<EOF2
{"listen": "127.0.0.1:$hport", "public_url": "http://127.0.0.1:$hport",
 "broker": {"host": "127.0.0.1", "port": $mport, "client_id": "bench-bridge",
            "token_file": "bridge.token"},
 "streams_file": "streams.json", "store": "sqlite://bridge.db",
 "limits": {"max_connections": 4096},
 "outbound": {"allow": ["127.0.0.0/8"]},
 "webpush": {"subject": "mailto:bench@mqpush.test", "streams": [], "max_per_user": $max,
             "max_inflight": 256},
 "unifiedpush": {"max_per_user": $max, "max_inflight": 256,
                 "streams": [{"tenant": "bench", "stream": "serv", "default": true},
                             {"tenant": "bench", "stream": "wp"}],
                 "provider": {"rate_per_min": 600000, "burst": 600000,
                              "max_endpoints": $((2 * max))}}}
EOF2
(cd "$work" && "$bridge_bin" -c bridge.json --check-config >/dev/null)

"${on_load[@]}" "$mosquitto" -c "$work/mosquitto.conf" >"$work/mosquitto.out" 2>&1 &
mq_pid=$!
pids+=("$mq_pid")
wait_port "$mport" "$mq_pid" mosquitto
(cd "$work" && exec "${on_server[@]}" "$bridge_bin" -c bridge.json) >"$work/bridge.out" 2>&1 &
bridge_pid=$!
pids+=("$bridge_pid")
wait_port "$hport" "$bridge_pid" bridge
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$hport/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$hport/healthz" >/dev/null || { echo "run.sh: the bridge never reached the broker" >&2; tail "$work/bridge.out" >&2; exit 1; }

# ---- phase A: the application-server side ---------------------------------------------------
"${on_load[@]}" "$node" "$here/provider.mjs" --port "$qport" --registrations "$regs" \
    >"$work/provider.out" 2>&1 &
prov_pid=$!
pids+=("$prov_pid")
wait_port "$qport" "$prov_pid" provider
ctlq() { curl -sf -X "$1" "http://127.0.0.1:$qport/$2"; }

node_load() { "${on_load[@]}" "$node" "$here/load.mjs" "$@" --bridge "$hport" --token "$user_token" 2>>"$work/load.err" || true; }

phase_a() { # form label uppub-options...
    local form=$1 label=$2 c0 c1 t0 t1 stats pub line
    shift 2
    # uppub runs warm + dur; the window measured is the last dur seconds
    "${on_load[@]}" "$uppub" --mqtt-port "$mport" --topic "bench/events/app/$form" \
        --token "$pub_token" --size "$size" --provider-port "$qport" --window "$window" \
        --duration "$(awk -v w="$warm" -v d="$dur" 'BEGIN { print w + d }')" "$@" \
        >"$work/uppub.out" 2>>"$work/load.err" &
    pub=$!
    pids+=("$pub")
    sleep "$warm"
    ctlq POST reset >/dev/null
    c0=$(cpu_s "$bridge_pid") t0=$(now_s)
    sleep "$dur"
    stats=$(ctlq GET stats)
    c1=$(cpu_s "$bridge_pid") t1=$(now_s)
    wait "$pub" || true
    fail_if_error "$(cat "$work/uppub.out")" "uppub ($label)"
    line=$(echo "$stats" | jq -c --arg l "$label" --arg f "$form" --argjson c "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
        --argjson t "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" --argjson regs "$regs" \
        --argjson pub "$(cat "$work/uppub.out")" \
        '{label: $l, form: $f, registrations: $regs, pushes_per_s: .posts_per_s, bridge_busy: ($c / $t),
          cpu_us_per_push: (if .posts > 0 then $c * 1e6 / .posts else null end), latency_ms, published: $pub.published}')
    record "$line" "$label"
    echo "$line" | jq -r '"   \(.label): \(.pushes_per_s | floor) pushes/s, bridge CPU \(.bridge_busy * 100 | round / 100) = \(.cpu_us_per_push // 0 | round) us per push; publish to push p50 \(.latency_ms.p50 // "-" | if type == "number" then (. * 100 | round / 100) else . end) ms, p99 \(.latency_ms.p99 // "-" | if type == "number" then (. * 100 | round / 100) else . end) ms"'
    # let the outbox drain before the next run
    for _ in $(seq 1 100); do
        a=$(ctlq GET stats | jq .total)
        sleep 0.2
        [ "$a" = "$(ctlq GET stats | jq .total)" ] && break
    done
}

echo "== phase A: $regs SERV registrations (each discovered with a GET first)"
line=$(node_load register --provider-port "$qport" --n "$regs" --form serv --stream serv)
fail_if_error "$line" "registering"
phase_a serv serv-rate --rate "$rate_a"
phase_a serv serv-flat-out --rate 0

# Web Push form: the same provider, now counted per registration of that form
kill "$prov_pid" 2>/dev/null; wait "$prov_pid" 2>/dev/null || true
"${on_load[@]}" "$node" "$here/provider.mjs" --port "$qport" --registrations "$regs" \
    >"$work/provider.out" 2>&1 &
prov_pid=$!
pids+=("$prov_pid")
wait_port "$qport" "$prov_pid" provider
echo "== phase A: $regs Web Push form registrations (keys; encrypted and VAPID-signed)"
line=$(node_load register --provider-port "$qport" --n "$regs" --form webpush --stream wp)
fail_if_error "$line" "registering"
phase_a wp webpush-flat-out --rate 0

# ---- phase B: the push-provider side --------------------------------------------------------
phase_b() { # label rate
    local c0 c1 t0 t1 line
    c0=$(cpu_s "$bridge_pid") t0=$(now_s)
    line=$(node_load provider --endpoints "$endpoints" --rate "$2" --duration "$dur" --warmup "$warm" \
        --conns 32 --size 100)
    c1=$(cpu_s "$bridge_pid") t1=$(now_s)
    fail_if_error "$line" "phase B ($1)"
    # CPU over the whole run (warm-up, creating endpoints and the tail included): an upper bound
    line=$(echo "$line" | jq -c --arg l "$1" --argjson c "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
        --argjson t "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
        '. + {label: $l, bridge_busy: ($c / $t)}')
    record "$line" "$1"
    echo "$line" | jq -r '"   \(.label): \(.accepted_per_s | floor) accepted POSTs/s (429: \(.limited), other: \(.other), errors: \(.errors)), bridge CPU \(.bridge_busy * 100 | round / 100); POST to distributor p50 \(.latency_ms.p50 * 100 | round / 100) ms, p99 \(.latency_ms.p99 * 100 | round / 100) ms (\(.latency_ms.n) messages)"'
}
echo "== phase B: the bridge as push provider, $endpoints endpoints, one SSE distributor"
phase_b provider-rate "$rate_b"
phase_b provider-flat-out 0

"$here/report.sh" "$results" "$pin_note"
cp "$results" "$build/bench-unifiedpush-results.jsonl"
echo "raw results: $build/bench-unifiedpush-results.jsonl"
