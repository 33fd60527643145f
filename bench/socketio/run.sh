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

quick=0 keep=0 pin=1 peer_only=0
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --keep) keep=1 ;;
    --no-pin) pin=0 ;;
    --peer-only) peer_only=1 ;;
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
for tool in jq taskset cmake curl awk npm mosquitto_sub "$node"; do
    command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is needed but not installed" >&2; exit 1; }
done
[ -x "$mosquitto" ] || { echo "run.sh: no broker at $mosquitto (set MOSQUITTO)" >&2; exit 1; }

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

echo "== building $build (Release)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMQP_TESTS=OFF -DMQP_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target sioload mqload mqpushctl mqpush_plugin mqpush-bridge \
    >"$build/bench-sio-build.log" 2>&1 ||
    { tail -30 "$build/bench-sio-build.log" >&2; echo "run.sh: build failed" >&2; exit 1; }
if [ ! -d "$here/peer/node_modules/socket.io" ] || [ ! -d "$here/peer/node_modules/mqtt" ]; then
    echo "== installing the peer's packages (npm ci, versions from peer/package-lock.json)"
    (cd "$here/peer" && npm ci --no-audit --no-fund >/dev/null)
fi
sioload=$build/bench/socketio/sioload
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge

# Descriptors: the bridge wants limits.max_connections + 256, sioload one per client.
need=$((max_n + 1024))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
    ulimit -Hn "$need" 2>/dev/null ||
        { echo "run.sh: needs $need descriptors, hard limit is $(ulimit -Hn) (run as root, or raise it)" >&2; exit 1; }
fi
ulimit -n "$(ulimit -Hn)"

ncpu=$(nproc)
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
    on_server=(taskset -c 0) on_load=(taskset -c 1) load_cpu=(--load-cpu 1 --server-cpu 0)
    pin_note="the server (bridge, then Node) alone on CPU 0; Mosquitto with the plugin, sioload and its publisher on CPU 1"
else
    on_server=() on_load=() load_cpu=()
    pin_note="not pinned ($ncpu CPUs): the server shares its CPU with the load"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mqpush-bench-sio.XXXXXX")
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
    for _ in $(seq 1 200); do
        kill -0 "$2" 2>/dev/null || { echo "run.sh: $3 exited at start:" >&2; tail -20 "$work/$3.out" "$work/$3.log" >&2 2>/dev/null; exit 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "run.sh: $3 does not listen on 127.0.0.1:$1" >&2
    exit 1
}
stop() { # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
j() { echo "$1" | jq -r "$2"; } # a field of a result line
record() { # line server n phase
    echo "$1" | jq -c --arg s "$2" --argjson n "$3" --arg p "$4" '. + {server: $s, n: $n, phase: $p}' >>"$results"
}

echo "== mqpush socket.io benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    echo "   warning: load average $load1: other processes are busy, figures will be noisy"
fi

# ---- keys, tokens, configuration (as bench/sse) ----------------------------------------------
iss=https://idp.bench.test/realms/bench
siss=https://idp.bench.test/realms/service
aud=mqpush
"$ctl" keygen --type ec --key "$work/bench.pem" --jwks "$work/bench.jwks.json" >/dev/null
"$ctl" keygen --type ec --key "$work/service.pem" --jwks "$work/service.jwks.json" >/dev/null
pub_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub bench-publisher \
    --roles mqpush-publisher --ttl 7200)
# the bridge's service token; the peer subscribes with the same role
"$ctl" token --key "$work/service.pem" --iss "$siss" --aud "$aud" --sub mqpush-bridge \
    --roles mqpush-bridge --ttl 7200 >"$work/bridge.token"
# One tenant, one public stream, one event type, no map: the event passes whole, so the
# publisher's "t" and "seq" reach the clients.
cat >"$work/streams.json" <<EOF
{"service": {"issuer": "$siss", "audience": "$aud", "jwks_file": "service.jwks.json"},
 "tenants": {"bench": {"issuer": "$iss", "audience": "$aud", "jwks_file": "bench.jwks.json",
   "streams": {"s": {"id": "s", "name": "bench", "publicSubscribe": true,
                     "events": [{"namespace": "app", "name": "tick"}]}}}}}
EOF
"$ctl" check-config "$work/streams.json" >/dev/null

mport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
nport=$("$mqload" --free-port)
{
    echo "listener $mport 127.0.0.1"
    echo "persistence false"
    echo "log_dest file $work/mqpush.log"
    # as root Mosquitto would become "mosquitto", who cannot read this private directory
    [ "$(id -u)" = 0 ] && echo "user root"
    echo "per_listener_settings false"
    echo "allow_anonymous false"
    echo "plugin $build/plugin/mqpush_plugin.so"
    echo "plugin_opt_config $work/streams.json"
} >"$work/mqpush.conf"
# heartbeats far apart: they would only add writes; max_connections above every client
cat >"$work/bridge.json" <<EOF
{"listen": "127.0.0.1:$hport",
 "broker": {"host": "127.0.0.1", "port": $mport, "client_id": "bench-bridge",
            "token_file": "bridge.token"},
 "streams_file": "streams.json", "store": "sqlite://bridge.db",
 "limits": {"max_connections": $((max_n + 100))},
 "sse": {"heartbeat_ms": 300000}}
EOF
(cd "$work" && "$bridge_bin" -c bridge.json --check-config >/dev/null)

"${on_load[@]}" "$mosquitto" -c "$work/mqpush.conf" >"$work/mqpush.out" 2>&1 &
mq_pid=$!
pids+=("$mq_pid")
wait_port "$mport" "$mq_pid" mqpush

pub_args=(--mqtt-port "$mport" --topic bench/events/app/tick --token "$pub_token" --qos 1
    --size "$size" --broker-pid "$mq_pid" "${load_cpu[@]}" --drain "$drain")

show() { # result line
    echo "$1" | jq -r 'def ms: (. / 10 | round) / 100;
        if .error then "   FAILED: \(.error)" else
        "   \(.deliveries_per_s | floor) deliveries/s (\(.events_per_s | floor) events/s), server CPU \(.server_busy) = \(.cpu_us_per_delivery) us per delivery; p50 \(.latency_us.p50 | ms) ms, p99 \(.latency_us.p99 | ms) ms; lost \(.lost), duplicates \(.duplicates), closed \(.closed); load CPU \(.load_cpu_busy // "-")" end'
}

# The servers. Each start_* sets spid and sport.
start_bridge() {
    (cd "$work" && exec "${on_server[@]}" "$bridge_bin" -c bridge.json) >>"$work/bridge.out" 2>&1 &
    spid=$! sport=$hport
    pids+=("$spid")
    wait_port "$sport" "$spid" bridge
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$sport/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$sport/healthz" >/dev/null || { echo "run.sh: the bridge never reached the broker" >&2; tail "$work/bridge.out" >&2; exit 1; }
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
        record "$line" "$name" "$n" idle
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
        record "$line" "$name" "$n" saturation
        show "$line"
        sleep 1 # the server notices the closed connections

        rate=$(awk -v d="$lat_dps" -v c="$n" 'BEGIN { r = d / c; print (r < 1 ? 1 : r) }')
        echo "== $name, $n clients: $rate events/s ($lat_dps deliveries/s) for $dur s"
        line=$(sio --clients "$n" --rate "$rate" --warmup 1 --duration "$dur" \
            --label "$name-latency-$n" "${pub_args[@]}")
        record "$line" "$name" "$n" latency
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
cp "$results" "$build/bench-sio-results.jsonl"
echo "raw results: $build/bench-sio-results.jsonl"
