#!/usr/bin/env python3
"""Async routes, layers and multipart uploads with clients written elsewhere: curl, Python
`requests`, `http.client`, raw sockets, `sseclient-py` and headless Chromium over the DevTools
protocol (tests/devtools.py).

    python3 tests/app_clients.py server          # examples/server.rs (tokio), the demo app
    python3 tests/app_clients.py thread_server   # examples/thread_server.rs, the demo app
    python3 tests/app_clients.py async_router    # examples/async_router.rs

Builds the example (`cargo build --release --example NAME`; set APP_CLIENTS_NO_BUILD=1 to use
the binary already in target/release/examples), starts it on a free loopback port and waits
for its `listening on http://ADDR/` line.

Against the demo (server, thread_server), started with `--cors-origin http://127.0.0.1:P`
where P is a page server of this script:
  - POST /ota (multipart/form-data, Basic auth admin:admin): curl -F with a 5 MiB file,
    requests with 1 MiB, with content full of fake delimiters and chunked in 997-byte
    pieces, all answered
    {"bytes":N,"crc32":"xxxxxxxx"} equal to len() and zlib.crc32; no firmware part 422,
    text/plain 415, no closing delimiter 400, Content-Length over 64 MiB 413 at once (the
    limit itself is not refused), no or wrong credentials 401 + WWW-Authenticate without
    reading the 5 MiB body (and no 100 Continue); a truncated upload leaves the server serving;
  - 30 pieces of 64 KiB a second apart (30 s, the body idle timeout is 5 s) to /ota and to
    /upload at the same time: 200 with the right CRC; meanwhile a stalled upload gets 408
    after 5 s;
  - 405 + Allow and OPTIONS on /ota, /upload's limit (none: u64::MAX; 2^64 is 400);
  - CORS on /api/ from curl (preflights, actual answers and a 404 carry the origin; a
    disallowed origin gets no Access-Control-* at all) and from Chromium (a page on the
    allowed port reads and PUTs LEDs, one on another port fails with TypeError and changes
    nothing; the requests on the wire, preflight included, from the Network domain);
    screenshots /tmp/app_clients_cors.png and /tmp/app_clients_cors_denied.png;
  - Chromium submitting the /ota form with a 2 MiB file (DOM.setFileInputFiles, credentials
    from Network.setExtraHTTPHeaders); screenshot /tmp/app_clients_ota.png.
Against async_router: GET /, three SSE ticks with sseclient-py, POST /count (3 MiB with a
length, chunked from a generator, over 16 MiB 413 declared and chunked), POST /secret behind
admin:secret, CORS for http://localhost:3000, 405 + Allow and OPTIONS.

Loopback only; every socket has a timeout and every check is bounded (SIGALRM). Prints
`ok   name: detail` or `FAIL name: detail` per check and `N passed, M failed`; exits 1 on any
failure. Needs curl, requests, sseclient-py, websockets; chromium (skipped without it, except
when CI=true).
"""
import asyncio
import base64
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
import sseclient

import devtools

EXAMPLE = sys.argv[1] if len(sys.argv) > 1 else "server"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIB, MIB = 1024, 1024 * 1024
OTA_LIMIT = 64 * MIB  # the demo's OTA_LIMIT
COUNT_LIMIT = 16 * MIB  # async_router's LIMIT
ADMIN = base64.b64encode(b"admin:admin").decode()
TIMEOUT = (5, 30)  # requests: connect, read
CHECK_TIMEOUT = 60  # seconds, the bound on one check (the trickle check has its own)
TMP = tempfile.mkdtemp(prefix="app-clients-")
passed = failed = 0


# --- reporting -------------------------------------------------------------------------

def _alarm(_signum, _frame):
    raise TimeoutError("check took too long")


def check(name, fn, bound=CHECK_TIMEOUT):
    """Run fn (returns a detail string, raises AssertionError with one); print its line."""
    global passed, failed
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(bound)
    started = time.monotonic()
    try:
        detail = fn() or ""
    except Exception as e:  # noqa: BLE001 - report every failure, keep going
        failed += 1
        print(f"FAIL {name}: {type(e).__name__}: {str(e)[:300]}")
    else:
        passed += 1
        print(f"ok   {name}: {detail} ({time.monotonic() - started:.1f} s)")
    finally:
        signal.alarm(0)
    sys.stdout.flush()


def expect(ok, detail):
    if not ok:
        raise AssertionError(detail)


# --- the example server ----------------------------------------------------------------

def build(example):
    if os.environ.get("APP_CLIENTS_NO_BUILD"):
        return
    r = subprocess.run(["cargo", "build", "--release", "--quiet", "--example", example], cwd=ROOT,
                       timeout=1200)
    if r.returncode:
        sys.exit(f"cargo build --release --example {example} failed")


