#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: a new cluster in a temporary directory, listening on
# 127.0.0.1 only, on a free port, with its unix socket in that directory, trust authentication
# (nothing but this machine can reach it) and no fsync (its data is thrown away).
#
#   pg-cluster.sh start STATE      start one, write STATE (shell variables), print its URL
#   pg-cluster.sh stop STATE       stop the cluster STATE describes and remove its directory
#   pg-cluster.sh url STATE        print its URL
#   pg-cluster.sh run STATE CMD..  run CMD with MQP_TEST_PG_URL set to its URL
#
# initdb refuses to run as root: as root, the cluster belongs to the "postgres" user that
# Debian's postgresql package creates. The binaries are PostgreSQL's own directory's
# (/usr/lib/postgresql/<version>/bin on Debian), else the PATH's.
set -euo pipefail

die() {
    echo "pg-cluster: $*" >&2
    exit 1
}

bindir() {
    local d
    # the newest version first
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    d=$(command -v initdb 2>/dev/null) || die "initdb not found (Debian: apt-get install postgresql)"
    dirname "$d"
}

# Run as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_free() {
    ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

start() {
    local state=$1 bin dir port url tries=0
    stop "$state" # one left by a run that was cut short
    bin=$(bindir)
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "no postgres user to own the cluster (install postgresql)"
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/mqp-pg-XXXXXX")
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-locale -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }
    # A port nobody listens on now; another process may take it before postgres binds: then
    # another port.
    while :; do
        port=$((20000 + RANDOM % 30000))
        port_free "$port" || continue
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -o \
            "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
            start >/dev/null; then
            break
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ]; then
            cat "$dir/postgres.log" >&2 || true
            rm -rf "$dir"
            die "postgres did not start"
        fi
    done
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres mqpush_test ||
        { as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop || true; rm -rf "$dir"; die "createdb failed"; }
    url="postgresql://postgres@127.0.0.1:$port/mqpush_test"
    printf 'PG_DIR=%q\nPG_BIN=%q\nPG_PORT=%q\nPG_URL=%q\n' "$dir" "$bin" "$port" "$url" >"$state"
    echo "$url"
}

stop() {
    local state=$1
    [ -f "$state" ] || return 0
    # shellcheck disable=SC1090
    . "$state"
    if [ -d "$PG_DIR/data" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null ||
            as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null || true
    fi
    rm -rf "$PG_DIR"
    rm -f "$state"
}

url() {
    [ -f "$1" ] || die "no cluster: $1 is missing (start one first)"
    # shellcheck disable=SC1090
    . "$1"
    echo "$PG_URL"
}

[ $# -ge 2 ] || die "usage: $0 start|stop|url STATE, or $0 run STATE CMD..."
cmd=$1
state=$2
shift 2
case $cmd in
start) start "$state" ;;
stop) stop "$state" ;;
url) url "$state" ;;
run)
    [ $# -ge 1 ] || die "run: no command"
    MQP_TEST_PG_URL=$(url "$state")
    export MQP_TEST_PG_URL
    exec "$@"
    ;;
*) die "unknown command $cmd" ;;
esac
