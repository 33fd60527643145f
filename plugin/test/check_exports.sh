#!/bin/sh
# The plugin must export exactly the three entry points Mosquitto looks up, nothing of core.
set -eu
so=$1
expected="mosquitto_plugin_cleanup
mosquitto_plugin_init
mosquitto_plugin_version"
actual=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sort)
if [ "$actual" != "$expected" ]; then
    echo "unexpected dynamic symbols in $so:" >&2
    echo "$actual" >&2
    exit 1
fi
echo "exports ok: $(echo "$actual" | tr '\n' ' ')"
