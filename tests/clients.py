#!/usr/bin/env python3
"""Check the example server with clients written elsewhere: Python's http.client, requests,
and h11 as a strict validator of every response (including error responses and keep-alive
cycles). Starts `target/release/examples/server` (or the example named by the first argument,
e.g. `thread_server`; build it first) on a free loopback port.

Prints one line per check and a final "N passed, N failed" line; exits non-zero on failure.
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time

import h11
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = (
    b'<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset="utf-8">\n'
    b"    <title>Page Title</title>\n  </head>\n  <body>\n    <h1>Hello, World</h1>\n"
    b"  </body>\n</html>\n"
)

passed = 0
failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - report every failure, keep going
        failed += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}")
    else:
        passed += 1
        print(f"ok   {name}")


def start_server():
    example = sys.argv[1] if len(sys.argv) > 1 else "server"
    binary = os.path.join(ROOT, "target", "release", "examples", example)
    proc = subprocess.Popen(
        [binary, "127.0.0.1:0", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    line = proc.stdout.readline().decode()
    m = re.match(r"listening on http://([\d.]+):(\d+)/", line)
    if not m:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r} {proc.stderr.read()!r}")
    return proc, m.group(1), int(m.group(2))


def h11_exchange(host, port, requests_to_send, raw_override=None):
    """Send requests with h11 on one connection; return [(status, headers, body)].

    With raw_override, those bytes are written instead of what h11 would send (for invalid
    requests); h11 still validates the response strictly.
    """
    sock = socket.create_connection((host, port), timeout=5)
    conn = h11.Connection(our_role=h11.CLIENT)
    results = []
    try:
        for method, target, headers, body in requests_to_send:
            hdrs = [("Host", host)] + headers
            if body is not None and not any(k.lower() == "transfer-encoding" for k, _ in headers):
                hdrs.append(("Content-Length", str(len(body))))
            out = conn.send(h11.Request(method=method, target=target, headers=hdrs))
            if body:
                out += conn.send(h11.Data(data=body))
            out += conn.send(h11.EndOfMessage())
            sock.sendall(raw_override if raw_override is not None else out)
            status, resp_headers, data = None, None, b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    chunk = sock.recv(65536)
                    conn.receive_data(chunk)
                    continue
                if isinstance(event, h11.InformationalResponse):
                    continue
                if isinstance(event, h11.Response):
                    status, resp_headers = event.status_code, dict(
                        (k.decode().lower(), v.decode()) for k, v in event.headers
                    )
                elif isinstance(event, h11.Data):
                    data += event.data
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    break
            results.append((status, resp_headers, data))
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                break
            conn.start_next_cycle()
    finally:
        sock.close()
    return results


def main():
    proc, host, port = start_server()
    base = f"http://{host}:{port}"
    try:
        run_checks(host, port, base)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = "killed"
    global failed, passed
    if code != 0:
        failed += 1
        print(f"FAIL server exit after SIGINT: {code}")
    else:
        passed += 1
        print("ok   server exits 0 after SIGINT")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run_checks(host, port, base):
    # --- http.client ---
    def httpclient_get_keepalive():
        c = http.client.HTTPConnection(host, port, timeout=5)
        for _ in range(3):
            c.request("GET", "/")
            r = c.getresponse()
            assert r.status == 200 and r.read() == PAGE
            assert r.getheader("Content-Type") == "text/html; charset=utf-8"
        sock_before = c.sock
        c.request("GET", "/")
        c.getresponse().read()
        assert c.sock is sock_before, "connection was not kept alive"
        c.close()

    def httpclient_head_and_404_405():
        c = http.client.HTTPConnection(host, port, timeout=5)
        c.request("HEAD", "/")
        r = c.getresponse()
        assert r.status == 200 and r.getheader("Content-Length") == str(len(PAGE))
        assert r.read() == b""
        c.request("GET", "/missing")
        r = c.getresponse()
        assert r.status == 404 and b"404 Not Found" in r.read()
        c.request("DELETE", "/")
        r = c.getresponse()
        r.read()
        assert r.status == 405 and r.getheader("Allow") == "GET, HEAD, OPTIONS"
        c.close()

    def httpclient_chunked_upload():
        c = http.client.HTTPConnection(host, port, timeout=5)
        c.request(
            "POST", "/echo", body=iter([b"chunk one, ", b"chunk two"]),
            headers={"Content-Type": "text/plain"}, encode_chunked=True,
        )
        r = c.getresponse()
        assert r.status == 200, r.status
        assert r.read() == b"chunk one, chunk two"
        assert r.getheader("Content-Type") == "text/plain"
        c.close()

    def httpclient_http10():
        c = http.client.HTTPConnection(host, port, timeout=5)
        c._http_vsn, c._http_vsn_str = 10, "HTTP/1.0"
        c.request("GET", "/")
        r = c.getresponse()
        assert r.status == 200 and r.read() == PAGE
        assert r.getheader("Connection") == "close"
        c.close()

    check("http.client: GET keep-alive x4 on one socket", httpclient_get_keepalive)
    check("http.client: HEAD, 404, 405 + Allow", httpclient_head_and_404_405)
    check("http.client: chunked upload echoed", httpclient_chunked_upload)
    check("http.client: HTTP/1.0 closes", httpclient_http10)

    # --- requests ---
    def requests_session():
        with requests.Session() as s:
            r = s.get(base + "/")
            assert r.status_code == 200 and r.content == PAGE
            r = s.post(base + "/echo", json={"led": "on", "n": 3})
            assert r.status_code == 200 and r.json() == {"led": "on", "n": 3}
            assert r.headers["Content-Type"] == "application/json"
            r = s.post(base + "/echo", data=(p for p in [b"gen", b"erated"]))
            assert r.status_code == 200 and r.content == b"generated", r.content
            r = s.get(base + "/nope")
            assert r.status_code == 404
            r = s.put(base + "/", data=b"x")
            assert r.status_code == 405
            r = s.options(base + "/echo")
            assert r.status_code == 204 and r.headers["Allow"] == "POST, OPTIONS"

    def requests_large_body():
        body = bytes(range(256)) * 40  # 10 KiB, larger than the transmit buffer
        r = requests.post(base + "/echo", data=body, timeout=5)
        assert r.status_code == 200 and r.content == body

    def requests_too_large():
        r = requests.post(base + "/echo", data=b"z" * 100_000, timeout=5)
        assert r.status_code == 413, r.status_code

    check("requests: session GET, JSON echo, generator (chunked) upload, 404, 405, OPTIONS", requests_session)
    check("requests: 10 KiB echo", requests_large_body)
    check("requests: 100 KB body gets 413", requests_too_large)

    # --- h11 validating our responses ---
    def h11_valid_cycles():
        results = h11_exchange(host, port, [
            ("GET", "/", [], None),
            ("HEAD", "/", [], None),
            ("POST", "/echo", [("Content-Type", "text/plain")], b"validated"),
            ("POST", "/echo", [("Transfer-Encoding", "chunked")], b"chunked body"),
            ("POST", "/echo", [("Expect", "100-continue")], b"expected"),
            ("OPTIONS", "/", [], None),
            ("OPTIONS", "*", [], None),
            ("GET", "/missing", [], None),
            ("DELETE", "/", [], None),
            ("GET", "/", [("Connection", "close")], None),
        ])
        statuses = [s for s, _, _ in results]
        assert statuses == [200, 200, 200, 200, 200, 204, 204, 404, 405, 200], statuses
        assert results[0][2] == PAGE and results[1][2] == b""
        assert results[2][2] == b"validated" and results[3][2] == b"chunked body"
        assert results[4][2] == b"expected"

    def h11_error_responses():
        bad = [
            (b"GET / HTTP/1.1\nHost: x\n\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 0\r\n\r\n", 417),
            (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 431),
            (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n", 413),
        ]
        for raw, expected in bad:
            [(status, headers, _)] = h11_exchange(host, port, [("GET", "/", [], None)], raw_override=raw)
            assert status == expected, (raw[:40], status)
            assert headers.get("connection") == "close", headers

    check("h11: 10 keep-alive cycles (GET, HEAD, CL, chunked, Expect, OPTIONS, 404, 405, close)", h11_valid_cycles)
    check("h11: error responses 400/413/414/417/431/501/505 are valid and close", h11_error_responses)

    # --- robustness seen from outside: garbage does not stop service ---
    def garbage_then_service():
        for junk in [b"\x00\xff" * 100, b"\r\n" * 10 + b"GE", os.urandom(3000)]:
            s = socket.create_connection((host, port), timeout=5)
            try:
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                while s.recv(65536):
                    pass
            except OSError:
                pass
            finally:
                s.close()
        r = requests.get(base + "/", timeout=5)
        assert r.status_code == 200 and r.content == PAGE

    check("garbage connections, then a normal request is served", garbage_then_service)


if __name__ == "__main__":
    sys.exit(main())
