#!/usr/bin/env python3
"""WebSocket checks of a running server with clients written elsewhere: Python's `websockets`
(a strict RFC 6455 implementation) and raw sockets for what a polite client never sends.

    python3 tests/ws_clients.py server|thread_server   # starts the example (built in release)
    python3 tests/ws_clients.py HOST:PORT [--max 1024]  # a running server (firmware)

- echo of text and binary messages of 0, 1, 125, 126, 65,535 and 65,536 bytes (up to --max);
  a message one byte over --max is closed with 1009;
- fragmented sends, ping/pong (also between fragments), a clean close with its code checked;
- /ws/ticks: `{"seq":n}` messages in order at the asked interval, while echoing;
- handshakes that are not valid upgrades get a 4xx, never a 101: a plain GET (426), version 8
  (426 with Sec-WebSocket-Version: 13), a bad key (400), POST (405), HTTP/1.0 (400);
- protocol violations get their close code: an unmasked frame (1002), a reserved opcode
  (1002), bad UTF-8 (1007), a fragmented ping (1002); a first frame in the handshake's packet
  is served;
- headless Chromium opens /ws/page (a WebSocket to /ws/ticks in a real browser), sees ticks and
  its message echoed, and closes with 1000 (a screenshot is kept in target/ws-page.png);
- with an example it starts: Ctrl+C closes an open WebSocket with 1001 and the server exits 0.

Ends with `N passed, N failed`; exit status 1 on any failure.
"""
import asyncio
import base64
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import websockets
from websockets.exceptions import ConnectionClosed

TARGET = sys.argv[1] if len(sys.argv) > 1 else "server"
MAX = int(sys.argv[sys.argv.index("--max") + 1]) if "--max" in sys.argv else 65536
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = None
if ":" in TARGET:
    ADDR = TARGET
