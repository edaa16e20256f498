"""Each namespace has its own workflow ids: the same id in two namespaces is two workflows,
their children and signal targets stay in their namespace, and nothing of one changes
what the other is told (PROTOCOL.md, "Identity and namespaces")."""

from __future__ import annotations

from typing import Any

import pytest

from aionactors import Engine, InvalidInput, workflow
from aionactors.core.workflow_keys import KEY_SEPARATOR, public_id, workflow_key
from tests.engine import workflows as w
from tests.engine.support import WAIT, checked, open_engine


@workflow.defn(name="ns.echo")
class Echo:
    @workflow.run
    async def run(self, value: Any) -> Any:
        return {"value": value, "me": workflow.info().workflow_id}


@workflow.defn(name="ns.inbox")
class Inbox:
    def __init__(self) -> None:
        self.got: list[Any] = []

    @workflow.run
    async def run(self, wanted: int) -> list[Any]:
        await workflow.wait_condition(lambda: len(self.got) >= wanted)
        return self.got

    @workflow.signal
    def put(self, value: Any) -> None:
        self.got.append(value)


@workflow.defn(name="ns.parent")
class Parent:
    @workflow.run
    async def run(self, tag: str) -> Any:
        child = await workflow.execute_child_workflow(Echo, tag, workflow_id="kid")
        workflow.signal_external("inbox", "put", tag)
        return {"child": child, "me": workflow.info().workflow_id}


@pytest.fixture
def engine(db_path, clock):
    yield from checked(open_engine(db_path, clock, workflows=[Parent, Echo, Inbox, w.Parked]))


def test_the_same_id_in_two_namespaces_is_two_workflows(engine: Engine) -> None:
    a = engine.start_workflow(w.Parked, workflow_id="order-1", namespace="tenant-a")
    b = engine.start_workflow(w.Parked, workflow_id="order-1", namespace="tenant-b")
    plain = engine.start_workflow(w.Parked, workflow_id="order-1")
    assert len({a.workflow_id, b.workflow_id, plain.workflow_id}) == 3
    assert plain.workflow_id == "order-1"  # the default namespace keys by the bare id
    assert a.workflow_id == workflow_key("tenant-a", "order-1")
    assert {public_id(h.workflow_id) for h in (a, b, plain)} == {"order-1"}
    engine.cancel(a.workflow_id)
    assert engine.summary(b.workflow_id).status.value == "Running"
    for namespace in ("tenant-a", "tenant-b", "default"):
        (listed,) = engine.list_workflows(namespace=namespace).workflows
        assert listed.namespace == namespace


def test_children_and_signal_targets_live_in_the_parent_namespace(engine: Engine) -> None:
    for namespace in ("tenant-a", "tenant-b"):
        engine.start_workflow(Inbox, 1, workflow_id="inbox", namespace=namespace)
    outcomes = {
        namespace: engine.start_workflow(
            Parent, namespace, workflow_id="parent", namespace=namespace
        )
        for namespace in ("tenant-a", "tenant-b")
    }
    for namespace, handle in outcomes.items():
        # workflow code knows its workflows by their ids, never by the engine's keys
        assert handle.result(timeout=WAIT) == {
            "child": {"value": namespace, "me": "kid"},
            "me": "parent",
        }
        kid = engine.summary(workflow_key(namespace, "kid"))
        assert kid is not None and kid.namespace == namespace
        assert kid.parent == handle.workflow_id
        inbox = engine.get_handle("inbox", namespace=namespace)
        assert inbox.result(timeout=WAIT) == [namespace]  # only its own parent's signal


def test_an_id_or_namespace_holding_the_separator_is_refused(engine: Engine) -> None:
    for kwargs in (
        {"workflow_id": f"a{KEY_SEPARATOR}b"},
        {"workflow_id": "x", "namespace": f"t{KEY_SEPARATOR}"},
    ):
        with pytest.raises(InvalidInput, match="U\\+001F"):
            engine.start_workflow(w.Parked, **kwargs)
    assert engine.count_workflows() == 0


def test_namespaced_workflows_resume_after_a_restart(db_path, clock) -> None:
    first = open_engine(db_path, clock, workflows=[Inbox])
    first.start_workflow(Inbox, 2, workflow_id="box", namespace="tenant-a")
    first.start_workflow(Inbox, 1, workflow_id="box", namespace="tenant-b")
    key_a = workflow_key("tenant-a", "box")
    first.signal(key_a, "put", 1)
    first.shutdown()
    engine = open_engine(db_path, clock, workflows=[Inbox])
    try:
        engine.signal(key_a, "put", 2)
        assert engine.get_handle("box", namespace="tenant-a").result(timeout=WAIT) == [1, 2]
        engine.signal(workflow_key("tenant-b", "box"), "put", "b")
        assert engine.result(workflow_key("tenant-b", "box"), timeout=WAIT) == ["b"]
    finally:
        engine.shutdown()
