#!/usr/bin/env bash
# Print the SSE benchmark's report from the JSON lines run.sh collected: one sseload or mqload
# result per line, told apart by "phase". The bridge and bare Mosquitto side by side, the
# ratios, the targets, and notes on anything that makes a figure suspect.
# usage: report.sh results.jsonl pin-note clients idle-connections
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/report.sh
. "$here/../lib/report.sh"
need_args 4 "results.jsonl pin-note clients idle-connections" $#
results=$1 pin_note=$2 clients=$3 idle=$4

v() { # phase jq-expression: the value, empty when missing or failed
    jq -r --arg p "$1" "select(.phase == \$p and (.error | not)) | ($2) // empty" "$results" | head -1
}
row() { # label bridge mosquitto ratio target verdict
    printf '  %-42s %17s %17s %7s   %-10s %s\n' "$1" "${2:--}" "${3:--}" "${4:-}" "${5:-}" "${6:-}"
}

b_mem=$(v idle '(.rss_after_kib - .rss_before_kib) * 1024 / .clients')
m_mem=$(v peer-idle .rss_per_client_bytes)
b_dps=$(v saturation .deliveries_per_s)
m_dps=$(v peer-saturation .delivered_per_s)
b_cpu=$(v saturation .cpu_us_per_delivery)
m_cpu=$(v peer-saturation 'select(.delivered_per_s > 0) | .broker_cpu * 1e6 / .delivered_per_s')
b_busy=$(v saturation .bridge_busy)
m_busy=$(v peer-saturation .broker_cpu)
b_rate=$(v latency .rate)
m_rate=$(v peer-latency .rate)
b_ldps=$(v latency .deliveries_per_s)
m_ldps=$(v peer-latency .delivered_per_s)
b_lcpu=$(v latency .cpu_us_per_delivery)
m_lcpu=$(v peer-latency 'select(.delivered_per_s > 0) | .broker_cpu * 1e6 / .delivered_per_s')
lat3() { # phase: "p50 / p99 / p99.9" in ms
    local p50 p99 p999
    p50=$(v "$1" 'select(.latency_us.n > 0) | .latency_us.p50 / 1000')
    p99=$(v "$1" 'select(.latency_us.n > 0) | .latency_us.p99 / 1000')
    p999=$(v "$1" 'select(.latency_us.n > 0) | .latency_us.p999 / 1000')
    printf '%s/%s/%s' "$(num %.2f "$p50")" "$(num %.2f "$p99")" "$(num %.1f "$p999")"
}
b_p99=$(v latency 'select(.latency_us.n > 0) | .latency_us.p99 / 1000')
per_core=$(awk -v c="$b_cpu" 'BEGIN { if (c > 0) printf "%.0f", 1e6 / c }')

echo
echo "== mqpush-bridge (SSE) against bare Mosquitto (MQTT, QoS 0 delivery): $clients streaming clients"
echo "   $pin_note; ratio = bridge / Mosquitto"
printf '  %-42s %17s %17s %7s   %-10s %s\n' "" "bridge" "Mosquitto" "ratio" "target" ""
row "memory per idle connection (B, $idle)" "$(num %.0f "$b_mem")" "$(num %.0f "$m_mem")" \
    "$(ratio "$b_mem" "$m_mem")" "< 8192" "$(verdict "$b_mem" '<' 8192)"
row "flat out: deliveries/s" "$(num %.0f "$b_dps")" "$(num %.0f "$m_dps")" \
    "$(ratio "$b_dps" "$m_dps")" ">= 200000" "$(verdict "$b_dps" '>=' 200000)"
row "flat out: CPU per delivery (us)" "$(num %.3f "$b_cpu")" "$(num %.3f "$m_cpu")" \
    "$(ratio "$b_cpu" "$m_cpu")" "<= 5" "$(verdict "$b_cpu" '<=' 5)"
row "flat out: server CPU busy (1 = a core)" "$(num %.2f "$b_busy")" "$(num %.2f "$m_busy")"
row "  deliveries/s per core, from CPU/delivery" "$(num %.0f "$per_core")" \
    "$(awk -v c="$m_cpu" 'BEGIN { if (c > 0) printf "%.0f", 1e6 / c }')"
