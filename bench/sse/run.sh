#!/usr/bin/env bash
# SSE benchmark: mqpush-bridge delivering one public stream to many Server-Sent Events clients,
# and as the peer, bare Mosquitto delivering the same events to as many MQTT subscribers.
# sseload (bench/sse, C, epoll) holds the SSE connections and publishes into Mosquitto with the
# plugin; mqload (bench/broker) drives the peer. The bridge runs alone on CPU 0, so its figures
# are per core; Mosquitto and the load clients share CPU 1.
# Phases: bridge memory per idle connection; saturation (flat out: deliveries/s and the bridge's
# CPU time per delivery); latency at half the saturation rate; the same for bare Mosquitto.
# See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/sse/run.sh [--quick] [--keep] [--no-pin]
  --quick   under 40 s: 1,000 idle connections, 200 streaming clients, 4 s runs
  --keep    keep the work directory (configs, logs, results.jsonl) and print its path
  --no-pin  do not pin the bridge (or the peer broker) and the load to separate CPUs
Environment: BUILD_DIR (build tree, <repo>/build-bench), MOSQUITTO (/usr/sbin/mosquitto),
CLIENTS (streaming clients), IDLE (idle connections), DURATION (seconds per measured run),
WINDOW (flat out: most events the slowest client may lag, 200), SIZE (payload bytes, 200),
COALESCE_MS (the bridge's sse.coalesce_ms, 5).
EOF
}

bench_name=bench-sse
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$here/../lib/common.sh"
parse_options "$@"
need_tools jq taskset cmake curl awk
need_broker

if [ "$quick" = 1 ]; then
    idle=1000 clients=200 warm=1 dur=4 drain=3
else
    idle=10000 clients=1000 warm=2 dur=10 drain=5
fi
clients=${CLIENTS:-$clients}
idle=${IDLE:-$idle}
dur=${DURATION:-$dur}
window=${WINDOW:-200}
size=${SIZE:-200}

build_targets sseload mqload mqpushctl mqpush_plugin mqpush-bridge
sseload=$build/bench/sse/sseload
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge

# Descriptors: the bridge wants limits.max_connections + 256, sseload and mqload one per client.
need_descriptors $((idle + clients + 1024))

pin_server_load
if [ "$pinned" = 1 ]; then
    load_cpu=(--load-cpu 1)
    pin_note="bridge (later the peer broker) alone on CPU 0; Mosquitto with the plugin and the load clients on CPU 1"
else
    load_cpu=()
    pin_note="not pinned ($ncpu CPUs): the bridge shares its CPU with the load"
fi

start_work
# the common one with the error alone, and the last lines of sseload's log
fail_if_error() { # line what
    if [ -z "$1" ] || [ "$(j "$1" '.error // empty')" != "" ]; then
        echo "run.sh: $2 failed: $(j "${1:-{\}}" '.error // "no result"')" >&2
        [ -s "$work/sseload.err" ] && tail -5 "$work/sseload.err" >&2
        exit 1
    fi
}

echo "== mqpush SSE benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
warn_if_loaded

# ---- keys, tokens, configuration ------------------------------------------------------------
bridge_keys
# One tenant, one public stream, one event type, no map: the event passes whole, so the
# publisher's "t" and "seq" reach the clients.
write_streams '{"s": {"id": "s", "name": "bench", "publicSubscribe": true,
                     "events": [{"namespace": "app", "name": "tick"}]}}'

mport=$("$mqload" --free-port)
pport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
plugin_conf mqpush "$mport"
mosquitto_conf plain "$pport" "allow_anonymous true"
# heartbeats far apart: they would only add writes; max_connections above every client
bridge_config "$hport" "$mport" <<EOF
 "limits": {"max_connections": $((idle + clients + 100))},
 "sse": {"heartbeat_ms": 300000, "coalesce_ms": ${COALESCE_MS:-5}}
EOF

start_mosquitto mqpush "$mport"
start_bridge_on "$hport"

path='/stream/v1/streams/s?tenant=bench'
sse() { # sseload options...: one result line on stdout
    "${on_load[@]}" "$sseload" --port "$hport" --path "$path" --bridge-pid "$bridge_pid" "$@" \
        2>>"$work/sseload.err" || true
}
pub_args=(--mqtt-port "$mport" --topic bench/events/app/tick --token "$pub_token" --qos 1
    --size "$size" --broker-pid "$mq_pid" "${load_cpu[@]}" --drain "$drain")

# ---- 1. memory per idle connection --------------------------------------------------------------
echo "== idle: $idle SSE connections"
# 50 first, so that one-off costs (buffers, the stream's subscription) are not counted per client
sse --clients 50 --idle >/dev/null
line=$(sse --clients "$idle" --idle --label idle)
fail_if_error "$line" "idle connections"
record "$line" idle
idle_b=$(echo "$line" | jq --argjson n "$idle" '((.rss_after_kib - .rss_before_kib) * 1024 / $n) | floor')
echo "   $(j "$line" .ready) ready in $(j "$line" .connect_s) s; bridge RSS $(j "$line" .rss_before_kib) -> $(j "$line" .rss_after_kib) KiB: $idle_b B per connection"
sleep 1 # the bridge notices the closed connections

