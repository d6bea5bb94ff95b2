#!/usr/bin/env bash
# Flash and RAM of the firmware binaries, as a Markdown table, and their peak stack measured
# under QEMU (stack painted at boot, high-water mark read from /stats after a mix of requests;
# for `ethernet` and `embassy` also 256 KiB uploads, event streams and WebSockets), and for
# `embassy` the RAM of its server's places and sockets (its /stats/async; the tasks' pools
# from the ELF's symbols).
#   footprint.sh [--max-flash BYTES] [--max-ram BYTES] [--max-future BYTES]
# With limits, exits 1 if the `uart` firmware's flash or RAM (statics + peak stack) exceeds
# them, or if the `embassy` firmware's driver future serving the router of the other
# binaries exceeds --max-future (default 1024). Needs readelf and nm (binutils),
# qemu-system-arm, curl, python3 with websockets.
set -euo pipefail
cd "$(dirname "$0")"
max_flash= max_ram= max_future=1024
while [ $# -gt 0 ]; do
  case "$1" in
    --max-flash) max_flash=$2; shift 2 ;;
    --max-ram) max_ram=$2; shift 2 ;;
    --max-future) max_future=$2; shift 2 ;;
    *) echo "usage: $0 [--max-flash BYTES] [--max-ram BYTES] [--max-future BYTES]" >&2; exit 2 ;;
  esac
done
cargo build --release --quiet --bins  # uart, baseline: without WebSocket
cargo build --release --quiet --features ws --bin ethernet
cargo build --release --quiet --features embassy --bin embassy
elf() { echo "target/thumbv7m-none-eabi/release/$1"; }

# Sum of the named sections' sizes.
sections() {
  local file=$1; shift
  readelf -S -W "$file" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v want=" $* " '
    index(want, " " $1 " ") { total += strtonum_hex($5) }
    function strtonum_hex(h,   i, c, v) { v = 0; h = tolower(h)
      for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c }
      return v }
    END { print total + 0 }'
}
flash() { sections "$(elf "$1")" .vector_table .text .rodata .data; }
statics() { sections "$(elf "$1")" .data .bss .uninit; }

# Peak stack of a firmware after real requests (it reports the mark at /stats); for
# `embassy` also its /stats/async, into target/footprint-async.txt.
peak_stack() {
  local kind=$1 port qemu url big stats j pids
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  ./run-qemu.sh "$kind" "$port" > "target/qemu-footprint-$kind.log" 2>&1 &
  qemu=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 50); do curl -s -m 2 -o /dev/null "$url/" && break; sleep 0.2; done
  big=$(head -c 3000 /dev/zero | tr '\0' a)
  {
    curl -s -m 5 "$url/" "$url/nope" -X OPTIONS "$url/echo"
    curl -s -m 5 -d 'a body to echo' "$url/echo"
    curl -s -m 5 -H 'Transfer-Encoding: chunked' -d 'chunked body' "$url/echo"
    curl -s -m 5 -H "X-Big: $big" "$url/"
    curl -s -m 5 -A "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36" \
      -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' -H 'Accept-Language: en-US,en;q=0.9' \
      -H 'Accept-Encoding: gzip, deflate, br' -H 'Cache-Control: max-age=0' -H 'Upgrade-Insecure-Requests: 1' \
      -H 'Sec-Fetch-Site: none' -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-User: ?1' -H 'Sec-Fetch-Dest: document' \
      -H 'sec-ch-ua-platform: "Linux"' "$url/"
    if [ "$kind" != uart ]; then # the streaming routes
      head -c 262144 /dev/zero > "target/footprint-upload.bin"
      curl -s -m 30 --data-binary @target/footprint-upload.bin "$url/upload"
      curl -s -m 30 -H 'Transfer-Encoding: chunked' --data-binary @target/footprint-upload.bin "$url/upload"
      curl -s -m 5 -N "$url/events?interval_ms=10&count=3"
      timeout 60 python3 ../../tests/ws_clients.py "127.0.0.1:$port" --max 1024 2>&1 || true
    fi
    if [ "$kind" = embassy ]; then # all tasks at once, streams and WebSockets among them
      curl -s -m 5 -N "$url/sensor?count=3"
      pids=()
      for j in $(seq 4); do curl -s -m 10 --data-binary @target/footprint-upload.bin "$url/upload" & pids+=($!); done
      for j in $(seq 4); do curl -s -m 5 -N "$url/events?interval_ms=10&count=20" & pids+=($!); done
      wait "${pids[@]}"
    fi
  } > /dev/null || true
  [ "$kind" != embassy ] || curl -s -m 5 "$url/stats/async" > target/footprint-async.txt || true
  stats=$(curl -s -m 5 "$url/stats" || true)
  kill "$qemu" 2>/dev/null || true
  wait "$qemu" 2>/dev/null || true
  echo "$stats" | awk '$1 == "stack_peak" { print $2 }'
}
peak=$(peak_stack uart)
eth_peak=$(peak_stack ethernet)
emb_peak=$(peak_stack embassy)
[ -n "$peak" ] && [ -n "$eth_peak" ] && [ -n "$emb_peak" ] || { echo "no stack_peak in /stats" >&2; exit 1; }
async_stat() { awk -v k="$1" '$1 == k { print $2 }' target/footprint-async.txt; }
sockets=$(async_stat sockets) places=$(async_stat places) serve_future=$(async_stat serve_future)
router_future=$(async_stat serve_future_router)
socket_buffers=$(async_stat socket_buffers) place_buffers=$(async_stat place_buffers)
[ -n "$serve_future" ] && [ -n "$router_future" ] && [ -n "$places" ] || { echo "no serve_future in /stats/async" >&2; exit 1; }
symbol_size() { nm -S -C "$(elf embassy)" | awk -v s="$1" '$4 == s { print $2 }'; }
# The places' tasks (each: its connection, the app, the driver's future) and the sockets'
# tasks, in their static pools; embassy-net's resources (a smoltcp socket each, and the SYN
# guard's).
place_task=$(( 0x$(symbol_size embassy::http_place::POOL) / places ))
sockets_task=$(( 0x$(symbol_size embassy::http_socket::POOL) ))
resources=$(( 0x$(symbol_size embassy::__cortex_m_rt_main::RESOURCES) ))
server_buffers=$(( 0x$(symbol_size embassy::SERVER) ))

