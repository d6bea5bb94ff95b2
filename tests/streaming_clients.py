#!/usr/bin/env python3
"""Check the example server's streaming routes with clients written elsewhere: requests,
http.client, curl, sseclient-py and headless Chromium's EventSource. Starts
`target/release/examples/server` (or the example named by the first argument, e.g.
`thread_server`; build it first) on a free loopback port, as tests/clients.py does.

    python3 tests/streaming_clients.py                  # target/release/examples/server
    python3 tests/streaming_clients.py thread_server
    python3 tests/streaming_clients.py http://127.0.0.1:8000   # a server already running
    python3 tests/streaming_clients.py --self-test      # against the reference server below

The routes checked (the contract):
  POST /upload                 any size (Content-Length or chunked, Expect: 100-continue)
                               -> 200 application/json {"bytes":N,"crc32":"xxxxxxxx"}
                               (zlib.crc32, eight lowercase hex digits)
  GET /stream?bytes=N          N bytes of "0123456789abcdef" repeated, chunked for HTTP/1.1,
                               close-delimited for HTTP/1.0; missing or malformed N -> 400
  GET /events?interval_ms=M&count=K
                               text/event-stream, Cache-Control: no-cache; every M ms
                               (default 1000, minimum 10) `event: tick`, `id: <seq>` from 1,
                               `data: {"seq":<seq>,"uptime_ms":<ms>}`; ends after K events;
                               `Last-Event-ID: n` continues from n+1
  GET /, POST /echo, 404, 405  unchanged (tests/clients.py checks them in depth)

The Chromium EventSource check needs a page with the same origin as /events (the server
sends no CORS headers): set STREAMING_UI_PATH to its path (e.g. /events-test). The page must
open an EventSource on /events, close it after 3 `tick` events and then show the text
"received 3 events" (override with STREAMING_UI_MARKER) in its DOM; EVENTS_PAGE below is such
a page. Without STREAMING_UI_PATH the check runs only if /events answers a cross-origin
request with Access-Control-Allow-Origin (then the page is served from a second loopback
port); otherwise it is skipped, with the reason printed. If the check can run but Chromium is
not installed, it is skipped, or fails when CI=true (as tests/example_server.sh does).

--self-test runs every check against a small Python reference implementation of the routes
(this file run with --reference-server, started and stopped exactly like the example), which
validates the checks themselves and is a baseline when debugging the Rust server.

Prints PASS/FAIL/SKIP per check, every check bounded in time, and a final
"N passed, N failed" line; exits non-zero on any failure. Loopback only.
Needs: requests, sseclient-py (pip install requests sseclient-py), curl; chromium optional.
"""
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = (
    b'<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset="utf-8">\n'
    b"    <title>Page Title</title>\n  </head>\n  <body>\n    <h1>Hello, World</h1>\n"
    b"  </body>\n</html>\n"
)
PATTERN = b"0123456789abcdef"
CHECK_TIMEOUT = 90  # seconds, the hard bound on any one check (SIGALRM)
MIB = 1024 * 1024

# A page that shows "received 3 events" once its EventSource got three `tick` events.
# EVENTS_URL is replaced by the /events URL (a path when same-origin).
EVENTS_PAGE = """<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>EventSource test</title></head>
  <body>
    <p id="status">waiting</p>
    <script>
      const status = document.getElementById("status");
      const source = new EventSource("EVENTS_URL");
      const ids = [];
      source.addEventListener("tick", (e) => {
        ids.push(e.lastEventId + ":" + JSON.parse(e.data).seq);
        if (ids.length === 3) {
          source.close();
          status.textContent = "received 3 events (" + ids.join(" ") + ")";
        }
      });
      source.onerror = () => { if (ids.length < 3) status.textContent += " error"; };
    </script>
  </body>
</html>
"""

passed = 0
failed = 0


class Skip(Exception):
    """Raised by a check that cannot run here; it counts as neither passed nor failed."""


