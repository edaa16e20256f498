"""``aionactors serve``: open the engine, serve the app, drain on SIGTERM.

The port is bound before the store is opened, so a busy port creates nothing.
The first SIGTERM/SIGINT drains: the listener stays open and every new request
is answered 503 ``unavailable`` (ShuttingDown), requests in flight finish, then
the engine shuts down, which lets running activities finish and commits what is
queued; then the listener closes and streams end with an ``unavailable`` frame.
Every acknowledged operation is durable and the exit code is 0. One deadline,
``drain_timeout_seconds``, covers the whole drain: whatever is still running
then is logged and left to recovery on the next start (as after a crash). A
second signal exits at once with 130.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from aiohttp import web

from aionactors import Engine
from aionactors.cluster import ClusterNode, ClusterSettings
from transports.app import create_app
from transports.cluster_routes import local_identity, node_identity, own_url
from transports.config import ServerConfig
from transports.drain import IN_FLIGHT
from transports.embedded_node import NodeEngine, Peers
from transports.logs import configure_logging
from transports.state import STATE

_log = logging.getLogger("aionactors.serve")

EXIT_INTERRUPTED = 130
_CLOSE_GRACE_SECONDS = 5.0
"""After the drain only stream sockets remain; they get this long to close."""


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket first, so a busy port fails before any store is created."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class StartupError(Exception):
    """The server cannot start; the message is the one line the operator sees."""


async def serve(config: ServerConfig, *, out: TextIO | None = None) -> int:
    """Run until a signal; returns the exit code."""
    out = out or sys.stdout
    loop = asyncio.get_running_loop()
    sock = listen(config.host, config.port)
    executor = ThreadPoolExecutor(config.engine_threads, thread_name_prefix="aionactors-call")
    loop.set_default_executor(executor)
    if os.getcwd() not in sys.path:  # --load names modules relative to where we run, as uvicorn
        sys.path.insert(0, os.getcwd())
    host, port = sock.getsockname()[:2]
    identify = node_identity if config.is_cluster else local_identity
    default_id, default_url = identify(config.host, port)
    identity = (config.node_id or default_id, config.advertise_url or default_url)
    node: ClusterNode | None = None
    try:
        if config.is_cluster:
            node = await asyncio.to_thread(_open_node, config, identity)
            engine = node.engine
        else:
            engine = await asyncio.to_thread(
                Engine.open,
                config.db,
                cluster=False,  # a server of its own (a node is opened above)
                load_modules=config.load,
                packages=config.packages,
                **config.engine.model_dump(),
            )
    except BaseException:
        sock.close()
        raise
    app = create_app(engine, config, cluster=node, identity=identity)
    peers: Peers | None = None
    if node is not None:
        assert isinstance(engine, NodeEngine)
        peers = Peers(loop, own_url(host, port))
        engine.attach(node, peers)
    state = app[STATE]
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=_CLOSE_GRACE_SECONDS
    )
    await runner.setup()
    await web.SockSite(runner, sock).start()
    print(f"aionactors listening on http://{host}:{port}", file=out, flush=True)

    stop = asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            _log.warning("second signal: exiting now")
            os._exit(EXIT_INTERRUPTED)
        _log.info("signal %s: draining", signal.Signals(signum).name)
        state.draining = True  # new requests get 503 unavailable from here on
        engine.drain()
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    await stop.wait()

    # One deadline for the whole drain: requests in flight, then the engine's shutdown.
    deadline = loop.time() + config.drain_timeout_seconds
    drained = await app[IN_FLIGHT].wait_idle(deadline - loop.time())
    if drained:
        stop_engine = node.shutdown if node is not None else engine.shutdown
        shutdown = asyncio.ensure_future(asyncio.to_thread(stop_engine))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(deadline - loop.time(), 0.0)):
                await asyncio.shield(shutdown)
        drained = shutdown.done()
    if not drained:
        _log.warning(
            "work still running after %s s (%d request(s) in flight); "
            "recovery picks it up on the next start",
            config.drain_timeout_seconds,
            app[IN_FLIGHT].count,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # engine threads are stuck in user code: do not wait for them at exit
    await runner.cleanup()  # closes the listener and ends the streams
    if peers is not None:
        await peers.close()
    executor.shutdown(wait=False)
    return 0


def _open_node(config: ServerConfig, identity: tuple[str, str]) -> ClusterNode:
    """A cluster node's engine: it runs the workflows and schedules of the shards it owns."""
    node_id, advertise_url = identity
    settings = ClusterSettings(
        node_id=node_id, advertise_url=advertise_url, **config.leases.model_dump()
    )
    return ClusterNode.open(
        config.db,
        settings,
        engine_class=NodeEngine,  # its workflows' calls on other shards go to their owners
        load_modules=config.load,
        packages=config.packages,
        **config.engine.model_dump(),
    )


def run(config: ServerConfig) -> int:
    """Blocking entry point for the CLI."""
    configure_logging(config.log_format)
    return asyncio.run(serve(config))
