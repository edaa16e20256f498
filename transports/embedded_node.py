"""An engine embedded in a Python program as a cluster node (``Engine.open("postgresql://...")``).

Nodes reach each other over HTTP: a node forwards a request on a workflow to the node
that owns the workflow's shard. So an embedded node, like ``aionactors serve``, listens
(on 127.0.0.1 and a free port unless told otherwise) with the server's own app, whose
forwarding middleware runs every workflow route on its owner; and its own calls on a
workflow of a shard another node owns go to that listener, so they take the very path
a request from outside takes: forwarded to the owner, waiting out a failover, and
acknowledged only once the owner made the input durable. Calls on its own shards run
in-process, as on a lone engine, and a start without an id gets one in an owned shard.

>>> engine = Engine.open("postgresql://app@db/orders", workflows=[Checkout])  # doctest: +SKIP
>>> engine.node.leases.owned_shards()                                        # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from aionactors.cluster import ClusterNode, ClusterSettings
from aionactors.core import errors
from aionactors.core.errors import AionError, InvalidInput, Unavailable
from aionactors.core.ids import new_id
from aionactors.core.search import DEFAULT_NAMESPACE
from aionactors.core.status import WorkflowStatus, current_lease_terminal
from aionactors.core.workflow_keys import key_namespace, public_id, workflow_key
from aionactors.engine import Engine
from aionactors.engine import messages as msg
from aionactors.engine.models import WorkflowHandle
from aionactors.engine.outcomes import ResultTimeout, outcome_of
from transports.client import AionClient, ClientError
from transports.cluster_forward import IN_ROUTE
from transports.cluster_routes import node_identity, own_url
from transports.config import ServerConfig

_T = TypeVar("_T")
_ID_ATTEMPTS = 256
_RESULT_POLL_MS = 30_000


def open_node_engine(
    dsn: str,
    *,
    settings: ClusterSettings | None,
    listen: str,
    engine_options: dict[str, Any],
) -> NodeEngine:
    """Bind ``listen`` (HOST:PORT), join the cluster on ``dsn`` and serve the peers."""
    host, _, port_text = listen.rpartition(":")
    try:
        sock = socket.create_server((host or "127.0.0.1", int(port_text)), backlog=256)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot listen on {listen!r} for the cluster's peers: {exc}") from None
    bound_host, port = sock.getsockname()[:2]
    default_id, default_url = node_identity(bound_host, port)
    if settings is None:
        settings = ClusterSettings(node_id=default_id, advertise_url=default_url)
    elif not settings.advertise_url:
        settings = settings.model_copy(update={"advertise_url": default_url})
    try:
        node = ClusterNode.open(dsn, settings, engine_class=NodeEngine, **engine_options)
    except BaseException:
        sock.close()
        raise
    engine = node.engine
    assert isinstance(engine, NodeEngine)
    config = ServerConfig(
        db=dsn, host=bound_host, port=port, cluster=True,
        node_id=settings.node_id, advertise_url=settings.advertise_url,
    )  # fmt: skip
    listener = PeerListener(sock, config, node)
    try:
        engine.attach(node, listener.start(own_url(bound_host, port)), listener.stop)
    except BaseException:
        node.shutdown()
        raise
    return engine


class Peers:
    """Calls on other nodes' workflows, sent to this node's own app (``base_url``), whose
    forwarding middleware runs them on the owner; the client runs on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, base_url: str) -> None:
        self._loop = loop
        self._base_url = base_url
        self._clients: dict[str, AionClient] = {}

    def call(self, namespace: str, call: Callable[[AionClient], Awaitable[_T]]) -> _T:
        """Run a client call (blocking this thread, never the loop's own)."""

        async def go() -> _T:
            client = self._clients.get(namespace)
            if client is None:
                client = self._clients[namespace] = AionClient(self._base_url, namespace=namespace)
            try:
                return await call(client)
            except ClientError as refused:
                raise _as_engine_error(refused) from None

        if _running_loop() is self._loop:  # it would wait for itself
            raise RuntimeError("a cluster node cannot forward a call from its own event loop")
        return asyncio.run_coroutine_threadsafe(go(), self._loop).result()

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


