"""``aionactors serve``: open the engine, serve the app, drain on SIGTERM.

The first SIGTERM/SIGINT drains: starts answer 503 ``unavailable``, the
listener closes, requests in flight finish (up to ``drain_timeout_seconds``),
streams end with an ``unavailable`` frame, then the engine shuts down, which
lets running activities finish and commits what is queued: every
acknowledged operation is durable and the exit code is 0. Anything still
running after the timeout is left to recovery on the next start (as after a
crash). A second signal exits at once with 130.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from aiohttp import web

from aionactors import Engine
from transports.app import create_app
from transports.config import ServerConfig
from transports.state import STATE

_log = logging.getLogger("aionactors.serve")

EXIT_INTERRUPTED = 130


async def serve(config: ServerConfig, *, out: TextIO | None = None) -> int:
    """Run until a signal; returns the exit code."""
    out = out or sys.stdout
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(config.engine_threads, thread_name_prefix="aionactors-call")
    loop.set_default_executor(executor)
    if os.getcwd() not in sys.path:  # --load names modules relative to where we run, as uvicorn
        sys.path.insert(0, os.getcwd())
    engine = await asyncio.to_thread(
        Engine.open,
        config.db,
        load_modules=config.load,
        packages=config.packages,
        **config.engine.model_dump(),
    )
    app = create_app(engine, config)
    state = app[STATE]
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, config.host, config.port, shutdown_timeout=config.drain_timeout_seconds
    )
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"aionactors listening on http://{host}:{port}", file=out, flush=True)

    stop = asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            _log.warning("second signal: exiting now")
            os._exit(EXIT_INTERRUPTED)
        _log.info("signal %s: draining", signal.Signals(signum).name)
        state.draining = True
        engine.drain()
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    await stop.wait()

    await runner.cleanup()
    shutdown = asyncio.ensure_future(asyncio.to_thread(engine.shutdown))
    try:
        async with asyncio.timeout(config.drain_timeout_seconds):
            await asyncio.shield(shutdown)
    except TimeoutError:
        _log.warning(
            "work still running after %s s; recovery picks it up on the next start",
            config.drain_timeout_seconds,
        )
        sys.stdout.flush()
        os._exit(0)  # engine threads are stuck in user code: do not wait for them at exit
    executor.shutdown(wait=False)
    return 0


def run(config: ServerConfig) -> int:
    """Blocking entry point for the CLI."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return asyncio.run(serve(config))
