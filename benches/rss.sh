#!/usr/bin/env bash
# Resident memory per idle keep-alive connection, side by side: the example server
# (examples/server.rs, the tokio server, default Config) and hyper (benches/peers, tokio's
# current-thread runtime). For each: RSS idle, with N keep-alive connections open (each has
# made one request, answered 200, and then waits), and after they close; the cost per
# connection is (open - idle) / N. The connections are opened and measured within the
# servers' idle timeout (5 s for ours).
#   benches/rss.sh [CONNECTIONS]   (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
ulimit -n $((n * 2 + 256))
cargo build --release --quiet --example server
(cd benches/peers && cargo build --release --quiet --bin hyper)
measure() { # name port command...
  local name=$1 port=$2
  shift 2
  "$@" > /dev/null 2>&1 &
  local pid=$!
  sleep 0.5
  python3 - "$n" "$pid" "$port" "$name" <<'PY'
import socket, sys, time
n, pid, port, name = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
# A first request warms the server (its allocator, its first buffers) before the baseline.
with socket.create_connection(("127.0.0.1", port)) as s:
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    while s.recv(4096):
        pass
time.sleep(0.2)
idle = rss()
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
ok = 0
for s in socks:
    data = b""
    while b"</html>" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    ok += data.startswith(b"HTTP/1.1 200")
time.sleep(0.5)
under = rss()
for s in socks:
    s.close()
time.sleep(1.0)
after = rss()
print(f"| {name} | {idle:,} KiB | {under:,} KiB ({ok} of {n} served 200) | {after:,} KiB | "
      f"{(under - idle) * 1024 // n:,} B |")
PY
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
}
echo "| server | RSS idle | RSS with $n keep-alive connections open | after they closed | per connection |"
echo "|---|---|---|---|---|"
measure ours-tokio 8401 target/release/examples/server 127.0.0.1:8401 --quiet --max-connections $((n + 10))
measure hyper 8402 benches/peers/target/release/hyper 127.0.0.1:8402