def start(example, *args):
    """Start the example on 127.0.0.1:0; (process, base URL) once it says `listening on`."""
    binary = os.path.join(ROOT, "target", "release", "examples", example)
    proc = subprocess.Popen([binary, "127.0.0.1:0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    line = proc.stdout.readline() if ready else ""
    m = re.match(r"listening on (http://[\d.]+:\d+)/", line)
    if not m:
        proc.kill()
        proc.wait()
        sys.exit(f"{example} did not start: {line!r}")
    return proc, m.group(1)


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = f"killed ({proc.wait()})"
    check("server exits 0 after SIGINT", lambda: expect(code == 0, f"exit {code}") or "exit 0")


# --- clients ---------------------------------------------------------------------------

def curl(*args):
    """(stdout, stderr) of curl -sS with a 30 s bound."""
    r = subprocess.run(["curl", "-sS", "-m", "30", *args], capture_output=True, timeout=40)
    return r.stdout, r.stderr.decode(errors="replace")


def curl_head(*args):
    """The status and headers (lower-case names; repeated ones joined) of curl -D -."""
    out, err = curl("-D", "-", "-o", "/dev/null", *args)
    blocks = [b for b in out.decode("latin-1").split("\r\n\r\n") if b.startswith("HTTP/")]
    expect(blocks, f"no response: {err}")
    lines = blocks[-1].split("\r\n")  # the last block: after any 100 Continue
    return int(lines[0].split()[1]), parse_headers(lines[1:])


def parse_headers(lines):
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        headers[name] = (headers[name] + ", " if name in headers else "") + value.strip()
    return headers


def connect():
    return socket.create_connection((HOST, PORT), timeout=10)


def read_response(sock, timeout=10):
    """One final response from a raw socket: (status, headers, body, interim statuses), or
    None if the connection ended (EOF or reset) before a status line."""
    sock.settimeout(timeout)
    data, interim = b"", []
    while True:
        while b"\r\n\r\n" not in data:
            try:
                piece = sock.recv(65536)
            except ConnectionResetError:
                piece = b""
            if not piece:
                return None
            data += piece
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        if 100 <= status < 200:
            interim.append(status)
            continue
        headers = parse_headers(lines[1:])
        length = int(headers.get("content-length", "0"))
        while len(data) < length:
            piece = sock.recv(65536)
            expect(piece, f"response body cut at {len(data)} of {length} bytes")
            data += piece
        return status, headers, data[:length], interim


def ends_within(sock, seconds):
    """How long until the peer closes (EOF or reset), whatever it still sends; None if it
    stays open `seconds`."""
    sock.settimeout(0.5)
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        try:
            if not sock.recv(65536):
                return time.monotonic() - started
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
    return None


def send_quietly(sock, pieces, pause=0.0):
    """Send pieces (a pause before each but the first); stop at the first error."""
    try:
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            sock.sendall(piece)
    except OSError:
        pass


def post_head(path, length, content_type=None, auth=True, extra=""):
    head = f"POST {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Length: {length}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    if auth:
        head += f"Authorization: Basic {ADMIN}\r\n"
    return (head + extra + "\r\n").encode()


def multipart(boundary, parts):
    """A multipart/form-data body: parts are (name, filename or None, content bytes)."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def expect_crc_answer(status, body, data):
    expect(status == 200, f"status {status}: {body[:200]!r}")
    answer = json.loads(body)
    want = {"bytes": len(data), "crc32": format(zlib.crc32(data), "08x")}
    expect(answer == want, f"{answer} instead of {want}")
    expect(re.fullmatch(r"[0-9a-f]{8}", answer["crc32"]), f"crc32 {answer['crc32']!r} not 8 hex digits")
    return f"{answer}"


def random_file(name, size, seed):
    path = os.path.join(TMP, name)
    data = random.Random(seed).randbytes(size)
    with open(path, "wb") as f:
        f.write(data)
    return path, data


# --- 1-2: uploads to /ota that succeed -------------------------------------------------

def curl_ota_5mib():
    path, data = random_file("firmware-5m.bin", 5 * MIB, 1)
    out, err = curl("-F", f"firmware=@{path}", "-F", "note=hi", "-u", "admin:admin",
                    "-w", "\n%{http_code}", BASE + "/ota")
    body, _, code = out.rpartition(b"\n")
    expect(code, f"no answer: {err}")
    return expect_crc_answer(int(code), body, data)


def requests_ota_1mib():
    data = random.Random(2).randbytes(MIB + 12345)
    r = requests.post(BASE + "/ota", files={"firmware": ("fw.bin", data)}, data={"version": "1.2"},
                      auth=("admin", "admin"), timeout=TIMEOUT)
    expect(r.headers.get("Content-Type") == "application/json", f"Content-Type {r.headers.get('Content-Type')}")
    return expect_crc_answer(r.status_code, r.content, data)


def fake_delimiter_content(boundary):
    """1 MiB of random bytes with lines that look like delimiters of `boundary` but are not,
    and content that ends with one of them (right before the real delimiter)."""
    rng = random.Random(3)
    fakes = [b"\r\n--" + boundary[:-1] + bytes([boundary[-1] ^ 1]),  # one byte off
             b"\r\n--" + boundary[:-1] + b"\r\n",  # one byte short, then a line end
             b"\r\n--" + boundary[:20],
             b"\r\n-" + boundary + b"\r\n",  # one dash
             b"\n--" + boundary + b"\r\n",  # bare LF before: not a delimiter
             b"--" + boundary + b"--",  # mid-line: not a delimiter
             b"\r\n--\r\n--" + boundary[:8]]
    pieces = []
    for i in range(400):
        pieces.append(rng.randbytes(rng.randrange(0, 5000)) + b".")  # no CR right before a fake
        pieces.append(fakes[i % len(fakes)])
    return b"".join(pieces) + b"\r\n--" + boundary[:10]


def requests_ota_fake_delimiters():
    boundary = "----app-clients-" + "7" * 20
    data = fake_delimiter_content(boundary.encode())
    count = data.count(b"\r\n--" + boundary[:10].encode())
    body = multipart(boundary, [("version", None, b"1.2"), ("firmware", "fw.bin", data),
                                ("note", None, b"\r\n--" + boundary[:-1].encode())])
    r = requests.post(BASE + "/ota", data=body, auth=("admin", "admin"), timeout=TIMEOUT,
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    return f"{count} fake delimiter lines, " + expect_crc_answer(r.status_code, r.content, data)


def requests_ota_chunked_small_pieces():
    """The fake-delimiter body again, chunked (requests with a generator) in 997-byte
    pieces, so that delimiters and part heads are split across chunks."""
    boundary = "app-clients-chunked-0123456789"
    data = fake_delimiter_content(boundary.encode())[: 300 * KIB]
    body = multipart(boundary, [("version", None, b"1.2"), ("firmware", "fw.bin", data)])
    pieces = (body[i:i + 997] for i in range(0, len(body), 997))
    r = requests.post(BASE + "/ota", data=pieces, auth=("admin", "admin"), timeout=TIMEOUT,
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    expect(r.request.headers.get("Transfer-Encoding") == "chunked", f"{r.request.headers}")
    return f"{len(body) // 997 + 1} chunks, " + expect_crc_answer(r.status_code, r.content, data)


# --- 3: refusals -------------------------------------------------------------------------

def ota_no_firmware_422():
    r = requests.post(BASE + "/ota", files={"other": ("x.bin", b"data")}, data={"version": "1.2"},
                      auth=("admin", "admin"), timeout=TIMEOUT)
    expect(r.status_code == 422 and r.json() == {"error": "no firmware part"}, f"{r.status_code} {r.text!r}")
    return f"422 {r.text}"


def ota_not_multipart_415():
    r = requests.post(BASE + "/ota", data=b"firmware", headers={"Content-Type": "text/plain"},
                      auth=("admin", "admin"), timeout=TIMEOUT)
    expect(r.status_code == 415, f"{r.status_code} {r.text!r}")
    return f"415 {r.text.strip()!r}"


def ota_unclosed_400():
    """http.client with a correct Content-Length; the body lacks the closing delimiter."""
    body = multipart("XYZ", [("firmware", "fw.bin", b"hello" * 1000)])
    body = body[: body.rindex(b"--XYZ--")]  # ends with the part's CRLF, no delimiter
    c = http.client.HTTPConnection(HOST, PORT, timeout=10)
    try:
        c.request("POST", "/ota", body=body, headers={"Authorization": f"Basic {ADMIN}",
                                                       "Content-Type": "multipart/form-data; boundary=XYZ"})
        r = c.getresponse()
        text = r.read()
    finally:
        c.close()
    expect(r.status == 400, f"{r.status} {text!r}")
    return f"400 {text.strip().decode()!r}"


def ota_declared_too_large_413():
    """Content-Length 70,000,000 (> 64 MiB): 413 without a byte of the body sent."""
    with connect() as s:
        started = time.monotonic()
        s.sendall(post_head("/ota", 70_000_000, "multipart/form-data; boundary=XYZ"))
        answer = read_response(s, timeout=5)
        took = time.monotonic() - started
    expect(answer is not None, "no answer")
    status, headers, body, _ = answer
    expect(status == 413 and took < 2, f"{status} after {took:.2f} s {body!r}")
    return f"413 after {took * 1000:.0f} ms, Connection: {headers.get('connection')}"


def ota_limit_itself_accepted():
    """Content-Length exactly 64 MiB with Expect: 100-continue: 100 Continue, not 413; one
    byte more: 413 and no 100 Continue."""
    seen = []
    for length in (OTA_LIMIT, OTA_LIMIT + 1):
        with connect() as s:
            s.sendall(post_head("/ota", length, "multipart/form-data; boundary=XYZ",
                                extra="Expect: 100-continue\r\n"))
            s.settimeout(5)
            seen.append(s.recv(100).split(b"\r\n")[0].decode())
    expect(seen == ["HTTP/1.1 100 Continue", "HTTP/1.1 413 Content Too Large"], str(seen))
    return f"{OTA_LIMIT}: {seen[0]!r}; {OTA_LIMIT + 1}: {seen[1]!r}"


def ota_no_credentials_401():
    """No Authorization and a 5 MiB body sent at once: 401 within 2 s, then report what the
    connection does (closed, or the next request on it served)."""
    body = multipart("XYZ", [("firmware", "fw.bin", random.Random(4).randbytes(5 * MIB))])
    with connect() as s:
        started = time.monotonic()
        s.sendall(post_head("/ota", len(body), "multipart/form-data; boundary=XYZ", auth=False))
        sender = threading.Thread(target=send_quietly, args=(s, [body]), daemon=True)
        sender.start()
        answer = read_response(s, timeout=5)
        took = time.monotonic() - started
        expect(answer is not None, "no answer")
        status, headers, text, _ = answer
        expect(status == 401 and took < 2, f"{status} after {took:.2f} s {text!r}")
        expect(headers.get("www-authenticate", "").startswith("Basic "), f"WWW-Authenticate {headers}")
        if headers.get("connection", "").lower() == "close":
            closed = ends_within(s, 8)
            expect(closed is not None, "Connection: close but the connection stayed open 8 s")
            after = f"Connection: close, closed {closed:.1f} s later"
        else:
            sender.join(10)
            s.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            nxt = read_response(s)
            expect(nxt and nxt[0] == 200, f"next request on the connection: {nxt and nxt[0]}")
            after = "kept alive, the next GET / answered 200"
        sender.join(10)
    return f"401 after {took * 1000:.0f} ms, {headers['www-authenticate']!r}; {after}"


def ota_wrong_credentials_401():
    """requests sending a 5 MiB file with no, a wrong password, a wrong user: 401 (not a
    connection error, though the server does not read the body); curl without -u: 401."""
    data = random.Random(10).randbytes(5 * MIB)
    codes = {}
    for name, auth in (("no auth", None), ("wrong password", ("admin", "nope")), ("wrong user", ("root", "admin"))):
        r = requests.post(BASE + "/ota", files={"firmware": ("fw.bin", data)}, auth=auth, timeout=TIMEOUT)
        expect(r.status_code == 401 and r.headers.get("WWW-Authenticate", "").startswith("Basic "),
               f"{name}: {r.status_code} {r.headers}")
        codes[name] = r.status_code
    out, _ = curl("-o", "/dev/null", "-w", "%{http_code}", "-F", "firmware=@/dev/null", BASE + "/ota")
    expect(out == b"401", f"curl without -u: {out!r}")
    return f"requests 5 MiB {codes}, curl without -u 401"


def ota_401_before_100_continue():
    """Expect: 100-continue without credentials: 401 at once, no 100 Continue first."""
    with connect() as s:
        s.sendall(post_head("/ota", 5 * MIB, "multipart/form-data; boundary=XYZ", auth=False,
                            extra="Expect: 100-continue\r\n"))
        answer = read_response(s, timeout=5)
    expect(answer is not None, "no answer")
    status, _, _, interim = answer
    expect(status == 401 and not interim, f"{status}, interim {interim}")
    return "401, no 100 Continue"


# --- 4: a truncated upload ----------------------------------------------------------------

def truncated_upload():
    """Content-Length 1 MiB, 100 KiB sent, then a half-close (then another one closed at
    once): the server answers 400 or nothing, keeps running and serves a new connection."""
    head = post_head("/ota", MIB, "multipart/form-data; boundary=XYZ")
    part = multipart("XYZ", [("firmware", "fw.bin", b"")])[:-9]  # a part's head, no data
    body = part + random.Random(5).randbytes(100 * KIB - len(part))
    with connect() as s:
        s.sendall(head + body)
        s.shutdown(socket.SHUT_WR)
        answer = read_response(s, timeout=12)
    got = answer[0] if answer else None
    expect(got in (400, None), f"the truncated upload got {got}: {answer}")
    with connect() as s:  # closed at once, without a half-close
        s.sendall(head + body)
    time.sleep(0.2)
    expect(SERVER.poll() is None, f"server exited: {SERVER.returncode}")
    r = requests.get(BASE + "/", timeout=TIMEOUT)
    expect(r.status_code == 200, f"GET / after: {r.status_code}")
    text = f"{got} {answer[2].strip().decode()!r}" if answer else "no response, connection closed"
    return f"half-closed: {text}; closed: server still up, GET / 200"


# --- 5: trickled uploads -----------------------------------------------------------------

def trickle(path, pieces, prefix, suffix, content_type, results):
    """POST pieces (one a second, the first with `prefix`, the last with `suffix`); store
    (status, body, seconds) in results[path]."""
    length = len(prefix) + sum(map(len, pieces)) + len(suffix)
    wire = [p for p in pieces]
    wire[0], wire[-1] = prefix + wire[0], wire[-1] + suffix
    started = time.monotonic()
    try:
        with connect() as s:
            s.sendall(post_head(path, length, content_type, auth=path == "/ota"))
            send_quietly(s, wire, pause=1.0)
            answer = read_response(s, timeout=15)
            results[path] = (answer and answer[0], answer and answer[2], time.monotonic() - started)
    except Exception as e:  # noqa: BLE001 - reported by the check
        results[path] = (None, repr(e).encode(), time.monotonic() - started)


def stall(results):
    """64 KiB of a declared 1 MiB to /upload, then nothing: results["stall"] is (status,
    seconds from the last byte sent to the answer)."""
    try:
        with connect() as s:
            s.sendall(post_head("/upload", MIB, auth=False) + b"s" * 64 * KIB)
            sent = time.monotonic()
            answer = read_response(s, timeout=15)
            results["stall"] = (answer and answer[0], time.monotonic() - sent)
    except Exception as e:  # noqa: BLE001 - reported by the check
        results["stall"] = (repr(e), 0)


def trickled_uploads():
    """30 x 64 KiB, a second apart, to /ota (multipart) and /upload (raw) at the same time,
    and, meanwhile, an upload that stalls (408 at the 5 s body idle timeout)."""
    rng = random.Random(6)
    pieces = [rng.randbytes(64 * KIB) for _ in range(30)]
    data = b"".join(pieces)
    form = multipart("XYZ", [("firmware", "fw.bin", b"@")])
    prefix, suffix = form.split(b"@")
    results = {}
    threads = [threading.Thread(target=trickle, args=("/ota", pieces, prefix, suffix,
                                                      "multipart/form-data; boundary=XYZ", results)),
               threading.Thread(target=trickle, args=("/upload", pieces, b"", b"",
                                                      "application/octet-stream", results)),
               threading.Thread(target=stall, args=(results,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    details = []
    for path in ("/ota", "/upload"):
        status, body, took = results.get(path, (None, b"no result", 0))
        expect(took >= 28, f"{path}: over in {took:.1f} s, not trickled")
        details.append(f"{path} in {took:.1f} s: " + expect_crc_answer(status, body, data))
    status, took = results.get("stall", (None, 0))
    expect(status == 408 and 4.5 <= took <= 7, f"stalled upload: {status} after {took:.1f} s")
    return "; ".join(details) + f"; stalled: 408 after {took:.1f} s"


# --- 10: methods and limits of the demo's routes -------------------------------------------

def ota_methods():
    status, headers = curl_head("-X", "PUT", BASE + "/ota")
    expect(status == 405 and headers.get("allow") == "GET, HEAD, POST, OPTIONS", f"PUT: {status} {headers}")
    put = headers["allow"]
    status, headers = curl_head("-X", "OPTIONS", BASE + "/ota")
    expect(status in (200, 204) and headers.get("allow") == "GET, HEAD, POST, OPTIONS", f"OPTIONS: {status} {headers}")
    return f"PUT 405 Allow: {put}; OPTIONS {status} Allow: {headers['allow']}"


def upload_limit():
    """/upload streams up to u64::MAX: a huge Content-Length gets 100 Continue (no 413); one
    past u64::MAX is not a number (400). OPTIONS lists POST."""
    with connect() as s:
        s.sendall(post_head("/upload", 10**15, auth=False, extra="Expect: 100-continue\r\n"))
        s.settimeout(5)
        first = s.recv(100).split(b"\r\n")[0].decode()
    expect(first == "HTTP/1.1 100 Continue", f"10^15 bytes declared: {first!r}")
    with connect() as s:
        s.sendall(post_head("/upload", 2**64, auth=False))
        answer = read_response(s, timeout=5)
    expect(answer and answer[0] == 400, f"Content-Length 2^64: {answer}")
    status, headers = curl_head("-X", "OPTIONS", BASE + "/upload")
    expect(status == 204 and headers.get("allow") == "POST, OPTIONS", f"OPTIONS: {status} {headers}")
    return f"10^15: {first!r}; 2^64: 400 {answer[2].strip().decode()!r}; OPTIONS Allow: POST, OPTIONS"


# --- 6: CORS from curl --------------------------------------------------------------------

def cors_headers(headers):
    return {k: v for k, v in headers.items() if k.startswith("access-control-")}


def preflight(origin, path="/api/leds/1", method="PUT"):
    return curl_head("-X", "OPTIONS", "-H", f"Origin: {origin}", "-H", f"Access-Control-Request-Method: {method}",
                     "-H", "Access-Control-Request-Headers: content-type", BASE + path)


def cors_preflights():
    details = []
    for origin in ("http://localhost:3000", PAGE_ORIGIN):
        status, headers = preflight(origin)
        want = {"access-control-allow-origin": origin, "access-control-allow-methods": "GET, HEAD, PUT",
                "access-control-allow-headers": "content-type", "access-control-max-age": "600"}
        expect(status == 204 and cors_headers(headers) == want and headers.get("vary") == "Origin",
               f"{origin}: {status} {headers}")
        details.append(origin)
    return "204 with ACAO, Methods GET, HEAD, PUT, Headers content-type, Max-Age 600, Vary: Origin for " + \
        " and ".join(details)


def cors_actual_answers():
    status, headers = curl_head("-H", f"Origin: {PAGE_ORIGIN}", BASE + "/api/leds")
    expect(status == 200 and headers.get("access-control-allow-origin") == PAGE_ORIGIN, f"GET: {status} {headers}")
    seen = ["GET /api/leds 200"]
    for method, path, want, args in (("GET", "/api/nope", 404, ()), ("GET", "/api/leds/9", 404, ()),
                                     ("DELETE", "/api/leds", 405, ()),
                                     ("PUT", "/api/leds/1", 415, ("-H", "Content-Type: text/plain", "-d", "x"))):
        status, headers = curl_head("-X", method, *args, "-H", "Origin: http://localhost:3000", BASE + path)
        expect(status == want and headers.get("access-control-allow-origin") == "http://localhost:3000",
               f"{method} {path}: {status} {headers}")
        seen.append(f"{method} {path} {status}")
    return ", ".join(seen) + ": all with ACAO"


def cors_disallowed_origin():
    status, headers = preflight("http://evil.example")
    expect(not cors_headers(headers), f"preflight: {status} {cors_headers(headers)}")
    pre = f"preflight {status} (Allow: {headers.get('allow')})"
    status, headers = curl_head("-H", "Origin: http://evil.example", BASE + "/api/leds")
    expect(status == 200 and not cors_headers(headers), f"GET: {status} {cors_headers(headers)}")
    status404, headers = curl_head("-H", "Origin: http://evil.example", BASE + "/api/nope")
    expect(not cors_headers(headers), f"404: {status404} {cors_headers(headers)}")
    return f"{pre}, GET 200, 404: no Access-Control-* header"


def cors_only_on_api():
    """The demo's CORS layer is on /api/ only: /upload and /events answer an allowed origin
    without Access-Control-*."""
    status, headers = curl_head("-H", "Origin: http://localhost:3000", "--data-binary", "x", BASE + "/upload")
    expect(status == 200 and not cors_headers(headers), f"/upload: {status} {headers}")
    status, headers = curl_head("-H", "Origin: http://localhost:3000", BASE + "/events?count=1&interval_ms=10")
    expect(status == 200 and not cors_headers(headers), f"/events: {status} {headers}")
    return "/upload 200 and /events 200 without Access-Control-*"


# --- 7: CORS from Chromium ------------------------------------------------------------------

CORS_PAGE = """<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>CORS test</title></head>
  <body>
    <h1>A page of ORIGIN calling API</h1>
    <p>GET /api/leds: <span id="get">pending</span></p>
    <p>PUT /api/leds/LED {"on":true}: <span id="put">pending</span></p>
    <p id="done">running</p>
    <script>
      async function show(id, request) {
        try {
          const r = await request();
          document.getElementById(id).textContent = r.status + " " + await r.text();
        } catch (e) {
          document.getElementById(id).textContent = e.name + ": " + e.message;
        }
      }
      (async () => {
        await show("get", () => fetch("API/api/leds"));
        await show("put", () => fetch("API/api/leds/LED", {method: "PUT",
          headers: {"Content-Type": "application/json"}, body: JSON.stringify({on: true})}));
        document.getElementById("done").textContent = "done";
      })();
    </script>
  </body>
</html>
"""


def page_server():
    """A loopback HTTP server for CORS_PAGE: (server, origin); the page is at / (LED 3, the
    allowed origin) and /denied (LED 2)."""
    class Page(BaseHTTPRequestHandler):
        timeout = 5  # seconds, on each connection's socket

        def do_GET(self):
            led = "2" if self.path == "/denied" else "3"
            body = CORS_PAGE.replace("ORIGIN", "http://" + self.headers.get("Host", "")).replace("API", BASE) \
                .replace("LED", led).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    httpd.timeout = 5
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def open_page(browser, url, events=None):
    """A page showing `url` (not the previous document) once it has loaded; with a list
    `events`, the Network domain's events from before the navigation on are appended to it."""
    page = browser.open("about:blank" if events is not None else url)
    if events is not None:
        call_recording(page, events, "Network.enable")
        call_recording(page, events, "Page.navigate", url=url)
    state = wait_recording(page, events, "location.href + ' ' + document.readyState",
                           lambda s: s == url + " complete")
    expect(state == url + " complete", f"{url} did not load: {state!r}")
    return page


def call_recording(page, events, method, **params):
    """page.call, keeping the events that arrive before the answer (devtools.Page.call drops
    them)."""
    if events is None:
        return page.call(method, **params)

    async def call():
        n = next(page.ids)
        await page.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            message = json.loads(await page.ws.recv())
            if message.get("id") == n:
                return message.get("result", {})
            events.append(message)
    return page.loop.run_until_complete(asyncio.wait_for(call(), 20))


def wait_recording(page, events, expression, ok, timeout=10):
    """page.wait_for, keeping the events (see call_recording)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        result = call_recording(page, events, "Runtime.evaluate", expression=expression)
        value = result.get("result", {}).get("value")
        if ok(value):
            break
        time.sleep(0.1)
    return value


def requests_seen(events):
    """'METHOD /path STATUS' (or 'failed: reason') of every request to the example the page
    sent, preflights included, in the order they were sent."""
    sent, outcome = [], {}
    for e in events:
        params = e.get("params", {})
        if e.get("method") == "Network.requestWillBeSent" and params["request"]["url"].startswith(BASE):
            sent.append((params["requestId"], params["request"]["method"], params["request"]["url"][len(BASE):]))
        elif e.get("method") == "Network.responseReceived":
            outcome[params["requestId"]] = str(params["response"]["status"])
        elif e.get("method") == "Network.loadingFailed":
            outcome.setdefault(params["requestId"], "failed: " + params.get("corsErrorStatus", {}).get(
                "corsError", params.get("errorText", "")))
    return [f"{method} {path} {outcome.get(rid, '?')}" for rid, method, path in sent]


def cors_page_results(page, events):
    """What the page shows for its GET and PUT, once it has shown `done`."""
    text = "(id) => document.getElementById(id) ? document.getElementById(id).textContent : null"
    done = wait_recording(page, events, f"({text})('done')", lambda t: t == "done", timeout=15)
    expect(done == "done", f"the page did not finish: {done!r}")
    shown = wait_recording(page, events, f"JSON.stringify({{get: ({text})('get'), put: ({text})('put')}})", bool)
    call_recording(page, events, "Network.disable")
    return json.loads(shown)


def chromium_cors(browser):
    for led in (2, 3):
        requests.put(f"{BASE}/api/leds/{led}", json={"on": False}, timeout=TIMEOUT)
    events = []
    page = open_page(browser, PAGE_ORIGIN + "/", events)
    got = cors_page_results(page, events)
    seen = sorted(requests_seen(events))
    expect(seen == ["GET /api/leds 200", "OPTIONS /api/leds/3 204", "PUT /api/leds/3 200"],
           f"requests on the wire: {seen}")
    status, _, body = got["get"].partition(" ")
    expect(status == "200" and [led["id"] for led in json.loads(body)] == [0, 1, 2, 3], f"GET: {got['get']!r}")
    expect(got["put"] == '200 {"id":3,"on":true}', f"PUT (after a preflight): {got['put']!r}")
    api = requests.get(BASE + "/api/leds/3", timeout=TIMEOUT).json()
    expect(api == {"id": 3, "on": True}, f"the API then shows {api}")
    expect(page.screenshot("/tmp/app_clients_cors.png") > 1000, "screenshot")
    return f"from {PAGE_ORIGIN}: {', '.join(seen)}; the page shows PUT {got['put']!r}, the API LED 3 on"


def chromium_cors_denied(browser):
    events = []
    page = open_page(browser, DENIED_ORIGIN + "/denied", events)
    got = cors_page_results(page, events)
    seen = sorted(requests_seen(events))
    expect(seen == ["GET /api/leds failed: MissingAllowOriginHeader", "OPTIONS /api/leds/2 204",
                    "PUT /api/leds/2 failed: PreflightMissingAllowOriginHeader"], f"requests on the wire: {seen}")
    expect(got["get"].startswith("TypeError"), f"GET from {DENIED_ORIGIN}: {got['get']!r}")
    expect(got["put"].startswith("TypeError"), f"PUT from {DENIED_ORIGIN}: {got['put']!r}")
    api = requests.get(BASE + "/api/leds/2", timeout=TIMEOUT).json()
    expect(api == {"id": 2, "on": False}, f"the PUT went through the refused preflight: {api}")
    expect(page.screenshot("/tmp/app_clients_cors_denied.png") > 1000, "screenshot")
    return f"from {DENIED_ORIGIN}: {', '.join(seen)}; the page shows {got['put']!r} twice, LED 2 still off"


# --- 8: Chromium submitting the /ota form ----------------------------------------------------

def chromium_ota_form(browser):
    path, data = random_file("firmware-2m.bin", 2 * MIB, 7)
    page = open_page(browser, BASE + "/ota")
    forms = page.wait_for("document.forms.length", lambda n: n == 1)
    expect(forms == 1, f"{forms} forms on /ota")
    page.call("Network.enable")
    page.call("Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {ADMIN}"})
    node = page.call("Runtime.evaluate", expression="document.querySelector('input[type=file][name=firmware]')")
    object_id = node.get("result", {}).get("objectId")
    expect(object_id, f"no file input: {node}")
    page.call("DOM.setFileInputFiles", files=[path], objectId=object_id)
    size = page.evaluate("document.forms[0].firmware.files[0].size")
    expect(size == len(data), f"the input holds {size} bytes")
    page.evaluate("document.querySelector('button[type=submit]').click()")
    text = page.wait_for("document.body ? document.body.innerText : ''", lambda t: t and "crc32" in t,
                         timeout=20) or ""
    m = re.search(r"\{.*\}", text, re.S)
    expect(m, f"no JSON after the submit: {text[:200]!r}")
    expect(page.screenshot("/tmp/app_clients_ota.png") > 1000, "screenshot")
    page.call("Network.setExtraHTTPHeaders", headers={})
    return expect_crc_answer(200, m.group(0).encode(), data)


def browser_checks():
    with devtools.Browser(800, 400) as browser:
        if browser is None:
            if os.environ.get("CI") == "true":
                check("chromium installed", lambda: expect(False, "CI must run the browser checks"))
            else:
                print("skip chromium checks: no chromium")
            return
        check("chromium: CORS fetch and PUT (preflight) from the allowed page", lambda: chromium_cors(browser))
        check("chromium: fetch from a disallowed origin fails with TypeError", lambda: chromium_cors_denied(browser))
        check("chromium: the /ota form submits a 2 MiB file, bytes and crc32", lambda: chromium_ota_form(browser))


# --- 9: async_router -------------------------------------------------------------------------

def router_page():
    r = requests.get(BASE + "/", timeout=TIMEOUT)
    expect(r.status_code == 200 and r.headers.get("Content-Type", "").startswith("text/html")
           and "<h1>async router</h1>" in r.text, f"{r.status_code} {r.headers} {r.text[:100]!r}")
    return f"200 {r.headers['Content-Type']}"


def router_ticks():
    started = time.monotonic()
    with requests.get(BASE + "/ticks", stream=True, timeout=TIMEOUT) as r:
        expect(r.status_code == 200 and r.headers.get("Content-Type") == "text/event-stream",
               f"{r.status_code} {r.headers}")
        events = [(e.event, e.id, e.data) for e in sseclient.SSEClient(r).events()]
    took = time.monotonic() - started
    want = [("tick", str(i), str(i)) for i in (1, 2, 3)]
    expect(events == want, f"{events}")
    expect(took >= 0.35, f"the three events came in {took:.2f} s (they are 200 ms apart)")
    return f"3 events (event: tick, ids 1,2,3) in {took:.2f} s, then the stream ended"


def router_count():
    data = random.Random(8).randbytes(3 * MIB)
    r = requests.post(BASE + "/count", data=data, timeout=TIMEOUT)
    expect(r.status_code == 200 and r.text == str(len(data)), f"length: {r.status_code} {r.text!r}")

    def pieces():
        for i in range(0, len(data), 64 * KIB):
            yield data[i:i + 64 * KIB]
    r = requests.post(BASE + "/count", data=pieces(), timeout=TIMEOUT)
    expect(r.request.headers.get("Transfer-Encoding") == "chunked", f"{r.request.headers}")
    expect(r.status_code == 200 and r.text == str(len(data)), f"chunked: {r.status_code} {r.text!r}")
    return f"Content-Length and chunked: {r.text}"


def router_over_limit():
    """16 MiB + 1 declared: 413 at once; chunked past 16 MiB: 413 once over."""
    with connect() as s:
        started = time.monotonic()
        s.sendall(post_head("/count", COUNT_LIMIT + 1, auth=False))
        answer = read_response(s, timeout=5)
        took = time.monotonic() - started
    expect(answer and answer[0] == 413 and took < 2, f"declared: {answer} after {took:.2f} s")
    r = requests.post(BASE + "/count", data=b"x" * COUNT_LIMIT, timeout=TIMEOUT)
    expect(r.status_code == 200 and r.text == str(COUNT_LIMIT), f"exactly 16 MiB: {r.status_code} {r.text!r}")
    chunk = b"%x\r\n%s\r\n" % (MIB, b"y" * MIB)
    with connect() as s:
        s.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        threading.Thread(target=send_quietly, args=(s, [chunk] * 20 + [b"0\r\n\r\n"]), daemon=True).start()
        chunked = read_response(s, timeout=10)
    expect(chunked and chunked[0] == 413, f"chunked 20 MiB: {chunked}")
    return f"declared 16 MiB + 1: 413 in {took * 1000:.0f} ms; exactly 16 MiB: 200; chunked 20 MiB: 413"


def router_secret():
    data = random.Random(9).randbytes(MIB)
    r = requests.post(BASE + "/secret", data=data, timeout=TIMEOUT)
    expect(r.status_code == 401 and r.headers.get("WWW-Authenticate", "").startswith('Basic realm="async router"'),
           f"no auth: {r.status_code} {r.headers}")
    r = requests.post(BASE + "/secret", data=data, auth=("admin", "nope"), timeout=TIMEOUT)
    expect(r.status_code == 401, f"wrong password: {r.status_code}")
    r = requests.post(BASE + "/secret", data=data, auth=("admin", "secret"), timeout=TIMEOUT)
    expect(r.status_code == 200 and r.text == str(len(data)), f"admin:secret: {r.status_code} {r.text!r}")
    return f"no auth 401, wrong 401, admin:secret 200 {r.text}"


def router_cors():
    status, headers = preflight("http://localhost:3000", "/count", "POST")
    want = {"access-control-allow-origin": "http://localhost:3000", "access-control-allow-methods": "GET, POST",
            "access-control-allow-headers": "content-type, authorization"}
    expect(status == 204 and cors_headers(headers) == want and headers.get("vary") == "Origin",
           f"preflight: {status} {headers}")
    status, headers = curl_head("-H", "Origin: http://localhost:3000", "--data-binary", "abc", BASE + "/count")
    expect(status == 200 and headers.get("access-control-allow-origin") == "http://localhost:3000",
           f"POST: {status} {headers}")
    status, headers = preflight("http://evil.example", "/count", "POST")
    expect(not cors_headers(headers), f"evil preflight: {status} {headers}")
    return "preflight 204 (ACAO, Methods GET, POST, Headers content-type, authorization), POST with ACAO, " \
           "evil.example none"


def router_methods():
    status, headers = curl_head("-X", "PUT", BASE + "/")
    expect(status == 405 and {"GET", "HEAD"} <= set(headers.get("allow", "").split(", ")), f"PUT /: {status} {headers}")
    put = headers["allow"]
    status, headers = curl_head("-X", "OPTIONS", BASE + "/")
    expect(status in (200, 204) and headers.get("allow") == put, f"OPTIONS /: {status} {headers}")
    opt = f"{status} Allow: {headers['allow']}"
    status, headers = curl_head("-X", "OPTIONS", BASE + "/count")
    expect(status in (200, 204) and headers.get("allow") == "POST, OPTIONS", f"OPTIONS /count: {status} {headers}")
    return f"PUT / 405 Allow: {put}; OPTIONS / {opt}; OPTIONS /count Allow: {headers['allow']}"


# --- main ----------------------------------------------------------------------------------

def demo_checks():
    check("curl -F firmware=@5MiB -F note=hi -u admin:admin /ota: bytes, crc32", curl_ota_5mib)
    check("requests files= 1 MiB with a version field: bytes, crc32", requests_ota_1mib)
    check("requests: content full of fake delimiter lines: bytes, crc32", requests_ota_fake_delimiters)
    check("requests: chunked in 997-byte pieces: bytes, crc32", requests_ota_chunked_small_pieces)
    check("no firmware part: 422", ota_no_firmware_422)
    check("Content-Type text/plain: 415", ota_not_multipart_415)
    check("http.client: no closing delimiter: 400", ota_unclosed_400)
    check("Content-Length 70000000: 413 without waiting for the body", ota_declared_too_large_413)
    check("Content-Length 64 MiB: 100 Continue; 64 MiB + 1: 413", ota_limit_itself_accepted)
    check("no credentials, 5 MiB body: 401 within 2 s", ota_no_credentials_401)
    check("requests 5 MiB with no/wrong credentials, curl without -u: 401", ota_wrong_credentials_401)
    check("Expect: 100-continue without credentials: 401, no 100 first", ota_401_before_100_continue)
    check("truncated upload: 400 or nothing, the server keeps serving", truncated_upload)
    check("30 x 64 KiB a second apart to /ota and /upload: 200, crc32; a stalled one 408", trickled_uploads,
          bound=90)
    check("PUT /ota 405 + Allow, OPTIONS /ota", ota_methods)
    check("/upload: no limit (100 Continue for 10^15), 2^64 400", upload_limit)
    check("curl: CORS preflights of both allowed origins", cors_preflights)
    check("curl: actual answers (200, 404, 405, 415) carry ACAO", cors_actual_answers)
    check("curl: http://evil.example gets no Access-Control-*", cors_disallowed_origin)
    check("curl: no CORS outside /api/", cors_only_on_api)
    browser_checks()


def router_checks():
    check("GET /: 200 text/html", router_page)
    check("sseclient: /ticks sends exactly 3 tick events, ids 1-3", router_ticks)
    check("POST /count 3 MiB, with a length and chunked", router_count)
    check("POST /count over 16 MiB: 413", router_over_limit)
    check("POST /secret: 401 without or with wrong auth, admin:secret 200", router_secret)
    check("CORS for http://localhost:3000", router_cors)
    check("PUT / 405 + Allow, OPTIONS / and /count", router_methods)


def main():
    global SERVER, BASE, HOST, PORT, PAGE_ORIGIN, DENIED_ORIGIN
    started = time.monotonic()
    build(EXAMPLE)
    if EXAMPLE == "async_router":
        SERVER, BASE = start(EXAMPLE)
    else:
        allowed, PAGE_ORIGIN = page_server()
        denied, DENIED_ORIGIN = page_server()
        SERVER, BASE = start(EXAMPLE, "--quiet", "--cors-origin", PAGE_ORIGIN)
    HOST, PORT = BASE[len("http://"):].split(":")
    PORT = int(PORT)
    print(f"{EXAMPLE} on {BASE}")
    try:
        router_checks() if EXAMPLE == "async_router" else demo_checks()
    finally:
        stop(SERVER)
        if EXAMPLE != "async_router":
            allowed.shutdown()
            denied.shutdown()
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{passed} passed, {failed} failed ({time.monotonic() - started:.0f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
