# Formatting the benchmark reports (bench/*/report.sh) share. Sourced.
# shellcheck shell=bash

need_args() { # count usage argument-count: exit with the usage when the count is not count
    if [ "$3" -ne "$1" ]; then
        echo "usage: report.sh $2" >&2
        exit 2
    fi
}

num() { # printf-format value; "-" when empty
    if [ -z "$2" ]; then printf '%s' "-"; else awk -v x="$2" "BEGIN { printf \"$1\", x }"; fi
}
ratio() { # a b [decimals]: a / b with 2 decimals (or as many as given); empty when either is missing
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v a="$1" -v b="$2" "BEGIN { if (b > 0) printf \"%.${3:-2}f\", a / b }"
    fi
}
pct() { # a / b in percent
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b }'
    fi
}
verdict() { # value op target
    if [ -z "$1" ]; then
        echo "n/a"
    elif awk -v x="$1" -v t="$3" "BEGIN { exit !(x $2 t) }"; then
        echo "met"
    else
        echo "MISSED"
    fi
}
indent() { # text: each line two spaces in
    printf '%s\n' "$1" | sed 's/^/  /'
}
notes_section() { # text: a "notes" heading and the text, when there is any
    if [ -n "$1" ]; then
        echo
        echo "== notes"
        indent "$1"
    fi
}
