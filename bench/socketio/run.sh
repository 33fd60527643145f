#!/usr/bin/env bash
# socket.io benchmark: mqpush-bridge delivering one public stream to many socket.io clients
# (WebSocket transport), and as the peer, the Node socket.io 4.8 server fed from the same
# Mosquitto by mqtt.js, serving as many clients. sioload (bench/socketio, C, epoll) holds the
# connections and publishes into Mosquitto with the plugin. The server under test runs alone on
# CPU 0, so its figures are per core; Mosquitto and the load client share CPU 1. The bridge runs
# first, then the peer takes its CPU.
# Phases, for each server and each client count N: server memory per idle connection;
# saturation (flat out: deliveries/s and the server's CPU time per delivery); latency at one
# fixed rate of deliveries/s, the same for both servers. See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/socketio/run.sh [--quick] [--keep] [--no-pin] [--peer-only]
  --quick      about a minute: 200 and 1,000 clients, 4 s runs
  --keep       keep the work directory (configs, logs, results.jsonl) and print its path
  --no-pin     do not pin the servers and the load to separate CPUs
  --peer-only  measure the Node peer only (the bridge is still started, to check it)
Environment: BUILD_DIR (build tree, <repo>/build-bench), MOSQUITTO (/usr/sbin/mosquitto),
SIZES (client counts, "1000 10000"), DURATION (seconds per measured run, 10), WINDOW (flat
out: most deliveries in flight, 200000: the slowest client may lag WINDOW/N events, at least
10), SIZE (payload bytes, 200), LAT_DPS (deliveries/s of the fixed-rate latency run, 20000),
NODE (node).
EOF
}

bench_name=bench-sio
peer_only=0
extra_option() { [ "$1" = --peer-only ] && peer_only=1; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$here/../lib/common.sh"
parse_options "$@"
node=${NODE:-node}
need_tools jq taskset cmake curl awk npm mosquitto_sub "$node"
need_broker

if [ "$quick" = 1 ]; then
    sizes="200 1000" warm=1 dur=4 drain=5
else
    sizes="1000 10000" warm=2 dur=10 drain=10
fi
sizes=${SIZES:-$sizes}
dur=${DURATION:-$dur}
window=${WINDOW:-200000}
size=${SIZE:-200}
lat_dps=${LAT_DPS:-20000}
settle=1 # seconds before each memory reading (the peer collects its garbage first)
max_n=0
for n in $sizes; do [ "$n" -gt "$max_n" ] && max_n=$n; done

build_targets sioload mqload mqpushctl mqpush_plugin mqpush-bridge
need_peer_packages socket.io mqtt
sioload=$build/bench/socketio/sioload
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge

# Descriptors: the bridge wants limits.max_connections + 256, sioload one per client.
need_descriptors $((max_n + 1024))

pin_server_load
if [ "$pinned" = 1 ]; then
    load_cpu=(--load-cpu 1 --server-cpu 0)
    pin_note="the server (bridge, then Node) alone on CPU 0; Mosquitto with the plugin, sioload and its publisher on CPU 1"
else
    load_cpu=()
    pin_note="not pinned ($ncpu CPUs): the server shares its CPU with the load"
fi

start_work
record_server() { # line server n phase
    echo "$1" | jq -c --arg s "$2" --argjson n "$3" --arg p "$4" '. + {server: $s, n: $n, phase: $p}' >>"$results"
}

echo "== mqpush socket.io benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
warn_if_loaded

# ---- keys, tokens, configuration (as bench/sse) ----------------------------------------------
# the bridge's service token, bridge.token: the peer subscribes with the same role
bridge_keys
# One tenant, one public stream, one event type, no map: the event passes whole, so the
# publisher's "t" and "seq" reach the clients.
write_streams '{"s": {"id": "s", "name": "bench", "publicSubscribe": true,
                     "events": [{"namespace": "app", "name": "tick"}]}}'

mport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
nport=$("$mqload" --free-port)
plugin_conf mqpush "$mport"
# heartbeats far apart: they would only add writes; max_connections above every client
bridge_config "$hport" "$mport" <<EOF
 "limits": {"max_connections": $((max_n + 100))},
 "sse": {"heartbeat_ms": 300000}
EOF

start_mosquitto mqpush "$mport"

pub_args=(--mqtt-port "$mport" --topic bench/events/app/tick --token "$pub_token" --qos 1
    --size "$size" --broker-pid "$mq_pid" "${load_cpu[@]}" --drain "$drain")

show() { # result line
    echo "$1" | jq -r 'def ms: (. / 10 | round) / 100;
        if .error then "   FAILED: \(.error)" else
        "   \(.deliveries_per_s | floor) deliveries/s (\(.events_per_s | floor) events/s), server CPU \(.server_busy) = \(.cpu_us_per_delivery) us per delivery; p50 \(.latency_us.p50 | ms) ms, p99 \(.latency_us.p99 | ms) ms; lost \(.lost), duplicates \(.duplicates), closed \(.closed); load CPU \(.load_cpu_busy // "-")" end'
}