# ---- 2. saturation ----------------------------------------------------------------------------------
echo "== saturation: $clients clients, publishing flat out (window $window events) for $warm + $dur s"
sat=$(sse --clients "$clients" --rate 0 --window "$window" --warmup "$warm" --duration "$dur" \
    --label saturation "${pub_args[@]}")
fail_if_error "$sat" saturation
record "$sat" saturation
show() { # result line
    echo "$1" | jq -r 'def ms: (. / 10 | round) / 100;
        "   \(.deliveries_per_s | floor) deliveries/s (\(.events_per_s | floor) events/s), bridge CPU \(.bridge_busy) = \(.cpu_us_per_delivery) us per delivery; p50 \(.latency_us.p50 | ms) ms, p99 \(.latency_us.p99 | ms) ms; lost \(.lost), duplicates \(.duplicates), out of order \(.id_out_of_order), closed \(.closed); load CPU \(.load_cpu_busy // "-")"'
}
show "$sat"
sat_dps=$(j "$sat" '.deliveries_per_s | floor')
data_bytes=$(j "$sat" '.data_bytes_avg | floor')

# ---- 3. latency at half the saturation rate ---------------------------------------------------------
half=$(awk -v d="$sat_dps" -v c="$clients" 'BEGIN { r = int(d / c / 2); print (r < 1 ? 1 : r) }')
echo "== latency: $half events/s ($((half * clients)) deliveries/s, half of saturation)"
lat=$(sse --clients "$clients" --rate "$half" --warmup 1 --duration "$dur" --label latency \
    "${pub_args[@]}")
fail_if_error "$lat" "latency run"
record "$lat" latency
show "$lat"

# With write coalescing the bridge's CPU follows the number of writes more than the number of
# events, so half of the flat-out rate can be the busier load for it (see bench/README.md). The
# latency target is also read at half the throughput target: 100,000 deliveries/s.
trate=$(( (100000 + clients - 1) / clients ))
echo "== latency: $trate events/s ($((trate * clients)) deliveries/s, half of the 200,000/s target)"
tlat=$(sse --clients "$clients" --rate "$trate" --warmup 1 --duration "$dur" --label latency-target \
    "${pub_args[@]}")
fail_if_error "$tlat" "latency run"
record "$tlat" latency-target
show "$tlat"

# ---- 4. the peer: bare Mosquitto, as many MQTT subscribers, events as large ----------------------
stop "$bridge_pid"
stop "$mq_pid"
"${on_server[@]}" "$mosquitto" -c "$work/plain.conf" >"$work/plain.out" 2>&1 &
plain_pid=$!
pids+=("$plain_pid")
wait_port "$pport" "$plain_pid" plain
peer() { # mqload options...
    "${on_load[@]}" "$mqload" --port "$pport" --broker-pid "$plain_pid" --sub-topic bench/s/app:tick \
        "$@" 2>>"$work/mqload.err" || true
}
echo "== peer: bare Mosquitto alone on CPU 0, MQTT subscribers, $data_bytes-byte events (the bridge's data lines)"
peer --pubs 0 --subs 0 --idle 50 --idle-subscribe --settle 0.2 --id-prefix warm --label peer-warm >/dev/null
pidle=$(peer --pubs 0 --subs 0 --idle "$idle" --idle-subscribe --label peer-idle)
record "$pidle" peer-idle
echo "   $idle idle subscribers: $(j "$pidle" '(.rss_per_client_bytes // 0) | floor') B per connection"
body='{"id":"0193aaaa-0000-7000-8000-000000000000","namespace":"app","name":"tick","payload":{"ts":"%T","pad":"%P"}}'
# publishes QoS 1, deliveries QoS 0: like the bridge, which has no acknowledgement per client
psat=$(peer --pubs 1 --subs "$clients" --qos 1 --sub-qos 0 --window "$window" --warmup "$warm" \
    --duration "$dur" --pub-topic bench/s/app:tick --payload "$body" --size "$data_bytes" --label peer-saturation)
record "$psat" peer-saturation
echo "$psat" | jq -r '"   flat out: \(.delivered_per_s | floor) deliveries/s, broker CPU \(.broker_cpu), lost \(.lost)"'
p_dps=$(j "$psat" '.delivered_per_s // 0 | floor')
p_half=$(awk -v d="$p_dps" -v c="$clients" 'BEGIN { r = int(d / c / 2); print (r < 1 ? 1 : r) }')
plat=$(peer --pubs 1 --subs "$clients" --qos 1 --sub-qos 0 --rate "$p_half" --warmup 1 \
    --duration "$dur" --pub-topic bench/s/app:tick --payload "$body" --size "$data_bytes" --label peer-latency)
record "$plat" peer-latency
echo "$plat" | jq -r 'def ms: (. / 10 | round) / 100;
    "   \(.rate) events/s (half its saturation): p50 \(.latency_us.p50 | ms) ms, p99 \(.latency_us.p99 | ms) ms, lost \(.lost)"'

"$here/report.sh" "$results" "$pin_note" "$clients" "$idle"
save_results
