"""The remote worker SDK: run activities for a task queue of an aionactors server or cluster.

Given one server URL, the worker asks it ``GET /cluster`` and keeps one
:class:`~transports.worker_session.WorkerSession` per node that owns shards (a
cluster node dispatches the activities of the workflows it owns): the same queue,
namespaces, credentials and activities on every session, and ``max_concurrent``
slots per session. Membership is read again every ``refresh_seconds`` and whenever
a session's connection ends: a node that left (its shards adopted by the others) loses
its session, a node that joined gets one, a node restarted at the same URL is
reconnected by its session's backoff. A lone server is the one node: one session, at
the URL given. SIGTERM drains every session (finish what is in hand, report it, exit).

Example::

    from transports.worker import Worker
    Worker("http://127.0.0.1:8080", task_queue="payments", activities=[charge]).run()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiohttp

from aionactors.workflow.activity import ActivityDefinition, activity_definition
from transports.client import AionClient, ClientError
from transports.worker_membership import Membership
from transports.worker_session import WorkerRefused, WorkerSession

__all__ = ["Worker", "WorkerRefused", "WorkerSession"]

_log = logging.getLogger(__name__)
_ASK_TIMEOUT = 5.0
"""Seconds one ``GET /cluster`` may take before the next node is asked."""


class Worker:
    """One worker process: sessions with every node of the server's cluster."""

    def __init__(
        self,
        server_url: str,
        *,
        task_queue: str,
        activities: Iterable[Callable[..., Any]],
        max_concurrent: int = 8,
        namespace: str | Iterable[str] = "default",
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        node: str | None = None,
        backoff_initial: float = 0.1,
        backoff_max: float = 10.0,
        refresh_seconds: float = 2.0,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.task_queue = task_queue
        self.definitions: dict[str, ActivityDefinition] = {
            d.name: d for d in map(activity_definition, activities)
        }
        self.max_concurrent = max_concurrent
        """Slots of each session: a worker serving N nodes runs up to N times this at once."""
        self.namespaces = [namespace] if isinstance(namespace, str) else list(namespace)
        self.headers = dict(headers or {})
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"
        self.node = node or socket.gethostname()
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.refresh_seconds = refresh_seconds
        self.membership = Membership(self.server_url)
        self.sessions: dict[str, WorkerSession] = {}
        """URL → the session with the node there."""
        self._running: dict[str, asyncio.Task[None]] = {}
        self._draining = False
        self._wake = asyncio.Event()

    @property
    def worker_id(self) -> str | None:
        """The id the server at the URL given assigned to this worker's session there."""
        session = self.sessions.get(self.server_url)
        return None if session is None else session.worker_id

    @property
    def in_hand(self) -> int:
        """Tasks running, or with a result not yet acknowledged, over every session."""
        return sum(session.in_hand for session in self.sessions.values())

    # -- running -----------------------------------------------------------------------

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT drains it (blocking)."""
        asyncio.run(self._run_with_signals())

    async def _run_with_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.drain)
        await self.run_async()

    def drain(self) -> None:
        """Stop taking tasks; :meth:`run_async` returns once those in hand are reported."""
        self._draining = True
        for session in self.sessions.values():
            session.drain()
        self._wake.set()

    async def run_async(self) -> None:
        """Serve every node until :meth:`drain` (WorkerRefused if a server refuses us)."""
        try:
            while True:
                self._wake.clear()
                self._reconcile(await self._discover())
                self._raise_failures()
                if self._draining and not self._running:
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.refresh_seconds):
                        await self._wake.wait()
        finally:
            for task in self._running.values():
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)
            self._running.clear()

    async def _discover(self) -> dict[str, str]:
        """Membership as the first node that answers ``GET /cluster`` sees it."""
        for url in self.membership.discovery_urls():
            try:
                async with asyncio.timeout(_ASK_TIMEOUT):
                    async with AionClient(url, headers=self.headers) as client:
                        body = await client.cluster()
            except ClientError as exc:
                if exc.status == 404 and url == self.membership.seed_url:
                    return self.membership.seed_only()  # a server without clusters
                _log.warning("GET %s/cluster refused (%s)", url, exc)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                _log.info("GET %s/cluster failed (%s)", url, exc)
            else:
                return self.membership.update(body, answered_at=url)
        return self.membership.targets()  # nobody answered: keep what we have

    def _reconcile(self, targets: Mapping[str, str]) -> None:
        """Close the sessions of nodes gone; open one per new node (unless draining)."""
        for url in [url for url in self._running if url not in targets]:
            _log.info("node at %s left the cluster: closing its worker session", url)
            self._running.pop(url).cancel()
            self.sessions.pop(url, None)
        if self._draining:
            return
        for url, node_id in targets.items():
            if url not in self._running:
                _log.info("worker session with node %s at %s", node_id or "?", url)
                self.sessions[url] = session = self._session(url)
                task = asyncio.create_task(session.run_async())
                task.add_done_callback(lambda _: self._wake.set())
                self._running[url] = task

    def _session(self, url: str) -> WorkerSession:
        return WorkerSession(
            url, task_queue=self.task_queue, definitions=self.definitions,
            max_concurrent=self.max_concurrent, namespaces=self.namespaces,
            headers=self.headers, node=self.node, backoff_initial=self.backoff_initial,
            backoff_max=self.backoff_max, on_drop=self._wake.set,
        )  # fmt: skip

    def _raise_failures(self) -> None:
        """Forget sessions that ended (drained); re-raise one that failed (refused)."""
        for url, task in list(self._running.items()):
            if not task.done():
                continue
            del self._running[url]
            if not task.cancelled() and task.exception() is not None:
                self.drain()
                raise task.exception()  # type: ignore[misc]
