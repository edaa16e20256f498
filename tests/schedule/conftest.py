from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aionactors.engine.clock import ManualClock
from tests.schedule.support import T0, Harness


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def harness(tmp_path: Path, clock: ManualClock) -> Iterator[Harness]:
    h = Harness(tmp_path / "schedules.db", clock)
    yield h
    h.close()