else:
    # An example: start it on a free port (build it first: cargo build --release --examples).
    SERVER = subprocess.Popen(
        [os.path.join(ROOT, "target", "release", "examples", TARGET), "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = SERVER.stdout.readline()
    m = re.search(r"http://([\d.]+:\d+)/", line)
    if not m:
        SERVER.kill()
        sys.exit(f"server did not start: {line!r}")
    ADDR = m.group(1)
HOST, PORT = ADDR.rsplit(":", 1)
PORT = int(PORT)
URL = f"ws://{ADDR}"

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name} {detail}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


async def echo_sizes():
    sizes = [s for s in (0, 1, 125, 126, 65535, 65536) if s <= MAX]
    async with websockets.connect(URL + "/ws", max_size=None) as ws:
        for n in sizes:
            text = ("é" * (n // 2) + "a" * (n % 2))
            await ws.send(text)
            got = await asyncio.wait_for(ws.recv(), 10)
            check(f"text echo {n} B", got == text, f"(got {len(got.encode())} B)")
            data = os.urandom(n)
            await ws.send(data)
            got = await asyncio.wait_for(ws.recv(), 10)
            check(f"binary echo {n} B", got == data, f"(got {len(got)} B)")
        await ws.close(code=1000, reason="done")
        check("clean close by the client", ws.close_code == 1000, f"(code {ws.close_code})")


async def fragmented_and_ping():
    async with websockets.connect(URL + "/ws", max_size=None) as ws:
        # A fragmented text message (a character split across frames: see violations()).
        parts = ["héllo ", "", "wörld ", "世界"]
        await ws.send(iter(parts))
        got = await asyncio.wait_for(ws.recv(), 5)
        check("fragmented text echo", got == "".join(parts), repr(got))
        await ws.send(iter([b"ab", b"", b"cdef"]))
        got = await asyncio.wait_for(ws.recv(), 5)
        check("fragmented binary echo", got == b"abcdef", repr(got))
        pong = await ws.ping(b"are you there")
        latency = await asyncio.wait_for(pong, 5)
        check("ping answered with pong", latency >= 0, f"({latency * 1000:.1f} ms)")


async def too_big():
    async with websockets.connect(URL + "/ws", max_size=None) as ws:
        await ws.send(b"x" * (MAX + 1))
        try:
            await asyncio.wait_for(ws.recv(), 10)
            check("message over the limit closed with 1009", False, "(echoed)")
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            check("message over the limit closed with 1009", code == 1009, f"(code {code})")


async def ticks():
    async with websockets.connect(URL + "/ws/ticks?interval_ms=50") as ws:
        seqs = []
        start = time.monotonic()
        await ws.send("between ticks")
        echoed = False
        while len(seqs) < 10 and time.monotonic() - start < 10:
            msg = await asyncio.wait_for(ws.recv(), 5)
            if msg == "between ticks":
                echoed = True
            else:
                seqs.append(int(msg.split(":")[1].rstrip("}")))
        elapsed = time.monotonic() - start
        check("ticks arrive in order", seqs == list(range(1, 11)), str(seqs))
        check("ticks keep their interval", 0.4 <= elapsed <= 3, f"({elapsed:.2f} s for 10 at 50 ms)")
        check("ticks route echoes too", echoed)
        await ws.close()
        check("ticks close", ws.close_code == 1000, f"(code {ws.close_code})")


def handshake(head):
    with socket.create_connection((HOST, PORT), timeout=5) as s:
        s.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


KEY = base64.b64encode(b"0123456789abcdef").decode()


def upgrade_head(path="/ws", method="GET", version="HTTP/1.1", key=KEY, ws_version="13", extra=""):
    return (
        f"{method} {path} {version}\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {ws_version}\r\n{extra}\r\n"
    ).encode()


def refusals():
    plain = handshake(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
    check("plain GET to /ws: 426", plain.startswith(b"HTTP/1.1 426") and b"Upgrade: websocket" in plain, plain[:40])
    v8 = handshake(upgrade_head(ws_version="8"))
    check("version 8: 426 with Sec-WebSocket-Version: 13",
          v8.startswith(b"HTTP/1.1 426") and b"Sec-WebSocket-Version: 13" in v8, v8[:40])
    bad = handshake(upgrade_head(key="not-a-key"))
    check("bad key: 400", bad.startswith(b"HTTP/1.1 400"), bad[:40])
    short = handshake(upgrade_head(key=base64.b64encode(b"short").decode()))
    check("key of 5 bytes: 400", short.startswith(b"HTTP/1.1 400"), short[:40])
    post = handshake(upgrade_head(method="POST", extra="Content-Length: 0\r\n"))
    check("POST: 405", post.startswith(b"HTTP/1.1 405"), post[:40])
    old = handshake(upgrade_head(version="HTTP/1.0"))
    check("HTTP/1.0: 400", old.startswith(b"HTTP/1.1 400"), old[:40])
    no_conn = handshake(upgrade_head().replace(b"Connection: keep-alive, Upgrade", b"Connection: keep-alive"))
    check("no Connection: upgrade: 400", no_conn.startswith(b"HTTP/1.1 400"), no_conn[:40])
    ok = handshake(upgrade_head())
    expected = base64.b64encode(
        __import__("hashlib").sha1((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    )
    check("valid handshake: 101 with the RFC's accept key",
          ok.startswith(b"HTTP/1.1 101") and b"Sec-WebSocket-Accept: " + expected in ok, ok[:60])


def frame(opcode, payload, fin=True, mask=True, rsv=0):
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack(">H", n)
    else:
        head += bytes([m | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def raw_session(frames, with_head=True):
    """Open /ws, send `frames` (in the handshake's packet if with_head), return the frames the
    server sent until it closed: [(opcode, payload)]."""
    with socket.create_connection((HOST, PORT), timeout=5) as s:
        s.sendall(upgrade_head() + (frames if with_head else b""))
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, rest = data.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            return None
        if not with_head:
            s.sendall(frames)
        data = rest
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    out = []
    while len(data) >= 2:
        op, n = data[0] & 0x0F, data[1] & 0x7F
        at = 2
        if n == 126:
            n, at = struct.unpack(">H", data[2:4])[0], 4
        elif n == 127:
            n, at = struct.unpack(">Q", data[2:10])[0], 10
        out.append((op, data[at:at + n]))
        data = data[at + n:]
    return out


def close_code(frames):
    closes = [p for op, p in frames or [] if op == 8]
    return struct.unpack(">H", closes[0][:2])[0] if closes and len(closes[0]) >= 2 else None


def violations():
    got = raw_session(frame(1, b"hi") + frame(8, struct.pack(">H", 1000)))
    check("first frame in the handshake's packet is echoed", got and got[0] == (1, b"hi"), str(got))
    check("client close 1000 echoed", close_code(got) == 1000, str(got))
    got = raw_session(frame(1, b"hi", mask=False))
    check("unmasked frame: 1002", close_code(got) == 1002, str(got))
    got = raw_session(frame(3, b"x"))
    check("reserved opcode: 1002", close_code(got) == 1002, str(got))
    got = raw_session(frame(1, b"bad \xff utf-8"))
    check("invalid UTF-8: 1007", close_code(got) == 1007, str(got))
    got = raw_session(frame(1, b"\xe4\xb8", fin=False) + frame(0, b"\x96") + frame(8, b""), with_head=False)
    check("UTF-8 split across fragments echoed", got and got[0][1] + (got[1][1] if len(got) > 1 else b"") == "世".encode(), str(got))
    got = raw_session(frame(9, b"p", fin=False))
    check("fragmented ping: 1002", close_code(got) == 1002, str(got))
    got = raw_session(frame(1, b"ab", fin=False) + frame(9, b"mid") + frame(0, b"cd"))
    check("ping between fragments answered, message intact",
          got and (10, b"mid") in got and b"".join(p for op, p in got if op in (0, 1)) == b"abcd", str(got))
    got = raw_session(frame(0, b"orphan"))
    check("continuation without a start: 1002", close_code(got) == 1002, str(got))
    got = raw_session(frame(1, b"x", rsv=0x40))
    check("RSV1 without an extension: 1002", close_code(got) == 1002, str(got))
    got = raw_session(frame(8, struct.pack(">H", 1005)))
    check("close code 1005 received: 1002", close_code(got) == 1002, str(got))


def chromium():
    """A real browser: headless Chromium opens /ws/page (tests/devtools.py drives it in real
    time); the page's text is read until it shows 5 ticks, the echo and the close."""
    import devtools
    with devtools.Browser(640, 400) as browser:
        if browser is None:
            check("chromium installed", os.environ.get("CI") != "true", "(skipped: no chromium)")
            return
        page = browser.open(f"http://{ADDR}/ws/page?interval_ms=50&count=5")
        text = page.wait_for("document.body ? document.body.innerText : ''",
                             lambda t: t and "closed" in t, timeout=15) or ""
        check("chromium: WebSocket ticks received", "received 5 ticks" in text, repr(text))
        check("chromium: message echoed", "echo: hello from the browser \u00e9\u4e16" in text)
        check("chromium: closed with 1000", "closed 1000" in text)
        shot = os.path.join(ROOT, "target", "ws-page.png")
        check("chromium: screenshot taken", page.screenshot(shot) > 1000, shot)


async def shutdown_closes_1001():
    async with websockets.connect(URL + "/ws") as ws:
        await ws.send("before")
        check("echo before shutdown", await asyncio.wait_for(ws.recv(), 5) == "before")
        SERVER.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(ws.recv(), 10)
            check("shutdown closes the WebSocket with 1001", False, "(a message came)")
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            check("shutdown closes the WebSocket with 1001", code == 1001, f"(code {code})")
    try:
        status = SERVER.wait(timeout=20)
    except subprocess.TimeoutExpired:
        SERVER.kill()
        status = None
    check("server exits 0 after Ctrl+C with a WebSocket open", status == 0, f"(status {status})")


async def main():
    for test in (echo_sizes, fragmented_and_ping, too_big, ticks):
        try:
            await test()
        except Exception as e:  # a failure of the server, reported as one
            check(test.__name__, False, f"raised {e!r}")


asyncio.run(main())
refusals()
violations()
if SERVER:  # the examples serve /ws/page; firmware does not
    chromium()
if SERVER:
    asyncio.run(shutdown_closes_1001())
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
