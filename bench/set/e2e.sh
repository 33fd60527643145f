# The end-to-end phase of bench/set/run.sh (sourced by it, with its variables and helpers):
# Mosquitto with the plugin, the bridge with an SSF transmitter, one RFC 8935 push stream to
# setpush's receiver on 127.0.0.1, events published flat out for $warm + $dur s.
# shellcheck shell=bash

if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
    on_server=(taskset -c 0) on_load=(taskset -c 1)
else
    on_server=() on_load=()
fi

wait_port() { # port pid name
    local i
    for i in $(seq 1 200); do
        kill -0 "$2" 2>/dev/null || { echo "run.sh: $3 exited at start:" >&2; tail -20 "$work/$3.out" "$work/$3.log" >&2 2>/dev/null; exit 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "run.sh: $3 does not listen on 127.0.0.1:$1" >&2
    exit 1
}

# ---- keys, tokens, configuration ------------------------------------------------------------
iss=https://idp.bench.test/realms/bench
siss=https://idp.bench.test/realms/service
aud=mqpush
"$ctl" keygen --type ec --key "$work/bench.pem" --jwks "$work/bench.jwks.json" >/dev/null
"$ctl" keygen --type ec --key "$work/service.pem" --jwks "$work/service.jwks.json" >/dev/null
pub_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub bench-publisher \
    --roles mqpush-publisher --ttl 7200)
# the SSF receiver's token: its sub becomes the stream's aud (docs/ssf.md)
rx_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub receiver-1 \
    --roles ssf-receiver --ttl 7200)
"$ctl" token --key "$work/service.pem" --iss "$siss" --aud "$aud" --sub mqpush-bridge \
    --roles mqpush-bridge --ttl 7200 >"$work/bridge.token"
cat >"$work/streams.json" <<EOF2
{"service": {"issuer": "$siss", "audience": "$aud", "jwks_file": "service.jwks.json"},
 "tenants": {"bench": {"issuer": "$iss", "audience": "$aud", "jwks_file": "bench.jwks.json",
   "streams": {"security": {"id": "security", "name": "security events",
                            "subscriberRoles": ["reader"],
                            "events": [{"namespace": "auth", "name": "logout"}]}}}}}
EOF2
"$ctl" check-config "$work/streams.json" >/dev/null

mport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
rport=$("$mqload" --free-port)
{
    echo "listener $mport 127.0.0.1"
    echo "persistence false"
    echo "log_dest file $work/mqpush.log"
    [ "$(id -u)" = 0 ] && echo "user root"
    echo "per_listener_settings false"
    echo "allow_anonymous false"
    echo "plugin $build/plugin/mqpush_plugin.so"
    echo "plugin_opt_config $work/streams.json"
} >"$work/mqpush.conf"
# the receiver is on loopback: outbound.allow lets the SSRF guard pass it (docs/ssf.md, Push)
cat >"$work/bridge.json" <<EOF2
{"listen": "127.0.0.1:$hport",
 "broker": {"host": "127.0.0.1", "port": $mport, "client_id": "bench-bridge",
            "token_file": "bridge.token"},
 "streams_file": "streams.json", "store": "sqlite://bridge.db",
 "outbound": {"allow": ["127.0.0.0/8"]},
 "ssf": {"transmitter": {"alg": "ES256",
   "streams": [{"tenant": "bench", "stream": "security",
                "events": [{"namespace": "auth", "name": "logout", "type": "$type",
                            "subject_path": "payload.seq"}]}],
   "delivery": {"max_pending": 10000, "retry_min_ms": 100}}}}
EOF2
(cd "$work" && "$bridge_bin" -c bridge.json --check-config >/dev/null)

"${on_load[@]}" "$mosquitto" -c "$work/mqpush.conf" >"$work/mqpush.out" 2>&1 &
mq_pid=$!
pids+=("$mq_pid")
wait_port "$mport" "$mq_pid" mqpush
(cd "$work" && exec "${on_server[@]}" "$bridge_bin" -c bridge.json) >"$work/bridge.out" 2>&1 &
bridge_pid=$!
pids+=("$bridge_pid")
wait_port "$hport" "$bridge_pid" bridge
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$hport/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$hport/healthz" >/dev/null ||
    { echo "run.sh: the bridge never reached the broker" >&2; tail "$work/bridge.out" >&2; exit 1; }

curl -sf "http://127.0.0.1:$hport/jwks.json" >"$work/tx.jwks.json"
stream=$(curl -sf -X POST "http://127.0.0.1:$hport/ssf/bench/streams" \
    -H "authorization: Bearer $rx_token" -H 'content-type: application/json' \
    --data "{\"events_requested\": [\"$type\"], \"delivery\": {\"method\": \"urn:ietf:rfc:8935\",
             \"endpoint_url\": \"http://127.0.0.1:$rport/set\"}}") ||
    { echo "run.sh: cannot create the SSF stream" >&2; tail "$work/bridge.out" >&2; exit 1; }
stream_aud=$(echo "$stream" | jq -r .aud)

echo "== end to end: events published flat out (window $window), one SSF push stream, $warm + $dur s"
line=$("${on_load[@]}" "$setpush" --port "$rport" --mqtt-port "$mport" \
    --topic bench/events/auth/logout --token "$pub_token" --type "$type" --aud "$stream_aud" \
    --jwks "$work/tx.jwks.json" --verify-every 100 --bridge-pid "$bridge_pid" --size "$size" \
    --window "$window" --warmup "$warm" --duration "$dur" --label push 2>>"$work/stderr.log") || true
fail_if_error "$line" "end to end"
record "$line" push 1
echo "$line" | jq -r '"   \(.per_s | floor) SETs pushed/s; bridge CPU \(.bridge_busy) = \(.cpu_us_per_set) us per SET; published \(.published), received \(.received), lost \(.lost), duplicates \(.duplicates); verified \(.verified), failed \(.verify_failed)"'
kill "$bridge_pid" "$mq_pid" 2>/dev/null || true
wait "$bridge_pid" 2>/dev/null || true
wait "$mq_pid" 2>/dev/null || true
