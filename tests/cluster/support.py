"""What the cluster tests share: settings with short leases, events to append, node processes.

A node process (``python -m tests.cluster.lease_node``) runs one lease manager and a
fenced store and speaks JSON lines: it prints its ownership after every tick that
changed it, and on ``append WORKFLOW_ID`` tries to append a WorkflowStarted there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aionactors.cluster import ClusterSettings, LeaseManager
from aionactors.core import events as ev
from aionactors.core.timestamps import utc_now

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 8
LEASE = 1.0
RENEW = 0.1


def settings(node_id: str, schema: str, **overrides: Any) -> ClusterSettings:
    fields: dict[str, Any] = {
        "node_id": node_id,
        "advertise_url": f"http://{node_id}.invalid",
        "shard_count": SHARDS,
        "lease_seconds": LEASE,
        "renew_seconds": RENEW,
        "schema_name": schema,
    }
    return ClusterSettings(**{**fields, **overrides})


def started_event(workflow_id: str) -> ev.WorkflowStarted:
    return ev.WorkflowStarted(
        seq=1, recorded_at=utc_now(), workflow_id=workflow_id, run_id="r1", workflow_type="t"
    )


def wait_for(condition: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    """Poll a condition until it holds (fail with ``what`` after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def owners(manager: LeaseManager) -> dict[int, str | None]:
    """Shard → owner of a live lease, read from the database now."""
    from aionactors.cluster import read_view

    view = read_view(manager.dsn, manager.settings)
    return {
        lease.shard: (lease.owner if lease.expires_at > view.read_at else None)
        for lease in view.leases
    }


class NodeProcess:
    """A lease node in a subprocess; ``shards`` is what it last reported owning."""

    def __init__(self, dsn: str, schema: str, node_id: str) -> None:
        self.node_id = node_id
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.cluster.lease_node", dsn, schema, node_id],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.shards: list[int] | None = None
        self.replies: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._cond:
                if "owned" in message:
                    self.shards = message["owned"]
                else:
                    self.replies.append(message)
                self._cond.notify_all()

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def reply(self, timeout: float = 15.0) -> dict[str, Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: self.replies, timeout):
                raise AssertionError(f"node {self.node_id} did not answer")
            return self.replies.pop(0)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
