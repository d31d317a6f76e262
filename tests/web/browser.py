"""A real browser for the tests: headless Chromium (Debian's C{chromium})
driven through its DevTools protocol over a pipe.

C{--remote-debugging-pipe} makes Chromium read protocol messages from fd
3 and write them to fd 4, each JSON text ended by a NUL byte, so no
WebSocket client (and no new dependency) is needed.  Only what the tests
use is here: open a page, send headers, run an expression, wait for a
condition, take a screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Optional

import pytest


def chromium() -> str:
    """The Chromium program, or skip the test with the reason."""
    # The binary itself, not Debian's launcher script (which may use fds 3
    # and 4 for its own checks).
    for path in ("/usr/lib/chromium/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if path and os.access(path, os.X_OK):
            return path
    pytest.skip("no chromium (Debian package chromium; make test installs it as root)")


class BrowserError(AssertionError):
    pass


class Browser:
    """One headless Chromium with one page (tab)."""

    def __init__(self, profile: Path, width: int = 1100, height: int = 760) -> None:
        exe = chromium()
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Away from 3 and 4 first, so the shell's redirections cannot clobber them.
        a = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        b = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)
        args = ["--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--mute-audio",
                "--hide-scrollbars", f"--window-size={width},{height}",
                f"--user-data-dir={profile}", "about:blank"]
        # bash (dash takes one-digit fds only) puts the pipes on fds 3 and 4,
        # where Chromium wants them.
        script = f'exec "$0" "$@" 3<&{a} 4>&{b} {a}<&- {b}>&-'
        self.proc = subprocess.Popen(["bash", "-c", script, exe, *args], pass_fds=(a, b),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.environ.get("BROWSER_LOG", os.devnull), "wb"),
                                     start_new_session=True)
        os.close(a)
        os.close(b)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session: Optional[str] = None
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.call(f"{domain}.enable")

    # -- the protocol --------------------------------------------------------
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("no answer from chromium in time")
            ready, _, _ = select.select([self._from_browser], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError(f"chromium went away (exit {self.proc.poll()})")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: Optional[dict] = None, session: bool = True,
             timeout: float = 30.0) -> dict:
        """Send a command and return its result (events are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self.events.append(answer)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        """The next event C{method} (one already received counts)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(i)
            answer = self._read_message(deadline)
            if "method" in answer:
                self.events.append(answer)

    # -- what the tests do ---------------------------------------------------
    def headers(self, headers: dict[str, str]) -> None:
        """Send these headers with every request (and event stream)."""
        self.call("Network.setExtraHTTPHeaders", {"headers": headers})

    def basic_auth(self, user: str, password: str) -> None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers({"Authorization": f"Basic {token}"})

    def goto(self, url: str, timeout: float = 30.0) -> Optional[str]:
        """Load C{url}; return Chromium's error text (None when a page,
        even an error page from the server, loaded)."""
        self.events.clear()
        result = self.call("Page.navigate", {"url": url}, timeout=timeout)
        if result.get("errorText"):
            return result["errorText"]
        self.wait_event("Page.loadEventFired", timeout)
        return None

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def text(self, selector: str = "body") -> str:
        """The visible text of the first element matching C{selector}."""
        return self.js(f"(document.querySelector({json.dumps(selector)}) || "
                       "{innerText: ''}).innerText") or ""

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll until the expression is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression}")
            time.sleep(0.2)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        print(f"screenshot: {path}")
        return path

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(5)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