# The servers. Each start_* sets spid and sport.
start_bridge() {
    start_bridge_on "$hport"
    spid=$bridge_pid sport=$hport
}
start_peer() {
    (cd "$here/peer" && PORT=$nport MQTT_PORT=$mport TOKEN_FILE=$work/bridge.token TOPIC='bench/s/#' \
        NSP=/bench EVENT=app:tick exec "${on_server[@]}" "$node" --expose-gc server.mjs) \
        >"$work/peer.out" 2>&1 &
    spid=$! sport=$nport
    pids+=("$spid")
    wait_port "$sport" "$spid" peer
    for _ in $(seq 1 100); do
        grep -q '^ready' "$work/peer.out" && break
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.1
    done
    grep -q '^ready' "$work/peer.out" || { echo "run.sh: the peer never subscribed:" >&2; tail "$work/peer.out" >&2; exit 1; }
}

sio() { "${on_load[@]}" "$sioload" --port "$sport" --server-pid "$spid" "$@" 2>>"$work/sioload.err" || true; }

# All phases against one server: name [sioload options for memory readings]. Every memory
# figure comes from a server started for it, so that memory freed by earlier phases (which
# neither malloc nor V8 hands back at once) cannot hold the new connections; the load phases
# share one start.
measure() {
    local name=$1 n line rate win
    shift
    for n in $sizes; do
        "start_$name"
        echo "== $name, $n clients: idle"
        # 50 first, so that one-off costs (buffers, the stream's subscription) are not counted
        sio --clients 50 --idle >/dev/null
        sleep 0.5
        line=$(sio --clients "$n" --idle --settle "$settle" "$@" --label "$name-idle-$n")
        record_server "$line" "$name" "$n" idle
        echo "$line" | jq -r --argjson n "$n" 'if .error then "   FAILED: \(.error)" else
            "   \(.ready) joined in \(.connect_s) s; RSS \(.rss_before_kib) -> \(.rss_after_kib) KiB: \((.rss_after_kib - .rss_before_kib) * 1024 / $n | floor) B per connection" end'
        stop "$spid"
    done
    "start_$name"
    for n in $sizes; do
        win=$((window / n < 10 ? 10 : window / n))
        echo "== $name, $n clients: flat out (window $win events) for $warm + $dur s"
        line=$(sio --clients "$n" --rate 0 --window "$win" --warmup "$warm" --duration "$dur" \
            --label "$name-saturation-$n" "${pub_args[@]}")
        record_server "$line" "$name" "$n" saturation
        show "$line"
        sleep 1 # the server notices the closed connections

        rate=$(awk -v d="$lat_dps" -v c="$n" 'BEGIN { r = d / c; print (r < 1 ? 1 : r) }')
        echo "== $name, $n clients: $rate events/s ($lat_dps deliveries/s) for $dur s"
        line=$(sio --clients "$n" --rate "$rate" --warmup 1 --duration "$dur" \
            --label "$name-latency-$n" "${pub_args[@]}")
        record_server "$line" "$name" "$n" latency
        show "$line"
        sleep 1
    done
    stop "$spid"
}

# ---- 1. the bridge ----------------------------------------------------------------------------
start_bridge
# The open packet of a polling handshake tells whether this bridge serves socket.io at all.
open=$(curl -s "http://127.0.0.1:$hport/socket.io/?EIO=4&transport=polling" || true)
stop "$spid"
if [ "${open:0:2}" != '0{' ]; then
    echo "== the bridge does not serve socket.io (GET /socket.io/?EIO=4&transport=polling answered '${open:0:60}'): bridge phases skipped"
    echo '{"server":"bridge","phase":"absent","error":"the bridge does not serve /socket.io/"}' >>"$results"
elif [ "$peer_only" = 1 ]; then
    echo "== the bridge serves socket.io; --peer-only: bridge phases skipped"
else
    measure bridge
fi

# ---- 2. the peer: Node socket.io, alone on CPU 0 -----------------------------------------------
# The bridge keeps a persistent MQTT session (bridge/broker/link.c): stopped, the broker would
# go on queueing every event for it during the peer's runs. A clean start with its client id
# ends that session.
mosquitto_sub -h 127.0.0.1 -p "$mport" -V mqttv5 -i bench-bridge -u bench -P "$(cat "$work/bridge.token")" \
    -t 'bench/s/#' -E >/dev/null 2>&1 ||
    echo "   warning: could not end the bridge's MQTT session: the broker queues events for it"
echo "== peer: Node $("$node" --version), socket.io $(jq -r .version "$here/peer/node_modules/socket.io/package.json"), mqtt.js $(jq -r .version "$here/peer/node_modules/mqtt/package.json")"
measure peer --gc-signal

"$here/report.sh" "$results" "$pin_note" "$sizes" "$lat_dps"
save_results
