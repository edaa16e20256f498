"""A real `aionactors serve` subprocess for the browser tests, and a small HTTP caller."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


class Server:
    """``aionactors serve`` on 127.0.0.1 with a free port; SIGKILLed at the end."""

    def __init__(self, db: Path, extra_env: dict[str, str] | None = None, *args: str) -> None:
        command = [
            sys.executable, "-m", "aionactors.cli", "serve", "--port", "0",
            "--db", f"sqlite:///{db}", "--load", "tests.console.console_workflows", *args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(extra_env or {})},
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        line = self.process.stdout.readline().strip() if ready else "(no output)"
        if not line.startswith("aionactors listening on http://"):
            self.process.kill()
            raise AssertionError(f"the server did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[-1]
        self.origin = self.url.rstrip("/")

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.origin + path, data=data, method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def start(self, namespace: str, workflow_type: str, arg: Any = None, **extra: Any) -> str:
        status, body = self.call(
            "POST",
            "/workflows/start",
            {"namespace": namespace, "workflow_type": workflow_type, "input": arg, **extra},
        )
        assert status == 200, body
        return body["workflow_id"]

    def signal(self, namespace: str, workflow_id: str, name: str, payload: Any = None) -> None:
        body = {"namespace": namespace, "workflow_id": workflow_id, "signal_name": name,
                "payload": payload}  # fmt: skip
        status, reply = self.call("POST", "/workflows/signal", body)
        assert status == 200, reply

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
