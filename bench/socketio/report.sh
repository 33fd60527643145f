#!/usr/bin/env bash
# Print the socket.io benchmark's report from the JSON lines run.sh collected: one sioload result
# per line, told apart by "server" (bridge, peer), "n" (clients) and "phase" (idle, saturation,
# latency). The bridge and the Node peer side by side for each client count, the ratios
# bridge/peer, the targets, and notes on anything that makes a figure suspect.
# usage: report.sh results.jsonl pin-note "sizes" latency-deliveries-per-s
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/report.sh
. "$here/../lib/report.sh"
need_args 4 "results.jsonl pin-note sizes latency-deliveries-per-s" $#
results=$1 pin_note=$2 sizes=$3 lat_dps=$4

v() { # server n phase jq-expression: the value, empty when missing or failed
    jq -r --arg s "$1" --argjson n "$2" --arg p "$3" \
        "select(.server == \$s and .n == \$n and .phase == \$p and (.error | not)) | ($4) // empty" \
        "$results" | head -1
}
row() { # label bridge peer ratio target verdict
    printf '  %-40s %14s %14s %8s   %-8s %s\n' "$1" "${2:--}" "${3:--}" "${4:-}" "${5:-}" "${6:-}"
}
mem() { # server n: bytes of RSS per idle connection
    v "$1" "$2" idle "(.rss_after_kib - .rss_before_kib) * 1024 / .clients"
}
faults() { # server n: lost + duplicates + offsets out of order + closed + protocol errors
    local p f total=""
    for p in saturation latency; do
        f=$(v "$1" "$2" "$p" '(.lost // 0) + (.duplicates // 0) + (.offset_out_of_order // 0) + (.closed // 0) + (.protocol_errors // 0)')
        [ -n "$f" ] && total=$((${total:-0} + ${f%.*}))
    done
    echo "$total"
}

echo
echo "== mqpush-bridge (socket.io) against Node socket.io 4.8 (mqtt.js from the same broker)"
echo "   $pin_note; ratio = bridge / Node; targets on the ratio"
for n in $sizes; do
    b_cpu=$(v bridge "$n" saturation .cpu_us_per_delivery)
    p_cpu=$(v peer "$n" saturation .cpu_us_per_delivery)
    b_lcpu=$(v bridge "$n" latency .cpu_us_per_delivery)
    p_lcpu=$(v peer "$n" latency .cpu_us_per_delivery)
    b_dps=$(v bridge "$n" saturation .deliveries_per_s)
    p_dps=$(v peer "$n" saturation .deliveries_per_s)
    b_p99=$(v bridge "$n" latency 'select(.latency_us.n > 0) | .latency_us.p99 / 1000')
    p_p99=$(v peer "$n" latency 'select(.latency_us.n > 0) | .latency_us.p99 / 1000')
    b_p50=$(v bridge "$n" latency 'select(.latency_us.n > 0) | .latency_us.p50 / 1000')
    p_p50=$(v peer "$n" latency 'select(.latency_us.n > 0) | .latency_us.p50 / 1000')
    b_mem=$(mem bridge "$n")
    p_mem=$(mem peer "$n")
    r_cpu=$(ratio "$b_cpu" "$p_cpu" 3)
    r_lcpu=$(ratio "$b_lcpu" "$p_lcpu" 3)
    r_mem=$(ratio "$b_mem" "$p_mem" 3)
    echo
    echo "  -- $n clients"
    printf '  %-40s %14s %14s %8s   %-8s %s\n' "" "bridge" "Node" "ratio" "target" ""
    row "CPU per delivery, flat out (us)" "$(num %.3f "$b_cpu")" "$(num %.3f "$p_cpu")" \
        "$r_cpu" "<= 0.2" "$(verdict "$r_cpu" '<=' 0.2)"
    row "  of which kernel (us)" "$(num %.3f "$(v bridge "$n" saturation .sys_us_per_delivery)")" \
        "$(num %.3f "$(v peer "$n" saturation .sys_us_per_delivery)")"
    row "CPU per delivery, $lat_dps/s (us)" "$(num %.3f "$b_lcpu")" "$(num %.3f "$p_lcpu")" \
        "$r_lcpu" "<= 0.2" "$(verdict "$r_lcpu" '<=' 0.2)"
    row "  of which kernel (us)" "$(num %.3f "$(v bridge "$n" latency .sys_us_per_delivery)")" \
        "$(num %.3f "$(v peer "$n" latency .sys_us_per_delivery)")"
    row "memory per idle connection (B)" "$(num %.0f "$b_mem")" "$(num %.0f "$p_mem")" \
        "$r_mem" "<= 0.2" "$(verdict "$r_mem" '<=' 0.2)"
    row "deliveries/s, flat out" "$(num %.0f "$b_dps")" "$(num %.0f "$p_dps")" \
        "$(ratio "$b_dps" "$p_dps" 3)"
    row "  server CPU busy (1 = a core)" "$(num %.2f "$(v bridge "$n" saturation .server_busy)")" \
        "$(num %.2f "$(v peer "$n" saturation .server_busy)")"
    row "  load CPU busy" "$(num %.2f "$(v bridge "$n" saturation .load_cpu_busy)")" \
        "$(num %.2f "$(v peer "$n" saturation .load_cpu_busy)")"
    row "latency p99 at $lat_dps/s (ms)" "$(num %.2f "$b_p99")" "$(num %.2f "$p_p99")" \
        "$(ratio "$b_p99" "$p_p99" 3)"
    row "  p50 (ms)" "$(num %.2f "$b_p50")" "$(num %.2f "$p_p50")" "$(ratio "$b_p50" "$p_p50" 3)"
    row "  server CPU busy" "$(num %.2f "$(v bridge "$n" latency .server_busy)")" \
        "$(num %.2f "$(v peer "$n" latency .server_busy)")"
    b_f=$(faults bridge "$n")
    p_f=$(faults peer "$n")
    row "lost, duplicated, reordered, dropped" "$b_f" "$p_f" "" "0" "$(verdict "${b_f:-}" '==' 0)"
