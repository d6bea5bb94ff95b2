#!/usr/bin/env bash
# Smoke test of the README's main command: the example serves the exact page to curl and to
# headless Chromium, stops cleanly on Ctrl+C (SIGINT), and restarts at once on its port.
#   tests/example_server.sh                  # examples/server.rs (the tokio server)
#   tests/example_server.sh thread_server    # examples/thread_server.rs (the thread server)
set -euo pipefail
cd "$(dirname "$0")/.."

example=${1:-server}
cargo build --release --example "$example"
bin=target/release/examples/$example
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

expected_page() {
  printf '<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Page Title</title>\n  </head>\n  <body>\n    <h1>Hello, World</h1>\n  </body>\n</html>\n'
}

start() { # start ADDRESS: runs the server, sets $pid and $addr
  "$bin" "$1" >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 100); do
    addr=$(sed -n 's|^listening on http://\(.*\)/$|\1|p' "$work/out")
    [ -n "$addr" ] && return 0
    sleep 0.05
  done
  echo "server did not start"; cat "$work/err"; exit 1
}

stop() { # Ctrl+C, then expect a clean exit
  kill -INT "$pid"
  wait "$pid"
  echo "server exited with status 0 after SIGINT"
}

start 127.0.0.1:0
echo "serving on $addr"
curl -sS --max-time 10 "http://$addr/" >"$work/page"
cmp "$work/page" <(expected_page)
echo "curl: page bytes exact"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://$addr/nowhere")" = 404 ]
[ "$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "http://$addr/")" = 405 ]
[ "$(curl -sS -H 'Content-Type: text/plain' --data-binary 'echo me' "http://$addr/echo")" = "echo me" ]
echo "curl: 404, 405, echo"

if command -v chromium >/dev/null; then
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-quic \
    --user-data-dir="$work/profile" --dump-dom "http://$addr/" >"$work/dom" 2>"$work/chromium.err" || true
  grep -q '<h1>Hello, World</h1>' "$work/dom" || { echo "chromium did not show the page"; cat "$work/dom" "$work/chromium.err"; exit 1; }
  grep -q '<title>Page Title</title>' "$work/dom"
  echo "chromium: page rendered (title and heading in the DOM)"
else
  echo "chromium not installed: browser check skipped"
  [ "${CI:-}" != true ] || { echo "CI must run the browser check"; exit 1; }
fi

if true; then
  grep -q ' GET / 200 ' "$work/err" || { echo "no request log line"; cat "$work/err"; exit 1; }
  echo "request log: $(grep -c ' 200 \| 404 \| 405 ' "$work/err") lines"
fi
stop

# Restart at once on the same port.
start "$addr"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://$addr/")" = 200 ]
echo "restarted on $addr at once"
stop
echo "example $example: all checks passed"
