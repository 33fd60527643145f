# The end-to-end phase of bench/set/run.sh (sourced by it, with its variables and helpers):
# Mosquitto with the plugin, the bridge with an SSF transmitter, one RFC 8935 push stream to
# setpush's receiver on 127.0.0.1, events published flat out for $warm + $dur s.
# shellcheck shell=bash
# shellcheck disable=SC2154 # variables set by run.sh and bench/lib/common.sh

pin_server_load

# ---- keys, tokens, configuration ------------------------------------------------------------
bridge_keys
# the SSF receiver's token: its sub becomes the stream's aud (docs/ssf.md)
rx_token=$("$ctl" token --key "$work/bench.pem" --iss "$iss" --aud "$aud" --sub receiver-1 \
    --roles ssf-receiver --ttl 7200)
write_streams '{"security": {"id": "security", "name": "security events",
                            "subscriberRoles": ["reader"],
                            "events": [{"namespace": "auth", "name": "logout"}]}}'

mport=$("$mqload" --free-port)
hport=$("$mqload" --free-port)
rport=$("$mqload" --free-port)
plugin_conf mqpush "$mport"
# the receiver is on loopback: outbound.allow lets the SSRF guard pass it (docs/ssf.md, Push)
bridge_config "$hport" "$mport" <<EOF2
 "outbound": {"allow": ["127.0.0.0/8"]},
 "ssf": {"transmitter": {"alg": "ES256",
   "streams": [{"tenant": "bench", "stream": "security",
                "events": [{"namespace": "auth", "name": "logout", "type": "$type",
                            "subject_path": "payload.seq"}]}],
   "delivery": {"max_pending": 10000, "retry_min_ms": 100}}}
EOF2

start_mosquitto mqpush "$mport"
start_bridge_on "$hport"

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
stop "$bridge_pid"
stop "$mq_pid"
