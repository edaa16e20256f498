"""`aionactors serve` as a real subprocess, for the process-level tests."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    db: Path | str, port: int = 0, *, stderr: int | None = None, load: str | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start the server on ``db`` (a SQLite path or a store URL) and wait for its one
    'listening' line; returns (process, url). ``stderr=subprocess.PIPE`` captures its log."""
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aionactors.cli",
            "serve",
            "--port",
            str(port),
            "--db",
            url,
            "--load",
            load or "tests.transports.sample_workflows",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("aionactors listening on http://"), line
    return process, line.rsplit(" ", 1)[-1]


def stop_server(process: subprocess.Popen[str], timeout: float = 60) -> None:
    """SIGTERM (a drain), then SIGKILL if it has not exited within ``timeout``."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


LISTENING = re.compile(r"^aionactors listening on (http://127\.0\.0\.1:(\d+))$")


async def listening_url(process: asyncio.subprocess.Process) -> str:
    """Read the server's one 'listening' line; returns its base URL."""
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().strip()
    match = LISTENING.match(line)
    assert match, f"unexpected first line {line!r}"
    return match.group(1)
