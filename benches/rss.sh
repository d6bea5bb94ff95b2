#!/usr/bin/env bash
# Resident memory of the example server (examples/server.rs, the tokio server): idle, with
# 1,000 keep-alive connections open (each has made one request), and after they close; and the
# cost per connection.
#   benches/rss.sh [CONNECTIONS]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
ulimit -n $((n * 2 + 64))
cargo build --release --quiet --example server
target/release/examples/server 127.0.0.1:8401 --quiet --max-connections $((n + 10)) > /dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 0.5
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
idle=$(rss)
python3 - "$n" "$pid" "$idle" <<'PY'
import socket, sys, time
n, pid, idle = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", 8401))
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
print(f"| RSS idle | {idle} KiB |")
print(f"| RSS with {n} keep-alive connections open ({ok} served 200) | {under} KiB |")
print(f"| RSS after they closed | {after} KiB |")
print(f"| per connection | {(under - idle) * 1024 // n} bytes |")
PY
