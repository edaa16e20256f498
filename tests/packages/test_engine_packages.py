"""Packages in the engine: versions side by side, pinning across restarts, routes, unload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aionactors import Engine
from aionactors.core.errors import (
    AlreadyExists,
    InvalidInput,
    PackageInvalid,
    RouteActive,
    UnknownVersion,
    VersionPinned,
    WorkflowTypeNotFound,
)
from aionactors.core.events import WorkflowStarted
from aionactors.packages import ExtractionLimits, zip_files
from tests.engine.support import CommitWatch, open_engine
from tests.engine.workflows import Parked
from tests.packages.support import TYPES, package_archive, package_files

WAIT = 20.0


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "packages.db"


@pytest.fixture
def engine(db: Path) -> Iterator[Engine]:
    engine = open_engine(db, workflows=[Parked])
    yield engine
    engine.shutdown()


def start_parked(engine: Engine, workflow_id: str) -> str:
    """Start a Greeter and wait until its first activity is done (it then waits to be released)."""
    engine.start_workflow("Greeter", "ada", workflow_id=workflow_id)
    CommitWatch(engine).has(workflow_id, "ActivityCompleted")
    started = engine.history(workflow_id)[0]
    assert isinstance(started, WorkflowStarted)
    assert started.package_version is not None
    return started.package_version


def finish(engine: Engine, workflow_id: str) -> dict:
    engine.signal(workflow_id, "release")
    return engine.result(workflow_id, timeout=WAIT)


def test_two_versions_run_side_by_side_workflow_and_activity_code(engine: Engine) -> None:
    v1 = engine.packages.deploy(package_archive(1))
    assert v1.freshly_loaded and v1.routes_changed == TYPES
    assert (v1.workflow_types, v1.activity_types) == (TYPES, ["greet"])
    assert start_parked(engine, "old") == v1.content_hash
    v2 = engine.packages.deploy(package_archive(2))
    assert start_parked(engine, "new") == v2.content_hash
    assert finish(engine, "old") == {
        "version": 1,
        "first": "hello from v1, ada",
        "second": "hello from v1, ada",  # its activity runs v1 code although v2 is routed
    }
    assert finish(engine, "new")["second"] == "hello from v2, ada"


def test_pinned_runs_survive_a_restart_and_routes_persist(db: Path) -> None:
    engine = open_engine(db)
    v1 = engine.packages.deploy(package_archive(1)).content_hash
    start_parked(engine, "old")
    v2 = engine.packages.deploy(package_archive(2)).content_hash
    start_parked(engine, "new")
    engine.shutdown()

    engine = open_engine(db)  # no package given: both come back from the store
    try:
        assert engine.packages.routes() == dict.fromkeys(TYPES, v2)
        assert finish(engine, "old")["version"] == 1
        assert finish(engine, "new")["version"] == 2
        engine.packages.route("Greeter", v1)  # roll back
    finally:
        engine.shutdown()
    engine = open_engine(db)
    try:
        assert engine.packages.routes()["Greeter"] == v1
        assert start_parked(engine, "after-rollback") == v1
        assert finish(engine, "after-rollback")["version"] == 1
    finally:
        engine.shutdown()


def test_redeploy_is_idempotent_and_repoints(engine: Engine) -> None:
    v1 = engine.packages.deploy(package_archive(1)).content_hash
    engine.packages.deploy(package_archive(2))
    again = engine.packages.deploy(package_archive(1))
    assert (again.freshly_loaded, again.routes_changed) == (False, TYPES)
    assert engine.packages.routes() == dict.fromkeys(TYPES, v1)
    assert len(engine.store.list_packages()) == 2


def test_deploy_without_route_leaves_new_starts_alone(engine: Engine) -> None:
    v1 = engine.packages.deploy(package_archive(1)).content_hash
    v2 = engine.packages.deploy(package_archive(2), route=False)
    assert v2.routes_changed == [] and engine.packages.routes() == dict.fromkeys(TYPES, v1)
    assert start_parked(engine, "a") == v1


def test_unload_is_refused_while_routed_or_pinned_then_allowed(engine: Engine) -> None:
    v1 = engine.packages.deploy(package_archive(1)).content_hash
    start_parked(engine, "pinned")
    with pytest.raises(RouteActive):
        engine.packages.unload(v1)
    v2 = engine.packages.deploy(package_archive(2)).content_hash
    with pytest.raises(VersionPinned, match="1 non-terminal run"):
        engine.packages.unload(v1)
    listed = {p.content_hash: p for p in engine.packages.list()}
    assert (listed[v1].pinned_runs, listed[v1].routed_types) == (1, [])
    assert (listed[v2].pinned_runs, listed[v2].routed_types) == (0, TYPES)
    finish(engine, "pinned")
    engine.packages.unload(v1)  # drained: nothing pins it any more
    assert [p.content_hash for p in engine.store.list_packages()] == [v2]
    with pytest.raises(UnknownVersion):
        engine.packages.route("Greeter", v1)


def test_a_type_of_the_servers_own_code_cannot_be_deployed(engine: Engine) -> None:
    files = package_files(1)
    files["greeter/flows.py"] = files["greeter/flows.py"].replace(b'"Greeter"', b'"parked"')
    with pytest.raises(AlreadyExists, match="parked"):
        engine.packages.deploy(zip_files(files))
    assert engine.store.list_packages() == [] and engine.packages.list() == []


def test_bad_archives_change_nothing(engine: Engine) -> None:
    files = package_files(1)
    files["greeter/flows.py"] = b"raise RuntimeError('broken at import')"
    with pytest.raises(PackageInvalid, match="RuntimeError: broken at import"):
        engine.packages.deploy(zip_files(files))
    with pytest.raises(PackageInvalid, match="not a zip"):
        engine.packages.deploy(b"nope")
    assert engine.store.list_packages() == [] and engine.packages.routes() == {}
    with pytest.raises(WorkflowTypeNotFound):
        engine.start_workflow("Greeter", "ada")
    assert engine.packages.outcomes["refused"] == 2


def test_limits_come_from_the_engine_settings(db: Path) -> None:
    engine = open_engine(db, package_limits=ExtractionLimits(max_files=2))
    try:
        with pytest.raises(PackageInvalid, match="the limit is 2"):
            engine.packages.deploy(package_archive(1))
    finally:
        engine.shutdown()


def test_route_checks_the_version_defines_the_type(engine: Engine) -> None:
    v1 = engine.packages.deploy(package_archive(1)).content_hash
    with pytest.raises(InvalidInput, match="does not define workflow type 'Other'"):
        engine.packages.route("Other", v1)
    with pytest.raises(UnknownVersion):
        engine.packages.route("Greeter", "sha256:" + "0" * 64)


def test_operator_files_load_every_boot_and_are_never_stored(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "greeter.zip"
    path.write_bytes(package_archive(1))
    engine = open_engine(db, packages=[path])
    try:
        assert start_parked(engine, "op") is not None
        assert engine.store.list_packages() == []
        assert [p.source for p in engine.packages.list()] == ["operator"]
    finally:
        engine.shutdown()
    engine = open_engine(db, packages=[path])
    try:
        assert finish(engine, "op")["version"] == 1
    finally:
        engine.shutdown()


def test_continue_as_new_and_children_follow_the_current_route(engine: Engine) -> None:
    v1 = engine.packages.deploy(package_archive(1)).content_hash
    watch = CommitWatch(engine)
    engine.start_workflow("Looper", 1, workflow_id="loop")
    engine.start_workflow("Spawner", "s", workflow_id="spawner")
    watch.has("spawner", "ChildWorkflowStarted")
    v2 = engine.packages.deploy(package_archive(2)).content_hash
    engine.signal("loop", "next")  # v1 run continues as new: the successor takes v2
    watch.has("loop", "WorkflowStarted", count=2)
    pins = [e.package_version for e in engine.history("loop") if isinstance(e, WorkflowStarted)]
    assert pins == [v1, v2]
    engine.signal("loop", "next")
    assert engine.result("loop", timeout=WAIT) == {"version": 2}
    child = next(e for e in engine.history("spawner") if e.type == "ChildWorkflowStarted")
    assert child.package_version == v1  # the route when the parent recorded it
    engine.signal("child-of-s", "next")
    assert engine.result("spawner", timeout=WAIT) == {"version": 1, "child": {"version": 1}}


def test_a_recorded_unstarted_child_pins_its_version(engine: Engine) -> None:
    v1 = engine.packages.deploy(package_archive(1)).content_hash
    engine.packages.deploy(package_archive(2))
    engine.packages.child_recorded(v1)  # as the parent's actor does before the start runs
    with pytest.raises(VersionPinned):
        engine.packages.unload(v1)
    engine.packages.child_settled(v1)
    engine.packages.unload(v1)