class PeerListener:
    """An embedded node's HTTP app on its own event loop thread: what the other nodes
    forward to, and what this node's :class:`Peers` send its forwarded calls to."""

    def __init__(self, sock: socket.socket, config: ServerConfig, node: ClusterNode) -> None:
        self._sock = sock
        self._config = config
        self._node = node
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="aionactors-peers", daemon=True)
        self.peers: Peers | None = None
        self._failure: Exception | None = None

    def start(self, base_url: str) -> Peers:
        """Serving once this returns (or the reason it could not, raised here)."""
        self.peers = Peers(self._loop, base_url)
        self._thread.start()
        if not self._ready.wait(30):
            raise Unavailable("the node's peer listener did not start within 30 s")
        if self._failure is not None:
            raise self._failure
        return self.peers

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        executor = ThreadPoolExecutor(
            self._config.engine_threads, thread_name_prefix="aionactors-peer-call"
        )
        self._loop.set_default_executor(executor)
        try:
            self._loop.run_until_complete(self._serve())
        except Exception as exc:
            self._failure = exc
            self._ready.set()
            executor.shutdown(wait=False)
            return
        self._ready.set()
        self._loop.run_forever()
        executor.shutdown(wait=False)

    async def _serve(self) -> None:
        from transports.app import create_app

        assert self._node.engine is not None
        app = create_app(
            self._node.engine, self._config, cluster=self._node,
            identity=(self._node.settings.node_id, self._node.settings.advertise_url),
        )  # fmt: skip
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return

        async def close() -> None:
            if self.peers is not None:
                await self.peers.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


def _forwarded(method: Callable[..., _T]) -> Callable[..., _T]:
    """The method runs here when this node owns the workflow (its first argument, a key),
    and is forwarded to the owner (``_remote_<name>``) when another node does."""
    remote_name = f"_remote_{method.__name__}"

    @functools.wraps(method)
    def route(self: NodeEngine, workflow_id: str, *args: Any, **kwargs: Any) -> _T:
        if self.forwards(workflow_id):
            return getattr(self, remote_name)(workflow_id, *args, **kwargs)  # type: ignore[no-any-return]
        return method(self, workflow_id, *args, **kwargs)

    return route


