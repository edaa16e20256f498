"""Real `aionactors serve` and `aionactors worker` processes, killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.transports.processes import free_port
from tests.workers.processes import call, result, start_server, start_worker, wait_until, workers


class Processes:
    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def add(self, process: subprocess.Popen[str]) -> subprocess.Popen[str]:
        self.started.append(process)
        return process


@pytest.fixture
def procs() -> Iterator[Processes]:
    held = Processes()
    yield held
    for process in held.started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def start(url: str, workflow_type: str, workflow_id: str, arg: object) -> None:
    call(url, "/workflows/start",
         {"workflow_type": workflow_type, "workflow_id": workflow_id, "input": arg})  # fmt: skip


def history_types(url: str, workflow_id: str) -> list[tuple[str, object]]:
    events = call(url, "/workflows/history", {"workflow_id": workflow_id})["events"]
    return [(e["type"], e.get("attempt")) for e in events if e["type"].startswith("Activity")]


def test_two_workers_share_a_queue_and_sigterm_drains(tmp_path: Path, procs: Processes) -> None:
    server, url = start_server(tmp_path / "s.db")
    procs.add(server)
    a = procs.add(start_worker(url, "--max-concurrent", "1"))
    b = procs.add(start_worker(url, "--max-concurrent", "1"))
    wait_until(lambda: len(workers(url)) == 2, "two workers")
    for i in range(6):
        start(url, "pay", f"p{i}", i)
    pids = set()
    for i in range(6):
        reply = result(url, f"p{i}")
        assert reply["status"] == "Completed", reply
        assert [r["order"] for r in reply["result"]] == [i * 10, i * 10 + 1, i * 10 + 2]
        pids |= {r["pid"] for r in reply["result"]}
    assert pids == {a.pid, b.pid}
    for worker in (a, b):
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0


def test_a_sigkilled_worker_is_lost_and_its_attempt_retried_on_the_other(
    tmp_path: Path, procs: Processes
) -> None:
    server, url = start_server(tmp_path / "k.db")
    procs.add(server)
    first = procs.add(start_worker(url))
    wait_until(lambda: len(workers(url)) == 1, "first worker")
    release = tmp_path / "release"
    start(url, "pay_held", "held", str(release))
    started = Path(str(release) + ".started")
    wait_until(started.exists, "the attempt to start")
    assert int(started.read_text()) == first.pid
    described = call(url, "/workflows/describe", {"workflow_id": "held"})
    assert described["pending_activities"][0]["worker"] == workers(url)[0]["worker_id"]
    started.unlink()
    second = procs.add(start_worker(url))
    wait_until(lambda: len(workers(url)) == 2, "second worker")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    wait_until(started.exists, "the retry to start")
    release.write_text("go")
    reply = result(url, "held")
    assert reply["result"] == second.pid
    failed = [e for e in call(url, "/workflows/history", {"workflow_id": "held"})["events"]
              if e["type"] == "ActivityFailed"]  # fmt: skip
    assert [f["error"]["type"] for f in failed] == ["WorkerLost"]


def hold_on_one_worker(
    procs: Processes, db: Path, workflow_id: str, port: int = 0
) -> tuple[subprocess.Popen[str], str, Path]:
    """A server, one worker, and `pay_held`'s attempt running on it: (server, url, release)."""
    server, url = start_server(db, port)
    procs.add(server)
    procs.add(start_worker(url))
    wait_until(lambda: len(workers(url)) == 1, "worker")
    release = db.with_suffix(".release")
    start(url, "pay_held", workflow_id, str(release))
    wait_until(Path(str(release) + ".started").exists, "the attempt to start")
    return server, url, release


def test_server_sigkilled_with_tasks_out_then_restarted(tmp_path: Path, procs: Processes) -> None:
    port = free_port()
    server, url, release = hold_on_one_worker(procs, tmp_path / "r.db", "r1", port)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=30)
    release.write_text("go")  # the old attempt finishes while the server is down
    server, url = start_server(tmp_path / "r.db", port)
    procs.add(server)
    reply = result(url, "r1")
    assert reply["status"] == "Completed", reply
    activity = history_types(url, "r1")
    starts = [a for t, a in activity if t == "ActivityStarted"]
    assert starts == list(range(1, len(starts) + 1))
    assert [t for t, _ in activity].count("ActivityCompleted") == 1


def test_cancel_reaches_a_heartbeating_remote_activity(tmp_path: Path, procs: Processes) -> None:
    _, url, _ = hold_on_one_worker(procs, tmp_path / "c.db", "c1")
    call(url, "/workflows/cancel", {"workflow_id": "c1"})
    assert result(url, "c1")["status"] == "Cancelled"
    wait_until(lambda: workers(url)[0]["in_flight"] == 0, "the worker to let go")


def test_a_worker_for_an_ungranted_namespace_is_refused(tmp_path: Path, procs: Processes) -> None:
    server, url = start_server(tmp_path / "n.db")
    procs.add(server)
    worker = procs.add(start_worker(url, "--namespace", "shop", "--subject", "ops",
                                    "--namespaces-header", "default"))  # fmt: skip
    assert worker.wait(timeout=30) == 3
    assert worker.stderr is not None and "namespace_denied" in worker.stderr.read()


def test_a_task_with_no_worker_waits_and_is_served_when_one_registers(
    tmp_path: Path, procs: Processes
) -> None:
    server, url = start_server(tmp_path / "w.db")
    procs.add(server)
    start(url, "pay", "late", 7)
    assert result(url, "late", wait_ms=300)["status"] == "Running"
    procs.add(start_worker(url))
    assert [r["order"] for r in result(url, "late")["result"]] == [70, 71, 72]
