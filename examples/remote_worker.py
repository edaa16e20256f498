"""A server, a remote worker and a workflow whose activity runs on that worker.

    python examples/remote_worker.py

The workflow sends ``charge`` to task queue "payments"; the server (engine + HTTP
API on a free port) has no code for it; a ``Worker`` connected over
``/workers/stream`` runs it and reports the result. Finishes in a second or two.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web

from aionactors import Engine, activity, workflow
from transports import ServerConfig, create_app
from transports.worker import Worker


@activity.defn
def charge(order: dict) -> str:
    info = activity.info()
    return f"charged order {order['id']} (attempt {info.attempt}, queue {info.task_queue})"


@workflow.defn(name="checkout_remote")
class CheckoutRemote:
    @workflow.run
    async def run(self, order_id: int) -> str:
        return await workflow.execute_activity("charge", {"id": order_id}, task_queue="payments")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.open(f"sqlite:///{tmp}/shop.db", workflows=[CheckoutRemote])
        runner = web.AppRunner(create_app(engine, ServerConfig()))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        worker = Worker(f"http://127.0.0.1:{port}", task_queue="payments", activities=[charge])
        serving = asyncio.create_task(worker.run_async())
        try:
            engine.start_workflow("checkout_remote", 42, workflow_id="order-42")
            print(await asyncio.to_thread(engine.result, "order-42", 30))
        finally:
            worker.drain()
            await asyncio.wait_for(serving, 30)
            await runner.cleanup()
            engine.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
