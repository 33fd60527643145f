#!/usr/bin/env bash
# Broker benchmark: Mosquitto with the mqpush plugin ("plugin"), bare Mosquitto ("plain") and
# Mosquitto with its dynamic-security plugin ("dynsec"), side by side on loopback and taking
# turns, driven by the same load client (mqload). Prints a table and the ratios against the
# targets.
# See bench/README.md for what each figure means.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/broker/run.sh [--quick] [--keep] [--no-pin] [--nice N]
  --quick   under a minute instead of about 3.5 (short runs, 500 idle clients: rough figures)
  --keep    keep the work directory (configs, logs, results.jsonl) and print its path
  --no-pin  do not pin the broker and the load client to separate CPUs
  --nice N  run the broker and the load client at niceness N (e.g. -10 on a busy shared
            machine, so other jobs disturb the figures less; negative values need root)
Environment: MOSQUITTO (broker binary, /usr/sbin/mosquitto), DYNSEC_PLUGIN (path of
mosquitto_dynamic_security.so), BUILD_DIR (build tree, <repo>/build-bench).
EOF
}

bench_name=bench
niceness=""
extra_option() {
    [ "$1" = --nice ] || return 1
    if [ $# -lt 2 ] || ! [[ "$2" =~ ^-?[0-9]+$ ]]; then
        echo "run.sh: --nice needs a number" >&2
        exit 2
    fi
    niceness=$2 opt_args=2
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$here/../lib/common.sh"
parse_options "$@"
dynsec_so=${DYNSEC_PLUGIN:-/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so}

need_tools jq taskset mosquitto_ctrl cmake
need_broker
[ -f "$dynsec_so" ] || { echo "run.sh: no dynamic-security plugin at $dynsec_so (set DYNSEC_PLUGIN)" >&2; exit 1; }

# Figures of the run. Latency runs use QoS 1 end to end; see README for the saturation QoS.
pubs=4 subs=50
# the moderate-load latency runs deliver 10,000 messages/s: 1000 events/s to 10 subscribers,
# or 333 events/s when every event reaches each subscriber through 3 streams
k_subs=10 k_rate=1000 k_rate3=333
if [ "$quick" = 1 ]; then
    idle=500 sat_rep=1 sat_warm=1 sat_dur=2 lat_warm=1 lat1_dur=8 latk_dur=2 sat_q1=0
else
    idle=2000 sat_rep=3 sat_warm=2 sat_dur=5 lat_warm=1 lat1_dur=30 latk_dur=8 sat_q1=1
fi

build_targets mqload mqpushctl mqpush_plugin
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
plugin_so=$build/plugin/mqpush_plugin.so

start_work
declare -A bport bpid # per broker name: its port and process id

stop_broker() { # name
    local pid=${bpid[$1]:-}
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        unset "bpid[$1]"
    fi
}

ncpu=$(nproc)
broker_cmd=("$mosquitto")
client_cmd=("$mqload")
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
    broker_cmd=(taskset -c 0 "$mosquitto")
    client_cmd=(taskset -c 1 "$mqload" --broker-cpu 0)
    pin_note="broker pinned to CPU 0, load client to CPU 1 (taskset)"
else
    pin_note="not pinned ($ncpu CPUs)"
fi
if [ -n "$niceness" ]; then
    broker_cmd=(nice -n "$niceness" "${broker_cmd[@]}")
    client_cmd=(nice -n "$niceness" "${client_cmd[@]}")
    pin_note="$pin_note, niceness $niceness"
fi

# ---- keys, tokens, streams file ----------------------------------------------------------
iss=https://idp.bench.test/realms/bench
aud=mqpush
"$ctl" keygen --type ec --key "$work/bench.pem" --jwks "$work/bench.jwks.json" >/dev/null
pub_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub bench-publisher \
    --roles mqpush-publisher --ttl 3600)
sub_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub bench-listener \
    --roles stream-listener --ttl 3600)

# Every stream filters (criteria) and cuts down (map) the event, as a real stream would.
stream_event() {
    cat <<EOF
{"namespace": "bench", "name": "$1",
 "criteria": {"context.program": "bench"},
 "map": {"sentAt": "payload.sentAt", "orderId": "payload.order.id",
         "status": "payload.order.status", "customer": {"name": "payload.customer.name"}}}
EOF
}
cat >"$work/streams.json" <<EOF
{
  "limits": {"max_event_bytes": 262144},
  "tenants": {
    "bench": {
      "issuer": "$iss",
      "audience": "$aud",
      "jwks_file": "bench.jwks.json",
      "streams": {
        "s1": {"events": [$(stream_event one), $(stream_event multi)]},
        "s2": {"events": [$(stream_event multi)]},
        "s3": {"events": [$(stream_event multi)]}
      }
    }
  }
}
EOF
# A domain event of 512 bytes; the map keeps about a third of it.
event_tmpl='{"correlationId":"bench-corr-1","context":{"program":"bench","region":"eu-west"},"payload":{"sentAt":"%T","order":{"id":"o-4711","status":"shipped","items":3,"total":129.5},"customer":{"id":"c-42","name":"Ana"},"note":"%P"}}'
event_size=512
topic1=bench/s1/bench:one

