"""`aionactors serve` as a real subprocess: the listening line, a start + result over HTTP,
and a graceful exit 0 on SIGTERM; bad configuration exits 2 with a clear message."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.transports.processes import listening_url

ROOT = Path(__file__).resolve().parents[2]


def server_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIONACTORS_")}
    return env | {"PYTHONUNBUFFERED": "1"}


async def test_serve_starts_answers_and_drains_on_sigterm(tmp_path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aionactors.cli", "serve",
        "--db", f"sqlite:///{tmp_path / 'serve.db'}",
        "--port", "0",
        "--load", "tests.transports.sample_workflows",
        cwd=ROOT, env=server_environment(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        base = await listening_url(process)
        async with aiohttp.ClientSession(base) as session:
            async with session.post(
                "/workflows/start", json={"workflow_type": "greeter", "input": "proc"}
            ) as response:
                assert response.status == 200, await response.text()
                workflow_id = (await response.json())["workflow_id"]
            async with session.post(
                "/workflows/result", json={"workflow_id": workflow_id, "wait_ms": 20_000}
            ) as response:
                assert await response.json() == {"status": "Completed", "result": "hello, proc"}
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 60) == 0
        assert await process.stdout.read() == b"", "exactly one line on stdout"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve_rejects_bad_configuration_with_exit_2(tmp_path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("prot = 8080\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aionactors.cli", "serve", "--config", str(config),
        cwd=ROOT, env=server_environment(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert stdout == b""
    assert b"unknown setting 'prot'" in stderr
