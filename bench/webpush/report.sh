#!/usr/bin/env bash
# Print the Web Push benchmark's report from the JSON lines run.sh collected: wpbench, web-push
# and openssl speed results, told apart by "phase" and "round". Every column is the median over
# rounds, each taken on its own. "busy" is the CPU time a run got over its wall time (1 = one whole core); the machine
# may run other jobs, so each rate is also shown divided by it ("on whole cores"), and the
# ratios and targets use that figure, with the plain msg/s ratio beside it.
# usage: report.sh results.jsonl pin-note
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/report.sh
. "$here/../lib/report.sh"
need_args 2 "results.jsonl pin-note" $#
results=$1 pin_note=$2
# shellcheck source-path=SCRIPTDIR source=../lib/rounds.sh
. "$here/../lib/rounds.sh"
summarize "$results" true

kg=$(v keygen full)
ecdh=$(v openssl-ecdh full)
sign=$(v openssl-ecdsa full)
bound=$(awk -v k="$kg" -v e="$ecdh" 'BEGIN { if (k > 0 && e > 0) printf "%.1f", 1 / (1 / k + 1 / e) }')
bound_s=$(awk -v k="$kg" -v e="$ecdh" -v s="$sign" \
    'BEGIN { if (k > 0 && e > 0 && s > 0) printf "%.1f", 1 / (1 / k + 1 / e + 1 / s) }')

echo
echo "== Web Push messages prepared per second (encrypted + VAPID Authorization header)"
echo "   $pin_note"
printf '  %-46s %10s %6s %12s\n' "" "per s" "busy" "whole cores"
line "mqpush (wpbench), VAPID cached, 1 core" ours-cached-1
line "mqpush (wpbench), VAPID fresh, 1 core" ours-fresh-1
line "npm web-push, 1 process" web-push-1
line "mqpush (wpbench), VAPID cached, 2 cores" ours-cached-2
line "mqpush (wpbench), VAPID fresh, 2 cores" ours-fresh-2
line "npm web-push, 2 processes" web-push-2
line "OpenSSL P-256 keygen (wpbench --keygen)" keygen
line "openssl speed ecdhp256 (derive only)" openssl-ecdh
line "openssl speed ecdsap256 (sign)" openssl-ecdsa
printf '  %-46s %10s %6s %12s\n' "per-core bound 1/(1/keygen + 1/ecdh)" "" "" "$(num %.0f "$bound")"
printf '  %-46s %10s %6s %12s\n' "  with an ES256 signature: + 1/sign" "" "" "$(num %.0f "$bound_s")"

row() { # label wall-ratio full-ratio target verdict
    printf '  %-56s %8s %10s   %-9s %s\n' "$1" "${2:--}" "${3:--}" "${4:-}" "${5:-}"
}
echo
echo "== ratios and targets (verdicts on the whole-core figures)"
printf '  %-56s %8s %10s   %-9s %s\n' "" "per s" "cores" "target" ""
for mode in cached fresh; do
    c1=$(r "ours-$mode-1" web-push-1 full)
    row "mqpush/web-push, 1 core, VAPID $mode" "$(r "ours-$mode-1" web-push-1 per_s)" "$c1" \
        ">= 2" "$(verdict "$c1" '>=' 2)"
    c2=$(r "ours-$mode-2" web-push-2 full)
    row "mqpush/web-push, 2 cores, VAPID $mode" "$(r "ours-$mode-2" web-push-2 per_s)" "$c2" \
        ">= 3.5" "$(verdict "$c2" '>=' 3.5)"
    row "  mqpush 2 cores / web-push 1 process" "$(r "ours-$mode-2" web-push-1 per_s)" \
        "$(r "ours-$mode-2" web-push-1 full)"
done
for mode in cached fresh; do
    p1=$(pct "$(v "ours-$mode-1" full)" "$bound")
    row "mqpush / per-core bound (%), 1 core, VAPID $mode" "" "$p1" ">= 60" \
        "$(verdict "$p1" '>=' 60)"
    p2=$(pct "$(awk -v x="$(v "ours-$mode-2" full)" 'BEGIN { print x / 2 }')" "$bound")
    row "  per core with 2 cores (%)" "" "$p2"
done
row "mqpush VAPID fresh / bound with signature (%), 1 core" "" \
    "$(pct "$(v ours-fresh-1 full)" "$bound_s")"
row "scaling 1 -> 2 cores: mqpush cached, fresh" "" \
    "$(r ours-cached-2 ours-cached-1 full), $(r ours-fresh-2 ours-fresh-1 full)"
row "scaling 1 -> 2 cores: web-push" "" "$(r web-push-2 web-push-1 full)"

sizes=$(jq -s -r 'map(select(.plain_avg)) | group_by(.what) | map("\(.[0].what): event \(.[0].plain_avg | round) B, body \(.[0].body_avg | round) B, Authorization \(.[0].auth_header_avg | round) B") | join("; ")' "$results")
rounds_notes "message sizes (averages): $sizes"
