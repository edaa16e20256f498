"""Listing by parent is per namespace too: a child's summary records its parent's engine
key, so ``GET /workflows?parent=`` (the console's Children card) and ``/workflows/count``
find the parent by its id in the request's namespace, as every route finds a workflow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from aionactors import Engine
from aionactors.core.workflow_keys import KEY_SEPARATOR
from aionactors.engine import engine as engine_module
from aionactors.engine.clock import ManualClock
from aionactors.store import SQLiteStore
from tests.console.console_workflows import Parent
from tests.transports import sample_workflows as s
from tests.transports.api import get, start
from tests.transports.support import TENANT_A, TENANT_B, tenant


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine.open(
        SQLiteStore(tmp_path / "server.db"), workflows=[Parent, *s.WORKFLOWS],
        activities=s.ACTIVITIES, clock=ManualClock(),
    )  # fmt: skip
    yield engine
    engine.shutdown()


async def children(client: TestClient, namespace: str, parent: str) -> tuple[list[Any], int]:
    """The listed children of ``parent`` (id, parent) and their count, over HTTP."""
    query = {"namespace": namespace, "parent": parent}
    status, page = await get(client, "/workflows", query, tenant(namespace))
    assert status == 200, page
    assert KEY_SEPARATOR not in repr(page)
    status, counted = await get(client, "/workflows/count", query, tenant(namespace))
    assert status == 200, counted
    return [(w["workflow_id"], w["parent"]) for w in page["workflows"]], counted["count"]


async def child_started(engine: Engine, namespace: str, count: int) -> None:
    """Wait until ``namespace`` has ``count`` children (the parents start them)."""
    for _ in range(1000):
        page = await engine.list_workflows_async(namespace=namespace, workflow_type="collector")
        if len(page.workflows) == count:
            return
        await asyncio.sleep(0.01)  # the parent's first step starts its child
    raise AssertionError(f"{namespace} never had {count} children")


async def test_children_are_listed_by_their_parents_id_in_its_namespace(
    client: TestClient, engine: Engine
) -> None:
    for namespace in (TENANT_A, TENANT_B, "default"):  # the same parent id in each
        await start(client, "parent", namespace=namespace, workflow_id="p1")
        await child_started(engine, namespace, 1)
    for namespace in (TENANT_A, TENANT_B, "default"):
        listed, count = await children(client, namespace, "p1")
        assert count == 1 and len(listed) == 1
        ((child, parent),) = listed
        assert parent == "p1"
        mine = await engine.list_workflows_async(namespace=namespace, workflow_type="collector")
        assert [w.workflow_id.rpartition(KEY_SEPARATOR)[2] for w in mine.workflows] == [child]
    assert await children(client, TENANT_A, "nobody") == ([], 0)


async def test_a_parent_stored_under_its_bare_id_lists_its_children(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old_version:  # an earlier version: bare ids everywhere
        old_version.setattr(engine_module, "workflow_key", lambda namespace, wid: wid)
        await start(client, "parent", namespace=TENANT_A, workflow_id="legacy")
    assert engine.summary("legacy").namespace == TENANT_A
    await child_started(engine, TENANT_A, 1)
    listed, count = await children(client, TENANT_A, "legacy")
    assert count == 1 and [parent for _, parent in listed] == ["legacy"]
    assert await children(client, TENANT_B, "legacy") == ([], 0)
