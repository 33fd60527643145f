#!/usr/bin/env bash
# Connection storm, loopback only: new TCP connections offered at RATE a second for DURATION
# seconds (storm.c, C, epoll, at most MAX_OPEN open at once) against the bridge, answered
# (GET /healthz) and reset at once, and against the peer, Mosquitto's MQTT listener, reset at
# once. The server runs alone on CPU 0, the storm on CPU 1. Measured: the rate reached, what
# was answered, the time to the answer, and the server's RSS and descriptors before, right
# after and 5 s after. See bench/README.md.
set -euo pipefail

usage() {
    cat <<'EOF2'
usage: bench/storm/run.sh [--quick] [--keep] [--no-pin]
  --quick   2 s storms instead of 5 s
  --keep    keep the work directory (configs, logs, results.jsonl)
  --no-pin  do not pin the server and the storm to separate CPUs
Environment: BUILD_DIR (<repo>/build-bench), MOSQUITTO (/usr/sbin/mosquitto), RATE (new
connections a second, 10000), DURATION (seconds, 5), MAX_OPEN (open at once, 2000).
EOF2
}

bench_name=bench-storm
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$here/../lib/common.sh"
parse_options "$@"
need_tools jq taskset cmake curl awk
need_broker

dur=5
[ "$quick" = 1 ] && dur=2
dur=${DURATION:-$dur}
rate=${RATE:-10000}
max_open=${MAX_OPEN:-2000}

build_targets storm mqload mqpushctl mqpush_plugin mqpush-bridge
storm=$build/bench/storm/storm
mqload=$build/bench/broker/mqload
ctl=$build/tools/mqpushctl
bridge_bin=$build/bridge/mqpush-bridge

pin_server_load
start_work
need_descriptors $((2 * max_open + 1024))
echo "== mqpush connection storm: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, server on CPU 0, storm on CPU 1"
warn_if_loaded

bridge_keys
write_streams '{"news": {"id": "news", "name": "news", "publicSubscribe": true,
                        "events": [{"namespace": "app", "name": "tick"}]}}'
mport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
plugin_conf mosquitto "$mport"
bridge_config "$hport" "$mport" <<EOF2
 "limits": {"max_connections": $((max_open + 1000))}
EOF2
start_mosquitto mosquitto "$mport"
start_bridge_on "$hport"

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

run_storm() { # label pid port [--http]
    local label=$1 pid=$2 port=$3 r0 f0 r1 f1 r2 f2 line
    shift 3
    r0=$(rss_kib "$pid") f0=$(fds "$pid")
    line=$("${on_load[@]}" "$storm" --port "$port" --rate "$rate" --seconds "$dur" \
        --max-open "$max_open" "$@")
    r1=$(rss_kib "$pid") f1=$(fds "$pid")
    sleep 5
    r2=$(rss_kib "$pid") f2=$(fds "$pid")
    line=$(echo "$line" | jq -c --arg l "$label" --argjson r0 "$r0" --argjson r1 "$r1" \
        --argjson r2 "$r2" --argjson f0 "$f0" --argjson f1 "$f1" --argjson f2 "$f2" \
        '. + {label: $l, rss_kib_before: $r0, rss_kib_after: $r1, rss_kib_5s: $r2,
              fds_before: $f0, fds_after: $f1, fds_5s: $f2}')
    record "$line" storm
    printf '  %-34s %7s/s of %s/s offered: %s answered, %s reset, %s errors; answer p50/p99 %s/%s ms\n' \
        "$label" "$(j "$line" .reached_per_s)" "$rate" "$(j "$line" .answered)" \
        "$(j "$line" .reset)" "$(j "$line" .errors)" "$(j "$line" .answer_p50_ms)" \
        "$(j "$line" .answer_p99_ms)"
    printf '  %-34s RSS %s -> %s -> %s KiB, descriptors %s -> %s -> %s (before, after, 5 s later)\n' \
        "" "$r0" "$r1" "$r2" "$f0" "$f1" "$f2"
}

echo "== the bridge (127.0.0.1:$hport)"
run_storm "bridge: GET /healthz, answered" "$bridge_pid" "$hport" --http
run_storm "bridge: connect and reset" "$bridge_pid" "$hport"
echo "== peer: Mosquitto's MQTT listener (127.0.0.1:$mport), plugin loaded"
run_storm "mosquitto: connect and reset" "$mq_pid" "$mport"

b=$(jq -s 'map(select(.label == "bridge: connect and reset"))[0].reached_per_s' "$results")
m=$(jq -s 'map(select(.label == "mosquitto: connect and reset"))[0].reached_per_s' "$results")
echo "== ratio (connect and reset, bridge / Mosquitto): $(awk -v b="$b" -v m="$m" 'BEGIN { printf "%.2f", b / m }')"
save_results
