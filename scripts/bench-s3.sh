#!/usr/bin/env bash
# End-to-end benchmark of the aws-s3 source: a CloudTrail bucket served by an
# in-memory S3 (tools/fakes3, its own process, on 127.0.0.1) read once by
# `skywatch run --once`. Prints events/s and skywatch's peak RSS.
#
#   scripts/bench-s3.sh BUCKET_DIR [RULES...]
#
# BUCKET_DIR is a local copy of a bucket (e.g. made by
# `python3 ../shared/tools/gen_cloudtrail.py DIR --events 200000`); RULES default to
# builtin (pass ../shared/corpus/wazuh/ruleset for Wazuh's stock ruleset).
set -euo pipefail
dir=${1:?usage: bench-s3.sh BUCKET_DIR [RULES...]}
shift || true
rules=${*:-builtin}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill $fakepid 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/skywatch" ./cmd/skywatch
go build -o "$tmp/fakes3" ./tools/fakes3
port=$((20000 + RANDOM % 20000))
"$tmp/fakes3" -addr "127.0.0.1:$port" -bucket bench -load "$dir" > "$tmp/fakes3.log" 2>&1 &
fakepid=$!
for _ in $(seq 1 600); do grep -q "objects in bucket" "$tmp/fakes3.log" 2>/dev/null && break; sleep 0.1; done
cat "$tmp/fakes3.log"
abs=()
for r in $rules; do if [ "$r" = builtin ]; then abs+=(builtin); else abs+=("$(realpath "$r")"); fi; done
rulelist=$(printf '"%s",' "${abs[@]}"); rulelist="[${rulelist%,}]"
cat > "$tmp/bench.yaml" <<YAML
data_dir: $tmp/var
rules: $rulelist
outputs:
  - type: file
    path: $tmp/var/alerts.json
sources:
  - name: bench
    type: aws-s3
    bucket: bench
    log_type: cloudtrail
    only_logs_after: 2000-01-01
    workers: 4
    region: us-east-1
    access_key_id: bench
    secret_access_key: bench
    endpoint: http://127.0.0.1:$port
    path_style: true
YAML
AWS_CA_BUNDLE= /usr/bin/time -f "skywatch peak RSS: %M KB, %e s wall, %U s user, %S s sys" \
  "$tmp/skywatch" run --config "$tmp/bench.yaml" --once
