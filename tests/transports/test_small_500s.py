"""Issue 13 defect 5: inputs that used to answer 500 are 400s naming the field, and a client
that hangs up mid-request is not an ERROR with a traceback."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

from aiohttp.test_utils import TestClient
from yarl import URL

from tests.transports.api import post, start
from tests.transports.processes import start_server
from tests.transports.support import TENANT_A, tenant


async def test_history_from_seq_past_a_64_bit_column_is_400(client: TestClient) -> None:
    started = await start(client)
    status, body = await post(
        client,
        "/workflows/history",
        {"namespace": TENANT_A, "workflow_id": started["workflow_id"], "from_seq": 2**63},
        tenant(TENANT_A),
    )
    assert status == 400, body
    assert body["code"] == "invalid_input" and "from_seq" in body["message"]


async def test_deeply_nested_search_attributes_query_is_400(client: TestClient) -> None:
    # 3,000 brackets, sent unescaped so the request line stays under aiohttp's 8 KiB limit.
    url = URL("/workflows?search_attributes=" + "[" * 3000, encoded=True)
    response = await client.get(url, headers=tenant(TENANT_A))
    status, body = response.status, await response.json()
    assert status == 400, body
    assert body["code"] == "invalid_input" and "search_attributes" in body["message"]


def test_a_client_hanging_up_mid_body_is_not_an_error(tmp_path: Path) -> None:
    process, url = start_server(tmp_path / "hangup.db", stderr=subprocess.PIPE)
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /workflows/start HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"
            )
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
    assert "client disconnected" in log, log  # noticed, at INFO
    assert "Traceback" not in log and " ERROR " not in log, log
