#!/usr/bin/env bash
# Soak benchmark: the bridge (Release) and Mosquitto with the plugin under a fixed mixed load for
# --seconds (600): publishers at a steady rate on six streams; SSE clients, socket.io clients
# (WebSocket and polling), Web Push subscriptions on a loopback push service, SSF push streams to
# a loopback SET receiver, UnifiedPush registrations on a loopback provider and the bridge as
# UnifiedPush provider; connection churn (SSE clients resuming with Last-Event-ID, socket.io
# sockets recovered after a cut transport, refused requests, short MQTT sessions) and a SIGHUP
# to bridge and broker every --reload seconds. Every --sample seconds it reads the RSS and open
# descriptors of both processes from /proc; at the end it prints a table and a verdict: RSS
# growth after the warm-up within bounds, descriptors back to their baseline, nothing lost at any
# consumer (counted by event id), latency p50/p99 per channel. Exits 1 when the verdict fails.
# The bridge runs alone on CPU 0; Mosquitto, the publishers and the clients on CPU 1.
# See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF2'
usage: bench/soak/run.sh [--seconds N] [--warmup N] [--sample N] [--reload N] [--quick] [--keep] [--no-pin]
  --seconds N  how long the publishers publish (600)
  --warmup N   seconds after the start that the RSS verdict leaves out (the longer of the
               replay age and the recovery window, and 30 more: 150)
  --sample N   seconds between readings of RSS and descriptors (10)
  --reload N   seconds between SIGHUPs to the bridge and the broker (60; 0: none)
  --quick      a 150 s run (replay age and recovery window 30 s, warm-up 60 s, readings every
               5 s, a reload every 30 s)
  --keep       keep the work directory (configs, logs, samples.jsonl, results.jsonl)
  --no-pin     do not pin the bridge and the load to separate CPUs
Environment: BUILD_DIR (<repo>/build-bench), MOSQUITTO (/usr/sbin/mosquitto), NODE (node),
RATE (events/s on each of the three client streams, 80), PUSH_RATE (events/s on each of the
Web Push, UnifiedPush and SSF streams, 20), UP_RATE (messages/s to the bridge as UnifiedPush
provider, 20), SSE (steady SSE clients, 30), SSE_CHURN (8), SIO_WS (12), SIO_POLLING (6),
SIO_CHURN (8), WEBPUSH (subscriptions, 10), UNIFIEDPUSH (registrations, 10), SSF (push streams,
2), ENDPOINTS (provider endpoints, 5), DRAIN (seconds after publishing stops, 10),
REPLAY_AGE_S (the bridge's sse.replay_max_age_s, 60), RECOVERY_S (its socketio.recovery_window_s,
120), RSS_GROWTH_MIB (bound on the bridge's RSS growth after the warm-up, 8), RSS_LATE_MIB (bound
on its growth over the second half, 2), BROKER_GROWTH_MIB (the broker's, 2).
Exits 1 when the verdict fails.
EOF2
}

bench_name=bench-soak
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seconds=600 warmup='' sample=10 reload=60
extra_option() {
    case "$1" in
    --seconds | --warmup | --sample | --reload)
        [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || return 1
        printf -v "${1#--}" '%s' "$2"
        opt_args=2
        ;;
    *) return 1 ;;
    esac
}
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$here/../lib/common.sh"
parse_options "$@"
replay_age=${REPLAY_AGE_S:-60} recovery=${RECOVERY_S:-120}
if [ "$quick" = 1 ]; then
    seconds=150 replay_age=${REPLAY_AGE_S:-30} recovery=${RECOVERY_S:-30} sample=5 reload=30
fi
# The bridge's memory grows by design for as long as it keeps things by age: every event for
# sse.replay_max_age_s (up to the hub's ring limit), and the state of every cut socket.io
# connection for socketio.recovery_window_s. The warm-up covers both, and 30 s more.
warmup=${warmup:-$(((replay_age > recovery ? replay_age : recovery) + 30))}
node=${NODE:-node}
need_tools jq taskset cmake curl awk ss "$node"
need_broker
[ -d "$top/tests/integration/node_modules/socket.io-client" ] ||
    { echo "run.sh: the integration tests' npm packages are missing (run scripts/deps.sh)" >&2; exit 1; }

rate=${RATE:-80} push_rate=${PUSH_RATE:-20} up_rate=${UP_RATE:-20}
n_sse=${SSE:-30} n_sse_churn=${SSE_CHURN:-8}
n_ws=${SIO_WS:-12} n_poll=${SIO_POLLING:-6} n_sio_churn=${SIO_CHURN:-8}
n_wp=${WEBPUSH:-10} n_up=${UNIFIEDPUSH:-10} n_ssf=${SSF:-2} n_ep=${ENDPOINTS:-5}
drain=${DRAIN:-10}
set_type=urn:mqpush:bench:event:tick

