"""Open a report in headless Chromium and check that it really rendered.

A tiny Chrome DevTools Protocol client over ``--remote-debugging-pipe``: Chromium reads
NUL-terminated JSON commands from file descriptor 3 and writes replies and events to file
descriptor 4. No websocket, no port, no extra package. It loads the page, waits until the
report says every chart is drawn (``window.reachloopReport.done``), counts the SVG and canvas
elements inside each chart container, collects console errors and uncaught exceptions, and
takes a full-page screenshot.

Used by the tests and by ``reachloop report --check`` (the demo runs it).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from eventlog.errors import ReachloopError

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
INSTALL_HINT = "install it with: apt-get update && apt-get install -y chromium"

# What the page reports about itself once every chart has been drawn (set by the report's script).
_PROBE = """
(() => {
  const state = window.reachloopReport || {};
  const charts = {};
  document.querySelectorAll('[data-chart]').forEach(el => {
    charts[el.id] = el.querySelectorAll('svg, canvas').length;
  });
  return JSON.stringify({
    done: !!state.done, errors: state.errors || [], charts: charts,
    height: Math.ceil(document.documentElement.scrollHeight),
    title: document.title, renders: state.renders || 0, view: state.view || {},
  });
})()
"""


def find_chromium() -> str:
    """Path of the Chromium binary ($REACHLOOP_CHROMIUM, then the usual Debian paths)."""
    candidates = [
        os.environ.get("REACHLOOP_CHROMIUM", ""),
        *CHROMIUM_CANDIDATES,
        shutil.which("chromium") or "",
    ]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise ReachloopError(
        f"headless Chromium not found (looked for {', '.join(CHROMIUM_CANDIDATES)}): {INSTALL_HINT}"
    )


@dataclass
class RenderResult:
    """What the browser saw."""

    charts: dict[str, int]  # chart container id → SVG/canvas elements inside it
    console_errors: list[str] = field(default_factory=list)
    # What the page showed (``window.reachloopReport.view``: filters, KPI texts, per chart the
    # values drawn and their sum) on load, then after each action.
    views: list[dict] = field(default_factory=list)
    title: str = ""
    screenshot: Path | None = None
    seconds: float = 0.0

    @property
    def empty_charts(self) -> list[str]:
        return [cid for cid, n in self.charts.items() if n == 0]

    @property
    def ok(self) -> bool:
        return bool(self.charts) and not self.empty_charts and not self.console_errors


class _Pipe:
    """CDP over the two pipes: send a command, read messages until its reply arrives."""

    def __init__(self, proc: subprocess.Popen, write_fd: int, read_fd: int, deadline: float):
        self.proc, self.write_fd, self.read_fd, self.deadline = proc, write_fd, read_fd, deadline
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def _read_message(self) -> dict:
        while b"\0" not in self.buffer:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise ReachloopError("headless Chromium did not answer in time")
            ready, _, _ = select.select([self.read_fd], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    raise ReachloopError(f"headless Chromium exited (status {self.proc.poll()})")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.write_fd, data) :]
        while True:
            reply = self._read_message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise ReachloopError(f"Chromium: {method} failed: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            message = self._read_message()
            if message.get("method") == method:
                return message
            if "method" in message:
                self.events.append(message)


def _console_errors(events: list[dict]) -> list[str]:
    errors = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(
                "console: "
                + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            )
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            errors.append("exception: " + (d.get("exception", {}).get("description") or d.get("text", "")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip())
    return errors


def render_check(
    html: Path,
    screenshot: Path | None = None,
    *,
    width: int = 1360,
    timeout: float = 60.0,
    chromium: str | None = None,
    fragment: str = "",
    actions: tuple[str, ...] = (),
) -> RenderResult:
    """Load ``html`` in headless Chromium (network disabled), wait for the charts, and report
    what rendered; with ``screenshot``, save a full-page PNG there. ``fragment`` is appended to
    the URL after ``#`` (the report's filters); each of ``actions`` is JavaScript run after the
    page has drawn (set a filter, click a header), then the page is waited for again."""
    binary = chromium or find_chromium()
    started = time.monotonic()
    deadline = started + timeout
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    profile = tempfile.mkdtemp(prefix="reachloop-chromium-")

    def wire_fds() -> None:  # in the child: CDP wants commands on fd 3 and replies on fd 4
        os.dup2(to_child_r, 3)
        os.dup2(from_child_w, 4)

    args = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--mute-audio",
        f"--user-data-dir={profile}",
        "--remote-debugging-pipe",
        f"--window-size={width},900",
        "about:blank",
    ]
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(3, 4),
        preexec_fn=wire_fds,  # noqa: PLW1509 — only dup2 before exec
    )
    os.close(to_child_r)
    os.close(from_child_w)
    pipe = _Pipe(proc, to_child_w, from_child_r, deadline)
    try:
        # Block everything but the file itself: a self-contained report needs no network.
        target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
        session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            pipe.call(f"{domain}.enable", session)
        pipe.call("Network.setBlockedURLs", session, urls=["http://*", "https://*", "ws://*", "wss://*"])
        pipe.call(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        url = html.resolve().as_uri() + (f"#{fragment}" if fragment else "")
        pipe.call("Page.navigate", session, url=url)
        pipe.wait_for("Page.loadEventFired")

        def settled(renders: int) -> dict:
            while time.monotonic() < deadline:
                value = pipe.call("Runtime.evaluate", session, expression=_PROBE, returnByValue=True)
                state = json.loads(value["result"]["value"])
                if state["done"] and state["renders"] >= renders:
                    return state
                time.sleep(0.2)
            raise ReachloopError(f"the report did not finish drawing its charts within {timeout:.0f}s")

        state = settled(0)
        views = [state["view"]]
        for action in actions:
            pipe.call("Runtime.evaluate", session, expression=action, returnByValue=True)
            state = settled(state["renders"] + 1)
            views.append(state["view"])
        result = RenderResult(charts=state["charts"], title=state["title"], views=views)
        result.console_errors = [f"page: {e}" for e in state["errors"]] + _console_errors(pipe.events)
        if screenshot is not None:
            seen = len(pipe.events)
            height = max(900, int(state["height"]))
            pipe.call(
                "Emulation.setDeviceMetricsOverride",
                session,
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            time.sleep(0.5)  # let responsive charts settle at the new size
            shot = pipe.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            result.screenshot = screenshot
            result.console_errors += _console_errors(pipe.events[seen:])  # resizing redraws
        result.seconds = time.monotonic() - started
        return result
    finally:
        try:
            pipe.call("Browser.close")
        except Exception:  # noqa: BLE001 — the browser may already be gone
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(to_child_w)
        os.close(from_child_r)
        shutil.rmtree(profile, ignore_errors=True)