row "half saturation: events/s" "$(num %.0f "$b_rate")" "$(num %.0f "$m_rate")"
row "  deliveries/s" "$(num %.0f "$b_ldps")" "$(num %.0f "$m_ldps")"
row "  server CPU busy" "$(num %.2f "$(v latency .bridge_busy)")" \
    "$(num %.2f "$(v peer-latency .broker_cpu)")"
row "  CPU per delivery (us)" "$(num %.3f "$b_lcpu")" "$(num %.3f "$m_lcpu")" \
    "$(ratio "$b_lcpu" "$m_lcpu")"
row "  latency p50/p99/p99.9 (ms)" "$(lat3 latency)" "$(lat3 peer-latency)" "" "p99 < 10" \
    "$(verdict "$b_p99" '<' 10)"
t_rate=$(v latency-target .rate)
t_p99=$(v latency-target 'select(.latency_us.n > 0) | .latency_us.p99 / 1000')
row "100,000 deliveries/s: events/s" "$(num %.0f "$t_rate")"
row "  bridge CPU busy, CPU per delivery (us)" \
    "$(num %.2f "$(v latency-target .bridge_busy)"), $(num %.2f "$(v latency-target .cpu_us_per_delivery)")"
row "  latency p50/p99/p99.9 (ms)" "$(lat3 latency-target)" "" "" "p99 < 10" \
    "$(verdict "$t_p99" '<' 10)"

# Every bridge run checks each connection: seqs without gaps or repeats, ids growing, no stream
# closed. The peer runs count missing deliveries the same way (mqload's "lost").
faults() { # phases...: lost + duplicates + ids out of order + closed streams, "" when no run
    local p f total=""
    for p in "$@"; do
        f=$(v "$p" '(.lost // 0) + (.duplicates // 0) + (.id_out_of_order // 0) + (.closed // 0)')
        [ -n "$f" ] && total=$(( ${total:-0} + ${f%.*} ))
    done
    echo "$total"
}
b_faults=$(faults saturation latency latency-target)
m_faults=$(faults peer-saturation peer-latency)
row "lost, duplicated, reordered, dropped (all runs)" "$b_faults" "$m_faults" "" "0" \
    "$(verdict "$b_faults" '==' 0)"

# Anything that makes a figure suspect.
notes=$(jq -r '. as $r |
    if .error then "\(.phase): FAILED: \(.error)"
    else
      [ (if (.lost // 0) > 0 then "\(.lost) of \(.expected) deliveries lost" else empty end),
        (if (.duplicates // 0) > 0 then "\(.duplicates) duplicate or reordered events" else empty end),
        (if (.id_out_of_order // 0) > 0 then "\(.id_out_of_order) event ids not increasing" else empty end),
        (if (.closed // 0) > 0 then "\(.closed) streams closed by the bridge" else empty end),
        (if (.other_events // 0) > 0 then "\(.other_events) mqpush:reset/reconnect events" else empty end),
        (if (.no_seq // 0) > 0 then "\(.no_seq) events without the publisher sequence" else empty end),
        (if (.pub_refused // 0) > 0 then "\(.pub_refused) events refused by the broker" else empty end),
        (if (.late_sends // 0) > 0 then "\(.late_sends) sends over 1 ms late (load CPU busy)" else empty end),
        (if .drained == false then "not every client had every event when the drain time ran out" else empty end),
        (if .phase == "saturation" and (.bridge_busy // 1) < 0.9 then
           "the bridge used \(.bridge_busy) of its core: the load side set the pace (CPU 1 busy \(.load_cpu_busy // "?")), so deliveries/s is a lower bound of one core; CPU per delivery still holds"
         else empty end),
        (if (.phase | test("^latency")) and (.load_cpu_busy // 0) > 0.8 then
           "the load CPU was \(.load_cpu_busy) busy: part of the latency may be the client reading late"
         else empty end),
        (if .phase == "peer-saturation" and (.broker_cpu // 1) < 0.9 then
           "Mosquitto used \(.broker_cpu) of its core: not CPU-bound" else empty end)
      ] | if length > 0 then "\($r.phase): " + join("; ") else empty end
    end' "$results")
notes_section "$notes"