# ---- brokers -----------------------------------------------------------------------------
write_conf() { # name [extra config lines]: a config on a free loopback port
    local name=$1
    shift
    bport[$name]=$("$mqload" --free-port)
    mosquitto_conf "$name" "${bport[$name]}" "log_type error" "log_type warning" "log_type notice" "$@"
}

start_broker() { # name
    local name=$1 i pid
    "${broker_cmd[@]}" -c "$work/$name.conf" >"$work/$name.out" 2>&1 &
    pid=$!
    bpid[$name]=$pid
    pids+=("$pid")
    for i in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "run.sh: $name broker exited at start:" >&2
            tail -20 "$work/$name.out" "$work/$name.log" >&2 2>/dev/null || true
            unset "bpid[$name]"
            exit 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/${bport[$name]}") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "run.sh: $name broker does not listen on 127.0.0.1:${bport[$name]}" >&2
    exit 1
}

# Append one mqload result line to results.jsonl and print a summary of it.
record() { # label line
    local line=$2
    if [ -z "$line" ]; then
        line=$(jq -cn --arg l "$1" '{label: $l, error: "mqload printed nothing"}')
    fi
    echo "$line" >>"$results"
    echo "$line" | jq -r '"  \(.label): " + (if .error then "ERROR \(.error)"
        elif .rss_per_client_bytes then "\(.connected) idle clients, \(.rss_per_client_bytes|floor) B/client"
        else "\(.delivered_per_s|floor) msg/s delivered, latency p50 \(.latency_us.p50/1000) ms, p99 \(.latency_us.p99/1000) ms, broker CPU \(.broker_cpu)" +
            (if .lost > 0 then ", \(.lost) missing" else "" end) end)'
}

# One mqload run against a broker, printing its result line.
mqload_on() { # broker label mqload-options...
    local broker=$1 label=$2
    shift 2
    "${client_cmd[@]}" --port "${bport[$broker]}" --broker-pid "${bpid[$broker]}" \
        --label "$label" "$@" 2>>"$work/mqload.err" || true
}

run_load() { # broker label mqload-options...
    record "$2" "$(mqload_on "$@")"
}

# Broker memory per idle client. A few clients go first so that one-off costs (the first token
# verification sets up OpenSSL's curve code, hash tables get their first buckets) are in the
# "before" figure and not spread over the measured clients.
idle_run() { # broker label cred-options...
    local broker=$1 label=$2
    shift 2
    run_load "$broker" "$label-warm" --pubs 0 --subs 0 --idle 50 --idle-subscribe \
        --sub-topic "$topic1" --settle 0.2 --id-prefix "warm-$$" "$@" >/dev/null
    run_load "$broker" "$label" --pubs 0 --subs 0 --idle "$idle" --idle-subscribe \
        --sub-topic "$topic1" "$@"
}

# The broker, topics, payload and credentials of a setup, in the global array sargs.
# plugin3 is the plugin broker with an event that three streams carry.
setup_args() { # setup
    case $1 in
    plugin)
        sbroker=plugin
        sargs=(--pub-topic bench/events/bench/one --sub-topic "$topic1" --payload "$event_tmpl"
            --size "$event_size" "${pcred[@]}")
        ;;
    plugin3)
        sbroker=plugin
        sargs=(--pub-topic bench/events/bench/multi --sub-topic bench/s1/bench:multi
            --sub-topic bench/s2/bench:multi --sub-topic bench/s3/bench:multi
            --payload "$event_tmpl" --size "$event_size" "${pcred[@]}")
        ;;
    plain)
        sbroker=plain
        sargs=(--pub-topic "$topic1" --sub-topic "$topic1" --payload "$body_tmpl" --size "$body_size")
        ;;
    dynsec)
        sbroker=dynsec
        sargs=(--pub-topic "$topic1" --sub-topic "$topic1" --payload "$body_tmpl" --size "$body_size"
            --pub-user bench-pub --pub-pass "$client_pw" --sub-user bench-sub --sub-pass "$client_pw")
        ;;
    esac
}

echo "== mqpush broker benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "   $("$mosquitto" -h 2>&1 | head -1 | sed 's/ is an MQTT.*//'), $ncpu CPUs, $pin_note"
warn_if_loaded

# All brokers run from the start: an idle broker costs nothing, and the runs of the setups can
# then take turns, so that background load on a shared machine hits them alike.
echo "== brokers"
echo "   plugin: mqpush_plugin.so, JWT auth, events on bench/events/bench/<name> fanned out"
write_conf plugin "allow_anonymous false" "plugin $plugin_so" "plugin_opt_config $work/streams.json"
echo "   plain: no plugin, anonymous, publishers write $topic1 directly"
write_conf plain "allow_anonymous true"
# Control for the memory figure: Mosquitto keeps every client's password for the whole
# connection, even with no authentication configured; here the password is the listener token.
write_conf plain-token "allow_anonymous true"
echo "   dynsec: dynamic-security plugin, username/password, ACLs on bench/s1/#"
admin_pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
client_pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
mosquitto_ctrl dynsec init "$work/dynsec.json" admin "$admin_pw" >/dev/null
write_conf dynsec "allow_anonymous false" "plugin $dynsec_so" \
    "plugin_opt_config_file $work/dynsec.json"
