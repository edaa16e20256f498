"""The operator console: ``GET /`` and its static assets under ``GET /console/{asset}``.

The console is plain files shipped as package data (``transports/console/``):
ES modules and CSS, no build step and no CDN. Only files that exist in that
folder when the app is built are served (a name is looked up in that set, so
nothing outside the folder can be reached). Every page carries a
Content-Security-Policy that lets the browser talk to this origin only.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from aionactors.core import NotFound
from transports.state import RouteSpec

CONSOLE_DIR = Path(__file__).with_name("console")
ASSET_PATH = "/console/{asset}"

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# 'self' covers same-origin ws:/wss: in CSP level 3 browsers; nothing else may be fetched.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class AssetNotFound(NotFound):
    error_type = "AssetNotFound"


def _assets(folder: Path) -> dict[str, bytes]:
    """Every servable file of the console folder, by name, read once."""
    return {
        path.name: path.read_bytes()
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix in _CONTENT_TYPES
    }


def _file_response(name: str, body: bytes) -> web.Response:
    content_type = _CONTENT_TYPES[Path(name).suffix]
    return web.Response(body=body, headers={"Content-Type": content_type, **_SECURITY_HEADERS})


def console_routes(folder: Path = CONSOLE_DIR) -> list[RouteSpec]:
    """``GET /`` (the console page) and ``GET /console/{asset}``; both need no credentials,
    since the page holds no data: everything it shows comes from the authenticated API."""
    assets = _assets(folder)

    async def console_page(request: web.Request) -> web.Response:
        return _file_response("index.html", assets["index.html"])

    async def console_asset(request: web.Request) -> web.Response:
        name = request.match_info["asset"]
        body = assets.get(name)
        if body is None:
            raise AssetNotFound(f"the console has no file {name!r}")
        return _file_response(name, body)

    return [
        RouteSpec("GET", "/", console_page, "The operator console (HTML)", None, public=True),
        RouteSpec("GET", ASSET_PATH, console_asset, "The console's static files (JS, CSS)",
                  None, errors=("not_found",), public=True),
    ]  # fmt: skip
