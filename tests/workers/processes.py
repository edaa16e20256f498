"""`aionactors serve` and `aionactors worker` as real subprocesses, and a tiny HTTP caller."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.transports.processes import ROOT
from tests.workers.remote_workflows import QUEUE

MODULE = "tests.workers.remote_workflows"
_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def start_server(
    db: Path, port: int = 0, window_ms: int = 30000
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "aionactors.cli", "serve", "--port", str(port),
         "--db", f"sqlite:///{db}", "--load", MODULE],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**_ENV, "AIONACTORS_WORKER_HEARTBEAT_WINDOW_MS": str(window_ms)},
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("aionactors listening on http://"), line
    return process, line.rsplit(" ", 1)[-1]


def start_worker(url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aionactors.cli", "worker", "--server", url,
         "--task-queue", QUEUE, "--load", MODULE, *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_ENV,
    )  # fmt: skip


def call(url: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def result(url: str, workflow_id: str, wait_ms: int = 30000) -> Any:
    return call(url, "/workflows/result", {"workflow_id": workflow_id, "wait_ms": wait_ms},
                timeout=wait_ms / 1000 + 10)  # fmt: skip


def wait_until(predicate: Any, what: str, timeout: float = 30.0) -> Any:
    """Poll ``predicate`` (bounded) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def workers(url: str) -> list[dict[str, Any]]:
    return call(url, "/workers")["workers"]
