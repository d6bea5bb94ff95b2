#!/usr/bin/env python3
"""1,000 Server-Sent Events clients at once on the tokio server (examples/server.rs), on
loopback: every client gets its stream and keeps getting events, the server's resident memory
per client is measured, and after they all vanish the server still serves.

    python3 tests/sse_load.py [CLIENTS]      # default 1000; build the example first

Prints the figures and ends with `N passed, N failed`.
"""
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "examples", "server")

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name} {detail}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, CLIENTS * 2 + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def main():
    raise_fd_limit()
    server = subprocess.Popen(
        [BINARY, "127.0.0.1:0", "--quiet", "--max-connections", str(CLIENTS + 16)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=raise_fd_limit,
        text=True,
    )
    try:
        line = server.stdout.readline()
        addr = re.search(r"http://([\d.]+):(\d+)/", line)
        host, port = addr.group(1), int(addr.group(2))
        time.sleep(0.2)
        idle = rss_kib(server.pid)

        clients = []
        started = time.monotonic()
        for _ in range(CLIENTS):
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(b"GET /events?interval_ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
            clients.append(s)
        # Wait for two events on every stream (bounded).
        sel = selectors.DefaultSelector()
        seen = {}
        for s in clients:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            seen[s] = b""
        deadline = time.monotonic() + 20
        done = 0
        while done < CLIENTS and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                seen[s] += data
                if seen[s].count(b"event: tick") >= 2:
                    sel.unregister(s)
                    done += 1
        took = time.monotonic() - started
        check(
            f"{CLIENTS} event streams open, two events each",
            done == CLIENTS,
            f"({done} complete in {took:.1f} s)",
        )
        ok_heads = sum(1 for s in clients if seen[s].startswith(b"HTTP/1.1 200 OK"))
        check("every stream answered 200", ok_heads == CLIENTS, f"({ok_heads})")
        loaded = rss_kib(server.pid)
        per_client = (loaded - idle) * 1024 / CLIENTS
        print(
            f"     server RSS: idle {idle} KiB, with {CLIENTS} streams {loaded} KiB, "
            f"{per_client:.0f} B per stream (16 KiB + 2 KiB buffers each by default)"
        )
        check("RSS per stream below 64 KiB", per_client < 64 * 1024, f"({per_client:.0f} B)")

        for s in clients:
            s.close()
        time.sleep(2.5)  # each handler ends at its next event (1 s interval)
        after = rss_kib(server.pid)
        print(f"     server RSS after they left: {after} KiB")
        probe = socket.create_connection((host, port), timeout=5)
        probe.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = probe.recv(65536)
            if not chunk:
                break
            reply += chunk
        check("served after the streams vanished", reply.startswith(b"HTTP/1.1 200 OK"))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            code = server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            code = None
        check("server exits 0 after SIGINT", code == 0, f"(exit {code})")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
