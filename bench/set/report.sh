#!/usr/bin/env bash
# Print the SET benchmark's report from the JSON lines run.sh collected: setbench, jose,
# openssl speed and setpush results, told apart by "phase" and "round". Every column is the
# median over rounds. "busy" is the CPU time a run got over its wall time (1 = one whole core);
# the machine may run other jobs, so each rate is also shown divided by it ("whole cores"), and
# the ratios and targets use that figure, with the plain per-second ratio beside it.
# usage: report.sh results.jsonl pin-note
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/report.sh
. "$here/../lib/report.sh"
need_args 2 "results.jsonl pin-note" $#
results=$1 pin_note=$2
# shellcheck source-path=SCRIPTDIR source=../lib/rounds.sh
. "$here/../lib/rounds.sh"
# the signing phases; the end-to-end result apart
summarize "$results" '.what != "push"'
push=$(jq -s -c 'map(select(.what == "push" and (.error | not))) | last // {}' "$results")

pv() { # field of the end-to-end result
    echo "$push" | jq -r --arg f "$1" '.[$f] // empty'
}
row() { # label wall-ratio full-ratio target verdict
    printf '  %-50s %8s %10s   %-9s %s\n' "$1" "${2:--}" "${3:--}" "${4:-}" "${5:-}"
}

echo
echo "== SETs built and signed per second (ES256)"
echo "   $pin_note"
printf '  %-46s %10s %6s %12s\n' "" "per s" "busy" "whole cores"
line "mqpush (setbench), 1 core" ours-1
line "mqpush signing only (claims kept as text), 1 core" sign-1
line "npm jose, 1 process" jose-1
line "mqpush (setbench), 2 cores" ours-2
line "mqpush signing only, 2 cores" sign-2
line "npm jose, 2 processes" jose-2
line "openssl speed ecdsap256 (sign), 1 core" openssl-ecdsa

echo
echo "== ratios and targets (verdicts on the whole-core figures)"
printf '  %-50s %8s %10s   %-9s %s\n' "" "per s" "cores" "target" ""
c1=$(r ours-1 jose-1 full)
row "mqpush/jose, 1 core" "$(r ours-1 jose-1 per_s)" "$c1" ">= 1.3" "$(verdict "$c1" '>=' 1.3)"
c2=$(r ours-2 jose-2 full)
row "mqpush/jose, 2 cores" "$(r ours-2 jose-2 per_s)" "$c2" ">= 2" "$(verdict "$c2" '>=' 2)"
p1=$(pct "$(v sign-1 full)" "$(v openssl-ecdsa full)")
row "mqpush signing/OpenSSL raw ES256 sign (%), 1 core" "$(pct "$(v sign-1 per_s)" "$(v openssl-ecdsa per_s)")" \
    "$p1" ">= 70" "$(verdict "$p1" '>=' 70)"
p2=$(pct "$(awk -v x="$(v sign-2 full)" 'BEGIN { if (x != "") print x / 2 }')" "$(v openssl-ecdsa full)")
row "  per core with 2 cores (%)" "" "$p2" ">= 70" "$(verdict "$p2" '>=' 70)"
p3=$(pct "$(v ours-1 full)" "$(v openssl-ecdsa full)")
row "  building and signing/OpenSSL (%), 1 core" "" "$p3" "" ""
row "scaling 1 -> 2 cores: mqpush, jose" "" "$(r ours-2 ours-1 full), $(r jose-2 jose-1 full)"

echo
echo "== end to end: SETs pushed per second (bridge on one core, RFC 8935 push to 127.0.0.1)"
if [ "$push" = "{}" ]; then
    echo "  no result"
else
    lost=$(pv lost) dups=$(pv duplicates) vf=$(pv verify_failed)
    full=$(awk -v p="$(pv per_s)" -v b="$(pv bridge_busy)" 'BEGIN { if (b > 0) printf "%.0f", p / (b < 1 ? b : 1) }')
    printf '  %-46s %10s\n' "pushed per second (received, distinct jti)" "$(num %.0f "$(pv per_s)")"
    printf '  %-46s %10s\n' "bridge CPU busy (1 = one core)" "$(pv bridge_busy)"
    printf '  %-46s %10s\n' "bridge CPU per SET (us)" "$(pv cpu_us_per_set)"
    printf '  %-46s %10s\n' "per bridge core (pushed/s / busy)" "$full"
    printf '  %-46s %10s\n' "published / received" "$(pv published) / $(pv received)"
    printf '  %-46s %10s   %s\n' "lost, duplicates" "$lost, $dups" \
        "$(if [ "$lost" = 0 ] && [ "$dups" = 0 ]; then echo "met (every event once)"; else echo "MISSED"; fi)"
    printf '  %-46s %10s   %s\n' "SETs verified (bridge/ssf/set.c), failed" "$(pv verified), $vf" \
        "$(if [ "$vf" = 0 ] && [ "$(pv verified)" -gt 0 ]; then echo met; else echo MISSED; fi)"
    sign_us=$(awk -v f="$(v ours-1 full)" 'BEGIN { if (f > 0) printf "%.1f", 1e6 / f }')
    printf '  %-46s %10s\n' "  of which building + signing (setbench, us)" "${sign_us:--}"
fi

sizes=$(jq -s -r 'map(select(.set_avg and .what != "push")) | group_by(.what) | map("\(.[0].what): event \(.[0].event_avg | round) B, SET \(.[0].set_avg | round) B") | join("; ")' "$results")
rounds_notes "sizes (averages): $sizes; pushed SET $(pv set_avg) B"
