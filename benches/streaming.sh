#!/usr/bin/env bash
# Streaming throughput on loopback: this library's tokio and thread servers and hyper (the
# peer in benches/peers, on tokio's current-thread runtime like ours), each serving
#   POST /upload           a 256 MiB body with Content-Length, sent from memory by a small
#                          Python client (one sendall); the answer's byte count and CRC-32
#                          are checked every time;
#   GET /stream?bytes=1 GiB the pattern, chunked, fetched with `curl -o /dev/null`; the size
#                          is checked every time.
# Servers alternate, three rounds, medians; prints a Markdown table of MB/s (10^6 bytes per
# second) and the ratio ours / hyper. Every server computes the CRC-32 of the upload with the
# same crate (`crc`, its default one-table form), so the upload rate is bounded by that CRC's
# speed on one core as much as by the server; the download involves no such work.
#   benches/streaming.sh [UPLOAD_MIB] [DOWNLOAD_MIB]    (defaults 256 and 1024)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
up_mib=${1:-256}
down_mib=${2:-1024}
(cd "$root" && cargo build --release --quiet --example server --example thread_server)
(cd peers && cargo build --release --quiet --bin hyper)

declare -A cmd=(
  [ours-tokio]="$root/target/release/examples/server 127.0.0.1:8601 --quiet"
  [ours-threads]="$root/target/release/examples/thread_server 127.0.0.1:8602 --quiet"
  [hyper]="peers/target/release/hyper 127.0.0.1:8603"
)
declare -A port=([ours-tokio]=8601 [ours-threads]=8602 [hyper]=8603)
servers=(ours-tokio ours-threads hyper)

# The body lives in tmpfs, so reading it costs the client no disk time (and it is read
# before the clock starts anyway).
body=$(mktemp -p /dev/shm upload.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -f "$body"' EXIT
head -c $((up_mib * 1024 * 1024)) /dev/urandom > "$body"
expected=$(python3 -c 'import sys, zlib
d = open(sys.argv[1], "rb").read()
print(len(d), "%08x" % zlib.crc32(d))' "$body")

for s in "${servers[@]}"; do
  ${cmd[$s]} > /dev/null 2>&1 &
  pids+=($!)
done
sleep 1

# One upload; prints MB/s, or fails unless the answer names the body's length and CRC-32.
upload() {
  python3 - "$1" "$body" "$expected" <<'PY'
import json, socket, sys, time
port, path, (length, crc) = int(sys.argv[1]), sys.argv[2], sys.argv[3].split()
data = memoryview(open(path, "rb").read())
head = (f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
start = time.perf_counter()
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.sendall(head)
s.sendall(data)
answer = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    answer += chunk
    head_end = answer.find(b"\r\n\r\n")
    if head_end >= 0:
        fields = answer[:head_end].lower().split(b"\r\n")
        cl = [int(f.split(b":")[1]) for f in fields if f.startswith(b"content-length:")]
        if cl and len(answer) >= head_end + 4 + cl[0]:
            break
elapsed = time.perf_counter() - start
s.close()
status = answer.split(b"\r\n", 1)[0]
reply = json.loads(answer[answer.find(b"\r\n\r\n") + 4:])
if not status.startswith(b"HTTP/1.1 200") or reply != {"bytes": int(length), "crc32": crc}:
    sys.exit(f"bad answer from port {port}: {status!r} {reply}")
print(f"{len(data) / elapsed / 1e6:.1f}")
PY
}

# One download; prints MB/s, or fails unless exactly the bytes asked for arrived.
download() {
  local want=$((down_mib * 1024 * 1024)) out code size secs
  out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
    "http://127.0.0.1:$1/stream?bytes=$want")
  read -r code size secs <<< "$out"
  if [ "$code" != 200 ] || [ "$size" != "$want" ]; then
    echo "bad download from port $1: status $code, $size of $want bytes" >&2
    return 1
  fi
  awk -v b="$size" -v t="$secs" 'BEGIN {printf "%.1f\n", b / t / 1e6}'
}

# One untimed pass per server first (page cache, allocator and socket buffers warm).
for s in "${servers[@]}"; do
  upload "${port[$s]}" > /dev/null
  download "${port[$s]}" > /dev/null
done
declare -A results
for round in 1 2 3; do
  for s in "${servers[@]}"; do
    up=$(upload "${port[$s]}")
    down=$(download "${port[$s]}")
    results[$s,up]+="$up "
    results[$s,down]+="$down "
    echo "round $round $s upload $up MB/s, download $down MB/s" >&2
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A med
for s in "${servers[@]}"; do
  for d in up down; do
    med[$s,$d]=$(echo "${results[$s,$d]}" | median)
  done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
echo "| server | upload, $up_mib MiB with Content-Length | download, /stream of $down_mib MiB chunked |"
echo "|---|---|---|"
for s in "${servers[@]}"; do
  echo "| $s | ${med[$s,up]} MB/s | ${med[$s,down]} MB/s |"
done
for s in ours-tokio ours-threads; do
  echo "| $s / hyper | $(ratio "${med[$s,up]}" "${med[hyper,up]}") | $(ratio "${med[$s,down]}" "${med[hyper,down]}") |"
done
