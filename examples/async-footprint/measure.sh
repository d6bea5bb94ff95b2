#!/usr/bin/env bash
# Print the size of the async connection future over a socket (buffers not included) on
# thumbv7em-none-eabihf, from rustc's type-size report (nightly), for a firmware router of
# blocking handlers and for the demo app (its async streaming routes included), and fail if
# either exceeds its budget (first argument, default 1024 bytes; second, default 1344).
set -euo pipefail
cd "$(dirname "$0")"
budget=${1:-1024}
demo_budget=${2:-1344}
rustup target add --toolchain nightly thumbv7em-none-eabihf >/dev/null 2>&1 || true
touch src/lib.rs
if ! report=$(cargo +nightly rustc --quiet --release --target thumbv7em-none-eabihf -- -Zprint-type-sizes 2>&1); then
  printf '%s\n' "$report" | grep -v '^print-type-size' | tail -n 30
  echo "measure.sh: build failed"
  exit 1
fi
line=$(printf '%s\n' "$report" | grep -E "^print-type-size type: \`\{async fn body of serve_connection\(\)\}\`" | head -n 1)
[ -n "$line" ] || { echo "serve_connection future not found in the type-size report"; exit 1; }
size=$(printf '%s\n' "$line" | sed -E 's/^[^`]*`[^`]*`: ([0-9]+) bytes.*/\1/')
echo "async connection future on thumbv7em-none-eabihf: $size bytes (budget $budget), plus the caller's buffers"
# What it holds, one level down.
printf '%s\n' "$report" | grep -A12 -E "^print-type-size type: \`\{async fn body of serve_connection\(\)\}\`" |
  grep -E "local|upvar" | sed -E 's/, type: .*//; s/^print-type-size +/  /' | sort -u
line=$(printf '%s\n' "$report" | grep -E "^print-type-size type: \`\{async fn body of serve_demo\(\)\}\`" | head -n 1)
[ -n "$line" ] || { echo "serve_demo future not found in the type-size report"; exit 1; }
demo_size=$(printf '%s\n' "$line" | sed -E 's/^[^`]*`[^`]*`: ([0-9]+) bytes.*/\1/')
echo "async connection future with the demo app (async upload, download and event routes): $demo_size bytes (budget $demo_budget)"
status=0
[ "$size" -le "$budget" ] || { echo "over the budget of $budget bytes"; status=1; }
[ "$demo_size" -le "$demo_budget" ] || { echo "the demo's is over the budget of $demo_budget bytes"; status=1; }
exit $status
