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


dead_stderr()
bounded_refusals()
fd_exhaustion()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
