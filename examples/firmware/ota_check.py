#!/usr/bin/env python3
"""The embassy firmware's OTA round trip under QEMU, with `requests` and raw sockets.

Usage: ota_check.py HOST:PORT PARTITION_FILE

POST /ota writes through embassy-boot's updater into the DFU partition, a file on the host
(semihosting: src/hostflash.rs, PARTITION_FILE: the state sector, then the DFU partition).
Checked: 64 KiB of random bytes as a raw body and 256 KiB as a multipart `firmware` part,
each answered with its length and Python's zlib CRC-32, GET /ota/status reading the same
back with state `updated`, and the file itself holding the image and embassy-boot's swap
mark; a cut upload leaves `idle` (and the boot mark); 401 without credentials, 413 past the
partition, 415 for another type, 503 with Retry-After while another upload holds it.
"""
import json
import os
import socket
import sys
import time
import zlib

import requests

HOST, PORT = sys.argv[1].rsplit(":", 1)
PORT = int(PORT)
FILE = sys.argv[2]
URL = f"http://{HOST}:{PORT}"
AUTH = ("admin", "admin")
STATE_SIZE = 4096
DFU_IMAGE_MAX = 256 * 1024  # the DFU partition less the sector embassy-boot's swap needs
SWAP_MAGIC, BOOT_MAGIC = 0xF0, 0xD0

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def status():
    start = time.time()
    r = requests.get(f"{URL}/ota/status", timeout=60)
    status.seconds = time.time() - start
    return r.status_code, (r.json() if r.status_code == 200 else r.text)


def crc_hex(data):
    return f"{zlib.crc32(data):08x}"


def file_state():
    """The first byte of the state sector, and the DFU partition's bytes."""
    with open(FILE, "rb") as f:
        raw = f.read()
    return raw[0], raw[STATE_SIZE:]


def wait_idle_lock(deadline_s=30):
    """Status answers 200 once no upload holds the sink (a cut one is noticed)."""
    end = time.time() + deadline_s
    while time.time() < end:
        code, body = status()
        if code == 200:
            return body
        time.sleep(0.5)
    return None


def raw_upload_checks():
    image = os.urandom(64 * 1024)
    start = time.time()
    r = requests.post(f"{URL}/ota", data=image, auth=AUTH, timeout=120,
                      headers={"Content-Type": "application/octet-stream"})
    want = {"bytes": len(image), "crc32": crc_hex(image)}
    check(f"POST /ota, 64 KiB raw: bytes and Python's CRC-32 ({time.time() - start:.2f} s)",
          r.status_code == 200 and r.json() == want, f"{r.status_code} {r.text!r} want {want}")
    code, body = status()
    check("GET /ota/status after it: read back, updated",
          code == 200 and body == dict(want, state="updated"), f"{code} {body!r}")
    magic, dfu = file_state()
    check("the partition file holds the image and embassy-boot's swap mark",
          dfu[:len(image)] == image and magic == SWAP_MAGIC, f"magic {magic:#x}")


def multipart_upload_checks():
    image = os.urandom(DFU_IMAGE_MAX)
    files = {"firmware": ("firmware.bin", image, "application/octet-stream")}
    start = time.time()
    r = requests.post(f"{URL}/ota", files=files, data={"note": "a field first"}, auth=AUTH,
                      timeout=300)
    want = {"bytes": len(image), "crc32": crc_hex(image)}
    check(f"POST /ota, 256 KiB multipart `firmware` part: bytes and CRC-32"
          f" ({time.time() - start:.2f} s)",
          r.status_code == 200 and r.json() == want, f"{r.status_code} {r.text!r} want {want}")
    code, body = status()
    check(f"GET /ota/status: the 256 KiB image read back, updated ({status.seconds:.2f} s)",
          code == 200 and body == dict(want, state="updated"), f"{code} {body!r}")
    magic, dfu = file_state()
    check("the partition file holds the 256 KiB image, swap mark",
          dfu[:len(image)] == image and magic == SWAP_MAGIC, f"magic {magic:#x}")


