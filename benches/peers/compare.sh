#!/usr/bin/env bash
# Side-by-side throughput: this library's servers (ours-tokio: examples/server.rs, the tokio
# server; ours-threads: examples/thread_server.rs, a thread per connection) and peer servers,
# each serving the example's page at /, measured with wrk (Debian package `wrk`, installed if
# missing) on loopback, alternating servers, three rounds; prints medians and ratios as a
# Markdown table.
#   benches/peers/compare.sh [SECONDS_PER_RUN]    (default 5)
set -euo pipefail
cd "$(dirname "$0")"
command -v wrk > /dev/null || apt-get install -y wrk > /dev/null || { apt-get update > /dev/null && apt-get install -y wrk > /dev/null; }
secs=${1:-5}
root=$(cd ../.. && pwd)
(cd "$root" && cargo build --release --quiet --example server --example thread_server)
cargo build --release --quiet

declare -A cmd=(
  [ours-tokio]="$root/target/release/examples/server 127.0.0.1:8301 --quiet"
  [ours-threads]="$root/target/release/examples/thread_server 127.0.0.1:8302 --quiet"
  [hyper]="target/release/hyper 127.0.0.1:8303"
  [tiny_http]="target/release/tiny_http 127.0.0.1:8304"
  [picoserve]="target/release/picoserve 127.0.0.1:8305"
  [edge_http]="target/release/edge_http 127.0.0.1:8306"
)
declare -A port=([ours-tokio]=8301 [ours-threads]=8302 [hyper]=8303 [tiny_http]=8304
  [picoserve]=8305 [edge_http]=8306)
servers=(ours-tokio ours-threads hyper tiny_http picoserve edge_http)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for s in "${servers[@]}"; do
  ${cmd[$s]} > /dev/null 2>&1 &
  pids+=($!)
done
sleep 1
# Every peer must serve our example's page byte for byte (ours is checked against
# demo::PAGE by tests/example_server.sh).
expected=$(curl -s -m 5 "http://127.0.0.1:${port[ours-threads]}/")
for s in "${servers[@]}"; do
  got=$(curl -s -m 5 "http://127.0.0.1:${port[$s]}/")
  [ "$got" = "$expected" ] || { echo "$s does not serve the example's page" >&2; exit 1; }
done

scenarios=("c16:-c16" "c1:-c1" "pipelined:-c16 -s pipeline.lua")
# One untimed second per server first: in two earlier runs without it, the very first
# measurement after start-up came out 15-20% below the same server's later rounds.
for s in "${servers[@]}"; do
  wrk -t1 -c16 -d1s "http://127.0.0.1:${port[$s]}/" > /dev/null
done
declare -A results
for round in 1 2 3; do
  for s in "${servers[@]}"; do
    for sc in "${scenarios[@]}"; do
      name=${sc%%:*} args=${sc#*:}
      # shellcheck disable=SC2086
      rps=$(wrk -t1 $args -d"${secs}s" "http://127.0.0.1:${port[$s]}/" | awk '/Requests\/sec/ {print $2}')
      results[$s,$name]+="$rps "
      echo "round $round $s $name $rps" >&2
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| server | keep-alive, 16 connections | keep-alive, 1 connection | pipelined, 16 connections x 16 |"
echo "|---|---|---|---|"
declare -A med
for s in "${servers[@]}"; do
  row="| $s |"
  for sc in "${scenarios[@]}"; do
    name=${sc%%:*}
    m=$(echo "${results[$s,$name]}" | median)
    med[$s,$name]=$m
    row+=" $(printf '%.0f' "$m") req/s |"
  done
  echo "$row"
done
for ours in ours-tokio ours-threads; do
  for peer in hyper tiny_http picoserve edge_http; do
    row="| $ours / $peer |"
    for sc in "${scenarios[@]}"; do
      name=${sc%%:*}
      row+=" $(awk -v a="${med[$ours,$name]}" -v b="${med[$peer,$name]}" 'BEGIN {printf "%.2fx", a / b}') |"
    done
    echo "$row"
  done
done
