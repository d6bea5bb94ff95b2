#!/usr/bin/env python3
"""The application layer with clients written elsewhere: curl (--compressed, -r ranges,
If-None-Match, -u, cookie jars -c/-b), Python `requests` (the LED API, the config form with its
303 and 422s, Basic auth), and headless Chromium driving the device
page at /ui/ (toggling an LED through the page, which the API then shows, watching the uptime
change and the live chart of /events fill, and uploading a firmware image through its panel:
the file set with DOM.setFileInputFiles, the progress bar full, the device's CRC-32 equal to
zlib's), with a screenshot kept in target/ui-page.png.

    python3 tests/ui_clients.py server|thread_server   # starts the example (built in release)

Ends with `N passed, N failed`; exit status 1 on any failure.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import zlib

import requests

import devtools

EXAMPLE = sys.argv[1] if len(sys.argv) > 1 else "server"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    detail = str(detail).splitlines()[0][:160] if detail else ""
    if ok:
        passed += 1
        print(f"ok   {EXAMPLE}: {name} {detail}")
    else:
        failed += 1
        print(f"FAIL {EXAMPLE}: {name} {detail}")


def curl(*args):
    """curl's output: `-w '%{http_code}'` style options are the caller's."""
    r = subprocess.run(["curl", "-sS", "-m", "10", *args], capture_output=True)
    return r.stdout


server = subprocess.Popen(
    [os.path.join(ROOT, "target", "release", "examples", EXAMPLE), "127.0.0.1:0", "--quiet"],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
)
m = re.search(r"http://([\d.]+:\d+)/", server.stdout.readline())
if not m:
    server.kill()
    sys.exit("server did not start")
BASE = f"http://{m.group(1)}"


def static_assets():
    page = requests.get(BASE + "/ui/", timeout=5)
    check("GET /ui/ is the device page", page.status_code == 200 and "<title>Device</title>" in page.text
          and page.headers.get("Content-Type", "").startswith("text/html"), str(page.status_code))
    r = requests.get(BASE + "/ui", allow_redirects=False, timeout=5)
    check("GET /ui redirects to /ui/", r.status_code == 301 and r.headers.get("Location") == "/ui/",
          f"{r.status_code} {r.headers.get('Location')}")
    raw = curl("-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: gzip", BASE + "/static/app.js").decode()
    check("app.js gzipped when asked", "Content-Encoding: gzip" in raw and "Vary: Accept-Encoding" in raw,
          "(Content-Encoding: gzip, Vary: Accept-Encoding)" if "gzip" in raw else raw[:200])
    plain = curl(BASE + "/static/app.js")
    compressed = curl("--compressed", BASE + "/static/app.js")
    check("curl --compressed gets the same script", plain == compressed and b"api/leds" in plain, f"{len(plain)} B")
    etag = re.search(r"(?i)^etag: (.*)$", curl("-D", "-", "-o", "/dev/null", BASE + "/static/app.js").decode(), re.M)
    etag = etag.group(1).strip() if etag else ""
    code = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", f"If-None-Match: W/{etag}, \"x\"",
                BASE + "/static/app.js").decode()
    check("If-None-Match with the ETag (weak, in a list): 304", code == "304", f"{code} {etag}")
    part = curl("-r", "0-9", BASE + "/static/app.js")
    check("curl -r 0-9: the first 10 bytes", part == plain[:10], repr(part))
    code = curl("-o", "/dev/null", "-w", "%{http_code}", "-r", "999999-", BASE + "/static/app.js").decode()
    check("unsatisfiable range: 416", code == "416", code)


def led_api():
    s = requests.Session()
    r = s.get(BASE + "/api/leds", timeout=5)
    check("GET /api/leds", r.status_code == 200 and r.headers["Content-Type"] == "application/json"
          and [led["id"] for led in r.json()] == [0, 1, 2, 3], r.text)
    r = s.put(BASE + "/api/leds/1", json={"on": True}, timeout=5)
    check("PUT /api/leds/1 {on:true}", r.status_code == 200 and r.json() == {"id": 1, "on": True}, r.text)
    r = s.put(BASE + "/api/leds/1", json={"on": False}, timeout=5)
    check("PUT /api/leds/1 {on:false}", r.json() == {"id": 1, "on": False}, r.text)
    codes = [s.get(BASE + f"/api/leds/{i}", timeout=5).status_code for i in ("4", "+1", "01", "")]
    check("ids not 0-3 or not canonical: 404", codes == [404, 404, 404, 404], str(codes))
    r = s.put(BASE + "/api/leds/1", data="{\"on\":tru", headers={"Content-Type": "application/json"}, timeout=5)
    check("malformed JSON: 400 with an error", r.status_code == 400 and "error" in r.json(), r.text)
    r = s.put(BASE + "/api/leds/1", data="{}", headers={"Content-Type": "application/json"}, timeout=5)
    check("missing on: 400", r.status_code == 400 and "error" in r.json(), r.text)
    r = s.put(BASE + "/api/leds/1", data="{\"on\":true}", headers={"Content-Type": "text/plain"}, timeout=5)
    check("another content type: 415", r.status_code == 415, str(r.status_code))


def config_form():
    s = requests.Session()
    r = s.get(BASE + "/config", timeout=5)
    check("GET /config is a form with ssid and interval", r.status_code == 200
          and 'name="ssid"' in r.text and 'name="interval"' in r.text, str(r.status_code))
    r = s.post(BASE + "/config", data={"ssid": "Lab Wi-Fi & more", "interval": "90"}, allow_redirects=False, timeout=5)
    check("POST /config: 303 to /config", r.status_code == 303 and r.headers.get("Location") == "/config",
          f"{r.status_code} {r.headers.get('Location')}")
    check("POST /config sets the flash cookie", "flash=saved" in r.headers.get("Set-Cookie", "")
          and "HttpOnly" in r.headers.get("Set-Cookie", ""), r.headers.get("Set-Cookie", ""))
    r = s.get(BASE + "/config", timeout=5)
    check("the next GET shows the stored values (escaped) and Saved. once",
          'value="Lab Wi-Fi &amp; more"' in r.text and 'value="90"' in r.text and "Saved." in r.text, r.text[:300])
    r = s.get(BASE + "/config", timeout=5)
    check("the flash cookie is cleared after", "Saved." not in r.text, "")
    for data, field in ((({"ssid": "", "interval": "5"}), "ssid"), ({"ssid": "x" * 33, "interval": "5"}, "ssid"),
                        ({"ssid": "ok", "interval": "0"}, "interval"), ({"ssid": "ok", "interval": "01"}, "interval"),
                        ({"ssid": "ok"}, "interval")):
        r = s.post(BASE + "/config", data=data, allow_redirects=False, timeout=5)
        check(f"invalid {field} {data}: 422 naming it", r.status_code == 422 and f"Invalid <b>{field}</b>" in r.text,
              str(r.status_code))
    r = s.post(BASE + "/config", json={"ssid": "x", "interval": 5}, allow_redirects=False, timeout=5)
    check("POST /config as JSON: 415", r.status_code == 415, str(r.status_code))
    # curl with a cookie jar: -c writes the flash cookie, -b sends it back.
    jar = os.path.join(ROOT, "target", "ui-cookies.txt")
    if os.path.exists(jar):
        os.remove(jar)
    curl("-c", jar, "-o", "/dev/null", "-d", "ssid=jar&interval=7", BASE + "/config")
    page = curl("-b", jar, "-c", jar, BASE + "/config").decode()
    again = curl("-b", jar, BASE + "/config").decode()
    check("curl -c/-b: the jar carries the flash cookie once", "Saved." in page and "Saved." not in again,
          f"{'Saved.' in page} {'Saved.' in again}")


def admin():
    code = lambda *a: curl("-o", "/dev/null", "-w", "%{http_code}", *a, BASE + "/admin").decode()
    check("GET /admin without credentials: 401", code() == "401", code())
    head = curl("-D", "-", "-o", "/dev/null", BASE + "/admin").decode()
    check("401 carries WWW-Authenticate: Basic realm", 'WWW-Authenticate: Basic realm="device admin"' in head, head[:120])
    check("curl -u admin:admin: 200", code("-u", "admin:admin") == "200", "")
    check("wrong password: 401", code("-u", "admin:nope") == "401", "")
    check("wrong user: 401", code("-u", "root:admin") == "401", "")
    check("bad base64: 401", code("-H", "Authorization: Basic ***") == "401", "")
    r = requests.get(BASE + "/admin", auth=("admin", "admin"), timeout=5)
    check("requests with auth: 200 and the admin page", r.status_code == 200 and "Admin" in r.text, str(r.status_code))


def browser():
    with devtools.Browser(800, 1100) as b:
        if b is None:
            check("chromium installed", os.environ.get("CI") != "true", "(skipped: no chromium)")
            return
        requests.put(BASE + "/api/leds/2", json={"on": False}, timeout=5)
        page = b.open(BASE + "/ui/")
        text = page.wait_for("document.body ? document.body.innerText : ''",
                             lambda t: t and "LED 3" in t and " ms)" in t, timeout=15) or ""
        check("chromium: the page lists 4 LEDs", all(f"LED {i} is" in text for i in range(4)), repr(text[:200]))
        first = page.evaluate("document.getElementById('uptime').textContent")
        page.evaluate("document.querySelector('#led-2 button').click()")
        shown = page.wait_for("document.getElementById('led-2').innerText", lambda t: t and "is on" in t)
        check("chromium: clicking LED 2 turns it on in the page", shown and "is on" in shown, repr(shown))
        api = requests.get(BASE + "/api/leds/2", timeout=5).json()
        check("the API then shows LED 2 on", api == {"id": 2, "on": True}, str(api))
        later = page.wait_for("document.getElementById('uptime').textContent", lambda t: t != first, timeout=5)
        check("chromium: the uptime changes (SSE)", later != first, f"{first!r} -> {later!r}")
        chart(page)
        firmware_panel(page)
        page.wait_for("+document.getElementById('chart-count').textContent", lambda n: n and n >= 12, timeout=10)
        shot = os.path.join(ROOT, "target", "ui-page.png")
        check("chromium: screenshot taken", page.screenshot(shot) > 1000, shot)


def chart(page):
    """The live chart: one point per interval between ticks, each about the stream's 500 ms."""
    count = page.wait_for("+document.getElementById('chart-count').textContent",
                          lambda n: n is not None and n >= 4, timeout=10)
    points = page.evaluate("document.getElementById('chart-line').getAttribute('points')") or ""
    pairs = [p.split(",") for p in points.split()]
    check("chromium: the chart has a point per tick interval", count and count >= 4 and len(pairs) == count,
          f"{count} intervals, {len(pairs)} points")
    ys = [float(y) for _, y in pairs] if pairs else []
    check("chromium: the points lie inside the chart", ys and all(0 <= y <= 80 for y in ys), str(ys[:6]))
    last = page.evaluate("document.getElementById('chart-last').textContent") or ""
    m = re.match(r"(\d+) ms", last)
    check("chromium: the last interval is about 500 ms", m and 350 <= int(m.group(1)) <= 800, repr(last))
    drawn = page.evaluate("""(() => {
        const p = document.getElementById('chart-line').points;
        return JSON.stringify([p.getItem(p.numberOfItems - 1).y,
                               parseInt(document.getElementById('chart-last').textContent),
                               parseInt(document.getElementById('chart-max').textContent)]);
    })()""")
    drawn = json.loads(drawn) if drawn else None
    check("chromium: the newest point's height is its interval on the chart's scale",
          drawn and abs(drawn[0] - (80 - drawn[1] / drawn[2] * 80)) < 0.2, str(drawn))