for b in plugin plain plain-token dynsec; do
    start_broker "$b"
done
dsctl() {
    mosquitto_ctrl -h 127.0.0.1 -p "${bport[dynsec]}" -u admin -P "$admin_pw" dynsec "$@" \
        >>"$work/dynsec-setup.log" 2>&1 ||
        { echo "run.sh: mosquitto_ctrl dynsec $1 failed:" >&2; tail -5 "$work/dynsec-setup.log" >&2; exit 1; }
}
dsctl createRole bench-publisher
dsctl addRoleACL bench-publisher publishClientSend 'bench/s1/#' allow
dsctl createRole bench-listener
dsctl addRoleACL bench-listener subscribePattern 'bench/s1/#' allow
dsctl addRoleACL bench-listener publishClientReceive 'bench/s1/#' allow
dsctl createClient bench-pub -p "$client_pw"
dsctl addClientRole bench-pub bench-publisher
dsctl createClient bench-sub -p "$client_pw"
dsctl addClientRole bench-sub bench-listener
pcred=(--pub-user bench --pub-pass "$pub_token" --sub-user bench --sub-pass "$sub_token")

echo "== memory per idle client (fresh brokers)"
idle_run plugin plugin/idle "${pcred[@]}"
idle_run plain plain/idle
idle_run plain-token plain/idle-token --sub-user bench --sub-pass "$sub_token"
idle_run dynsec dynsec/idle --sub-user bench-sub --sub-pass "$client_pw"
stop_broker plain-token

# plain and dynsec publish straight to the stream topic a body as large as the plugin's copies
setup_args plugin
run_load plugin plugin/probe --pubs 1 --subs 1 --rate 50 --warmup 0 --duration 0.5 "${sargs[@]}" \
    >/dev/null
body_size=$(jq -r 'select(.label=="plugin/probe") | .rx_bytes_avg // empty' "$results" | head -1)
body_size=${body_size%.*}
if [ -z "$body_size" ] || [ "$body_size" -lt 64 ]; then
    body_size=300
    echo "   (no plugin figure for the stream event size; using $body_size bytes)"
fi
body_tmpl='{"id":"0190a8f2-0000-7000-8000-000000000000","namespace":"bench","name":"one","sentAt":"%T","pad":"%P"}'

echo "== saturation: $sat_rep round(s) of plugin, plain, dynsec, plugin with 3 streams ($body_size-byte bodies)"
for _ in $(seq 1 "$sat_rep"); do
    for s in plugin plain dynsec plugin3; do
        setup_args "$s"
        run_load "$sbroker" "$s/sat" --pubs "$pubs" --subs "$subs" --qos 1 --sub-qos 0 \
            --warmup "$sat_warm" --duration "$sat_dur" "${sargs[@]}"
    done
done
if [ "$sat_q1" = 1 ]; then
    for s in plugin plain dynsec; do
        setup_args "$s"
        run_load "$sbroker" "$s/sat-q1" --pubs "$pubs" --subs "$subs" --qos 1 --sub-qos 1 \
            --window 20 --warmup "$sat_warm" --duration "$sat_dur" "${sargs[@]}"
    done
fi

# The 1 event/s runs of all setups go at once, each against its own broker and a quarter of a
# second apart, so no two events meet in the broker CPU and every setup sees the same moments
# of the machine (a stalled CPU on a shared host then shows in all of them, not in one).
echo "== latency at 1 event/s (all setups at once, staggered by 250 ms)"
i=0 lat_pids=()
for s in plugin plugin3 plain dynsec; do
    setup_args "$s"
    mqload_on "$sbroker" "$s/lat1" --pubs 1 --subs "$subs" --rate 1 --warmup "$lat_warm" \
        --phase "0.$((i * 25))" --duration "$lat1_dur" "${sargs[@]}" >"$work/lat1-$s.json" &
    lat_pids+=($!)
    i=$((i + 1))
done
wait "${lat_pids[@]}"
for s in plugin plugin3 plain dynsec; do
    record "$s/lat1" "$(cat "$work/lat1-$s.json")"
done
echo "== latency at 10,000 deliveries/s"
for s in plugin plugin3 plain dynsec; do
    setup_args "$s"
    rate=$k_rate
    [ "$s" = plugin3 ] && rate=$k_rate3
    run_load "$sbroker" "$s/lat1k" --pubs 1 --subs "$k_subs" --rate "$rate" --warmup "$lat_warm" \
        --duration "$latk_dur" "${sargs[@]}"
done
for b in plugin plain dynsec; do
    stop_broker "$b"
done

"$here/report.sh" "$results" "$pin_note" "$pubs" "$subs" "$k_subs" "$k_rate" "$idle" "${#sub_token}"
save_results
