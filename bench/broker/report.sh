#!/usr/bin/env bash
# Print the benchmark table and the ratios against the targets from the JSON lines run.sh
# collected (one mqload result per line, told apart by "label": "<setup>/<run>").
# usage: report.sh results.jsonl pin-note pubs subs k-subs k-rate idle-clients token-bytes
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/report.sh
. "$here/../lib/report.sh"
need_args 8 "results.jsonl pin-note pubs subs k-subs k-rate idle-clients token-bytes" $#
results=$1 pin_note=$2 pubs=$3 subs=$4 k_subs=$5 k_rate=$6 idle=$7 token_bytes=$8

# Value of a jq expression for the runs with this label (the median when a run was repeated);
# empty when missing, failed or empty.
v() {
    jq -r --arg l "$1" "select(.label == \$l and (.error | not)) | ($2) // empty" "$results" |
        sort -g | awk '{ x[NR] = $0 } END { if (NR) print x[int((NR + 1) / 2)] }'
}
# "min-max" of a jq expression over the repeats of a run; empty with fewer than two.
spread() {
    jq -r --arg l "$1" "select(.label == \$l and (.error | not)) | ($2) // empty" "$results" |
        sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR > 1) printf "%.0f-%.0f", lo, hi }'
}
# Saturation throughput per second of broker CPU: what the broker delivers with a whole core,
# even when other processes took part of it during the run.
per_cpu='select(.broker_cpu > 0) | .delivered_per_s / .broker_cpu'
p50='select(.latency_us.n > 0) | .latency_us.p50 / 1000'
p99='select(.latency_us.n > 0) | .latency_us.p99 / 1000'

lat() { # "p50 / p99" in ms
    printf '%s / %s' "$(num %.2f "$(v "$1" "$p50")")" "$(num %.2f "$(v "$1" "$p99")")"
}
row() { # name sat-label satq1-label lat1-label lat1k-label idle-label
    printf '%-17s %9s %5s %11s %9s %14s %15s %9s\n' "$1" \
        "$(num %.0f "$(v "$2" .delivered_per_s)")" "$(num %.2f "$(v "$2" .broker_cpu)")" \
        "$(num %.0f "$(v "$2" "$per_cpu")")" "$(num %.0f "$(v "$3" .delivered_per_s)")" \
        "$(lat "$4")" "$(lat "$5")" "$(num %.0f "$(v "$6" .rss_per_client_bytes)")"
}
diff_of() { # a - b, rounded; empty when either is missing
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a - b }'
    fi
}
line() { # label value target-text verdict
    printf '  %-56s %9s  %-9s %s\n' "$1" "${2:--}" "${3:-}" "${4:-}"
}

echo
echo "== results ($pin_note)"
cat <<EOF
sat      $pubs publishers, $subs subscribers, publish QoS 1, delivery QoS 0, as fast as the broker
         goes: delivered msg/s, broker CPU (1.00 = one core), msg per broker CPU-second
         (median of the repeats)
sat-q1   the same with QoS 1 delivery (a PUBACK from every subscriber for every message)
1/s      1 event/s to $subs subscribers, QoS 1: publish-to-subscriber latency p50 / p99 in ms
load     $k_rate events/s to $k_subs subscribers, QoS 1 (3 streams: a third of the events, so
         the broker delivers the same number of messages): latency p50 / p99 in ms
RSS      broker VmRSS growth per idle client that connected and subscribed ($idle clients)

EOF
printf '%-17s %9s %5s %11s %9s %14s %15s %9s\n' "setup" "sat msg/s" "CPU" "msg/CPU-s" \
    "sat-q1" "1/s p50/p99" "load p50/p99" "RSS B/cl"
row "plugin" plugin/sat plugin/sat-q1 plugin/lat1 plugin/lat1k plugin/idle
row "plugin, 3 streams" plugin3/sat - plugin3/lat1 plugin3/lat1k -
row "plain" plain/sat plain/sat-q1 plain/lat1 plain/lat1k plain/idle
row "plain, token pw" - - - - plain/idle-token
row "dynsec" dynsec/sat dynsec/sat-q1 dynsec/lat1 dynsec/lat1k dynsec/idle

