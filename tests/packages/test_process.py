"""Packages at process level: the CLI builds and deploys, the server is SIGKILLed, and each
run finishes on its own version after a restart with no flag; a rollback survives too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tests.packages.support import TYPES, write_package_dir
from tests.transports.processes import ROOT, start_server


def cli(*args: str, server: str | None = None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if server is not None:
        env["AIONACTORS_SERVER"] = server
    done = subprocess.run(
        [sys.executable, "-m", "aionactors.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def call(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def start_greeter(url: str, workflow_id: str) -> None:
    call(url, "/workflows/start", {"workflow_type": "Greeter", "workflow_id": workflow_id,
                                   "input": "ada"})  # fmt: skip


def finish(url: str, workflow_id: str) -> int:
    call(url, "/workflows/signal", {"workflow_id": workflow_id, "signal_name": "release"})
    outcome = call(url, "/workflows/result", {"workflow_id": workflow_id, "wait_ms": 20_000})
    assert outcome["status"] == "Completed", outcome
    assert outcome["result"]["second"].startswith(f"hello from v{outcome['result']['version']}")
    return outcome["result"]["version"]


def test_each_run_finishes_on_its_version_after_sigkill_and_rollback_holds(
    tmp_path: Path,
) -> None:
    db = tmp_path / "pkg.db"
    built = {
        v: cli("package", "build", str(write_package_dir(tmp_path / f"src{v}", v)),
               "-o", str(tmp_path / f"v{v}.zip"))
        for v in (1, 2)
    }  # fmt: skip
    process, url = start_server(db)
    try:
        deployed = cli("package", "deploy", built[1]["archive"], server=url)
        assert deployed["content_hash"] == built[1]["content_hash"]
        start_greeter(url, "old")
        cli("package", "deploy", built[2]["archive"], server=url)
        start_greeter(url, "new")
    finally:
        process.kill()  # SIGKILL: no shutdown, no drain
        process.wait(timeout=30)

    process, url = start_server(db)  # no --package: everything comes from the store
    try:
        listed = {p["content_hash"]: p for p in cli("package", "list", server=url)["packages"]}
        assert listed[built[2]["content_hash"]]["routed_types"] == TYPES
        assert {p["pinned_runs"] for p in listed.values()} == {1}
        assert (finish(url, "old"), finish(url, "new")) == (1, 2)
        for workflow_type in TYPES:
            cli("package", "route", workflow_type, built[1]["content_hash"], server=url)
    finally:
        process.kill()
        process.wait(timeout=30)

    process, url = start_server(db)
    try:
        start_greeter(url, "after-rollback")
        assert finish(url, "after-rollback") == 1
        cli("package", "unload", built[2]["content_hash"], server=url)  # drained, unrouted
        listed = cli("package", "list", server=url)["packages"]
        assert [p["content_hash"] for p in listed] == [built[1]["content_hash"]]
    finally:
        process.kill()
        process.wait(timeout=30)