base_flash=$(flash baseline) uart_flash=$(flash uart) eth_flash=$(flash ethernet) emb_flash=$(flash embassy)
uart_ram=$(( $(statics uart) + peak ))
echo "| firmware | flash (text+rodata+data) | RAM: statics (data+bss) | RAM: peak stack | RAM in all |"
echo "|---|---|---|---|---|"
echo "| \`uart\` (runtime, UART driver, library, app) | $uart_flash B | $(statics uart) B | $peak B | $uart_ram B |"
echo "| \`baseline\` (runtime, UART driver, echo; no HTTP) | $base_flash B | $(statics baseline) B | n/a | n/a |"
echo "| HTTP share (\`uart\` - \`baseline\`) | $((uart_flash - base_flash)) B | | | |"
echo "| \`ethernet\` (adds smoltcp, MAC driver; 12 sockets of 2 KiB on the stack; /upload, /events) | $eth_flash B | $(statics ethernet) B | $eth_peak B | $(( $(statics ethernet) + eth_peak )) B |"
echo "| \`embassy\` (executor, embassy-time, embassy-net, async driver; the library's embassy-net server: $sockets sockets, $places places; sensor task; /upload, /events, /sensor, /ws) | $emb_flash B | $(statics embassy) B | $emb_peak B | $(( $(statics embassy) + emb_peak )) B |"
echo
echo "| \`embassy\`: the server's RAM | bytes |"
echo "|---|---|"
echo "| a place: its task (connection, app, driver future) and its buffers ($place_buffers B) | $(( place_task + place_buffers )) B |"
echo "| a socket: its buffers ($socket_buffers B), its task ($(( sockets_task / sockets )) B) and its share of embassy-net's resources ($resources B for $sockets sockets and the SYN guard) | $(( socket_buffers + sockets_task / sockets + resources / (sockets + 1) )) B |"
echo "| the server in all: buffers ($server_buffers B), the places' tasks, the sockets' tasks | $(( server_buffers + place_task * places + sockets_task )) B |"
echo "| driver future (\`asynch::serve\`) with this app (WebSocket and streaming handlers; their pieces included, the connection's buffers not) | $serve_future B |"
echo "| driver future with the router alone (\`/\`, \`/echo\`, \`/stats\`, 404, 405; budget $max_future B) | $router_future B |"
status=0
if [ "$router_future" -gt "$max_future" ]; then
  echo "embassy driver future $router_future B exceeds the budget of $max_future B" >&2; status=1
fi
if [ -n "$max_flash" ] && [ "$uart_flash" -gt "$max_flash" ]; then
  echo "uart flash $uart_flash B exceeds the limit of $max_flash B" >&2; status=1
fi
if [ -n "$max_ram" ] && [ "$uart_ram" -gt "$max_ram" ]; then
  echo "uart RAM $uart_ram B exceeds the limit of $max_ram B" >&2; status=1
fi
exit $status