build_targets uppub mqload mqpushctl mqpush_plugin mqpush-bridge
uppub=$build/bench/unifiedpush/uppub
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge

pin_server_load
if [ "$pinned" = 1 ]; then
    pin_note="bridge alone on CPU 0; Mosquitto, publishers and clients on CPU 1"
else
    pin_note="not pinned ($ncpu CPUs)"
fi
need_descriptors 4096
start_work
samples=$work/samples.jsonl
: >"$samples"
err_logs=("$work/bridge.out" "$work/sink.err" "$work/sse.err" "$work/sio.err")

echo "== mqpush soak: $(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $pin_note"
echo "   ${seconds} s of publishing (warm-up ${warmup} s; replay age ${replay_age} s, recovery window ${recovery} s), readings every ${sample} s, SIGHUP every ${reload} s"
warn_if_loaded

# ---- keys, tokens, configuration ------------------------------------------------------------
bridge_keys
ttl=$((seconds + 3600))
mint() { # key sub [options]: a token that outlives the run
    local key=$1 sub=$2
    shift 2
    "$ctl" token --key "$work/$key.pem" --iss "$([ "$key" = service ] && echo "$siss" || echo "$iss")" \
        --aud "$aud" --sub "$sub" --ttl "$ttl" "$@"
}
pub_token=$(mint bench bench-publisher --roles mqpush-publisher)
mint service mqpush-bridge --roles mqpush-bridge >"$work/bridge.token"
user_token=$(mint bench soak-user --sid soak-session)
listener_token=$(mint bench soak-listener --roles stream-listener)
# the SSF receiver's token: its sub becomes the streams' aud (docs/ssf.md)
rx_token=$(mint bench soak-receiver --roles ssf-receiver)

# s1-s3 for the stream clients, wp for Web Push, up for UnifiedPush, sec for the SSF
# transmitter: every stream carries one event type of its own, so every publisher feeds one.
streams_json=$(jq -nc '[["s1","e1"],["s2","e2"],["s3","e3"],["wp","wp"],["up","up"],["sec","sec"]]
    | map({key: .[0], value: {id: .[0], name: .[0], publicSubscribe: true,
                              events: [{namespace: "app", name: .[1]}]}}) | from_entries')
write_streams "$streams_json"

mport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
sport=$("$mqload" --free-port)
plugin_conf mosquitto "$mport"
bridge_config "$hport" "$mport" <<EOF2
 "public_url": "http://127.0.0.1:$hport",
 "limits": {"max_connections": 4096},
 "outbound": {"allow": ["127.0.0.0/8"]},
 "sse": {"replay_max_age_s": $replay_age},
 "socketio": {"recovery_window_s": $recovery},
 "webpush": {"subject": "mailto:soak@mqpush.test", "max_per_user": 64,
             "streams": [{"tenant": "bench", "stream": "wp", "default": true}]},
 "unifiedpush": {"max_per_user": 64,
                 "streams": [{"tenant": "bench", "stream": "up", "default": true}],
                 "provider": {"rate_per_min": 600000, "burst": 600000, "max_endpoints": 64}},
 "ssf": {"transmitter": {"alg": "ES256",
   "streams": [{"tenant": "bench", "stream": "sec",
                "events": [{"namespace": "app", "name": "sec", "type": "$set_type",
                            "subject_path": "payload.seq"}]}],
   "delivery": {"max_pending": 10000, "retry_min_ms": 100}}}
EOF2

start_mosquitto mosquitto "$mport"
start_bridge_on "$hport"

# ---- readings -------------------------------------------------------------------------------
t_load=
# One line in samples.jsonl: RSS (kB) and descriptors of the bridge and the broker. The bridge's
# socket descriptors are told apart by their inode in /proc/<pid>/net/tcp{,6}: "clients" are
# connections to its HTTP port, "outbound" its connections to the loopback receivers (curl's
# connection cache); the rest, "own" (files, the event loop's descriptors, the listener, the
# broker link), must not change.
hport_hex=$(printf '%04X' "$hport") mport_hex=$(printf '%04X' "$mport")
fd_classes() { # pid: "own clients outbound"
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null |
        awk -v h="$hport_hex" -v m="$mport_hex" '
            FILENAME != "-" { if (FNR > 1) { split($2, l, ":"); split($3, r, ":"); st[$10] = $4; lp[$10] = l[2]; rp[$10] = r[2] } next }
            !/^socket:\[/ { own++; next }
            { i = substr($0, 9, length($0) - 9) }
            !(i in st) || st[i] == "0A" || rp[i] == m { own++; next }
            lp[i] == h { clients++; next }
            { outbound++ }
            END { print own + 0, clients + 0, outbound + 0 }' "/proc/$1/net/tcp" "/proc/$1/net/tcp6" -
}
take_sample() { # phase
    local t own clients outbound metrics
    t=0
    [ -n "$t_load" ] && t=$(awk -v a="$t_load" -v b="$(now_s)" 'BEGIN { printf "%.0f", b - a }')
    read -r own clients outbound < <(fd_classes "$bridge_pid")
    metrics=$(curl -s --max-time 5 "http://127.0.0.1:$hport/metrics" || true)
    jq -nc --arg phase "$1" --argjson t "$t" \
        --argjson b_rss "$(awk '/^VmRSS/ { print $2 }' "/proc/$bridge_pid/status")" \
        --argjson own "$own" --argjson clients "$clients" --argjson outbound "$outbound" \
        --argjson m_rss "$(awk '/^VmRSS/ { print $2 }' "/proc/$mq_pid/status")" \
        --argjson m_fds "$(find "/proc/$mq_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)" \
        --argjson consumers "$(echo "$metrics" | awk '$1 == "mqpush_bridge_consumers" { print $2; f = 1 } END { if (!f) print 0 }')" \
        --argjson pending "$(echo "$metrics" | awk '$1 ~ /^mqpush_bridge_push_pending/ { s += $2 } END { print s + 0 }')" \
        --argjson dropped "$(echo "$metrics" | awk '$1 == "mqpush_bridge_slow_clients_dropped_total" { print $2; f = 1 } END { if (!f) print 0 }')" \
        '{phase: $phase, t: $t, b_rss: $b_rss, b_fds: ($own + $clients + $outbound), clients: $clients,
          outbound: $outbound, b_own: $own, m_rss: $m_rss, m_fds: $m_fds, consumers: $consumers,
          pending: $pending, slow_dropped: $dropped}' >>"$samples"
}
take_sample idle

