#!/usr/bin/env bash
# HTTPS side by side: this library's servers (ours-tokio: examples/server.rs, the tokio server;
# ours-threads: examples/thread_server.rs, a thread per connection) and hyper over tokio-rustls
# (benches/peers/src/bin/hyper_tls.rs: current-thread tokio, rustls 0.23 on ring like ours),
# all three serving the example's page at / with the same certificate, measured with wrk
# (Debian package `wrk`, installed if missing) on loopback.
#   benches/tls_compare.sh [SECONDS_PER_RUN] [ROUNDS]     (defaults 5 and 3)
# Scenarios: keep-alive with 16 connections and with 1 (requests per second over established
# TLS sessions), and `Connection: close` with 16 connections: every request on a new TCP
# connection and a full TLS handshake (wrk keeps no client session cache, so no resumption),
# i.e. new handshakes per second. Each round runs every server once per scenario, the
# servers' order rotating from round to round; the table gives medians and ratios to hyper.
# The certificate: a test CA and a server certificate it signs (EC P-256, for localhost and
# 127.0.0.1) made with `openssl` in a temporary directory, as tests/tls_certs.py does.
# Exits 1 if a server does not serve the page, or a run completed no request or only errors;
# wrk's socket errors and non-2xx responses, if any, are listed under the table.
set -euo pipefail
cd "$(dirname "$0")"
command -v wrk > /dev/null || apt-get install -y wrk > /dev/null || { apt-get update > /dev/null && apt-get install -y wrk > /dev/null; }
secs=${1:-5}
rounds=${2:-3}
root=$(cd .. && pwd)

tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT

# The test CA and the server certificate (tests/tls_certs.py's openssl invocations).
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 7 \
  -subj "/CN=embedded-responder test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2> /dev/null
