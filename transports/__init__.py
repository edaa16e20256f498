"""aiohttp server and HTTP client for aionactors; imports only the public aionactors API."""