# ---- the consumers --------------------------------------------------------------------------
node_role() { # name script args...: a Node process on the load CPU, its pid in node_pid
    local name=$1
    shift
    (cd "$here" && exec "${on_load[@]}" "$node" "$@") >"$work/$name.out" 2>"$work/$name.err" &
    node_pid=$!
    pids+=("$node_pid")
}
wait_ready() { # name pid
    for _ in $(seq 1 600); do
        grep -q '"ready":true' "$work/$1.out" 2>/dev/null && return 0
        if ! kill -0 "$2" 2>/dev/null || grep -q '"error"' "$work/$1.out" 2>/dev/null; then
            echo "run.sh: $1 failed at start:" >&2
            tail -5 "$work/$1.out" "$work/$1.err" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "run.sh: $1 not ready after 60 s" >&2
    exit 1
}

echo "== setting up: $n_wp Web Push subscriptions, $n_up UnifiedPush registrations, $n_ssf SSF push streams, $n_ep provider endpoints"
node_role sink sink.mjs --bridge "$hport" --port "$sport" --user-token "$user_token" --rx-token "$rx_token" \
    --set-type "$set_type" --webpush "$n_wp" --unifiedpush "$n_up" --ssf "$n_ssf" --endpoints "$n_ep" --up-rate "$up_rate"
sink_pid=$node_pid
wait_ready sink "$sink_pid"
echo "== connecting: $n_sse + $n_sse_churn SSE clients, $n_ws WebSocket + $n_poll polling + $n_sio_churn churning socket.io sockets"
node_role sse clients.mjs sse --bridge "$hport" --streams s1,s2,s3 --steady "$n_sse" --churn "$n_sse_churn" --refuse-ms 2000
sse_pid=$node_pid
node_role sio clients.mjs sio --bridge "$hport" --streams s1,s2,s3 --ws "$n_ws" --polling "$n_poll" --churn "$n_sio_churn" --refuse-ms 2000
sio_pid=$node_pid
node_role mqtt clients.mjs mqtt --mqtt "$mport" --token "$listener_token" --topic 'bench/s1/#' --every-ms 500
mqtt_pid=$node_pid
wait_ready sse "$sse_pid"
wait_ready sio "$sio_pid"
wait_ready mqtt "$mqtt_pid"
node_pids=("$sink_pid" "$sse_pid" "$sio_pid" "$mqtt_pid")

