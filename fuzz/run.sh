#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 30), one after another, from the committed
# seeds plus the local corpus. Needs a nightly toolchain and cargo-fuzz.
#   fuzz/run.sh 600        # ten minutes per target
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
for target in head chunked connection; do
  mkdir -p "corpus/$target"
  echo "== fuzz $target for ${seconds}s"
  cargo +nightly fuzz run --release "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=2048 -timeout=10 -print_final_stats=1 2>&1 |
    grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|Done)" || true
  # a crash makes cargo fuzz exit non-zero; grep above hides it, so check for artifacts
  if ls "artifacts/$target"/crash-* "artifacts/$target"/timeout-* >/dev/null 2>&1; then
    echo "fuzz $target found a failure:"; ls "artifacts/$target"; exit 1
  fi
done