openssl req "${ec[@]}" -keyout "$tmp/key.pem" -out "$tmp/server.csr" -subj "/CN=localhost" 2> /dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > "$tmp/ext.cnf"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -CAcreateserial -out "$tmp/cert.pem" -days 7 -extfile "$tmp/ext.cnf" 2> /dev/null
tls=(--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem")

(cd "$root" && cargo build --release --quiet --example server --example thread_server)
(cd peers && cargo build --release --quiet --bin hyper_tls)

declare -A cmd=(
  [ours-tokio]="$root/target/release/examples/server 127.0.0.1:8451 --quiet"
  [ours-threads]="$root/target/release/examples/thread_server 127.0.0.1:8452 --quiet"
  [hyper-tls]="peers/target/release/hyper_tls 127.0.0.1:8453"
)
declare -A port=([ours-tokio]=8451 [ours-threads]=8452 [hyper-tls]=8453)
servers=(ours-tokio ours-threads hyper-tls)
for s in "${servers[@]}"; do
  # shellcheck disable=SC2086
  ${cmd[$s]} "${tls[@]}" > "$tmp/$s.out" 2> "$tmp/$s.err" &
  pids+=($!)
done
# Each prints `listening on https://ADDR/` once it listens; wait for it at most 10 s.
for s in "${servers[@]}"; do
  line=
  for _ in $(seq 100); do
    line=$(head -n1 "$tmp/$s.out")
    [ -n "$line" ] && break
    sleep 0.1
  done
  [ "$line" = "listening on https://127.0.0.1:${port[$s]}/" ] ||
    { echo "$s did not start: $line $(cat "$tmp/$s.err")" >&2; exit 1; }
done
# All three serve the same page over verified TLS (ours is checked against demo::PAGE by
# tests/example_server.sh; the peers' page is read from the demo's source).
expected=$(curl -sS -m 5 --cacert "$tmp/ca.pem" "https://127.0.0.1:${port[ours-threads]}/")
[ -n "$expected" ] || { echo "ours-threads served an empty page" >&2; exit 1; }
for s in "${servers[@]}"; do
  got=$(curl -sS -m 5 --cacert "$tmp/ca.pem" "https://127.0.0.1:${port[$s]}/")
  [ "$got" = "$expected" ] || { echo "$s does not serve the example's page" >&2; exit 1; }
  # What wrk's OpenSSL negotiates with each, for the record.
  echo "$s: $(openssl s_client -connect "127.0.0.1:${port[$s]}" -alpn http/1.1 < /dev/null 2> /dev/null |
    awk '/^New, / {v = $2 " " $5} /^Server Temp Key/ {k = $4} /^ALPN protocol/ {a = $3}
      END {print v ", key exchange " k " ALPN " a}')" >&2
done

scenarios=(c16 c1 close)
# wrk's arguments for a scenario, into the array `args`.
args_of() {
  case $1 in
    c16) args=(-t2 -c16) ;;
    c1) args=(-t1 -c1) ;;
    close) args=(-t2 -c16 -H "Connection: close") ;;
  esac
}
declare -A results
# One wrk run, bounded in time: prints requests per second, or exits 1 if nothing succeeded.
# Socket errors and non-2xx responses go to $tmp/notes.
run() { # server scenario duration
  local s=$1 name=$2 d=$3 out requests errors non2xx
  args_of "$name"
  out=$(timeout $((d + 15)) wrk "${args[@]}" -d"${d}s" --timeout 5s "https://127.0.0.1:${port[$s]}/" 2>&1) ||
    { echo "$s $name: wrk failed: $out" >&2; exit 1; }
  requests=$(awk '/requests in/ {print $1}' <<< "$out")
  errors=$(awk '/Socket errors/ {gsub(",", ""); print "connect " $4 ", read " $6 ", write " $8 ", timeout " $10}' <<< "$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
  if [ -z "$requests" ] || [ "$requests" = 0 ] || [ "${non2xx:-0}" -ge "$requests" ]; then
    echo "$s $name: no successful request: $out" >&2
    exit 1
  fi
  [ -z "$errors" ] || echo "$s $name (${d} s): socket errors $errors, for $requests requests" >> "$tmp/notes"
  [ -z "$non2xx" ] || echo "$s $name (${d} s): $non2xx non-2xx responses of $requests" >> "$tmp/notes"
  awk '/Requests\/sec/ {print $2}' <<< "$out"
}
# One untimed second per server and scenario first (the servers' and wrk's first runs after
# start-up come out low).
for s in "${servers[@]}"; do
  for name in "${scenarios[@]}"; do
    run "$s" "$name" 1 > /dev/null
  done
done
: > "$tmp/notes"
for round in $(seq "$rounds"); do
  # Rotate the order: round 1 starts with the first server, round 2 with the second, ...
  k=$(((round - 1) % ${#servers[@]}))
  for s in "${servers[@]:k}" "${servers[@]:0:k}"; do
    for name in "${scenarios[@]}"; do
      rps=$(run "$s" "$name" "$secs") || exit 1
      results[$s,$name]+="$rps "
      echo "round $round $s $name $rps" >&2
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| server | keep-alive, 16 connections | keep-alive, 1 connection | new TLS connection per request, 16 connections |"
echo "|---|---|---|---|"
declare -A med
for s in "${servers[@]}"; do
  row="| $s |"
  for name in "${scenarios[@]}"; do
    m=$(echo "${results[$s,$name]}" | median)
    med[$s,$name]=$m
    row+=" $(printf '%.0f' "$m") req/s |"
  done
  echo "$row"
done
for ours in ours-tokio ours-threads; do
  row="| $ours / hyper-tls |"
  for name in "${scenarios[@]}"; do
    row+=" $(awk -v a="${med[$ours,$name]}" -v b="${med[hyper-tls,$name]}" 'BEGIN {printf "%.2fx", a / b}') |"
  done
  echo "$row"
done
echo
echo "wrk -t2 (-t1 for 1 connection), ${secs} s per run, $rounds rounds, medians; $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p'))"
sed 's/^/- /' "$tmp/notes"
