"""Headless Chromium driven over the DevTools protocol (its own WebSocket, through Python's
`websockets`), so that a page runs in real time: open a URL, evaluate JavaScript in it, take
a screenshot. Used by tests/ws_clients.py and tests/ui_clients.py.

    with Browser() as browser:           # None if no chromium is installed
        page = browser.open(url)
        page.evaluate("document.title")
        page.wait_for("document.body.innerText", lambda text: "ready" in text, timeout=10)
        page.screenshot("target/page.png")
"""
import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import websockets


def chromium():
    return next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


class Page:
    def __init__(self, browser, ws_url):
        self.loop = browser.loop
        self.ws = self.loop.run_until_complete(websockets.connect(ws_url, max_size=None))
        self.ids = iter(range(1, 1 << 30))
        self.events = []

    def call(self, method, **params):
        async def call():
            n = next(self.ids)
            await self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
            while True:
                reply = json.loads(await self.ws.recv())
                if reply.get("id") == n:
                    return reply.get("result", {})
                if "method" in reply:
                    self.events.append(reply)
        return self.loop.run_until_complete(asyncio.wait_for(call(), 20))

    def event(self, method, timeout=10):
        """The params of the next event `method` (of a domain enabled before), or None."""
        async def wait():
            while True:
                for i, e in enumerate(self.events):
                    if e["method"] == method:
                        del self.events[i]
                        return e.get("params", {})
                message = json.loads(await self.ws.recv())
                if "method" in message:
                    self.events.append(message)
        try:
            return self.loop.run_until_complete(asyncio.wait_for(wait(), timeout))
        except asyncio.TimeoutError:
            return None

    def navigate(self, url):
        self.call("Page.navigate", url=url)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, ok, timeout=10):
        """Evaluate `expression` every 100 ms until `ok(value)`; the last value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if ok(value):
                return value
            time.sleep(0.1)
        return value

    def screenshot(self, path):
        png = self.call("Page.captureScreenshot", format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(png.get("data", "")))
        return os.path.getsize(path)


class Browser:
    def __init__(self, width=800, height=600, args=()):
        self.size = (width, height)
        self.args = list(args)
        self.proc = None
        self.pages = []

    def __enter__(self):
        browser = chromium()
        if browser is None:
            return None
        self.loop = asyncio.new_event_loop()
        self.profile = tempfile.mkdtemp(prefix="devtools-chromium-")
        self.proc = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--window-size={self.size[0]},{self.size[1]}", f"--user-data-dir={self.profile}",
             "--remote-debugging-port=0", *self.args, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        self.port = int(open(port_file).read().split()[0])
        return self

    def open(self, url):
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=5))
        target = next(p for p in pages if p.get("type") == "page")
        page = Page(self, target["webSocketDebuggerUrl"])
        self.pages.append(page)
        page.navigate(url)
        return page

    def __exit__(self, *exc):
        for page in self.pages:
            self.loop.run_until_complete(page.ws.close())
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)
            self.loop.close()
