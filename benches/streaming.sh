#!/usr/bin/env bash
# Streaming throughput on loopback: this library's tokio and thread servers and hyper (the
# peer in benches/peers, on tokio's current-thread runtime like ours), side by side in one
# run: POST /upload with Content-Length and chunked (the answer's length and CRC-32 checked),
# GET /stream on one connection and on 16 at once (curl; sizes checked), each server's CPU
# per GB. Every server computes the upload's CRC-32 with the same crate (`crc32fast`, SIMD
# where the CPU has it), so the upload measures the servers. streaming.py runs the clients
# and prints the table (medians of the rounds).
#   benches/streaming.sh [UPLOAD_MIB] [DOWNLOAD_MIB] [ROUNDS]    (defaults 256, 1024, 3)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
up_mib=${1:-256}
down_mib=${2:-1024}
rounds=${3:-3}
(cd "$root" && cargo build --release --quiet --example server --example thread_server)
(cd peers && cargo build --release --quiet --bin hyper)

declare -A cmd=(
  [ours-tokio]="$root/target/release/examples/server 127.0.0.1:8601 --quiet"
  [ours-threads]="$root/target/release/examples/thread_server 127.0.0.1:8602 --quiet"
  [hyper]="peers/target/release/hyper 127.0.0.1:8603"
)
declare -A port=([ours-tokio]=8601 [ours-threads]=8602 [hyper]=8603)
servers=(ours-tokio ours-threads hyper)
declare -A pid
pids=()

for s in "${servers[@]}"; do
  ${cmd[$s]} > /dev/null 2>&1 &
  pids+=($!)
  pid[$s]=$!
done
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
sleep 1
args=()
for s in "${servers[@]}"; do args+=("$s=${port[$s]}:${pid[$s]}"); done
python3 streaming.py "${args[@]}" --upload-mib "$up_mib" --download-mib "$down_mib" --rounds "$rounds"