r_plain=$(ratio "$(v plugin/sat "$per_cpu")" "$(v plain/sat "$per_cpu")")
r_dynsec=$(ratio "$(v plugin/sat "$per_cpu")" "$(v dynsec/sat "$per_cpu")")
raw_plain=$(ratio "$(v plugin/sat .delivered_per_s)" "$(v plain/sat .delivered_per_s)")
raw_dynsec=$(ratio "$(v plugin/sat .delivered_per_s)" "$(v dynsec/sat .delivered_per_s)")
q1_plain=$(ratio "$(v plugin/sat-q1 .delivered_per_s)" "$(v plain/sat-q1 .delivered_per_s)")
q1_dynsec=$(ratio "$(v plugin/sat-q1 .delivered_per_s)" "$(v dynsec/sat-q1 .delivered_per_s)")
mem_plugin=$(v plugin/idle .rss_per_client_bytes)
mem_plain=$(v plain/idle .rss_per_client_bytes)
mem_token=$(v plain/idle-token .rss_per_client_bytes)
extra=$(diff_of "$mem_plugin" "$mem_plain")
extra_token=$(diff_of "$mem_token" "$mem_plain")
extra_plugin=$(diff_of "$mem_plugin" "$mem_token")
p99_1=$(v plugin/lat1 "$p99")
p99_3=$(v plugin3/lat1 "$p99")

echo
echo "== ratios and targets"
line "plugin/plain, msg per broker CPU-second (sat)" "$r_plain" ">= 0.8" \
    "$(verdict "$r_plain" '>=' 0.8)"
line "plugin/dynsec, msg per broker CPU-second (sat)" "$r_dynsec" ">= 1.0" \
    "$(verdict "$r_dynsec" '>=' 1.0)"
line "  from delivered msg/s alone: plugin/plain, /dynsec" "${raw_plain:--}, ${raw_dynsec:--}"
reps=$(jq -r 'select(.label == "plugin/sat")' "$results" | jq -s length)
if [ "$reps" -gt 1 ]; then
    line "  msg/CPU-s over $reps repeats, plugin" "$(spread plugin/sat "$per_cpu")"
    line "  msg/CPU-s over $reps repeats, plain" "$(spread plain/sat "$per_cpu")"
    line "  msg/CPU-s over $reps repeats, dynsec" "$(spread dynsec/sat "$per_cpu")"
fi
line "  with QoS 1 delivery (sat-q1): plugin/plain, /dynsec" "${q1_plain:--}, ${q1_dynsec:--}"
line "extra broker memory per client, plugin - plain (B)" "$extra" "< 1024" \
    "$(verdict "$extra" '<' 1024)"
line "  Mosquitto's own copy of the $token_bytes-byte token (B)" "$extra_token"
line "  the rest: plugin state and auth side effects (B)" "$extra_plugin"
line "latency p99 at 1 event/s, 1 stream (ms)" "$(num %.2f "$p99_1")" "< 5" \
    "$(verdict "$p99_1" '<' 5)"
line "latency p99 at 1 event/s, 3 streams (ms)" "$(num %.2f "$p99_3")" "< 5" \
    "$(verdict "$p99_3" '<' 5)"

# Anything that makes a figure suspect.
notes=$(jq -r '. as $r |
    if .error then "\(.label): FAILED: \(.error)"
    else
      [ (if .subs > 0 and .delivered == 0 then "nothing was delivered" else empty end),
        (if (.lost // 0) > 0 then "\(.lost) of \(.expected) deliveries missing" else empty end),
        (if (.no_timestamp // 0) > 0 then "\(.no_timestamp) deliveries without a timestamp"
         else empty end),
        (if (.pub_refused // 0) > 0 then "\(.pub_refused) publishes refused" else empty end),
        (if (.late_sends // 0) > 0
         then "\(.late_sends) of \(.events) sends over 1 ms late (client CPU busy)" else empty end),
        (if (.label | test("/sat")) and (.broker_cpu // 1) < 0.85 then
           (if (.broker_cpu_busy // 0) > 0.95
            then "broker had \(.broker_cpu) of its fully busy CPU: shared with other processes"
            else "broker CPU \(.broker_cpu): not CPU-bound" end)
         else empty end),
        (if (.label | test("/sat")) and (.client_cpu // 0) > 0.9
         then "load client CPU \(.client_cpu): near its limit" else empty end)
      ] | if length > 0 then "\($r.label): " + join("; ") else empty end
    end' "$results")
notes_section "$notes"
