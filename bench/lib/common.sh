# Shell code the benchmark run scripts (bench/*/run.sh) share: options, the build, CPU pinning,
# the work directory, Mosquitto with the plugin and the bridge, result lines. Sourced by a
# run.sh after it has defined usage() and set bench_name, the stem of its files: the build log
# $build/<bench_name>-build.log, the work directory mqpush-<bench_name>.XXXXXX and the copy of
# the results $build/<bench_name>-results.jsonl. Sets top (the repository) and build (the
# build tree, BUILD_DIR or <repo>/build-bench, made absolute).
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # variables set for, and by, the scripts that source this

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$top/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac

# ---- options, tools, the build --------------------------------------------------------------

# --quick, --keep, --no-pin and --help into quick, keep and pin. An option of one script only
# goes to its extra_option(), when it defines one: called with the remaining arguments, it sets
# opt_args to how many of them it took, or returns 1 when it does not know the option.
parse_options() { # "$@" of the script
    quick=0 keep=0 pin=1
    while [ $# -gt 0 ]; do
        opt_args=1
        case "$1" in
        --quick) quick=1 ;;
        --keep) keep=1 ;;
        --no-pin) pin=0 ;;
        -h | --help) usage; exit 0 ;;
        *)
            if ! declare -F extra_option >/dev/null || ! extra_option "$@"; then
                echo "run.sh: unknown option '$1'" >&2
                usage >&2
                exit 2
            fi
            ;;
        esac
        shift "$opt_args"
    done
}

need_tools() { # command...: exit when one is not installed
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is needed but not installed" >&2; exit 1; }
    done
}

need_broker() { # the Mosquitto binary (MOSQUITTO, /usr/sbin/mosquitto) in mosquitto
    mosquitto=${MOSQUITTO:-/usr/sbin/mosquitto}
    [ -x "$mosquitto" ] || { echo "run.sh: no broker at $mosquitto (set MOSQUITTO)" >&2; exit 1; }
}

build_targets() { # target...: configure the Release tree and build these targets
    local log=$build/$bench_name-build.log
    echo "== building $build (Release)"
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMQP_TESTS=OFF -DMQP_BENCH=ON >/dev/null
    cmake --build "$build" -j2 --target "$@" >"$log" 2>&1 ||
        { tail -30 "$log" >&2; echo "run.sh: build failed" >&2; exit 1; }
}

need_peer_packages() { # package...: npm ci in the script's peer/ when one of them is missing
    local p
    for p in "$@"; do
        if [ ! -d "$here/peer/node_modules/$p" ]; then
            echo "== installing the peer's packages (npm ci, versions from peer/package-lock.json)"
            (cd "$here/peer" && npm ci --no-audit --no-fund >/dev/null)
            return 0
        fi
    done
}

need_descriptors() { # n: raise the soft limit of open files to the hard one, which must be n at least
    local need=$1
    if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
        ulimit -Hn "$need" 2>/dev/null ||
            { echo "run.sh: needs $need descriptors, hard limit is $(ulimit -Hn) (run as root, or raise it)" >&2; exit 1; }
    fi
    ulimit -n "$(ulimit -Hn)"
}

# ---- CPUs, the work directory, the machine ----------------------------------------------------

# The server under test alone on CPU 0, the load on CPU 1: sets ncpu, pinned (1 when pinned)
# and the taskset prefixes on_server and on_load, empty without --no-pin or a second CPU.
pin_server_load() {
    ncpu=$(nproc)
    if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
        pinned=1 on_server=(taskset -c 0) on_load=(taskset -c 1)
    else
        pinned=0 on_server=() on_load=()
    fi
}

# One core and two: sets ncpu, two (1 with two CPUs or more), the taskset prefixes on0 (CPU 0),
# on1 (CPU 1) and both (CPUs 0 and 1), the options cpu0 and cpus of the project's own bench
# programs, and pin_note: pinned-note, one-cpu-note, or "not pinned (N CPUs)" with --no-pin.
pin_cores() { # pinned-note one-cpu-note
    ncpu=$(nproc)
    if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
        on0=(taskset -c 0) on1=(taskset -c 1) both=(taskset -c "0,1") cpu0=(--cpus 0) cpus=(--cpus "0,1")
        pin_note=$1
    elif [ "$pin" = 1 ]; then
        on0=(taskset -c 0) on1=() both=() cpu0=(--cpus 0) cpus=()
        pin_note=$2
    else
        on0=() on1=() both=() cpu0=() cpus=()
        pin_note="not pinned ($ncpu CPUs)"
    fi
    two=0
    [ "$ncpu" -ge 2 ] && two=1
    return 0
}

# The work directory (work) with an empty results.jsonl (results); the processes in pids are
# stopped at exit, and the directory removed unless --keep.
start_work() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/mqpush-$bench_name.XXXXXX")
    results=$work/results.jsonl
    : >"$results"
    pids=()
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$keep" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}

