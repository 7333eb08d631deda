"""What a browser would load from a page, read statically and seen in headless Chromium.

- :func:`parse_page` lists a page's images and every URL it refers to (src, href, CSS
  ``url()``), without a browser; :func:`assert_self_contained` checks a report with it.
- :class:`Browser` opens pages in headless Chromium and records requests, console errors,
  a screenshot and optionally a PDF. It is a minimal Chrome DevTools Protocol client over
  ``--remote-debugging-pipe`` (the browser reads commands on fd 3 and writes replies and
  events on fd 4, each a JSON text ended by a NUL byte), so it needs nothing beyond the
  standard library: no websocket, no port.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 30.0
# Chromium's file descriptors for the pipe protocol (fixed by the browser).
_CHILD_IN, _CHILD_OUT = 3, 4
# Above any fd the child might already use, so that moving the pipes onto 3 and 4 never
# overwrites one of them.
_SAFE_FD = 10

# What a headless run must not do by itself: update, sync, phone home. The resolver rule
# makes every host name unresolvable, so a report that tried to fetch something could
# not succeed even where the machine is online; the request is still recorded.
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)


# Attributes through which an element loads or links something.
_URL_ATTRIBUTES = frozenset({"src", "href", "srcset", "poster", "action", "formaction", "data"})
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]*)""", re.I)


@dataclass
class PageRefs:
    """What a page refers to: its images' attributes and every URL it names."""

    images: list[dict[str, str]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    @property
    def outside(self) -> list[str]:
        """URLs that would make a request: all but in-page anchors and ``data:`` URIs."""
        return [u for u in self.urls if not u.startswith(("#", "data:"))]


class _RefCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs = PageRefs()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "img":
            self.refs.images.append(values)
        self.refs.urls += [v for name, v in values.items() if name in _URL_ATTRIBUTES]
        self.refs.urls += _CSS_URL.findall(values.get("style", ""))

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style":
            self.refs.urls += _CSS_URL.findall(data)


def parse_page(html: str) -> PageRefs:
    """The images and URLs of ``html``, read without a browser."""
    collector = _RefCollector()
    collector.feed(html)
    collector.close()
    return collector.refs


def assert_self_contained(html: str, images: int) -> None:
    """No script, nothing fetched; ``images`` images, each embedded, described and captioned."""
    refs = parse_page(html)
    assert refs.outside == [] and "<script" not in html and "@import" not in html
    assert len(refs.images) == images == html.count("<figcaption>")
    for image in refs.images:
        assert re.fullmatch(r"data:image/png;base64,[A-Za-z0-9+/=]+", image["src"])
        assert image["alt"].strip()


class BrowserError(RuntimeError):
    """The browser died, or did not answer in time."""


def find_chromium() -> str | None:
    """Path of a Chromium-family browser on PATH, or None."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@dataclass
class PageRun:
    """What loading one page did."""

    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    pdf: bytes = b""
    probe: Any = None

    @property
    def outside_requests(self) -> list[str]:
        """Requests other than the page itself and its inline ``data:`` resources."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]


def _fontconfig_file(folder: Path) -> Path:
    """A fontconfig file that adds matplotlib-fontja's IPAexGothic to the system fonts.

    The report's CSS names IPAexGothic last, so Japanese renders with real glyphs even on
    a machine (such as CI) with no CJK font installed system-wide.
    """
    import matplotlib_fontja

    fonts = Path(matplotlib_fontja.__file__).parent / "fonts"
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"<dir>{fonts}</dir>\n<cachedir>{folder / 'cache'}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


class Browser:
    """One headless Chromium process; use as a context manager, load pages with :meth:`load`."""

    def __init__(self, executable: str, width: int = 1000, height: int = 1300) -> None:
        self.width, self.height = width, height
        self._profile = tempfile.TemporaryDirectory(prefix="le4nn-chromium-")
        profile = Path(self._profile.name)
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def move_pipes() -> None:
            # Runs in the child between fork and exec.
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, _SAFE_FD)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, _SAFE_FD)
            os.dup2(a, _CHILD_IN)
            os.dup2(b, _CHILD_OUT)

        env = {**os.environ, "FONTCONFIG_FILE": str(_fontconfig_file(profile))}
        self._process = subprocess.Popen(
            [executable, *_FLAGS, f"--user-data-dir={profile / 'user-data'}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(_CHILD_IN, _CHILD_OUT),
            preexec_fn=move_pipes,
            env=env,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask the browser to quit, kill it if it does not, and remove its profile."""
        if self._process.poll() is None:
            try:
                self._send("Browser.close", wait=False)
                self._process.wait(timeout=10)
            except (BrowserError, OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        self._profile.cleanup()

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise BrowserError(f"no answer from the browser within {TIMEOUT_S} s")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(f"the browser exited (code {self._process.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def _send(
        self, method: str, session: str | None = None, wait: bool = True, **params: Any
    ) -> dict[str, Any]:
        """Send one command; with ``wait``, keep events met on the way and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        if not wait:
            return {}
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") != self._next_id:
                self._events.append(reply)
            elif "error" in reply:
                raise BrowserError(f"{method}: {reply['error']}")
            else:
                return reply.get("result", {})

    def _wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while not any(
            e.get("method") == method and e.get("sessionId") == session for e in self._events
        ):
            self._events.append(self._read_message(deadline))

    def load(self, path: Path, pdf: bool = False, probe: str = "") -> PageRun:
        """Load a local file, wait for its load event, and record a full-page screenshot.

        With ``pdf``, also print it as the browser would (CSS page size honoured); with
        ``probe``, a JavaScript expression, keep its value (e.g. where an element is).
        """
        target = self._send("Target.createTarget", url="about:blank")["targetId"]
        session = self._send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self._send(f"{domain}.enable", session)
        self._send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self._events.clear()
        run = PageRun(path.resolve().as_uri())
        navigation = self._send("Page.navigate", session, url=run.url)
        if "errorText" in navigation:
            # Otherwise Chromium shows its own error page, which would pass for the report.
            self._send("Target.closeTarget", targetId=target)
            raise BrowserError(f"{run.url}: {navigation['errorText']}")
        self._wait_for("Page.loadEventFired", session)
        size = self._send("Page.getLayoutMetrics", session)["cssContentSize"]
        shot = self._send(
            "Page.captureScreenshot",
            session,
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": self.width, "height": size["height"], "scale": 1},
        )
        run.screenshot = base64.b64decode(shot["data"])
        if probe:
            value = self._send("Runtime.evaluate", session, expression=probe, returnByValue=True)
            run.probe = value["result"].get("value")
        if pdf:
            printed = self._send("Page.printToPDF", session, preferCSSPageSize=True)
            run.pdf = base64.b64decode(printed["data"])
        _record_events(run, [e for e in self._events if e.get("sessionId") == session])
        self._send("Target.closeTarget", targetId=target)
        return run


def _record_events(run: PageRun, events: list[dict[str, Any]]) -> None:
    """Keep the requested URLs and every error-level console or log message."""
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            run.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            run.console_errors.append(" ".join(str(a.get("value")) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            run.console_errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            run.console_errors.append(params["entry"]["text"])