class NodeEngine(Engine):
    """An Engine that is a cluster node: the calls on workflows of other nodes' shards are
    answered by their owners (see the module's docstring)."""

    node: ClusterNode
    _peer_calls: Peers | None = None
    _stop_listening: Callable[[], None] | None = None
    _closing = False
    _drain: float | None = None

    def attach(
        self, node: ClusterNode, peers: Peers, stop_listening: Callable[[], None] | None = None
    ) -> None:
        """Forward through ``peers`` from now on; ``stop_listening`` runs at shutdown."""
        self.node = node
        self._peer_calls = peers
        self._stop_listening = stop_listening

    def forwards(self, workflow_id: str) -> bool:
        """Whether a call on ``workflow_id`` goes to another node."""
        return (
            self._peer_calls is not None
            and not IN_ROUTE.get()
            and not self.node.leases.owns(workflow_id)
        )

    def _peers(self) -> Peers:
        assert self._peer_calls is not None
        return self._peer_calls

    # ---- starts ----------------------------------------------------------------------
    def start_workflow(
        self, workflow: str | type, arg: Any = None, *, workflow_id: str | None = None,
        namespace: str = DEFAULT_NAMESPACE, **options: Any,
    ) -> WorkflowHandle:  # fmt: skip
        if workflow_id is None and self._peer_calls is not None and not IN_ROUTE.get():
            workflow_id = self._owned_id(namespace)
        if workflow_id is None or not self.forwards(workflow_key(namespace, workflow_id)):
            return super().start_workflow(
                workflow, arg, workflow_id=workflow_id, namespace=namespace, **options
            )
        _only_local(options, "search_attributes", "parent_workflow_id", "package_version")
        workflow_type = self.registry.workflow_name(workflow)
        parent = options.get("parent_workflow_id")  # a child started by a workflow here
        answer = self._peers().call(namespace, lambda c: c.start(
            workflow_type, arg, workflow_id=workflow_id,
            search_attributes=options.get("search_attributes"),
            parent_workflow_id=None if parent is None else public_id(parent),
            package_version=options.get("package_version"),
        ))  # fmt: skip
        return WorkflowHandle(
            workflow_key(namespace, answer["workflow_id"]), answer["run_id"],
            engine=self, workflow_type=workflow_type,
        )  # fmt: skip

    def signal_with_start(
        self, workflow: str | type, workflow_id: str, signal_name: str, payload: Any = None,
        *, namespace: str = DEFAULT_NAMESPACE, **options: Any,
    ) -> WorkflowHandle:  # fmt: skip
        if not self.forwards(workflow_key(namespace, workflow_id)):
            return super().signal_with_start(
                workflow, workflow_id, signal_name, payload, namespace=namespace, **options
            )
        _only_local(options, "input", "search_attributes")
        workflow_type = self.registry.workflow_name(workflow)
        answer = self._peers().call(namespace, lambda c: c.signal_with_start(
            workflow_type, workflow_id, signal_name, payload,
            input=options.get("input"), search_attributes=options.get("search_attributes"),
        ))  # fmt: skip
        return WorkflowHandle(
            workflow_key(namespace, answer["workflow_id"]), answer["run_id"],
            engine=self, workflow_type=workflow_type, started=bool(answer.get("started")),
        )  # fmt: skip

    def _owned_id(self, namespace: str) -> str:
        """A fresh id in a shard this node owns (when it owns any): most starts stay here."""
        candidate = new_id()
        for _ in range(_ID_ATTEMPTS):
            if self.node.leases.owns(workflow_key(namespace, candidate)):
                break
            candidate = new_id()
        return candidate

    def tell(self, workflow_id: str, message: Any) -> None:
        """A child's end, told to its parent on another node, goes to the parent's owner
        (which reads the end from the store); every other message is this node's own."""
        if isinstance(message, msg.ChildDone) and self.forwards(workflow_id):
            namespace, parent = _split(workflow_id)
            child = message.child_workflow_id
            self._peers().call(namespace, lambda c: c.child_ended(parent, child))
            return
        super().tell(workflow_id, message)

    # ---- calls on one workflow --------------------------------------------------------
    signal = _forwarded(Engine.signal)
    query = _forwarded(Engine.query)
    cancel = _forwarded(Engine.cancel)
    pause = _forwarded(Engine.pause)
    resume = _forwarded(Engine.resume)
    reopen = _forwarded(Engine.reopen)
    result = _forwarded(Engine.result)
    update = _forwarded(Engine.update)

    async def update_async(self, workflow_id: str, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.forwards(workflow_id):
            return await asyncio.to_thread(self.update, workflow_id, name, *args, **kwargs)
        return await super().update_async(workflow_id, name, *args, **kwargs)

    def _remote_signal(self, workflow_id: str, name: str, payload: Any = None) -> None:
        namespace, bare = _split(workflow_id)
        self._peers().call(namespace, lambda c: c.signal(bare, name, payload))

    def _remote_query(self, workflow_id: str, name: str, *args: Any) -> Any:
        namespace, bare = _split(workflow_id)
        return self._peers().call(namespace, lambda c: c.query(bare, name, *args))

    def _remote_cancel(
        self, workflow_id: str, reason: str | None = None, *, terminate: bool = False
    ) -> None:
        namespace, bare = _split(workflow_id)
        if terminate:
            self._peers().call(namespace, lambda c: c.terminate(bare, reason))
        else:
            self._peers().call(namespace, lambda c: c.cancel(bare, reason))

    def _remote_pause(
        self, workflow_id: str, reason: str | None = None, operator: str | None = None
    ) -> dict[str, str]:
        # The owner records who paused from the request's identity, not from ``operator``.
        namespace, bare = _split(workflow_id)
        return self._peers().call(namespace, lambda c: c.pause(bare, reason))

    def _remote_resume(self, workflow_id: str, operator: str | None = None) -> dict[str, str]:
        namespace, bare = _split(workflow_id)
        return self._peers().call(namespace, lambda c: c.resume(bare))

    def _remote_reopen(self, workflow_id: str) -> dict[str, str]:
        namespace, bare = _split(workflow_id)
        return self._peers().call(namespace, lambda c: c.reopen(bare))

    def _remote_update(
        self, workflow_id: str, name: str, *args: Any, run_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:  # fmt: skip
        namespace, bare = _split(workflow_id)
        wait_ms = None if timeout is None else max(1, round(timeout * 1000))
        return self._peers().call(
            namespace, lambda c: c.update(bare, name, *args, run_id=run_id, wait_ms=wait_ms)
        )

    def _remote_result(self, workflow_id: str, timeout: float | None = None) -> Any:
        """The owner says when the run ended; its outcome is then read here, from the
        store, exactly as a local result reads it."""
        namespace, bare = _split(workflow_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _RESULT_POLL_MS if deadline is None else (deadline - time.monotonic()) * 1000
            wait_ms = max(0, min(_RESULT_POLL_MS, round(left)))
            answer = self._peers().call(namespace, functools.partial(_result, bare, wait_ms))
            if WorkflowStatus(answer["status"]).is_terminal:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise ResultTimeout(f"workflow {workflow_id!r} did not finish in {timeout} s")
        terminal = current_lease_terminal(self.store.read_history(workflow_id))
        if terminal is None:  # pragma: no cover - the owner saw it end: it is in the store
            raise errors.StoreError(f"workflow {workflow_id!r} ended but its end is not stored")
        return outcome_of(terminal)

    # ---- lifetime --------------------------------------------------------------------
    def shutdown(self, drain_seconds: float | None = None) -> None:
        """An embedded node stops serving the peers, then runs the node's shutdown: it
        drains this engine (the call back here) while its leases still fence the last
        appends, then hands every shard back. (``serve`` shuts its node down itself.)"""
        if self._stop_listening is None or self._closing:
            super().shutdown(drain_seconds if drain_seconds is not None else self._drain)
            return
        self._closing = True
        self._drain = drain_seconds
        self._stop_listening()
        self.node.shutdown()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _result(workflow_id: str, wait_ms: int, client: AionClient) -> Awaitable[dict[str, Any]]:
    return client.result(workflow_id, wait_ms=wait_ms)


def _split(key: str) -> tuple[str, str]:
    """(namespace, id in it) of an engine key."""
    return key_namespace(key), public_id(key)


def _only_local(options: dict[str, Any], *allowed: str) -> None:
    """Refuse options the HTTP API cannot carry to another node (nothing is sent)."""
    extra = sorted(k for k, v in options.items() if v is not None and k not in allowed)
    if extra:
        raise InvalidInput(
            f"{', '.join(extra)} cannot be given for a workflow of a shard another node owns"
        )


_ERROR_TYPES: dict[str, type[AionError]] = {}


def _as_engine_error(refused: ClientError) -> AionError:
    """The error the owner raised, as the same type here (by its wire ``error_type``)."""
    if not _ERROR_TYPES:
        pending: list[type[AionError]] = [AionError]
        while pending:
            kind = pending.pop()
            pending.extend(kind.__subclasses__())
            if kind.error_type:
                _ERROR_TYPES.setdefault(kind.error_type, kind)
    kind = _ERROR_TYPES.get(refused.error_type or "", AionError)
    error = kind.__new__(kind)
    AionError.__init__(error, refused.message)  # a type's own __init__ wants its fields
    if kind is AionError:
        error.code = refused.code  # type: ignore[misc]
    return error
