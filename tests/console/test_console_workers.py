"""The workers page: a real Worker SDK connected to the console's server, its queue, slots in
use and the backlog of a queue nobody serves, refreshed live as the worker's activity ends."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

from playwright.sync_api import expect

from aionactors import activity
from tests.console.conftest import screenshot
from tests.console.server import Server
from tests.console.test_console_pages import UNNAMED_CONTROLS
from transports.worker import Worker

QUEUE, UNSERVED = "console-payments", "console-unserved"
RELEASE = threading.Event()


@activity.defn
def console_charge(_: None = None) -> str:
    """Holds its slot until the test releases it (bounded)."""
    RELEASE.wait(30)
    return "charged"


@contextlib.contextmanager
def connected_worker(server: Server, namespace: str) -> Iterator[Worker]:
    """The Worker SDK on a loop of its own thread (Playwright's sync API holds this one)."""
    worker = Worker(server.url, task_queue=QUEUE, activities=[console_charge],
                    namespace=namespace, max_concurrent=2, node="gpu-host-1")  # fmt: skip
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(worker.run_async(),))
    thread.start()
    try:
        for _ in range(1000):  # until it is registered
            status, body = server.call("GET", f"/workers?namespace={namespace}")
            if status == 200 and body["workers"]:
                break
            time.sleep(0.01)
        else:
            raise AssertionError("the worker never registered")
        yield worker
    finally:
        RELEASE.set()
        loop.call_soon_threadsafe(worker.drain)
        thread.join(30)
        loop.close()


def test_the_workers_page_lists_a_connected_worker_and_refreshes(
    open_page, server, namespace, tmp_path
):
    RELEASE.clear()
    with connected_worker(server, namespace) as worker:
        held = server.start(namespace, "remote_charge", QUEUE)
        server.start(namespace, "remote_charge", UNSERVED)  # waits: no worker serves it
        watched = open_page(namespace)
        page = watched.page
        watched.open("#/workers")
        row = page.locator(f'tr[data-worker-id="{worker.worker_id}"]')
        expect(row).to_contain_text("gpu-host-1")
        expect(row).to_contain_text(namespace)
        expect(row).to_contain_text(QUEUE)
        expect(row).to_contain_text("console_charge")
        expect(row.locator(".slots-text")).to_have_text("1 / 2")
        queues = page.get_by_label("Task queues")
        expect(queues.locator(f'tr[data-task-queue="{UNSERVED}"]')).to_contain_text("1 waiting")
        expect(queues.locator(f'tr[data-task-queue="{QUEUE}"] .slots-text')).to_have_text("1 / 2")
        expect(page.locator(".live-indicator")).to_contain_text("refreshed every")
        screenshot(page, "workers", tmp_path)
        assert page.evaluate(UNNAMED_CONTROLS) == []

        RELEASE.set()  # the activity ends: the next refresh shows its slot free again
        wait = {"namespace": namespace, "workflow_id": held, "wait_ms": 10000}
        status, body = server.call("POST", "/workflows/result", wait)
        assert status == 200 and body["result"] == "charged", body
        expect(row.locator(".slots-text")).to_have_text("0 / 2")
        refresh = page.get_by_role("button", name="Refresh")
        refresh.focus()
        page.keyboard.press("Enter")  # usable by keyboard
        expect(row.locator(".slots-text")).to_have_text("0 / 2")
        page.get_by_role("link", name="Health").click()
        figures = page.get_by_label("Metrics")
        expect(figures.locator(".tile", has_text="Remote workers")).to_contain_text("1")

    watched.open("#/workers")  # the drained worker is gone from the list
    expect(page.locator("tr[data-worker-id]")).to_have_count(0)
    expect(page.get_by_text("No worker is connected.")).to_be_visible()


def test_the_workers_route_is_namespace_guarded(server, namespace):
    only_other = {"x-aion-subject": "bob", "x-aion-namespaces": "elsewhere"}
    status, body = server.call("GET", f"/workers?namespace={namespace}", headers=only_other)
    assert status == 403 and body["code"] == "namespace_denied", body
