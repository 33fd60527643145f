#!/usr/bin/env bash
# The report of a bench/soak/run.sh run: the readings as a table, delivery per channel, and the
# verdict. Exits 1 when any verdict line is MISSED.
# usage: report.sh results.jsonl samples.jsonl
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/report.sh
. "$here/../lib/report.sh"
need_args 2 "results.jsonl samples.jsonl" $#
results=$1
samples=$2

run=$(jq -c 'select(.run) | .run' "$results" | tail -1)
[ -n "$run" ] || { echo "report.sh: no run line in $results" >&2; exit 1; }
r() { echo "$run" | jq -r "$1"; }
seconds=$(r .seconds) warmup=$(r .warmup)

# ---- readings ---------------------------------------------------------------------------------
echo
echo "== readings ($(r .note)); RSS in MiB; bridge fds = own + HTTP clients + outbound"
echo
printf '%8s  %-6s %10s %6s %6s %8s %8s %9s %8s %10s %6s\n' "t (s)" phase "bridge RSS" fds own clients outbound consumers pending "broker RSS" fds
# At most about 24 rows: every k-th reading under load, and the first and last ones.
jq -s -r '(map(select(.phase == "load")) | length) as $n | ([1, ($n / 20 | floor)] | max) as $k
    | to_entries
    | map(select(.value.phase != "load" or ((.key - 2) % $k == 0) or (.key == (length - 2))))
    | .[].value
    | [.t, .phase, (.b_rss / 1024 * 10 | round / 10), .b_fds, .b_own, .clients, .outbound, .consumers,
       .pending, (.m_rss / 1024 * 10 | round / 10), .m_fds] | @tsv' "$samples" |
    awk -F'\t' '{ printf "%8s  %-6s %10.1f %6s %6s %8s %8s %9s %8s %10.1f %6s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }'

