#!/usr/bin/env bash
# WebSocket echo, side by side: ours (examples/server.rs, the tokio server, `GET /ws` =
# demo::ws_echo_async, which answers in frames of at most 1 KiB) and tokio-tungstenite
# (benches/ws-peers/src/bin/tungstenite_echo.rs, also one current-thread runtime, also
# TCP_NODELAY), measured with benches/ws-peers/src/bin/ws_load.rs (tokio-tungstenite client on
# a current-thread runtime: one message in flight per connection, every echo checked byte for
# byte) on loopback. Cases: 16 B and 16 KiB messages, 1 and 16 connections. Servers
# alternate within each round; ROUNDS rounds (default 3); the table gives medians.
#   benches/ws_compare.sh [SECONDS_PER_RUN] [ROUNDS]     (defaults 5 and 3)
# WS_CASES="SIZE CONNECTIONS,..." gives other cases (e.g. "1048576 1,4194304 1,16777216 1"):
# both servers take messages up to 16 MiB (ours with --ws-max-message).
# round trips/s: completed echoes per second, all connections together. MB/s: echoed payload
# per second in one direction (10^6 B). server CPU: the server process's user+system time
# over the run, % of one core (both servers are single-threaded, so 100% is their ceiling).
# Exits 1 if any run had a mismatched echo or an error.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-5}
rounds=${2:-3}
root=$(cd .. && pwd)
(cd "$root" && cargo build --release --quiet --example server)
(cd ws-peers && cargo build --release --quiet)
load=ws-peers/target/release/ws_load

declare -A cmd=(
  [ours]="$root/target/release/examples/server 127.0.0.1:0 --quiet --ws-max-message 16777216"
  [tungstenite]="ws-peers/target/release/tungstenite_echo 127.0.0.1:0 16777216"
)
servers=(ours tungstenite)
declare -A addr pid
pids=()
tmp=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
for s in "${servers[@]}"; do
  ${cmd[$s]} > "$tmp/$s.out" 2> "$tmp/$s.err" &
  pid[$s]=$!
  pids+=($!)
  # The first line is `listening on http://ADDR/`; wait for it at most 10 s.
  for _ in $(seq 100); do
    line=$(head -n1 "$tmp/$s.out")
    [ -n "$line" ] && break
    sleep 0.1
  done
  [[ $line == "listening on http://"* ]] || { echo "$s did not start: $line $(cat "$tmp/$s.err")" >&2; exit 1; }
  addr[$s]=${line#listening on http://}
  addr[$s]=${addr[$s]%/}
done

# user+system ticks of a process.
ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

cases=("16 1" "16 16" "16384 1" "16384 16")
[ -z "${WS_CASES:-}" ] || IFS=, read -r -a cases <<< "$WS_CASES"
# One untimed second per server and case first (connections, code paths warm).
for s in "${servers[@]}"; do
  for c in "${cases[@]}"; do
    read -r size conns <<< "$c"
    "$load" "ws://${addr[$s]}/ws" "$size" "$conns" 1 > /dev/null
  done
done
declare -A rt mb cpu
failed=0
for round in $(seq "$rounds"); do
  for c in "${cases[@]}"; do
    read -r size conns <<< "$c"
    for s in "${servers[@]}"; do
      before=$(ticks "${pid[$s]}")
      out=$("$load" "ws://${addr[$s]}/ws" "$size" "$conns" "$secs") || { failed=1; echo "FAILED: $s $size B x $conns: $out" >&2; }
      after=$(ticks "${pid[$s]}")
      result=$(grep '^RESULT' <<< "$out" || true)
      r=$(sed -n 's/.* rt_per_s=\([0-9.]*\).*/\1/p' <<< "$result")
      m=$(sed -n 's/.* mb_per_s=\([0-9.]*\).*/\1/p' <<< "$result")
      elapsed=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<< "$result")
      u=$(awk -v t=$((after - before)) -v hz="$hz" -v e="${elapsed:-1}" 'BEGIN {printf "%.0f", t / hz / e * 100}')
      rt[$s,$c]+="${r:-0} " mb[$s,$c]+="${m:-0} " cpu[$s,$c]+="$u "
      echo "round $round $s ${size} B x ${conns}: ${r:-?} round trips/s, ${m:-?} MB/s, server CPU ${u}% | $(head -n1 <<< "$out")" >&2
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "| message | connections | ours round trips/s | tungstenite round trips/s | ours / tungstenite | ours MB/s | tungstenite MB/s | server CPU ours / tungstenite |"
echo "|---|---|---|---|---|---|---|---|"
for c in "${cases[@]}"; do
  read -r size conns <<< "$c"
  label=$([ "$size" -ge 1048576 ] && echo "$((size / 1048576)) MiB" || { [ "$size" -ge 1024 ] && echo "$((size / 1024)) KiB" || echo "$size B"; })
  o=$(echo "${rt[ours,$c]}" | median) t=$(echo "${rt[tungstenite,$c]}" | median)
  om=$(echo "${mb[ours,$c]}" | median) tm=$(echo "${mb[tungstenite,$c]}" | median)
  oc=$(echo "${cpu[ours,$c]}" | median) tc=$(echo "${cpu[tungstenite,$c]}" | median)
  awk -v l="$label" -v n="$conns" -v o="$o" -v t="$t" -v om="$om" -v tm="$tm" -v oc="$oc" -v tc="$tc" \
    'BEGIN {printf "| %s | %d | %.0f | %.0f | %.2fx | %.2f | %.2f | %s%% / %s%% |\n", l, n, o, t, (t > 0 ? o / t : 0), om, tm, oc, tc}'
done
[ "$failed" = 0 ] || { echo "some runs failed (mismatched echoes or errors): see above" >&2; exit 1; }
