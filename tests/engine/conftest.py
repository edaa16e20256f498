from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from tests.engine import workflows as w
from tests.engine.support import CommitWatch, assert_histories_replay, open_engine

ALL_WORKFLOWS = [w.Mixed, w.Retrying, w.Parked, w.Sleeper]
ALL_ACTIVITIES = [w.double, w.add_async, w.flaky, w.rejects, w.blocks_until_released]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "engine.db"


@pytest.fixture
def engine(db_path: Path, clock: ManualClock) -> Iterator[Engine]:
    engine = open_engine(db_path, clock, workflows=ALL_WORKFLOWS, activities=ALL_ACTIVITIES)
    yield engine
    try:
        assert_histories_replay(engine)  # whatever the test did replays deterministically
    finally:
        engine.shutdown()


@pytest.fixture
def watch(engine: Engine) -> CommitWatch:
    return CommitWatch(engine)


@pytest.fixture(autouse=True)
def _reset_side_effects() -> Iterator[None]:
    w.EXECUTIONS.clear()
    w.FLAKY_FAILURES.clear()
    w.RELEASE.clear()
    w.RUNNING.clear()
    w.SAW_CANCEL.clear()
    yield
    w.RELEASE.set()