def firmware_panel(page):
    """Upload an image through the page's panel: with the right password the answer's CRC is
    zlib's and the page says it matches; with a wrong one the page shows the 401."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    with tempfile.NamedTemporaryFile(prefix="firmware-", suffix=".bin", delete=False) as f:
        f.write(data)
    try:
        node = page.call("Runtime.evaluate", expression="document.getElementById('ota-file')")
        page.call("DOM.getDocument")
        page.call("DOM.setFileInputFiles", files=[f.name], objectId=node["result"]["objectId"])
        picked = page.evaluate("document.getElementById('ota-file').files[0].size")
        check("chromium: the panel's file input holds the image", picked == len(data), str(picked))

        # A wrong password: the 401's Basic challenge makes the browser ask for credentials
        # (a dialog, which headless Chromium leaves open for ever); here the user cancels it,
        # through the Fetch domain, and the page gets the 401.
        page.call("Fetch.enable", handleAuthRequests=True, patterns=[{"urlPattern": "*/ota"}])
        page.evaluate("document.getElementById('ota-password').value = 'wrong'")
        page.evaluate("document.getElementById('ota-send').click()")
        paused = page.event("Fetch.requestPaused", timeout=10)
        if paused:
            page.call("Fetch.continueRequest", requestId=paused["requestId"])
        asked = page.event("Fetch.authRequired", timeout=20)
        check("chromium: a wrong password: the browser is asked for credentials (Basic, the realm)",
              asked and asked["authChallenge"]["scheme"].lower() == "basic"
              and asked["authChallenge"]["realm"] == "device admin", str(asked and asked["authChallenge"]))
        if asked:
            page.call("Fetch.continueWithAuth", requestId=asked["requestId"],
                      authChallengeResponse={"response": "CancelAuth"})
        refused = page.wait_for("document.getElementById('ota-status').textContent",
                                lambda t: t and "refused" in t, timeout=20) or ""
        check("chromium: cancelled: the page shows the 401", "401" in refused, repr(refused[:80]))
        page.call("Fetch.disable")

        page.evaluate("document.getElementById('ota-password').value = 'admin'")
        page.evaluate("document.getElementById('ota-send').click()")
        status = page.wait_for("document.getElementById('ota-status').textContent",
                               lambda t: t and ("Received" in t or "refused" in t or "failed" in t),
                               timeout=30) or ""
        crc = format(zlib.crc32(data), "08x")
        check("chromium: the device's CRC-32 is zlib's, and the page says it matches",
              f"Received {len(data)} bytes, CRC-32 {crc} (matches the file)" == status, repr(status))
        done = page.evaluate("document.getElementById('ota-progress').value")
        check("chromium: the progress bar is full", done == 1, str(done))
    finally:
        os.unlink(f.name)


try:
    static_assets()
    led_api()
    config_form()
    admin()
    browser()
finally:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