stop() { # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

warn_if_loaded() { # a line when the 1-minute load average says other processes are busy
    local load1
    read -r load1 _ </proc/loadavg
    if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
        echo "   warning: load average $load1: other processes are busy, figures will be noisy"
    fi
}

now_s() { date +%s.%N; }
# CPU seconds (user + system) of a process, from /proc/<pid>/stat
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }

# ---- result lines -----------------------------------------------------------------------------

j() { echo "$1" | jq -r "$2"; } # a field of a result line

record() { # line phase [round]: the line, with its phase (and round), into results.jsonl
    if [ $# -gt 2 ]; then
        echo "$1" | jq -c --arg p "$2" --argjson r "$3" '. + {phase: $p, round: $r}' >>"$results"
    else
        echo "$1" | jq -c --arg p "$2" '. + {phase: $p}' >>"$results"
    fi
}

# Exit when a result line is missing or holds an "error", showing the last lines of the logs
# listed in the array err_logs.
fail_if_error() { # line what
    if [ -z "$1" ] || echo "$1" | jq -e '.error' >/dev/null 2>&1; then
        echo "run.sh: $2 failed: ${1:-no result}" >&2
        tail -5 "${err_logs[@]}" >&2 2>/dev/null || true
        exit 1
    fi
}

save_results() { # the results, kept in the build tree
    cp "$results" "$build/$bench_name-results.jsonl"
    echo "raw results: $build/$bench_name-results.jsonl"
}

# ---- Mosquitto with the plugin, the bridge ----------------------------------------------------

wait_port() { # port pid name: until it listens on 127.0.0.1; exit when the process ends first
    for _ in $(seq 1 200); do
        kill -0 "$2" 2>/dev/null || { echo "run.sh: $3 exited at start:" >&2; tail -20 "$work/$3.out" "$work/$3.log" >&2 2>/dev/null; exit 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "run.sh: $3 does not listen on 127.0.0.1:$1" >&2
    exit 1
}

# Keys and tokens in the work directory: the tenant "bench" (issuer iss, key bench.pem) and the
# service (issuer siss, key service.pem), both for the audience aud; pub_token, a publisher's
# token, and bridge.token, the bridge's service token.
bridge_keys() {
    iss=https://idp.bench.test/realms/bench
    siss=https://idp.bench.test/realms/service
    aud=mqpush
    "$ctl" keygen --type ec --key "$work/bench.pem" --jwks "$work/bench.jwks.json" >/dev/null
    "$ctl" keygen --type ec --key "$work/service.pem" --jwks "$work/service.jwks.json" >/dev/null
    pub_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub bench-publisher \
        --roles mqpush-publisher --ttl 7200)
    "$ctl" token --key "$work/service.pem" --iss "$siss" --aud "$aud" --sub mqpush-bridge \
        --roles mqpush-bridge --ttl 7200 >"$work/bridge.token"
}

write_streams() { # streams: streams.json, the service and the tenant "bench" with these streams (JSON)
    cat >"$work/streams.json" <<EOF
{"service": {"issuer": "$siss", "audience": "$aud", "jwks_file": "service.jwks.json"},
 "tenants": {"bench": {"issuer": "$iss", "audience": "$aud", "jwks_file": "bench.jwks.json",
   "streams": $1}}}
EOF
    "$ctl" check-config "$work/streams.json" >/dev/null
}

mosquitto_conf() { # name port [lines]: $work/<name>.conf, a broker on 127.0.0.1:port
    local name=$1 port=$2
    shift 2
    {
        echo "listener $port 127.0.0.1"
        echo "persistence false"
        echo "log_dest file $work/$name.log"
        # as root Mosquitto would become "mosquitto", who cannot read this private directory
        [ "$(id -u)" = 0 ] && echo "user root"
        printf '%s\n' "$@"
    } >"$work/$name.conf"
}

plugin_conf() { # name port: Mosquitto with the mqpush plugin and streams.json
    mosquitto_conf "$1" "$2" "per_listener_settings false" "allow_anonymous false" \
        "plugin $build/plugin/mqpush_plugin.so" "plugin_opt_config $work/streams.json"
}

start_mosquitto() { # name port: Mosquitto from $work/<name>.conf on the load CPU, in mq_pid
    "${on_load[@]}" "$mosquitto" -c "$work/$1.conf" >"$work/$1.out" 2>&1 &
    mq_pid=$!
    pids+=("$mq_pid")
    wait_port "$2" "$mq_pid" "$1"
}

# $work/bridge.json, checked: the bridge listening on 127.0.0.1:http-port, a client of the broker
# on broker-port with bridge.token, streams.json and a store in the work directory, and the
# members on stdin (JSON, without the braces).
bridge_config() { # http-port broker-port
    {
        echo "{\"listen\": \"127.0.0.1:$1\","
        echo " \"broker\": {\"host\": \"127.0.0.1\", \"port\": $2, \"client_id\": \"bench-bridge\","
        echo "            \"token_file\": \"bridge.token\"},"
        echo " \"streams_file\": \"streams.json\", \"store\": \"sqlite://bridge.db\","
        cat
        echo "}"
    } >"$work/bridge.json"
    (cd "$work" && "$bridge_bin" -c bridge.json --check-config >/dev/null)
}

# The bridge from $work/bridge.json on the server CPU, in bridge_pid; returns once its health
# check says it reached the broker.
start_bridge_on() { # port: the bridge's HTTP port
    (cd "$work" && exec "${on_server[@]}" "$bridge_bin" -c bridge.json) >>"$work/bridge.out" 2>&1 &
    bridge_pid=$!
    pids+=("$bridge_pid")
    wait_port "$1" "$bridge_pid" bridge
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$1/healthz" >/dev/null ||
        { echo "run.sh: the bridge never reached the broker" >&2; tail "$work/bridge.out" >&2; exit 1; }
}

# ---- benchmarks that run in rounds, one core and two (set, webpush) ---------------------------

# One run of the project's own bench program: the rate it prints, then unit (a jq expression
# on its result) per second and the CPU its threads had.
own_rate() { # phase round unit command...
    local phase=$1 round=$2 unit=$3 line
    shift 3
    line=$("$@" --duration "$dur" --warmup "$warm" --label "$phase" 2>>"$work/stderr.log") || true
    fail_if_error "$line" "$phase"
    record "$line" "$phase" "$round"
    echo "$line" | jq -r "\"   \\(.label): \\(.per_s | floor) \\($unit)/s, busy \\([.thread_busy[]] | add | . * 100 | round / 100)\""
}

# `openssl speed` on CPU 0 for osecs seconds: its result line, {"what": "openssl", "alg",
# "per_s" (for ecdsa: signatures, and verify_per_s), "busy", "elapsed_s"}. busy is the CPU time
# from the shell's `times` over the wall time: below 1, other processes had part of CPU 0.
openssl_speed() { # algorithm
    local alg=$1 t0 t1 out cpu
    t0=$(now_s)
    out=$(bash -c '"$@" >"'"$work"'/openssl.out" 2>&1; times' _ "${on0[@]}" "$openssl" speed -mr \
        -seconds "$osecs" -elapsed "$alg") || true
    t1=$(now_s)
    cpu=$(echo "$out" | awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } print s }')
    # -mr lines: "+F5:<n>:<bits>:<ecdh ops/s>:<s/op>", "+F4:<n>:<bits>:<sign/s>:<verify/s>"
    awk -F: -v alg="$alg" -v cpu="$cpu" -v t0="$t0" -v t1="$t1" '
        /^\+F5:/ && alg ~ /ecdh/ { printf "{\"what\":\"openssl\",\"alg\":\"%s\",\"per_s\":%s,", alg, $4; ok = 1 }
        /^\+F4:/ && alg ~ /ecdsa/ { printf "{\"what\":\"openssl\",\"alg\":\"%s\",\"per_s\":%s,\"verify_per_s\":%s,", alg, $4, $5; ok = 1 }
        END { if (ok) printf "\"busy\":%.3f,\"elapsed_s\":%.2f}\n", cpu / (t1 - t0), t1 - t0 }' "$work/openssl.out"
}

