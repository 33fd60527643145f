# The reports of the benchmarks that run in rounds, one core and two (bench/set, bench/webpush):
# result lines told apart by "phase" and "round", each with per_s and busy (or thread_busy).
# Sourced after bench/lib/report.sh.
# shellcheck shell=bash

# summary: one object per phase, the median over rounds of per_s, busy and full (per_s on whole
# cores: divided by busy, the CPU time the run got over its wall time). A two-process round is
# the sum of its processes. The results taken are those without an error that pass filter.
summarize() { # results filter
    summary=$(jq -s '
        map(select((.error | not) and ('"$2"')))
        | map(. + {cores: (if (.phase | endswith("-2")) then 2 else 1 end),
                   busy: (if .thread_busy then (.thread_busy | add) else .busy end)})
        | group_by([.phase, .round])
        | map({phase: .[0].phase, cores: .[0].cores, per_s: (map(.per_s) | add),
               busy: (map(.busy) | add)}
              | . + {full: (if .busy > 0 then .per_s * .cores / ([.busy, .cores] | min) else null end)})
        | group_by(.phase)
        | map(def median(f): map(f) | sort | .[(length - 1) / 2 | floor];
              {phase: .[0].phase, cores: .[0].cores, rounds: length, per_s: median(.per_s),
               busy: median(.busy), full: median(.full)})
        | INDEX(.phase)' "$1")
}
v() { # phase field: the value, empty when missing
    echo "$summary" | jq -r --arg p "$1" --arg f "$2" '.[$p][$f] // empty'
}
r() { # phase-a phase-b field
    ratio "$(v "$1" "$3")" "$(v "$2" "$3")"
}
line() { # label phase
    printf '  %-46s %10s %6s %12s\n' "$1" "$(num %.0f "$(v "$2" per_s)")" \
        "$(num %.2f "$(v "$2" busy)")" "$(num %.0f "$(v "$2" full)")"
}
rounds_notes() { # first-line: a "notes" heading, that line, then the phases that had less CPU than their cores
    local notes
    notes=$(echo "$summary" | jq -r '.[] | select(.busy < 0.9 * .cores)
        | "\(.phase): busy \(.busy * 100 | round / 100) of \(.cores) core(s): other processes took CPU time; the whole-core figure corrects for most of it"')
    echo
    echo "== notes"
    echo "  $1"
    if [ -n "$notes" ]; then
        indent "$notes"
    fi
}
