#!/usr/bin/env python3
"""HTTPS checks of an example server with clients written elsewhere, against a test CA made
here with `openssl` (tests/tls_certs.py): curl --cacert (the page, a 64 MiB upload, /stream,
/events), Python `requests` with verification (and a chunked upload), sseclient-py,
`websockets` over wss://, `openssl s_client` (ALPN, the certificate, close_notify at
shutdown), headless Chromium (with --ignore-certificate-errors: the device page /ui/ with
its live values and the WebSocket page over wss://, a screenshot in target/tls-ui-page.png),
a plain HTTP request on the TLS port (400 naming the https URL), --redirect-http (308), the
log line of a failed handshake, and a missing or unusable certificate (exit code 1).

    python3 tests/tls_clients.py server|thread_server   # build the examples first (release)

Ends with `N passed, N failed`.
"""
import asyncio
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import zlib

import requests
import sseclient
import websockets

import devtools
import tls_certs

EXAMPLE = sys.argv[1] if len(sys.argv) > 1 else "server"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "examples", EXAMPLE)
CA, CERT, KEY = tls_certs.make()
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {EXAMPLE} tls: {name} {detail}")
    else:
        failed += 1
        print(f"FAIL {EXAMPLE} tls: {name} {detail}")


def curl(*args, timeout=60):
    r = subprocess.run(["curl", "-sS", "-m", str(timeout), "--cacert", CA, *args], capture_output=True)
    return r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_errors():
    """A missing or unusable certificate or key: a clear error at start, exit code 1."""
    empty = os.path.join(tempfile.mkdtemp(), "empty.pem")
    open(empty, "w").close()
    for label, cert, key in (("missing certificate", "/nonexistent/cert.pem", KEY),
                             ("missing key", CERT, "/nonexistent/key.pem"),
                             ("empty certificate file", empty, KEY),
                             ("the CA's key for the server's certificate",
                              CERT, os.path.join(os.path.dirname(CA), "ca.key"))):
        r = subprocess.run([BINARY, "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key],
                           capture_output=True, text=True, timeout=10)
        said = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        check(f"{label}: exit 1 with a message", r.returncode == 1 and "cannot serve HTTPS" in said,
              f"(exit {r.returncode}: {said!r})")


start_errors()
log_path = os.path.join(tempfile.mkdtemp(), "stderr.log")
log_file = open(log_path, "w")
redirect_port = free_port()
server = subprocess.Popen(
    [BINARY, "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", KEY,
     "--redirect-http", str(redirect_port)],
    stdout=subprocess.PIPE, stderr=log_file, text=True)
lines = [server.stdout.readline(), server.stdout.readline()]
m = re.search(r"https://([\d.]+):(\d+)/", "".join(lines))
if not m:
    server.kill()
    sys.exit(f"server did not start: {lines!r}")
PORT = int(m.group(2))
BASE = f"https://localhost:{PORT}"
check("the redirect listener is announced", f"http://127.0.0.1:{redirect_port}/" in "".join(lines), repr(lines))

# curl --cacert: the page, a 64 MiB upload, /stream, /events.
page = curl(BASE + "/").decode(errors="replace")
check("curl --cacert: GET / is the page", "<title>" in page and "</html>" in page, repr(page[:60]))
blob = os.urandom(64 << 20)
blob_path = os.path.join(tempfile.mkdtemp(), "blob.bin")
with open(blob_path, "wb") as f:
    f.write(blob)
want = f"{zlib.crc32(blob):08x}"
started = time.monotonic()
answer = curl("--data-binary", "@" + blob_path, "-H", "Content-Type: application/octet-stream",
              BASE + "/upload").decode()
took = time.monotonic() - started
check("curl --cacert: a 64 MiB upload, its CRC-32 as zlib's",
      f'"bytes":{64 << 20}' in answer and want in answer, f"({answer}, {64 / took:.0f} MiB/s)")
os.remove(blob_path)
streamed = curl(BASE + f"/stream?bytes={16 << 20}")
check("curl --cacert: /stream of 16 MiB", len(streamed) == 16 << 20, f"({len(streamed)} bytes)")
events = curl("-N", BASE + "/events?count=3&interval_ms=100", timeout=10).decode()
check("curl --cacert: /events sends 3 events", events.count("data:") == 3, repr(events[:120]))

# requests with verification; sseclient-py over it.
r = requests.get(BASE + "/ui/", verify=CA, timeout=10)
check("requests (verify=CA): /ui/ 200", r.status_code == 200 and "LED" in r.text, str(r.status_code))
try:
    requests.get(BASE + "/", timeout=10)  # the system's CAs do not know the test CA
    check("requests without the CA: refused", False)
except requests.exceptions.SSLError as e:
    check("requests without the CA: certificate refused", "CERTIFICATE_VERIFY_FAILED" in str(e), "")


def pieces():
    for _ in range(64):
        yield b"\x5a" * 65536


r = requests.post(BASE + "/upload", data=pieces(), verify=CA, timeout=30)
want = f"{zlib.crc32(bytes([0x5a]) * (4 << 20)):08x}"
check("requests: a chunked upload of 4 MiB", r.status_code == 200 and want in r.text, r.text)
with requests.get(BASE + "/events?count=3&interval_ms=100", stream=True, verify=CA, timeout=10) as r:
    got = [e.data for e in sseclient.SSEClient(r).events()]
check("sseclient-py over TLS: 3 events", len(got) == 3, repr(got))

# websockets over wss://.
async def wss():
    context = ssl.create_default_context(cafile=CA)
    async with websockets.connect(f"wss://localhost:{PORT}/ws", ssl=context, max_size=None) as ws:
        await ws.send("hello over TLS")
        text = await ws.recv()
        data = os.urandom(60000)
        await ws.send(data)
        echoed = await ws.recv()
    return text, echoed == data


text, same = asyncio.run(wss())
check("websockets wss://: text and a 60,000-byte binary message echoed", text == "hello over TLS" and same,
      repr(text))

# openssl s_client: ALPN and the certificate.
r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{PORT}", "-servername", "localhost",
                    "-alpn", "h2,http/1.1", "-CAfile", CA], input=b"", capture_output=True, timeout=10)
