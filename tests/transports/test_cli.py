"""`aionactors workflow ...` against a real `aionactors serve`: options anywhere, the
environment, tables or --json, every lifecycle verb, `result` exit codes, `| head`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.transports.processes import ROOT, start_server, stop_server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    process, url = start_server(tmp_path_factory.mktemp("cli") / "cli.db")
    yield url
    stop_server(process)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIONACTORS_")}
    return subprocess.run(
        [sys.executable, "-m", "aionactors.cli", *args],
        cwd=ROOT, env=base | {"PYTHONPATH": str(ROOT)} | (env or {}),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_version() -> None:
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("aionactors 0.")


def test_the_default_server_is_serves_default_port() -> None:
    from transports.commands import DEFAULT_SERVER
    from transports.config import ServerConfig

    assert DEFAULT_SERVER.endswith(f":{ServerConfig().port}")


def test_options_anywhere_and_the_environment(server) -> None:
    before = cli("--server", server, "--json", "workflow", "start", "greeter", "--input", '"a"')
    assert before.returncode == 0, before.stderr
    wid = json.loads(before.stdout)["workflow_id"]
    after = cli("workflow", "result", wid, "--server", server, "--json")
    assert json.loads(after.stdout) == {"status": "Completed", "result": "hello, a"}
    from_env = cli("workflow", "--json", "result", wid, env={"AIONACTORS_SERVER": server})
    assert from_env.returncode == 0 and json.loads(from_env.stdout)["status"] == "Completed"


def test_tables_by_default(server) -> None:
    cli("--server", server, "workflow", "start", "greeter", "--id", "cli-table", "--input", '"t"')
    listing = cli("workflow", "list", "--server", server)
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert "WORKFLOW_ID" in header and "STATUS" in header
    assert any(row.startswith("cli-table") for row in rows)
    described = cli("workflow", "describe", "cli-table", "--server", server)
    assert "summary" in described.stdout and not described.stdout.lstrip().startswith("{")


def test_result_of_a_running_workflow_exits_non_zero_with_a_message(server) -> None:
    started = cli("workflow", "start", "collector", "--id", "cli-running", "--server", server)
    assert started.returncode == 0, started.stderr
    done = cli("workflow", "result", "cli-running", "--wait", "0.2", "--server", server)
    assert done.returncode == 3
    assert "cli-running is still Running" in done.stderr


def test_result_of_a_failed_workflow_exits_1(server) -> None:
    cli(
        "workflow",
        "start",
        "failing",
        "--id",
        "cli-failed",
        "--input",
        '"boom"',
        "--server",
        server,
    )
    done = cli("workflow", "result", "cli-failed", "--server", server)
    assert done.returncode == 1
    assert done.stderr.startswith("aionactors workflow result: Failed: ")
    assert "boom" in done.stderr


def test_lifecycle_verbs(server) -> None:
    s = ("--server", server, "--json")
    assert cli("workflow", "start", "collector", "--id", "cli-life", *s).returncode == 0
    paused = cli("workflow", "pause", "cli-life", "--reason", "ops", *s)
    assert paused.returncode == 0, paused.stderr
    assert json.loads(paused.stdout)["status"] == "Paused"
    assert json.loads(cli("workflow", "resume", "cli-life", *s).stdout)["status"] == "Running"
    assert cli("workflow", "terminate", "cli-life", "--reason", "done", *s).returncode == 0
    ended = cli("workflow", "result", "cli-life", *s)
    assert json.loads(ended.stdout)["status"] == "Cancelled" and ended.returncode == 1
    reopened = cli("workflow", "reopen", "cli-life", *s)
    assert reopened.returncode == 0, reopened.stderr
    assert json.loads(reopened.stdout)["status"] == "Running"


def test_errors_are_one_line(server) -> None:
    done = cli("workflow", "describe", "no-such-workflow", "--server", server)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "not_found" in done.stderr


def test_piping_into_head_has_no_traceback(server) -> None:
    for n in range(3):
        cli("workflow", "start", "greeter", "--input", f'"{n}"', "--server", server)
    pipeline = subprocess.run(
        f"{sys.executable} -m aionactors.cli workflow list --server {server} --json | head -1",
        shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert pipeline.stdout.strip() == "{"
    assert "Traceback" not in pipeline.stderr and "BrokenPipe" not in pipeline.stderr
