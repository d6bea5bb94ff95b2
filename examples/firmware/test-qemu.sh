#!/usr/bin/env bash
# Integration test: runs both firmware binaries under QEMU (run-qemu.sh) and checks them with
# curl. Usage: test-qemu.sh [uart|ethernet ...]  (default: both). Needs qemu-system-arm, curl.
set -euo pipefail
cd "$(dirname "$0")"
kinds=("$@"); [ ${#kinds[@]} -gt 0 ] || kinds=(uart ethernet)
cargo build --release --quiet --bins

pass=0 fail=0
check() { # name expected actual
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok   $1"
  else fail=$((fail + 1)); echo "FAIL $1: expected [$2], got [$3]"; fi
}
status() { curl -sS -m 10 -o /dev/null -w '%{http_code}' "$@" || true; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

qemu_pid=
stop() { [ -z "$qemu_pid" ] || { kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=; }; }
trap stop EXIT

page=$(sed -n '/^pub const PAGE: &str = "/,/^";/p' ../../src/demo.rs | sed '1s/^pub const PAGE: &str = "//; $d' | sed 's/\\"/"/g')

for kind in "${kinds[@]}"; do
  port=$(free_port)
  ./run-qemu.sh "$kind" "$port" > "target/qemu-$kind.log" 2>&1 &
  qemu_pid=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 50); do [ "$(status "$url/")" = 200 ] && break; sleep 0.2; done
  echo "== $kind on $url"

  check "$kind: GET / status" 200 "$(status "$url/")"
  check "$kind: GET / is the example's page" "$page" "$(curl -sS -m 10 "$url/")"
  check "$kind: GET /nope" 404 "$(status "$url/nope")"
  check "$kind: POST /echo" "hello, firmware" "$(curl -sS -m 10 -H 'Content-Type: text/plain' -d 'hello, firmware' "$url/echo")"
  check "$kind: DELETE / gets 405" 405 "$(status -X DELETE "$url/")"
  codes=; for _ in $(seq 20); do codes+="$(status "$url/") "; done
  check "$kind: 20 requests in a row" "$(printf '200 %.0s' $(seq 20))" "$codes"
  check "$kind: keep-alive, 3 requests on one connection" "200404200" \
    "$(curl -sS -m 10 -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}' "$url/" "$url/x" "$url/")"
  big=$(head -c 3000 /dev/zero | tr '\0' a)
  check "$kind: oversized head gets 431" 431 "$(status -H "X-Big: $big" "$url/")"
  check "$kind: next request after the 431 is served" 200 "$(status "$url/")"
  check "$kind: GET /stats" 200 "$(status "$url/stats")"

  if [ "$kind" = uart ]; then
    # A client that vanishes mid-request: the firmware gives the request up after its
    # deadline (1 s) and the next client is served.
    python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
s.close()
PY
    sleep 1.5
    check "$kind: served after a client vanished mid-request" 200 "$(status "$url/")"
  else
    # Parallel clients queue in the listening sockets instead of being reset.
    tmp=$(mktemp -d)
    for j in $(seq 8); do
      ( for _ in $(seq 5); do status "$url/"; echo; done > "$tmp/$j" ) &
    done
    wait $(jobs -p | grep -v "^$qemu_pid$") 2>/dev/null || true
    check "$kind: 8 parallel clients x 5 requests" 40 "$(cat "$tmp"/* | grep -c '^200$' || true)"
    rm -rf "$tmp"
  fi
  stop
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