# ---- RSS and descriptors ----------------------------------------------------------------------
# Medians of three readings: after the warm-up, at the middle of the rest, and the last three.
stats=$(jq -s -c --argjson w "$warmup" --argjson s "$seconds" '
    def med3(f): map(f) | sort | .[(length - 1) / 2 | floor];
    map(select(.phase == "load")) as $l
    | ($l | map(select(.t >= $w))) as $after
    | (($w + $s) / 2) as $mid
    | ($after | map(select(.t >= $mid))) as $second
    | {b_warm: ($after[0:3] | med3(.b_rss)), b_mid: ($second[0:3] | med3(.b_rss)),
       b_last: ($l[-3:] | med3(.b_rss)), m_warm: ($after[0:3] | med3(.m_rss)), m_last: ($l[-3:] | med3(.m_rss)),
       b_max: ($after | map(.b_rss) | max),
       own_idle: (map(select(.phase == "idle"))[0].b_own), own_end: (map(select(.phase == "end"))[0].b_own),
       own_max: (map(.b_own) | max), own_min: (map(.b_own) | min),
       clients_end: (map(select(.phase == "end"))[0].clients),
       outbound_end: (map(select(.phase == "end"))[0].outbound), outbound_max: (map(.outbound) | max),
       m_fds_start: (map(select(.phase == "start"))[0].m_fds), m_fds_end: (map(select(.phase == "end"))[0].m_fds),
       m_fds_max: (map(.m_fds) | max), slow_dropped: (.[-1].slow_dropped), pending_end: (.[-1].pending)}' "$samples")
s() { echo "$stats" | jq -r ".$1 // empty"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
growth=$(awk -v a="$(s b_warm)" -v b="$(s b_last)" 'BEGIN { printf "%.2f", (b - a) / 1024 }')
late=$(awk -v a="$(s b_mid)" -v b="$(s b_last)" 'BEGIN { printf "%.2f", (b - a) / 1024 }')
mgrowth=$(awk -v a="$(s m_warm)" -v b="$(s m_last)" 'BEGIN { printf "%.2f", (b - a) / 1024 }')

# ---- delivery per channel ---------------------------------------------------------------------
# lost = published on the consumer's stream - distinct event ids it received, summed over the
# channel's consumers; a consumer that got an event twice counts a duplicate.
channels=$(jq -s -c '
    map(select(.channels)) as $lines
    | (reduce $lines[] as $x ({}; . + ($x.published // {}))) as $pub
    | [$lines[] | .channels | to_entries[]
       | .key as $ch | .value as $c
       | {channel: $ch, consumers: ($c.consumers | length),
          published: ($c.consumers | map($pub[.stream] // 0) | add // 0),
          received: ($c.consumers | map(.distinct) | add // 0),
          lost: ($c.consumers | map(($pub[.stream] // 0) - .distinct) | add // 0),
          duplicates: ($c.consumers | map(.duplicates) | add // 0),
          mismatched: ($c.consumers | map(.mismatched) | add // 0),
          errors: $c.errors, error_kinds: $c.error_kinds, latency: $c.latency,
          counters: ($c | del(.consumers, .latency, .errors, .error_kinds))}]' "$results")
refused=$(jq -s -r 'map(select(.published) | .published | to_entries[] | select(.key | startswith("refused_")) | .value) | add // 0' "$results")

echo
echo "== delivery per channel (lost and duplicates counted by event id at every consumer)"
echo
printf '  %-12s %9s %11s %8s %6s %6s %7s %9s %9s %9s\n' channel consumers deliveries lost dup errors "" "p50 ms" "p99 ms" "max ms"
echo "$channels" | jq -r '.[] | [.channel, .consumers, .received, .lost, (.duplicates + .mismatched), .errors,
    (.latency.p50_ms // "-"), (.latency.p99_ms // "-"), (.latency.max_ms // "-")] | @tsv' |
    awk -F'\t' '{ printf "  %-12s %9s %11s %8s %6s %6s %7s %9s %9s %9s\n", $1, $2, $3, $4, $5, $6, "", $7, $8, $9 }'
counters=$(echo "$channels" | jq -r '.[] | select(.counters | length > 0)
    | "\(.channel): " + (.counters | to_entries | map("\(.key) \(.value)") | join(", "))')
[ -n "$counters" ] && indent "$counters"

lost=$(echo "$channels" | jq '[.[].lost] | add // 0')
dups=$(echo "$channels" | jq '[.[] | .duplicates + .mismatched] | add // 0')
errors=$(echo "$channels" | jq '[.[].errors] | add // 0')
empty=$(echo "$channels" | jq -r '[.[] | select(.channel != "mqtt-churn" and .received == 0) | .channel] | join(", ")')

# ---- verdict ----------------------------------------------------------------------------------
b=$(r .bounds_mib.growth) l=$(r .bounds_mib.late) mb=$(r .bounds_mib.broker)
missed=0
line() { # label value op target
    local v
    v=$(verdict "$2" "$3" "$4")
    [ "$v" = met ] || missed=1
    printf '  %-62s %10s  %-3s %-8s %s\n' "$1" "$2" "$3" "$4" "$v"
}
echo
echo "== verdict (${seconds} s, warm-up ${warmup} s)"
line "bridge RSS growth after the warm-up (MiB)" "$growth" "<=" "$b"
printf '    %-60s %s\n' "after warm-up, middle, last (MiB; medians of 3 readings)" "$(mib "$(s b_warm)"), $(mib "$(s b_mid)"), $(mib "$(s b_last)"); highest $(mib "$(s b_max)")"
line "bridge RSS growth over the second half (MiB)" "$late" "<=" "$l"
line "broker RSS growth after the warm-up (MiB)" "$mgrowth" "<=" "$mb"
printf '    %-60s %s\n' "after warm-up, last (MiB)" "$(mib "$(s m_warm)"), $(mib "$(s m_last)")"
line "bridge own descriptors at the end minus before the load" "$(($(s own_end) - $(s own_idle)))" "==" 0
printf '    %-60s %s\n' "own descriptors, lowest and highest reading" "$(s own_min), $(s own_max) (idle $(s own_idle))"
line "bridge client connections after the clients left ($(r .clients_gone_s) s later)" "$(s clients_end)" "==" 0
printf '    %-60s %s\n' "outbound connections (curl's cache), at the end / highest" "$(s outbound_end) / $(s outbound_max)"
line "broker descriptors at the end minus before the load" "$(($(s m_fds_end) - $(s m_fds_start)))" "==" 0
line "events lost, all channels" "$lost" "==" 0
line "duplicated or mismatched events, all channels" "$dups" "==" 0
line "client errors (unexpected closes, failed recoveries, refusals)" "$errors" "==" 0
line "events refused by the broker" "$refused" "==" 0
line "channels that received nothing" "$( [ -z "$empty" ] && echo 0 || echo 1)" "==" 0
line "slow clients dropped by the bridge" "$(s slow_dropped)" "==" 0
line "reloads answered (bridge and broker) of the SIGHUPs sent" "$(r '.bridge_reloads + .broker_reloads')" "==" "$(r '.reloads * 2')"
line "bridge exit status on SIGTERM (stopped in $(r .bridge_stop_s) s)" "$(r .bridge_exit)" "==" 0

notes=$(echo "$channels" | jq -r '.[] | select(.errors > 0) | "\(.channel): " + (.error_kinds | to_entries | map("\(.key) x\(.value)") | join("; "))')
# where each consumer that lost events first missed one (the publisher's seq on its stream)
gaps=$(jq -s -r 'map(select(.channels) | .channels | to_entries[] | .key as $ch | .value.consumers[]
    | select(.first_missing | length > 0) | "\($ch) \(.name) (\(.stream)): first missing seq \(.first_missing[0]), \(.distinct) received of \(.max_seq)+")
    | .[]' "$results")
[ -n "$gaps" ] && notes=$(printf '%s\n%s' "$notes" "$gaps")
notes_section "$notes"
[ -n "$empty" ] && echo "  channels that received nothing: $empty"
echo
if [ "$missed" = 0 ]; then echo "soak: PASSED"; else echo "soak: FAILED"; exit 1; fi
