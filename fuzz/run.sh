#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 30), one after another, from the committed
# seeds plus the local corpus. Needs a nightly toolchain and cargo-fuzz. Fails if a target
# fails to build or finds a crash, hang or leak.
#   fuzz/run.sh 600                 # ten minutes per target
#   fuzz/run.sh 600 chunked         # one target
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(head chunked connection stream_body ws_frames multipart)
mkdir -p logs
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "== fuzz $target for ${seconds}s"
  log="logs/$target.log"
  if ! cargo +nightly fuzz run --release "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -max_len=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz $target FAILED:"
    tail -60 "$log"
    exit 1
  fi
  grep -E "^(#[0-9]+.*DONE|Done [0-9]+ runs|stat::number_of_executed_units)" "$log" || true
done