done

# Anything that makes a figure suspect.
notes=$(jq -r '. as $r | "\(.server) \(.n // "") \(.phase)" as $where |
    if .error then "\($where): FAILED: \(.error)\(if .first_conn_error then " (\(.first_conn_error))" else "" end)"
    else
      [ (if (.lost // 0) > 0 then "\(.lost) of \(.expected) deliveries lost" else empty end),
        (if (.duplicates // 0) > 0 then "\(.duplicates) duplicate or reordered events" else empty end),
        (if (.offset_out_of_order // 0) > 0 then "\(.offset_out_of_order) offsets not increasing" else empty end),
        (if (.closed // 0) > 0 then "\(.closed) sockets closed by the server (first: \(.first_conn_error // "?"))" else empty end),
        (if (.protocol_errors // 0) > 0 then "\(.protocol_errors) protocol errors (first: \(.first_conn_error // "?"))" else empty end),
        (if (.other_events // 0) > 0 then "\(.other_events) other packets or events" else empty end),
        (if (.no_seq // 0) > 0 then "\(.no_seq) events without the publisher sequence" else empty end),
        (if (.pub_refused // 0) > 0 then "\(.pub_refused) events refused by the broker" else empty end),
        (if (.late_sends // 0) > 0 then "\(.late_sends) sends over 1 ms late (load CPU busy)" else empty end),
        (if .drained == false then "not every client had every event when the drain time ran out (lost counts what was missing then)" else empty end),
        (if .phase == "saturation" and (.server_busy // 1) < 0.9 then
           (if (.server_cpu_busy // 0) >= 0.9 then
             "the server had \(.server_busy) of its core, other processes the rest: deliveries/s is lower than one core allows; CPU per delivery still holds"
           else
             "the server used \(.server_busy) of its core: the load side set the pace (CPU 1 busy \(.load_cpu_busy // "?")), so deliveries/s is a lower bound of one core; CPU per delivery still holds"
           end)
         else empty end),
        (if .server_cpu_busy and (.server_cpu_busy - (.server_busy // 0)) > 0.05 then
           "other processes (or interrupt work) took \(((.server_cpu_busy - .server_busy) * 100) | floor) % of the server CPU" else empty end),
        (if .load_cpu_busy and (.load_cpu_busy - (.client_busy // 0) - (.broker_busy // 0)) > 0.15 then
           "about \(((.load_cpu_busy - .client_busy - .broker_busy) * 100) | floor) % of the load CPU went to other processes or the kernel" else empty end),
        (if .phase == "latency" and (.load_cpu_busy // 0) > 0.8 then
           "the load CPU was \(.load_cpu_busy) busy: part of the latency may be the client reading late"
         else empty end)
      ] | if length > 0 then "\($where): " + join("; ") else empty end
    end' "$results")
notes_section "$notes"
