#!/usr/bin/env bash
# Flash and RAM of the firmware binaries, as a Markdown table, and their peak stack measured
# under QEMU (stack painted at boot, high-water mark read from /stats after a mix of requests;
# for `ethernet` also 256 KiB uploads and an event stream).
#   footprint.sh [--max-flash BYTES] [--max-ram BYTES]
# With limits, exits 1 if the `uart` firmware's flash or RAM (statics + peak stack) exceeds
# them. Needs readelf (binutils), qemu-system-arm, curl.
set -euo pipefail
cd "$(dirname "$0")"
max_flash= max_ram=
while [ $# -gt 0 ]; do
  case "$1" in
    --max-flash) max_flash=$2; shift 2 ;;
    --max-ram) max_ram=$2; shift 2 ;;
    *) echo "usage: $0 [--max-flash BYTES] [--max-ram BYTES]" >&2; exit 2 ;;
  esac
done
cargo build --release --quiet --bins  # uart, baseline: without WebSocket
cargo build --release --quiet --features ws --bin ethernet
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

# Peak stack of a firmware after real requests (it reports the mark at /stats).
peak_stack() {
  local kind=$1 port qemu url big stats
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
    if [ "$kind" = ethernet ]; then # its streaming routes
      head -c 262144 /dev/zero > "target/footprint-upload.bin"
      curl -s -m 30 --data-binary @target/footprint-upload.bin "$url/upload"
      curl -s -m 30 -H 'Transfer-Encoding: chunked' --data-binary @target/footprint-upload.bin "$url/upload"
      curl -s -m 5 -N "$url/events?interval_ms=10&count=3"
    fi
  } > /dev/null || true
  stats=$(curl -s -m 5 "$url/stats" || true)
  kill "$qemu" 2>/dev/null || true
  wait "$qemu" 2>/dev/null || true
  echo "$stats" | awk '$1 == "stack_peak" { print $2 }'
}
peak=$(peak_stack uart)
eth_peak=$(peak_stack ethernet)
[ -n "$peak" ] && [ -n "$eth_peak" ] || { echo "no stack_peak in /stats" >&2; exit 1; }

base_flash=$(flash baseline) uart_flash=$(flash uart) eth_flash=$(flash ethernet)
uart_ram=$(( $(statics uart) + peak ))
echo "| firmware | flash (text+rodata+data) | RAM: statics (data+bss) | RAM: peak stack | RAM in all |"
echo "|---|---|---|---|---|"
echo "| \`uart\` (runtime, UART driver, library, app) | $uart_flash B | $(statics uart) B | $peak B | $uart_ram B |"
echo "| \`baseline\` (runtime, UART driver, echo; no HTTP) | $base_flash B | $(statics baseline) B | n/a | n/a |"
echo "| HTTP share (\`uart\` - \`baseline\`) | $((uart_flash - base_flash)) B | | | |"
echo "| \`ethernet\` (adds smoltcp, MAC driver; 12 sockets of 2 KiB on the stack; /upload, /events) | $eth_flash B | $(statics ethernet) B | $eth_peak B | $(( $(statics ethernet) + eth_peak )) B |"
status=0
if [ -n "$max_flash" ] && [ "$uart_flash" -gt "$max_flash" ]; then
  echo "uart flash $uart_flash B exceeds the limit of $max_flash B" >&2; status=1
fi
if [ -n "$max_ram" ] && [ "$uart_ram" -gt "$max_ram" ]; then
  echo "uart RAM $uart_ram B exceeds the limit of $max_ram B" >&2; status=1
fi
exit $status
