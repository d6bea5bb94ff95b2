#!/usr/bin/env python3
"""More clients than the embassy firmware's places (8): every request must get an HTTP
answer (200, or 503 with Retry-After), none a reset or an empty reply, and at least 95% 200.

    oversubscribe.py HOST:PORT            # all three checks
    oversubscribe.py HOST:PORT --fresh    # some of them: --fresh, --keep-alive, --chromium, --busy

- fresh: 32 clients at once, each making 5 GETs, each on a new connection (http.client);
- keep-alive: 16 clients at once, each making 20 GETs on one connection (http.client, which
  opens a new one when the firmware answers `Connection: close`);
- chromium: headless Chromium loads /many (a page of 12 images, fetched in parallel) while 8
  other clients poll /stats; every image must load (screenshot in target/many.png);
- busy: 8 endless event streams hold every place; a GET then waits 2 s for one and is
  answered 503 with Retry-After (not reset); once the streams end, GETs are 200 again.

Prints `ok`/`FAIL` lines with the counts of each outcome and `N passed, M failed`; exits 1 on
a failure. Every client has a timeout and every loop is bounded.
"""
import collections
import http.client
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))

HOST, PORT = sys.argv[1].rsplit(":", 1)
PORT = int(PORT)
WHICH = set(a.lstrip("-") for a in sys.argv[2:]) or {"fresh", "keep-alive", "chromium", "busy"}
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name} {detail}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def outcome(conn, path):
    """One GET on `conn`: its status (a 503 only with Retry-After), or what went wrong."""
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        if response.status == 503 and response.getheader("Retry-After") is None:
            return "503 without Retry-After"
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
        return str(response.status)
    except (http.client.RemoteDisconnected, http.client.BadStatusLine, BrokenPipeError):
        # (RemoteDisconnected is a ConnectionResetError: tell them apart first.)
        conn.close()
        return "empty reply"
    except ConnectionResetError:
        conn.close()
        return "reset"
    except TimeoutError:
        conn.close()
        return "timeout"
    except OSError as e:
        conn.close()
        return f"error: {e.__class__.__name__}"


def run_clients(clients, requests, keep_alive):
    counts = collections.Counter()
    lock = threading.Lock()

    def client(n):
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        for i in range(requests):
            if not keep_alive:
                conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            result = outcome(conn, f"/?client={n}&request={i}")
            if not keep_alive:
                conn.close()
            with lock:
                counts[result] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return counts, time.monotonic() - start


def judge(name, counts, total, seconds):
    answered = counts["200"] + counts["503"]
    detail = f"({dict(counts)}, {seconds:.1f} s)"
    check(f"{name}: every request answered, 200 or 503 + Retry-After", answered == total
          and sum(counts.values()) == total, detail)
    check(f"{name}: at least 95% 200", counts["200"] >= 0.95 * total,
          f"({counts['200']} of {total})")


def fresh():
    counts, seconds = run_clients(32, 5, keep_alive=False)
    judge("32 clients x 5 fresh-connection GETs", counts, 160, seconds)


def keep_alive():
    counts, seconds = run_clients(16, 20, keep_alive=True)
    judge("16 keep-alive clients x 20 GETs", counts, 320, seconds)


def chromium():
    import devtools

    stop = threading.Event()
    counts = collections.Counter()

    def poll():
        for _ in range(600):  # bounded: at most a minute
            if stop.is_set():
                return
            conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            counts[outcome(conn, "/stats")] += 1
            conn.close()
            time.sleep(0.1)

    pollers = [threading.Thread(target=poll) for _ in range(8)]
    for t in pollers:
        t.start()
    time.sleep(0.5)
    try:
        with devtools.Browser(640, 360) as b:
            if b is None:
                check("chromium installed", False)
                return
            page = b.open(f"http://{HOST}:{PORT}/many")
            state = page.wait_for(
                "JSON.stringify(Array.from(document.images).map(i => i.complete && i.naturalWidth > 0))",
                lambda v: v is not None and v.count("true") == 12, timeout=60) or "[]"
            loaded = state.count("true")
            check("chromium: /many's 12 images all load while 8 clients poll", loaded == 12,
                  f"({loaded} of 12 loaded)")
            shot = os.path.join(os.path.dirname(os.path.abspath(__file__)), "target", "many.png")
            page.screenshot(shot)
    finally:
        stop.set()
        for t in pollers:
            t.join(timeout=60)
    answered = counts["200"] + counts["503"]
    check("chromium: the 8 pollers' requests all answered", answered == sum(counts.values()) > 0,
          f"({dict(counts)})")


def busy():
    import socket

    streams = []
    for _ in range(8):
        s = socket.create_connection((HOST, PORT), timeout=10)
        s.sendall(b"GET /events?interval_ms=200 HTTP/1.1\r\nHost: device\r\n\r\n")
        streams.append(s)
    # Each stream has its place once its head and first event arrive.
    heads = [s.recv(1024).startswith(b"HTTP/1.1 200") for s in streams]
    check("busy: 8 event streams hold the 8 places", all(heads), f"({heads.count(True)} of 8)")
    start = time.monotonic()
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    try:
        conn.request("GET", "/")
        r = conn.getresponse()
        body = r.read()
        waited = time.monotonic() - start
        check("busy: a ninth client is answered 503 with Retry-After after about 2 s",
              r.status == 503 and r.getheader("Retry-After") == "1" and 1.5 <= waited <= 6,
              f"({r.status} Retry-After {r.getheader('Retry-After')!r} after {waited:.1f} s, {body[:30]!r})")
    except OSError as e:
        check("busy: a ninth client is answered 503 with Retry-After after about 2 s", False, repr(e))
    finally:
        conn.close()
    for s in streams:
        s.close()
    time.sleep(1.0)
    codes = []
    for _ in range(5):
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        codes.append(outcome(conn, "/"))
        conn.close()
    check("busy: once the streams end, GETs are 200 again", codes == ["200"] * 5, str(codes))


for name, run in (("fresh", fresh), ("keep-alive", keep_alive), ("chromium", chromium),
                  ("busy", busy)):
    if name in WHICH:
        run()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
