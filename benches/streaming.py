#!/usr/bin/env python3
"""Streaming throughput on loopback, side by side (benches/streaming.sh builds and calls it).

Usage: streaming.py NAME=PORT:PID ... [--upload-mib N] [--download-mib N] [--rounds R]

For each server (already listening on PORT, its process PID), per round, in turn:
  upload CL     POST /upload, N MiB of random bytes with Content-Length, one sendall from
                memory; the answer's byte count and zlib CRC-32 checked;
  upload chunked the same body in 64 KiB chunks (prepared before the clock starts);
  download 1    GET /stream?bytes=M MiB with curl -o /dev/null (status and exact size checked);
  download 16   16 curls at once, M/16 MiB each.
MB/s is 10^6 bytes per second. Server CPU is the server process's own (user + system, all
its threads, exited ones included: /proc/PID/stat, in clock ticks), per GB moved. Prints medians as
a Markdown table, and the ratios of every server to the last one named.
"""
import json
from multiprocessing.pool import ThreadPool
import os
import socket
import statistics
import subprocess
import sys
import time
import zlib


def cpu_ns(pid):
    """User + system time of the whole process, exited threads included (clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e9 / os.sysconf("SC_CLK_TCK")


def answer(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            fields = data[:end].lower().split(b"\r\n")
            cl = [int(f.split(b":")[1]) for f in fields if f.startswith(b"content-length:")]
            if cl and len(data) >= end + 4 + cl[0]:
                break
    end = data.find(b"\r\n\r\n")
    return data.split(b"\r\n", 1)[0], data[end + 4:]


def upload(port, head, body, want):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(head)
    s.sendall(body)
    status, reply = answer(s)
    s.close()
    if not status.startswith(b"HTTP/1.1 200") or json.loads(reply) != want:
        sys.exit(f"bad upload answer from {port}: {status!r} {reply[:200]!r}")


def download(args):
    """curl fetches and discards it; its status and exact size are checked."""
    port, nbytes = args
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                          f"http://127.0.0.1:{port}/stream?bytes={nbytes}"],
                         capture_output=True, text=True, check=False).stdout
    if out != f"200 {nbytes}":
        sys.exit(f"bad download from {port}: {out!r} for {nbytes} bytes")


def timed(pid, fn):
    c0, t0 = cpu_ns(pid), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu_ns(pid) - c0


def main():
    args = sys.argv[1:]
    opts = {"--upload-mib": 256, "--download-mib": 1024, "--rounds": 3}
    servers = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = int(args[i + 1])
            i += 2
            continue
        name, rest = args[i].split("=")
        port, pid = rest.split(":")
        servers.append((name, int(port), int(pid)))
        i += 1
    body = os.urandom(opts["--upload-mib"] << 20)
    want = {"bytes": len(body), "crc32": f"{zlib.crc32(body):08x}"}
    chunked = bytearray()
    for at in range(0, len(body), 65536):
        piece = body[at:at + 65536]
        chunked += b"%x\r\n" % len(piece) + piece + b"\r\n"
    chunked += b"0\r\n\r\n"
    chunked = bytes(chunked)
    down = opts["--download-mib"] << 20
    pool = ThreadPool(16)

    def tests(port):
        cl = (f"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
              f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        ch = (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
              b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        return {
            "upload CL": (len(body), lambda: upload(port, cl, body, want)),
            "upload chunked": (len(body), lambda: upload(port, ch, chunked, want)),
            "download 1": (down, lambda: download((port, down))),
            "download 16": (down, lambda: pool.map(download, [(port, down // 16)] * 16)),
        }

    results = {}
    for name, port, pid in servers:  # warm-up, untimed
        for _, fn in tests(port).values():
            fn()
    for r in range(opts["--rounds"]):
        for name, port, pid in servers:
            for test, (nbytes, fn) in tests(port).items():
                secs, cpu = timed(pid, fn)
                mbs, cpu_gb = nbytes / secs / 1e6, cpu / 1e6 / (nbytes / 1e9)
                results.setdefault((name, test), []).append((mbs, cpu_gb))
                print(f"round {r + 1} {name} {test}: {mbs:.0f} MB/s, {cpu_gb:.0f} ms CPU/GB",
                      file=sys.stderr)
    pool.close()
    names = [s[0] for s in servers]
    peer = names[-1]
    test_names = list(tests(0).keys())
    med = {k: (statistics.median(m for m, _ in v), statistics.median(c for _, c in v))
           for k, v in results.items()}
    print("| test | " + " | ".join(f"{n} MB/s" for n in names)
          + " | " + " | ".join(f"{n} / {peer}" for n in names[:-1])
          + " | server CPU ms/GB, " + " / ".join(names) + " |")
    print("|---" * (1 + len(names) + len(names) - 1 + 1) + "|")
    for t in test_names:
        row = [f"{med[(n, t)][0]:,.0f}" for n in names]
        ratios = [f"{med[(n, t)][0] / med[(peer, t)][0]:.2f}x" for n in names[:-1]]
        cpu = " / ".join(f"{med[(n, t)][1]:,.0f}" for n in names)
        print(f"| {t} | " + " | ".join(row) + " | " + " | ".join(ratios) + f" | {cpu} |")


main()
