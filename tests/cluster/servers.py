"""``aionactors serve --cluster`` nodes as real processes, and a small JSON caller."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.cluster.support import ROOT
from tests.transports.processes import free_port

FLOWS = "tests.cluster.flows"
LEASE_ENV = {
    "AIONACTORS_LEASES__SHARD_COUNT": "16",
    "AIONACTORS_LEASES__LEASE_SECONDS": "2.0",
    "AIONACTORS_LEASES__RENEW_SECONDS": "0.25",
}


@dataclass
class ServeNode:
    node_id: str
    url: str
    process: subprocess.Popen[str]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def serve_process(
    db: str, *options: str, stderr: int | None = subprocess.DEVNULL
) -> tuple[subprocess.Popen[str], str | None]:
    """``aionactors serve --db DB OPTIONS`` on a free port (short leases), and its URL once
    it listens (None if it exited first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aionactors.cli", "serve", "--db", db,
         "--port", str(free_port()), "--load", FLOWS, *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **LEASE_ENV},
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line:
        return process, None
    assert line.startswith("aionactors listening on http://"), line
    return process, line.rsplit(" ", 1)[-1]


def start_node(db: str, node_id: str, *options: str) -> ServeNode:
    process, url = serve_process(db, "--cluster", "--node-id", node_id, *options)
    assert url is not None, "the node exited before listening"
    return ServeNode(node_id, url, process)


@contextlib.contextmanager
def running_nodes(db: str, names: Iterable[str], *options: str) -> Iterator[list[ServeNode]]:
    """Cluster nodes started one after another, every one killed on the way out."""
    started: list[ServeNode] = []
    try:
        for name in names:
            started.append(start_node(db, name, *options))
        yield started
    finally:
        for node in started:
            node.kill()


class CallFailed(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def call(url: str, path: str, body: dict[str, Any] | None = None, timeout: float = 60) -> Any:
    """POST (or GET without a body) and the JSON answer; CallFailed for an error status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise CallFailed(exc.code, json.loads(exc.read() or b"null")) from None


def owned(url: str) -> dict[str, int]:
    """node id → shards it owns, as the node at ``url`` sees it."""
    return {node["node_id"]: len(node["owned_shards"]) for node in call(url, "/cluster")["nodes"]}
