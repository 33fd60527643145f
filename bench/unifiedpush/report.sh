#!/usr/bin/env bash
# The table of a bench/unifiedpush/run.sh run from its results.jsonl (one JSON line per run).
# usage: report.sh results.jsonl [pinning note]
set -euo pipefail
results=$1
note=${2:-}
echo
echo "== UnifiedPush benchmark ($note)"
echo
echo "| run | figure | bridge CPU | CPU per push/message | p50 | p99 |"
echo "|---|---|---|---|---|---|"
jq -r 'def r2: if type == "number" then (. * 100 | round / 100 | tostring) else "-" end;
    if .pushes_per_s then
        "| \(.label) (\(.registrations) registrations) | \(.pushes_per_s | floor) pushes/s | \(.bridge_busy | r2) | \(.cpu_us_per_push // 0 | round) us | \(.latency_ms.p50 | r2) ms | \(.latency_ms.p99 | r2) ms |"
    else
        "| \(.label) (\(.endpoints) endpoints\(if .rate > 0 then ", \(.rate) POSTs/s offered" else ", flat out" end)) | \(.accepted_per_s | floor) accepted POSTs/s | \(.bridge_busy | r2) | \(if .accepted_per_s > 0 then (.bridge_busy * 1e6 / .accepted_per_s | round | tostring) + " us" else "-" end) | \(.latency_ms.p50 | r2) ms | \(.latency_ms.p99 | r2) ms |"
    end' "$results"
echo
jq -s -r '(map(select(.label == "serv-flat-out"))[0].pushes_per_s) as $s |
    (map(select(.label == "webpush-flat-out"))[0].pushes_per_s) as $w |
    if $s and $w and $w > 0 then "SERV form / Web Push form throughput: \($s / $w * 100 | round / 100)" else empty end' "$results"
