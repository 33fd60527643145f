#!/bin/sh
# Run one libFuzzer target for a few seconds over its seed corpus. A crash, leak or sanitizer
# report fails the test; the input that caused it is kept under tests/fuzz/artifacts/.
set -eu
bin=$1
name=$2
seconds=${3:-20}
here=$(cd "$(dirname "$0")" && pwd)
seeds="$here/corpus/$name"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$here/artifacts"
cp -r "$seeds"/. "$work"/ 2>/dev/null || true
dict=""
[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
exec "$bin" $dict -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$here/artifacts/$name-" -print_final_stats=1 "$work"
