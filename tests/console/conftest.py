"""Browser-test plumbing: Debian's Chromium driven by Playwright (never a downloaded browser),
one real `aionactors serve` per session, and a page that fails its test on any console error,
page error or request leaving the server's origin."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.console.server import ROOT, Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS_ENV = "AIONACTORS_TEST_CONSOLE_SCREENSHOTS"
TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> None:
    """Off CI a missing browser skips; on CI it is a failure (the tests must run there)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run on CI: {reason}")
    pytest.skip(reason)


def require_browser() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per module: Playwright's sync API holds an event loop while it runs, which
    must be gone before the asyncio tests of other modules start."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    require_browser()
    serving = Server(tmp_path_factory.mktemp("console") / "console.db")
    yield serving
    serving.stop()


@pytest.fixture
def namespace() -> str:
    """Each test works in a namespace of its own, so tests never see each other's workflows."""
    return f"ns-{uuid.uuid4().hex[:8]}"


@dataclass
class Watched:
    """A page and what the guards saw on it."""

    page: Any
    origin: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)

    def open(self, route: str = "") -> None:
        self.page.goto(f"{self.origin}/{route}")


_REFUSED_PREFIX = "Failed to load resource: the server responded with a status of 4"


def _is_api(url: str, origin: str) -> bool:
    """An API route (not the console's own page or assets, whose failure is a defect)."""
    path = url.removeprefix(origin)
    return path.startswith(("/workflows", "/schedules", "/packages"))


def _same_origin(url: str, origin: str) -> bool:
    ws_origin = origin.replace("http://", "ws://", 1)
    origins = (origin, ws_origin)
    return url == "about:blank" or any(url == o or url.startswith(o + "/") for o in origins)


def watched_page(browser, server: Server, init: dict[str, str], scheme: str = "light") -> Watched:
    """A fresh page with localStorage ``init`` set before any script runs."""
    context = browser.new_context(viewport={"width": 1360, "height": 900}, color_scheme=scheme)
    context.set_default_timeout(TIMEOUT_MS)
    watched = Watched(context.new_page(), server.origin)
    page = watched.page
    script = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in init.items())
    page.add_init_script(
        f"if (!sessionStorage.getItem('seeded')) {{ {script} "
        "sessionStorage.setItem('seeded', '1'); }"
    )

    def on_console(message: Any) -> None:
        if message.type not in ("error", "warning"):
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith(_REFUSED_PREFIX) and _is_api(url, server.origin):
            return  # Chromium logs every non-2xx reply; a refusal the page shows is expected
        watched.errors.append(f"console {message.type}: {message.text} ({url})")

    def on_route(route: Any) -> None:
        url = route.request.url
        if _same_origin(url, server.origin):
            route.continue_()
        else:
            watched.foreign.append(url)
            route.abort()

    def on_response(response: Any) -> None:
        if response.url.startswith(server.origin + "/workflows"):
            # A response the page dropped while navigating away has no body to read.
            with contextlib.suppress(Exception):
                watched.responses.append((response.url, response.text()))

    def on_websocket(ws: Any) -> None:
        if not _same_origin(ws.url, server.origin):
            watched.foreign.append(ws.url)
        ws.on("framereceived", lambda payload: watched.frames.append(str(payload)))

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
    page.on("response", on_response)
    page.on("websocket", on_websocket)
    context.route("**/*", on_route)
    return watched


@pytest.fixture
def open_page(browser, server) -> Iterator[Any]:
    """``open_page(namespace, settings=None)`` → a Watched page; every page is checked for
    console errors and foreign requests when the test ends."""
    pages: list[Watched] = []

    def make(
        namespace: str, settings: str | None = None, scheme: str = "light", on: Server = server
    ) -> Watched:
        init = {"aion.namespace": namespace}
        if settings is not None:
            init["aion.settings"] = settings
        watched = watched_page(browser, on, init, scheme)
        pages.append(watched)
        return watched

    yield make
    for watched in pages:
        watched.page.context.close()
    for watched in pages:
        assert watched.errors == [], watched.errors
        assert watched.foreign == [], f"requests left the server's origin: {watched.foreign}"


def screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    """Written to docs/console/ when AIONACTORS_TEST_CONSOLE_SCREENSHOTS=1, else to tmp_path."""
    folder = ROOT / "docs" / "console" if os.environ.get(SCREENSHOTS_ENV) == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a real render, not a blank page
    return path