def _alarm(_signum, _frame):
    raise TimeoutError(f"check took longer than {CHECK_TIMEOUT} s")


def check(name, fn):
    global passed, failed
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CHECK_TIMEOUT)
    started = time.monotonic()
    try:
        fn()
    except Skip as e:
        print(f"SKIP {name}: {e}")
    except Exception as e:  # noqa: BLE001 - report every failure, keep going
        failed += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}")
    else:
        passed += 1
        print(f"PASS {name} ({time.monotonic() - started:.1f} s)")
    finally:
        signal.alarm(0)
    sys.stdout.flush()


# --- expected contents ---------------------------------------------------------------

def expected_stream(n):
    return (PATTERN * (n // len(PATTERN) + 1))[:n]


class PatternChecker:
    """Compares a body fed in pieces with the repeated PATTERN, without holding it all."""

    BIG = PATTERN * 8192

    def __init__(self):
        self.offset = 0

    def feed(self, chunk):
        view = memoryview(chunk)
        while view:
            start = self.offset % len(PATTERN)
            take = min(len(view), len(self.BIG) - start)
            got, want = view[:take], self.BIG[start:start + take]
            if got != want:
                first = next(i for i in range(take) if got[i] != want[i])
                raise AssertionError(
                    f"content differs at byte {self.offset + first}: "
                    f"{bytes(got[first:first + 16])!r} instead of {want[first:first + 16]!r}"
                )
            self.offset += take
            view = view[take:]


def crc_hex(crc):
    return f"{crc & 0xFFFFFFFF:08x}"


def check_upload_answer(status, content_type, body, n, crc):
    assert status == 200, f"status {status}: {body[:200]!r}"
    assert content_type == "application/json", f"Content-Type {content_type!r}"
    answer = json.loads(body)
    want = {"bytes": n, "crc32": crc_hex(crc)}
    assert answer == want, f"answer {answer} instead of {want}"


def test_data(n, seed):
    return random.Random(seed).randbytes(n)


# --- server start and stop -----------------------------------------------------------

def start_server(command, log):
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
    ready, _, _ = select.select([proc.stdout], [], [], 15)
    line = proc.stdout.readline().decode() if ready else ""
    m = re.match(r"listening on http://([\d.]+):(\d+)/", line)
    if not m:
        proc.kill()
        proc.wait()
        log.seek(0)
        raise SystemExit(f"server did not start: {line!r} {log.read()[-2000:]!r}")
    return proc, m.group(1), int(m.group(2))


def stop_server(proc):
    """SIGINT, then expect exit status 0 within 10 s."""
    global passed, failed
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = "killed"
    if code != 0:
        failed += 1
        print(f"FAIL server exit after SIGINT: {code}")
    else:
        passed += 1
        print("PASS server exits 0 after SIGINT")


def main():
    args = sys.argv[1:]
    target = args[0] if args else "server"
    if target == "--reference-server":
        return reference_server(args[1:])
    if target.startswith("http://"):
        m = re.match(r"http://([\d.]+):(\d+)/?$", target)
        if not m:
            raise SystemExit(f"expected http://IP:PORT, got {target!r}")
        run_checks(m.group(1), int(m.group(2)), target.rstrip("/"), ui_path=None)
    else:
        ui_path = os.environ.get("STREAMING_UI_PATH") or None
        if target == "--self-test":
            command = [sys.executable, os.path.abspath(__file__), "--reference-server"]
            ui_path = ui_path or "/events-test"  # the reference server serves EVENTS_PAGE
        else:
            binary = os.path.join(ROOT, "target", "release", "examples", target)
            if not os.path.exists(binary):
                raise SystemExit(f"{binary} not found: cargo build --release --example {target}")
            command = [binary, "127.0.0.1:0", "--quiet"]
        with tempfile.TemporaryFile() as log:
            proc, host, port = start_server(command, log)
            try:
                run_checks(host, port, f"http://{host}:{port}", ui_path)
            finally:
                stop_server(proc)
            if failed:
                log.seek(0)
                tail = log.read()[-2000:].decode(errors="replace").strip()
                if tail:
                    print("server stderr (last 2000 bytes):\n" + tail)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


# --- the checks ----------------------------------------------------------------------

def run_checks(host, port, base, ui_path):
    import requests  # imported here so that --reference-server needs only the stdlib
    import sseclient

    timeout = (5, 30)  # requests: connect, then per read

    # 0. The unchanged routes still answer as before.
    def unchanged_routes():
        with requests.Session() as s:
            r = s.get(base + "/", timeout=timeout)
            assert r.status_code == 200 and r.content == PAGE, r.status_code
            r = s.post(base + "/echo", data=b"echo me", headers={"Content-Type": "text/plain"},
                       timeout=timeout)
            assert r.status_code == 200 and r.content == b"echo me", (r.status_code, r.content)
            r = s.get(base + "/nowhere", timeout=timeout)
            assert r.status_code == 404 and b"404 Not Found" in r.content, r.status_code
            r = s.delete(base + "/", timeout=timeout)
            assert r.status_code == 405 and r.headers.get("Allow"), (r.status_code, r.headers)

    check("unchanged: GET / page, POST /echo, 404, 405 + Allow", unchanged_routes)

    # 1. requests: uploads.
    def requests_upload_generator():
        size, crc = 8 * MIB, 0
        data = test_data(size, 1)

        def pieces():
            nonlocal crc
            for i in range(0, size, 65536):
                piece = data[i:i + 65536]
                crc = zlib.crc32(piece, crc)
                yield piece

        r = requests.post(base + "/upload", data=pieces(), timeout=timeout)
        assert r.request.headers.get("Transfer-Encoding") == "chunked", r.request.headers
        check_upload_answer(r.status_code, r.headers.get("Content-Type"), r.content, size, crc)

    def requests_upload_content_length():
        size = 20 * MIB
        data = test_data(size, 2)
        r = requests.post(base + "/upload", data=data, timeout=timeout)
        assert r.request.headers.get("Content-Length") == str(size), r.request.headers
        check_upload_answer(r.status_code, r.headers.get("Content-Type"), r.content,
                            size, zlib.crc32(data))

    check("requests: 8 MiB chunked upload from a generator, bytes and crc32", requests_upload_generator)
    check("requests: 20 MiB upload with Content-Length, bytes and crc32", requests_upload_content_length)

    # 2. requests: downloads.
    def requests_stream_10m():
        n = 10_000_000
        with requests.get(f"{base}/stream?bytes={n}", stream=True, timeout=timeout) as r:
            assert r.status_code == 200, r.status_code
            assert r.headers.get("Transfer-Encoding") == "chunked", dict(r.headers)
            assert "Content-Length" not in r.headers, dict(r.headers)
            checker = PatternChecker()
            for chunk in r.iter_content(chunk_size=65536):
                checker.feed(chunk)
                assert checker.offset <= n, f"more than {n} bytes"
        assert checker.offset == n, f"{checker.offset} bytes instead of {n}"

    def requests_stream_edges():
        with requests.Session() as s:
            r = s.get(base + "/stream?bytes=0", timeout=timeout)
            assert r.status_code == 200 and r.content == b"", (r.status_code, r.content[:50])
            r = s.get(base + "/stream?bytes=33", timeout=timeout)
            assert r.status_code == 200 and r.content == expected_stream(33), r.content
            for query in ["?bytes=abc", "", "?bytes=", "?bytes=-1", "?other=5"]:
                r = s.get(base + "/stream" + query, timeout=timeout)
                assert r.status_code == 400, f"/stream{query}: {r.status_code}"

    check("requests: /stream?bytes=10000000 with iter_content, chunked, content", requests_stream_10m)
    check("requests: /stream bytes=0 and 33; abc, missing, empty, -1 -> 400", requests_stream_edges)

    # 3. http.client.
    def httpclient_stream_100():
        c = http.client.HTTPConnection(host, port, timeout=10)
        try:
            c.request("GET", "/stream?bytes=100")
            r = c.getresponse()
            assert r.status == 200 and r.version == 11, (r.status, r.version)
            assert r.chunked and r.getheader("Transfer-Encoding") == "chunked", r.getheaders()
            body = r.read()
            assert body == expected_stream(100), body
        finally:
            c.close()

    def httpclient_keepalive_after_upload():
        c = http.client.HTTPConnection(host, port, timeout=10)
        try:
            data = test_data(MIB, 3)
            c.request("POST", "/upload", body=data,
                      headers={"Content-Type": "application/octet-stream"})
            r = c.getresponse()
            check_upload_answer(r.status, r.getheader("Content-Type"), r.read(), len(data),
                                zlib.crc32(data))
            sock = c.sock
            assert sock is not None, "connection closed after the upload"
            c.request("GET", "/stream?bytes=1000")
            r = c.getresponse()
            assert r.status == 200 and r.read() == expected_stream(1000), r.status
            c.request("GET", "/")
            r = c.getresponse()
            assert r.status == 200 and r.read() == PAGE, r.status
            assert c.sock is sock, "the connection was not kept alive"
            # A chunked upload, then one more request, still on the same socket.
            c.request("POST", "/upload", body=iter([b"abc", b"", b"defgh"]), encode_chunked=True)
            r = c.getresponse()
            check_upload_answer(r.status, r.getheader("Content-Type"), r.read(), 8,
                                zlib.crc32(b"abcdefgh"))
            c.request("GET", "/stream?bytes=17")
            r = c.getresponse()
            assert r.status == 200 and r.read() == expected_stream(17), r.status
            assert c.sock is sock, "the connection was not kept alive after a chunked upload"
        finally:
            c.close()

    check("http.client: /stream?bytes=100 over HTTP/1.1, chunked", httpclient_stream_100)
    check("http.client: keep-alive: upload, 2 GETs, chunked upload, GET on one socket",
          httpclient_keepalive_after_upload)

    # 4. curl.
    work = tempfile.mkdtemp(prefix="streaming-clients-")
    try:
        big = os.path.join(work, "64mib.bin")
        crc = 0
        with open(big, "wb") as f:
            rng = random.Random(4)
            for _ in range(64):
                piece = rng.randbytes(MIB)
                crc = zlib.crc32(piece, crc)
                f.write(piece)
        run_curl_checks(base, work, big, 64 * MIB, crc)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # 5. sseclient-py over requests.
    def sse_events(query, headers=None):
        """Reads /events?query to its end; returns (events, response headers)."""
        hdrs = {"Accept": "text/event-stream"}
        hdrs.update(headers or {})
        with requests.get(f"{base}/events?{query}", stream=True, headers=hdrs,
                          timeout=timeout) as r:
            assert r.status_code == 200, r.status_code
            events = list(sseclient.SSEClient(r).events())
            return events, r.headers

    def check_ticks(events, first_id, count):
        ids = [e.id for e in events]
        want = [str(i) for i in range(first_id, first_id + count)]
        assert ids == want, f"ids {ids} instead of {want}"
        uptimes = []
        for e in events:
            assert e.event == "tick", f"event type {e.event!r}"
            data = json.loads(e.data)
            assert set(data) == {"seq", "uptime_ms"}, data
            assert data["seq"] == int(e.id), f"seq {data['seq']} with id {e.id}"
            assert isinstance(data["uptime_ms"], int) and data["uptime_ms"] >= 0, data
            uptimes.append(data["uptime_ms"])
        assert uptimes == sorted(uptimes), f"uptime_ms decreases: {uptimes}"
        return uptimes

    def sse_five_ticks():
        events, headers = sse_events("interval_ms=20&count=5")
        assert headers.get("Content-Type", "").startswith("text/event-stream"), dict(headers)
        assert "no-cache" in headers.get("Cache-Control", ""), dict(headers)
        uptimes = check_ticks(events, 1, 5)
        assert uptimes[-1] - uptimes[0] >= 4 * 20 - 2, f"not 20 ms apart: {uptimes}"

    def sse_last_event_id():
        events, _ = sse_events("interval_ms=20&count=2", {"Last-Event-ID": "41"})
        check_ticks(events, 42, 2)

    def sse_default_and_minimum_interval():
        events, _ = sse_events("count=2")  # default interval 1000 ms
        uptimes = check_ticks(events, 1, 2)
        assert uptimes[1] - uptimes[0] >= 1000 - 2, f"default interval not 1000 ms: {uptimes}"
        events, _ = sse_events("interval_ms=1&count=3")  # raised to the 10 ms minimum
        uptimes = check_ticks(events, 1, 3)
        assert uptimes[2] - uptimes[0] >= 2 * 10 - 2, f"interval below 10 ms: {uptimes}"

    check("sseclient-py: /events?interval_ms=20&count=5: 5 ticks, ids 1..5, seq, uptime_ms",
          sse_five_ticks)
    check("sseclient-py: Last-Event-ID: 41 with count=2: ids 42, 43", sse_last_event_id)
    check("sseclient-py: default interval 1000 ms, interval_ms=1 raised to 10 ms",
          sse_default_and_minimum_interval)

    # 6. Headless Chromium's EventSource.
    check("chromium: EventSource receives 3 ticks",
          lambda: chromium_eventsource(base, ui_path, requests))


def run_curl(args, timeout=120):
    if not shutil.which("curl"):
        raise Skip("curl is not installed")
    p = subprocess.run(["curl", "-sS", "--max-time", str(timeout - 10)] + args,
                       capture_output=True, timeout=timeout)
    assert p.returncode == 0, f"curl exit {p.returncode}: {p.stderr.decode(errors='replace')}"
    return p.stdout


def parse_dump(dump):
    """curl -D output -> [(status line, {lower name: value})], one per response (1xx too)."""
    responses = []
    for block in dump.decode("latin-1").replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        responses.append((lines[0], fields))
    return responses


def run_curl_checks(base, work, big, size, crc):
    headers_file = os.path.join(work, "headers")

    def final_answer():
        with open(headers_file, "rb") as f:
            responses = parse_dump(f.read())
        assert responses, "no response headers"
        return responses

    def curl_upload_expect():
        # -T alone would PUT; curl sends Expect: 100-continue with a large body (asked for
        # explicitly here so that it does not depend on curl's version), and would send the
        # body anyway after --expect100-timeout: the interim 100 answer is checked below.
        body = run_curl(["-X", "POST", "-T", big, "-H", "Expect: 100-continue",
                         "--expect100-timeout", "30", "-D", headers_file, base + "/upload"])
        responses = final_answer()
        statuses = [status for status, _ in responses]
        assert re.match(r"HTTP/1\.1 100\b", statuses[0]), f"no 100 Continue: {statuses}"
        status, fields = responses[-1]
        check_upload_answer(int(status.split()[1]), fields.get("content-type"), body, size, crc)

    def curl_upload_chunked():
        body = run_curl(["-H", "Transfer-Encoding: chunked", "-H", "Content-Type:",
                         "--data-binary", "@" + big, "-D", headers_file, base + "/upload"])
        status, fields = final_answer()[-1]
        check_upload_answer(int(status.split()[1]), fields.get("content-type"), body, size, crc)

    def curl_http10_stream():
        n = 100_000
        body = run_curl(["--http1.0", "-D", headers_file, f"{base}/stream?bytes={n}"])
        responses = final_answer()
        assert len(responses) == 1, responses
        status, fields = responses[0]
        assert re.match(r"HTTP/1\.[01] 200\b", status), status
        assert "transfer-encoding" not in fields, f"HTTP/1.0 answer has {fields}"
        assert fields.get("content-length", str(n)) == str(n), fields
        assert len(body) == n, f"{len(body)} bytes instead of {n}"
        assert body == expected_stream(n), "content differs"

    check("curl: -X POST -T 64 MiB file with Expect: 100-continue, 100 then bytes and crc32",
          curl_upload_expect)
    check("curl: 64 MiB --data-binary with Transfer-Encoding: chunked, bytes and crc32",
          curl_upload_chunked)
    check("curl: --http1.0 /stream?bytes=100000 not chunked, content exact", curl_http10_stream)


def chromium_eventsource(base, ui_path, requests):
    marker = os.environ.get("STREAMING_UI_MARKER", "received 3 events")
    page_server = None
    if ui_path:
        url = base + ui_path
    else:
        # Cross-origin needs CORS from the server: ask /events as a page elsewhere would.
        origin = "http://127.0.0.1:1"
        r = requests.get(base + "/events?interval_ms=10&count=1", headers={"Origin": origin},
                         timeout=(5, 10))
        allowed = r.headers.get("Access-Control-Allow-Origin")
        if allowed not in ("*", origin):
            raise Skip(
                "no same-origin page (set STREAMING_UI_PATH, e.g. /events-test) and /events "
                f"sends no Access-Control-Allow-Origin (got {allowed!r})"
            )
        html = EVENTS_PAGE.replace("EVENTS_URL", base + "/events?interval_ms=50&count=5")
        page_server = serve_page_elsewhere(html.encode())
        url = f"http://127.0.0.1:{page_server.server_address[1]}/"
        if allowed != "*":
            page_server.shutdown()
            raise Skip(f"/events allows only origin {allowed!r}")
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome")
                    if shutil.which(b)), None)
    if browser is None:
        if page_server:
            page_server.shutdown()
        if os.environ.get("CI") == "true":
            raise AssertionError("chromium is not installed; CI must run the browser check")
        raise Skip("chromium is not installed")
    profile = tempfile.mkdtemp(prefix="streaming-chromium-")
    try:
        # Virtual time stands still while a fetch is pending, so the DOM is dumped only
        # once the page has closed its EventSource (or the stream ended): without the
        # events, this waits for the timeout below.
        p = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--disable-quic",
             f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
        try:
            out, err = p.communicate(timeout=45)
        except BaseException as e:
            os.killpg(p.pid, signal.SIGKILL)  # chromium and its helper processes
            out, err = p.communicate()
            if not isinstance(e, subprocess.TimeoutExpired):
                raise
            raise AssertionError(
                f"chromium still running after 45 s on {url} (no {marker!r} on the page?): "
                f"{err.decode(errors='replace')[-600:]!r}"
            ) from None
        dom = out.decode(errors="replace")
        assert marker in dom, (
            f"{marker!r} not in the DOM of {url}: {dom[-600:]!r} "
            f"stderr: {err.decode(errors='replace')[-600:]!r}"
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        if page_server:
            page_server.shutdown()


def serve_page_elsewhere(html):
    """Serves html at / on another loopback port (for the cross-origin variant)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *_):
            pass

    server = HTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- the reference server (--self-test) --------------------------------------------------

NOT_FOUND = b"<!DOCTYPE html>\n<html><body><h1>404 Not Found</h1></body></html>\n"
STARTED = time.monotonic()


class ReferenceHandler(BaseHTTPRequestHandler):
    """The contract, plainly: what the Rust examples should answer on the checked routes."""

    protocol_version = "HTTP/1.1"  # keep-alive, and 100 Continue for Expect (stdlib)
    cors = False

    def log_message(self, *_):
        pass

    def answer(self, status, content_type, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def split_target(self):
        url = urllib.parse.urlsplit(self.path)
        return url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)

    def body_pieces(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                while size:
                    piece = self.rfile.read(min(size, 65536))
                    if not piece:
                        raise ConnectionError("body cut short")
                    size -= len(piece)
                    yield piece
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                piece = self.rfile.read(min(left, 65536))
                if not piece:
                    raise ConnectionError("body cut short")
                left -= len(piece)
                yield piece

    def start_stream(self, content_type, extra=()):
        """Headers of a streamed answer; returns write(bytes) and end()."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        for name, value in extra:
            self.send_header(name, value)
        chunked = self.request_version != "HTTP/1.0"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

        def write(data):
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                self.wfile.flush()

        def end():
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        return write, end

    def do_GET(self):
        path, query = self.split_target()
        if path == "/":
            self.answer(200, "text/html; charset=utf-8", PAGE)
        elif path == "/stream":
            value = query.get("bytes", [""])[0]
            if not re.fullmatch(r"[0-9]{1,15}", value):
                self.answer(400, "text/plain", b"bytes=N required\n")
                return
            left = int(value)
            write, end = self.start_stream("application/octet-stream")
            block = PATTERN * 4096
            while left:
                take = min(left, len(block))
                write(block[:take])
                left -= take
            end()
        elif path == "/events":
            def number(name, default):
                value = query.get(name, [None])[0]
                return int(value) if value and value.isdigit() else default

            interval = max(10, number("interval_ms", 1000))
            count = number("count", None)
            seq = number_header(self.headers.get("Last-Event-ID")) or 0
            extra = [("Cache-Control", "no-cache")]
            if self.cors:
                extra.append(("Access-Control-Allow-Origin", "*"))
            write, end = self.start_stream("text/event-stream", extra)
            sent = 0
            try:
                while count is None or sent < count:
                    if sent:
                        time.sleep(interval / 1000)
                    seq += 1
                    sent += 1
                    uptime = int((time.monotonic() - STARTED) * 1000)
                    write(b'event: tick\nid: %d\ndata: {"seq":%d,"uptime_ms":%d}\n\n'
                          % (seq, seq, uptime))
                end()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        elif path == "/events-test":
            page = EVENTS_PAGE.replace("EVENTS_URL", "/events?interval_ms=50&count=5")
            self.answer(200, "text/html; charset=utf-8", page.encode())
        else:
            self.answer(404, "text/html; charset=utf-8", NOT_FOUND)

    def do_POST(self):
        path, _ = self.split_target()
        if path == "/upload":
            n, crc = 0, 0
            for piece in self.body_pieces():
                n += len(piece)
                crc = zlib.crc32(piece, crc)
            body = json.dumps({"bytes": n, "crc32": crc_hex(crc)}, separators=(",", ":"))
            self.answer(200, "application/json", body.encode())
        elif path == "/echo":
            body = b"".join(self.body_pieces())
            self.answer(200, self.headers.get("Content-Type", "application/octet-stream"), body)
        else:
            self.wrong_method(path)

    def wrong_method(self, path):
        allow = {"/": "GET, HEAD, OPTIONS", "/echo": "POST, OPTIONS",
                 "/upload": "POST, OPTIONS", "/stream": "GET, HEAD, OPTIONS",
                 "/events": "GET, HEAD, OPTIONS"}.get(path)
        for _ in self.body_pieces():
            pass
        if allow:
            self.answer(405, "text/plain", b"405 Method Not Allowed\n", [("Allow", allow)])
        else:
            self.answer(404, "text/html; charset=utf-8", NOT_FOUND)

    def do_PUT(self):
        self.wrong_method(self.split_target()[0])

    do_DELETE = do_PUT


def number_header(value):
    return int(value) if value and value.strip().isdigit() else None


def reference_server(args):
    """Serves the contract on args[0] (default 127.0.0.1:0) until SIGINT; exits 0."""
    address = next((a for a in args if not a.startswith("-")), "127.0.0.1:0")
    host, _, port = address.rpartition(":")
    ReferenceHandler.cors = "--cors" in args
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer((host, int(port)), ReferenceHandler)
    print(f"listening on http://{host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
