#!/usr/bin/env python3
"""Hostile-load checks of the host servers, over loopback, each bounded in time and count:

- a dead log sink: standard error is a pipe whose reader is gone; every request is still
  served, and Ctrl+C still stops the server with exit 0;
- refusals past the cap cost no thread each: a burst of connections over a small cap leaves
  the thread count and memory flat, and every refused client reads a 503 or a close;
- running out of file descriptors: with the open-file limit at 64, a burst of 200
  connections exhausts it; once they close, a new client is served again (time measured).

    python3 tests/hostile.py [server|thread_server]     # build the example first

Ends with `N passed, N failed`.
"""
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time

EXAMPLE = sys.argv[1] if len(sys.argv) > 1 else "server"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("HOSTILE_BINARY") or os.path.join(ROOT, "target", "release", "examples", EXAMPLE)

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {EXAMPLE}: {name} {detail}")
    else:
        failed += 1
        print(f"FAIL {EXAMPLE}: {name} {detail}")


def start(*args, stderr=subprocess.DEVNULL, preexec=None):
    proc = subprocess.Popen(
        [BINARY, "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        preexec_fn=preexec,
        text=True,
    )
    line = proc.stdout.readline()
    m = re.search(r"http://([\d.]+):(\d+)/", line)
    if not m:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, (m.group(1), int(m.group(2)))


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def get(addr, timeout=5):
    """One `GET /` on a new connection; the status, or None."""
    try:
        with socket.create_connection(addr, timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else None
    except OSError:
        return None


def status_of(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(rf"{field}:\s+(\d+)", f.read()).group(1))


def dead_stderr():
    read_end, write_end = os.pipe()
    proc, addr = start(stderr=write_end)
    os.close(write_end)
    os.close(read_end)  # the reader is gone: every write to stderr fails (EPIPE)
    statuses = [get(addr) for _ in range(300)]
    served = statuses.count(200)
    check("dead stderr: 300 requests served", served == 300, f"({served} x 200)")
    code = stop(proc)
    check("dead stderr: Ctrl+C still exits 0", code == 0, f"(exit {code})")


def bounded_refusals():
    proc, addr = start("--quiet", "--max-connections", "4")
    # Hold the four places with idle keep-alive connections.
    held = []
    for _ in range(4):
        s = socket.create_connection(addr, timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(65536)
        held.append(s)
    threads_before = status_of(proc.pid, "Threads")
    burst, answered = [], 0
    for _ in range(1500):
        try:
            s = socket.create_connection(addr, timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            burst.append(s)
        except OSError:
            pass
    threads_peak = status_of(proc.pid, "Threads")
    rss_peak = status_of(proc.pid, "VmRSS")
    for s in burst:
        try:
            s.settimeout(5)
            data = s.recv(256)
            if data.startswith(b"HTTP/1.1 503") or data == b"":
                answered += 1
        except OSError:
            answered += 1  # a reset is an answer too: not a hang
        s.close()
    check(
        "1,500 refusals over a cap of 4: no thread per refusal",
        threads_peak <= threads_before + 1,
        f"(threads {threads_before} -> {threads_peak}, RSS {rss_peak} KiB)",
    )
    check("every refused client got 503 or a close", answered == len(burst), f"({answered}/{len(burst)})")
    for s in held:
        s.close()
    check("served after the burst", get(addr) == 200)
    check("exits 0", stop(proc) == 0)


def fd_exhaustion():
    def low_fd_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    proc, addr = start("--quiet", preexec=low_fd_limit)
    conns = []
    for _ in range(200):
        try:
            conns.append(socket.create_connection(addr, timeout=2))
        except OSError:
            break
    time.sleep(0.5)
    for s in conns:
        s.close()
    started = time.monotonic()
    ok = False
    while time.monotonic() - started < 15:
        if get(addr, timeout=2) == 200:
            ok = True
            break
        time.sleep(0.1)
    took = time.monotonic() - started
    check("served again after running out of file descriptors", ok, f"(after {took:.2f} s)")
    check("exits 0", stop(proc) == 0)


def read_response(s):
    """One response off `s` (Content-Length framed); (status, closes) or None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            return None
        body += chunk
    return int(head[9:12]), b"Connection: close" in head


def shutdown_in_flight():
    import threading

    proc, addr = start("--quiet")
    stop_flag = threading.Event()
    results = []  # (sent, answered) per busy client

    def busy():
        sent = answered = 0
        s = socket.create_connection(addr, timeout=10)
        try:
            while True:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                sent += 1
                reply = read_response(s)
                if reply is None:
                    break
                answered += 1
                if reply[1]:  # Connection: close: the server is done with us
                    break
        except OSError:
            pass
        results.append((sent, answered))

    clients = [threading.Thread(target=busy) for _ in range(8)]
    for t in clients:
        t.start()
    half = socket.create_connection(addr, timeout=10)
    half.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the rest after the signal
    idle = socket.create_connection(addr, timeout=10)
    idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    read_response(idle)
    time.sleep(0.5)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    half.sendall(b"\r\n")
    idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # just after the signal
    half_reply, idle_reply = read_response(half), read_response(idle)
    for t in clients:
        t.join(timeout=15)
    try:
        code = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = None
    took = time.monotonic() - started
    lost = sum(sent - answered for sent, answered in results)
    total = sum(answered for _, answered in results)
    check(
        "shutdown: busy keep-alive clients lose no request",
        len(results) == 8 and lost == 0,
        f"({total} answered, {lost} lost)",
    )
    check("shutdown: a half-received request is answered, with close", half_reply == (200, True), f"({half_reply})")
    check("shutdown: a request on an idle connection just after is answered", idle_reply == (200, True), f"({idle_reply})")
    check("shutdown: exit 0 within the grace period", code == 0 and took < 10, f"(exit {code} after {took:.2f} s)")


dead_stderr()
bounded_refusals()
fd_exhaustion()
shutdown_in_flight()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