out = r.stdout.decode(errors="replace")
check("openssl s_client: ALPN http/1.1 chosen over h2", "ALPN protocol: http/1.1" in out,
      re.search(r"ALPN.*", out).group(0) if re.search(r"ALPN.*", out) else "")
check("openssl s_client: the certificate verifies against the CA", "Verify return code: 0 (ok)" in out, "")

# A plain HTTP request on the TLS port; --redirect-http.
r = subprocess.run(["curl", "-sS", "-m", "5", "-i", f"http://127.0.0.1:{PORT}/ui/?x=1"], capture_output=True)
out = r.stdout.decode(errors="replace")
check("plain HTTP on the TLS port: 400 naming the https URL",
      out.startswith("HTTP/1.1 400") and f"https://127.0.0.1:{PORT}/ui/?x=1" in out, repr(out[-80:]))
head = subprocess.run(["curl", "-sS", "-m", "5", "-I", f"http://127.0.0.1:{redirect_port}/api/leds?x=1"],
                      capture_output=True).stdout.decode()
check("--redirect-http: 308 to the https URL",
      head.startswith("HTTP/1.1 308") and f"Location: https://127.0.0.1:{PORT}/api/leds?x=1" in head,
      repr(head[:120]))
followed = curl("-L", f"http://localhost:{redirect_port}/").decode(errors="replace")
check("curl -L through the redirect gets the page", "<title>" in followed, repr(followed[:40]))

# Headless Chromium.
with devtools.Browser(800, 1100, args=["--ignore-certificate-errors"]) as b:
    if b is None:
        check("chromium installed", os.environ.get("CI") != "true", "(skipped: no chromium)")
    else:
        page = b.open(f"https://127.0.0.1:{PORT}/ui/")
        text = page.wait_for("document.body ? document.body.innerText : ''",
                             lambda t: t and "LED 3" in t and " ms)" in t, timeout=15) or ""
        check("chromium: /ui/ over https lists 4 LEDs", all(f"LED {i} is" in text for i in range(4)),
              repr(text[:120]))
        first = page.evaluate("document.getElementById('uptime').textContent")
        later = page.wait_for("document.getElementById('uptime').textContent", lambda t: t != first, timeout=5)
        check("chromium: the uptime changes (SSE over TLS)", later and later != first, f"{first!r} -> {later!r}")
        secure = page.evaluate("window.isSecureContext")
        check("chromium: the page is a secure context", secure is True, repr(secure))
        page.wait_for("+document.getElementById('chart-count').textContent", lambda n: n and n >= 8, timeout=10)
        shot = os.path.join(ROOT, "target", f"tls-ui-page-{EXAMPLE}.png")
        check("chromium: screenshot taken", page.screenshot(shot) > 1000, shot)
        ws_page = b.open(f"https://127.0.0.1:{PORT}/ws/page?count=5&interval_ms=50")
        state = ws_page.wait_for("document.getElementById('count').textContent",
                                 lambda t: t and "received 5" in t, timeout=10)
        check("chromium: the WebSocket page over wss:// receives 5 ticks", state and "received 5" in state,
              repr(state))

# close_notify at shutdown: an idle keep-alive TLS connection, and openssl s_client waiting.
context = ssl.create_default_context(cafile=CA)
idle = context.wrap_socket(socket.create_connection(("127.0.0.1", PORT), timeout=10), server_hostname="localhost")
idle.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
reply = b""
while b"</html>" not in reply:
    reply += idle.recv(65536)
s_client = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{PORT}", "-CAfile", CA,
                             "-servername", "localhost", "-msg", "-ign_eof"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
time.sleep(1)
server.send_signal(signal.SIGINT)
try:
    tail = idle.recv(100)  # b"" after the peer's close_notify; SSLEOFError without one
    clean = tail == b""
except ssl.SSLError as e:
    clean, tail = False, repr(e)
check("shutdown: an idle TLS connection gets close_notify", clean, repr(tail))
try:
    out, _ = s_client.communicate(timeout=10)
except subprocess.TimeoutExpired:
    s_client.kill()
    out, _ = s_client.communicate()
out = out.decode(errors="replace")
received = re.search(r"<<< .*Alert.*\n.*\n?.*close_notify|<<< .*Alert.*close_notify", out)
check("shutdown: openssl s_client receives the close_notify alert", received is not None,
      re.findall(r".*Alert.*", out)[-1:] if "Alert" in out else "(no alert)")
try:
    code = server.wait(timeout=15)
except subprocess.TimeoutExpired:
    server.kill()
    code = None
check("exits 0", code == 0, f"(exit {code})")
log_file.close()
log = open(log_path).read()
check("the log: a line per request over TLS", re.search(r" GET /ui/ 200 ", log) is not None, "")
check("the log: the plain HTTP request's line names it", "- - tls: plain HTTP request on the TLS port" in log,
      "")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
