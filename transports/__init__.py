"""aiohttp server for aionactors: the HTTP API and WebSocket event stream of PROTOCOL.md.

    from transports import ServerConfig, create_app
    app = create_app(engine, ServerConfig(auth="headers"))

``aionactors serve`` runs an engine and this app (see :func:`transports.serve.serve`).
Imports only the public API of aionactors.
"""

from transports.app import create_app
from transports.auth import Identity
from transports.config import ConfigError, ServerConfig, load_settings
from transports.serve import serve

__all__ = ["ConfigError", "Identity", "ServerConfig", "create_app", "load_settings", "serve"]