# ---- the load -------------------------------------------------------------------------------
t_load=$(now_s)
take_sample start
kill -USR1 "${node_pids[@]}"
pub_pids=()
for s in s1:e1:$rate s2:e2:$rate s3:e3:$rate wp:wp:$push_rate up:up:$push_rate sec:sec:$push_rate; do
    IFS=: read -r stream event r <<<"$s"
    "${on_load[@]}" "$uppub" --mqtt-port "$mport" --topic "bench/events/app/$event" --token "$pub_token" \
        --rate "$r" --duration "$seconds" --size 200 >"$work/pub-$stream.out" 2>>"$work/pub.err" &
    pub_pids+=($!)
    pids+=($!)
done
echo "== publishing: $rate events/s on s1, s2, s3; $push_rate events/s on wp, up, sec; $up_rate messages/s to the provider"

publishing() {
    local p
    for p in "${pub_pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done
    return 1
}
next_sample=$sample next_reload=$reload reloads=0
while publishing; do
    sleep 1
    el=$(awk -v a="$t_load" -v b="$(now_s)" 'BEGIN { printf "%d", b - a }')
    if [ "$el" -ge "$next_sample" ]; then
        take_sample load
        next_sample=$((next_sample + sample))
        tail -1 "$samples" | jq -r '"   \(.t) s: bridge \(.b_rss / 1024 * 10 | round / 10) MiB, \(.b_fds) fds (\(.clients) clients, \(.outbound) outbound), broker \(.m_rss / 1024 * 10 | round / 10) MiB, \(.m_fds) fds"'
    fi
    if [ "$reload" -gt 0 ] && [ "$el" -ge "$next_reload" ] && [ "$el" -lt "$seconds" ]; then
        kill -HUP "$bridge_pid" "$mq_pid"
        reloads=$((reloads + 1))
        echo "$el s: SIGHUP" >>"$work/events.log"
        next_reload=$((next_reload + reload))
    fi
done
take_sample load
for i in "${!pub_pids[@]}"; do wait "${pub_pids[$i]}" || true; done

echo "== publishing done; draining for $drain s"
kill -USR2 "${node_pids[@]}"
sleep "$drain"
kill -TERM "${node_pids[@]}"
for p in "${node_pids[@]}"; do wait "$p" || true; done
# The clients are gone: every connection to the bridge must close. A long poll of a socket.io
# client that left is noticed at the latest when its heartbeat is due (ping_interval_ms 25 s).
t_gone=$(now_s)
for _ in $(seq 1 60); do
    sleep 1
    read -r _ clients _ < <(fd_classes "$bridge_pid")
    [ "$clients" = 0 ] && break
done
clients_gone_s=$(awk -v a="$t_gone" -v b="$(now_s)" 'BEGIN { printf "%.0f", b - a }')
take_sample end
ss -tanp 2>/dev/null | grep -F "pid=$bridge_pid," >"$work/bridge-sockets-end.txt" || true

# ---- results --------------------------------------------------------------------------------
published=$(for s in s1 s2 s3 wp up sec; do
    jq -c --arg s "$s" '{($s): .published, "refused_\($s)": .refused}' "$work/pub-$s.out"
done | jq -sc 'add')
for name in sink sse sio mqtt; do
    grep -v '"ready":true' "$work/$name.out" | tail -1 | jq -c --argjson p "$published" '. + {published: ((.published // {}) + $p)}' >>"$results"
done
b_reloads=$(grep -c 'reload: .*loaded' "$work/bridge.out" || true)
m_reloads=$(grep -c 'mqpush: reloaded' "$work/mosquitto.log" || true)

t0=$(now_s)
kill -TERM "$bridge_pid"
bridge_rc=0
wait "$bridge_pid" || bridge_rc=$?
bridge_stop_s=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }')
stop "$mq_pid"

jq -nc --argjson seconds "$seconds" --argjson warmup "$warmup" --argjson sample "$sample" \
    --argjson reloads "$reloads" --argjson b_reloads "$b_reloads" --argjson m_reloads "$m_reloads" \
    --argjson bridge_rc "$bridge_rc" --argjson stop_s "$bridge_stop_s" --argjson gone "$clients_gone_s" \
    --argjson replay_age "$replay_age" \
    --argjson growth "${RSS_GROWTH_MIB:-8}" --argjson late "${RSS_LATE_MIB:-2}" --argjson mgrowth "${BROKER_GROWTH_MIB:-2}" \
    --arg note "$pin_note" \
    '{run: {seconds: $seconds, warmup: $warmup, sample: $sample, reloads: $reloads, bridge_reloads: $b_reloads,
            broker_reloads: $m_reloads, bridge_exit: $bridge_rc, bridge_stop_s: $stop_s, note: $note,
            clients_gone_s: $gone, replay_age_s: $replay_age,
            bounds_mib: {growth: $growth, late: $late, broker: $mgrowth}}}' >>"$results"
cp "$samples" "$build/$bench_name-samples.jsonl"
save_results
"$here/report.sh" "$results" "$samples"