def cut_upload_checks():
    """Content-Length says 128 KiB, 40 KiB arrive, the client leaves."""
    head = (f"POST /ota HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {128 * 1024}\r\n\r\n")
    with socket.create_connection((HOST, PORT), timeout=30) as s:
        s.sendall(head.encode() + os.urandom(40 * 1024))
        time.sleep(1.0)
    body = wait_idle_lock()
    check("a cut upload leaves the state idle, nothing stored",
          body == {"bytes": 0, "crc32": crc_hex(b""), "state": "idle"}, repr(body))
    magic, _ = file_state()
    check("the partition file's state sector: the boot mark", magic == BOOT_MAGIC,
          f"magic {magic:#x}")


def busy_checks():
    """One upload trickles; a second one, and a status read, get 503 with Retry-After."""
    head = (f"POST /ota HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: 8192\r\n\r\n")
    with socket.create_connection((HOST, PORT), timeout=30) as s:
        s.sendall(head.encode() + b"x" * 1000)
        time.sleep(0.5)
        r = requests.post(f"{URL}/ota", data=b"y" * 100, auth=AUTH, timeout=30,
                          headers={"Content-Type": "application/octet-stream"})
        check("a second upload meanwhile: 503 with Retry-After",
              r.status_code == 503 and r.headers.get("Retry-After") == "5",
              f"{r.status_code} {r.headers}")
        r = requests.get(f"{URL}/ota/status", timeout=30)
        check("the status meanwhile: 503", r.status_code == 503, str(r.status_code))
        s.sendall(b"x" * (8192 - 1000))
        s.settimeout(60)
        answer = b""
        while b"}" not in answer:
            more = s.recv(4096)
            if not more:
                break
            answer += more
        body = answer.split(b"\r\n\r\n", 1)[-1]
        want = {"bytes": 8192, "crc32": crc_hex(b"x" * 8192)}
        check("the trickled upload completes", answer.startswith(b"HTTP/1.1 200")
              and json.loads(body or b"{}") == want, repr(answer[:200]))


def refusal_checks():
    r = requests.post(f"{URL}/ota", data=b"x" * 10, timeout=30,
                      headers={"Content-Type": "application/octet-stream"})
    check("POST /ota without credentials: 401 with a Basic challenge",
          r.status_code == 401 and r.headers.get("WWW-Authenticate", "").startswith("Basic"),
          f"{r.status_code} {r.headers}")
    r = requests.post(f"{URL}/ota", data=b"x" * 10, auth=AUTH, timeout=30,
                      headers={"Content-Type": "text/plain"})
    check("POST /ota as text/plain: 415", r.status_code == 415, f"{r.status_code} {r.text!r}")
    with socket.create_connection((HOST, PORT), timeout=30) as s:
        s.sendall((f"POST /ota HTTP/1.1\r\nHost: {HOST}\r\n"
                   "Authorization: Basic YWRtaW46YWRtaW4=\r\n"
                   "Content-Type: application/octet-stream\r\n"
                   f"Content-Length: {DFU_IMAGE_MAX + 1}\r\n\r\n").encode())
        answer = s.recv(4096)
    check("POST /ota past the partition (Content-Length): 413 at once",
          answer.startswith(b"HTTP/1.1 413"), repr(answer[:100]))


def main():
    code, body = status()
    check("GET /ota/status on a fresh partition: 0 bytes, idle",
          code == 200 and body == {"bytes": 0, "crc32": crc_hex(b""), "state": "idle"},
          f"{code} {body!r}")
    refusal_checks()
    raw_upload_checks()
    multipart_upload_checks()
    cut_upload_checks()
    busy_checks()
    # After the cut and the refusals, a whole upload is stored and marked again.
    raw_upload_checks()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