# The Node peer ("$node" "$peer"), one process on CPU 0; name is the library it measures.
peer_one() { # phase name unit round [peer options]
    local phase=$1 name=$2 unit=$3 round=$4 line
    shift 4
    line=$("${on0[@]}" "$node" "$peer" --duration "$dur" --warmup "$warm" "$@" --label "$phase" \
        2>>"$work/stderr.log") || true
    fail_if_error "$line" "$name, one process"
    record "$line" "$phase" "$round"
    echo "$line" | jq -r --arg n "$name" --arg u "$unit" '"   \($n), 1 process: \(.per_s | floor) \($u)/s, busy \(.busy)"'
}

# The same, one process on each of CPU 0 and 1, measuring the same window.
peer_two() { # phase name unit round [peer options]
    local phase=$1 name=$2 unit=$3 round=$4 start a b f
    shift 4
    start=$(awk -v now="$(date +%s%3N)" -v w="$warm" 'BEGIN { printf "%d", now + 1000 + w * 1000 }')
    "${on0[@]}" "$node" "$peer" --duration "$dur" --start-at "$start" "$@" --label "$phase" \
        >"$work/peer-a.out" 2>>"$work/stderr.log" &
    a=$!
    "${on1[@]}" "$node" "$peer" --duration "$dur" --start-at "$start" "$@" --label "$phase" \
        >"$work/peer-b.out" 2>>"$work/stderr.log" &
    b=$!
    pids+=("$a" "$b")
    wait "$a" || true
    wait "$b" || true
    for f in "$work/peer-a.out" "$work/peer-b.out"; do
        fail_if_error "$(cat "$f")" "$name, two processes"
        record "$(cat "$f")" "$phase" "$round"
    done
    jq -s -r --arg n "$name" --arg u "$unit" '"   \($n), 2 processes: \(map(.per_s) | add | floor) \($u)/s, busy \(map(.busy) | add | . * 100 | round / 100)"' \
        "$work/peer-a.out" "$work/peer-b.out"
}
