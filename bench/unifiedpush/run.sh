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

bench_name=bench-unifiedpush
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$here/../lib/common.sh"
parse_options "$@"
node=${NODE:-node}
need_tools jq taskset cmake curl awk "$node"
need_broker

if [ "$quick" = 1 ]; then regs=200 endpoints=200 dur=3 warm=1; else regs=1000 endpoints=1000 dur=8 warm=2; fi
regs=${REGS:-$regs}
endpoints=${ENDPOINTS:-$endpoints}
dur=${DURATION:-$dur}
window=${WINDOW:-20}
size=${SIZE:-200}
rate_a=${RATE_A:-5}
rate_b=${RATE_B:-1000}

build_targets uppub mqload mqpushctl mqpush_plugin mqpush-bridge
uppub=$build/bench/unifiedpush/uppub
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge

pin_server_load
if [ "$pinned" = 1 ]; then
    pin_note="bridge alone on CPU 0; Mosquitto with the plugin, the provider and the load on CPU 1"
else
    pin_note="not pinned ($ncpu CPUs): the bridge shares its CPU with the load"
fi

start_work
err_logs=("$work/load.err" "$work/bridge.out")

echo "== mqpush UnifiedPush benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
warn_if_loaded

# ---- keys, tokens, configuration ------------------------------------------------------------
bridge_keys
user_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub bench-user \
    --sid bench-session --ttl 7200)
# Two public streams: the SERV form's registrations read "serv" (events app:serv), the Web Push
# form's read "wp" (app:wp), so each run pushes to one form only.
write_streams '{"serv": {"id": "serv", "name": "serv", "publicSubscribe": true,
                        "events": [{"namespace": "app", "name": "serv"}]},
               "wp": {"id": "wp", "name": "wp", "publicSubscribe": true,
                      "events": [{"namespace": "app", "name": "wp"}]}}'

mport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
qport=$("$mqload" --free-port)
plugin_conf mosquitto "$mport"
max=$((regs > endpoints ? regs : endpoints))
bridge_config "$hport" "$mport" <<EOF2
 "public_url": "http://127.0.0.1:$hport",
 "limits": {"max_connections": 4096},
 "outbound": {"allow": ["127.0.0.0/8"]},
 "webpush": {"subject": "mailto:bench@mqpush.test", "streams": [], "max_per_user": $max,
             "max_inflight": 256},
 "unifiedpush": {"max_per_user": $max, "max_inflight": 256,
                 "streams": [{"tenant": "bench", "stream": "serv", "default": true},
                             {"tenant": "bench", "stream": "wp"}],
                 "provider": {"rate_per_min": 600000, "burst": 600000,
                              "max_endpoints": $((2 * max))}}
EOF2

start_mosquitto mosquitto "$mport"
start_bridge_on "$hport"

# ---- phase A: the application-server side ---------------------------------------------------
start_provider() { # the push provider, on the load CPU: prov_pid
    "${on_load[@]}" "$node" "$here/provider.mjs" --port "$qport" --registrations "$regs" \
        >"$work/provider.out" 2>&1 &
    prov_pid=$!
    pids+=("$prov_pid")
    wait_port "$qport" "$prov_pid" provider
}
start_provider
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
stop "$prov_pid"
start_provider
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
save_results
