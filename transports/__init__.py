"""aiohttp server and HTTP client for aionactors (see PROTOCOL.md); imports only the public aionactors API."""
