"""Trusted decoding (rows our own store wrote) builds exactly what validated parsing builds.

The store reads its rows without validating them again (``events.trusted_events``); these
tests hold it to the validated parse, field for field, over every event type, through a
real SQLite file, for rows from before a field existed, and for rows it must not trust.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from aionactors.core import events as ev
from aionactors.core.errors import CorruptHistory
from aionactors.engine.registry import Registry
from aionactors.store import SQLiteStore, WriteToken
from aionactors.workflow.replayer import replay
from benchmarks.replay import synthetic_history
from benchmarks.workloads import LongHistory
from tests.core.factories import event_samples

SAMPLES = event_samples()
TOKEN = WriteToken.recorder()


def _same(decoded: ev.EventBase, validated: ev.EventBase) -> None:
    """Equal, and equal in everything equality does not look at."""
    assert type(decoded) is type(validated)
    assert decoded == validated
    assert decoded.model_fields_set == validated.model_fields_set
    assert list(decoded.__dict__) == list(validated.__dict__)
    assert repr(decoded) == repr(validated)
    assert ev.event_json(decoded) == ev.event_json(validated)
    for name, value in validated.__dict__.items():
        assert type(decoded.__dict__[name]) is type(value), name


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: f"{e.type}-{e.seq}")
def test_trusted_decoding_equals_validated_parsing(event: ev.EventBase) -> None:
    state = ev.event_json(event)
    validated = ev.parse_event(state)
    _same(ev.trusted_event(json.loads(state)), validated)
    _same(ev.trusted_events([state])[0], validated)


def test_every_workflow_event_type_is_built_without_validation() -> None:
    """Only the types with nested rich models are validated (rare: once per history)."""
    validated = set(ev.EVENT_TYPES) - set(ev.TRUSTED_PLANS)
    assert validated == {"SearchAttributesUpdated", "ScheduleCreated", "ScheduleUpdated"}


def test_a_row_without_the_later_fields_gets_their_defaults() -> None:
    """Rows written before a field existed leave it out: decoded like the validated parse."""
    for event in SAMPLES:
        data = json.loads(ev.event_json(event))
        cls = ev.EVENT_TYPES[event.type]
        for name, info in cls.model_fields.items():
            if not info.is_required() and name != "type":
                data.pop(name, None)
        text = json.dumps(data).encode()
        _same(ev.trusted_event(json.loads(text)), ev.parse_event(text))


def test_rows_that_do_not_fit_are_refused() -> None:
    started = json.loads(ev.event_json(SAMPLES[0]))
    with pytest.raises(ev.UntrustedRow):
        ev.trusted_event({**started, "extra": 1})
    missing = dict(started)
    del missing["run_id"]
    with pytest.raises(ev.UntrustedRow):
        ev.trusted_event(missing)
    with pytest.raises(KeyError):
        ev.trusted_event({"seq": 1})
    with pytest.raises(ev.UntrustedRow):
        ev.trusted_events([b"1, 2"])


def test_the_store_reads_every_event_type_back_as_validated(tmp_path: Path) -> None:
    """One history holding every sample, through every read path of a real SQLite store."""
    history = [
        ev.EVENT_TYPES[e.type].model_validate({**e.__dict__, "seq": n, "workflow_id": "wf"})
        for n, e in enumerate(SAMPLES, start=1)
    ]
    with SQLiteStore(tmp_path / "all.db") as store:
        store.append(TOKEN, "wf", history, 0)
        reads = [
            store.read_history("wf"),
            store.read_histories(["wf"])["wf"],
            [c.event for c in store.read_history_positioned("wf", 1)],
            [c.event for c in store.read_committed(0, limit=len(history))],
        ]
    validated = [ev.parse_event(ev.event_json(e)) for e in history]
    for read in reads:
        assert len(read) == len(validated)
        for decoded, expected in zip(read, validated, strict=True):
            _same(decoded, expected)


def _plant(path: Path, seq: int, state: bytes) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO aion_events (originator_id, originator_version, topic, state)"
            " VALUES (?, ?, ?, ?)",
            ("wf", seq, "X", state),
        )


@pytest.mark.parametrize(
    "state",
    [
        b"{not json",
        b'{"seq": 2, "type": "NoSuchEvent"}',
        b"[1, 2]",
        b'{"seq": 2, "recorded_at": "not a time", "workflow_id": "wf", "type": "TimerFired",'
        b' "timer_id": "named:t"}',
    ],
)
def test_a_corrupt_row_among_good_ones_is_named(tmp_path: Path, state: bytes) -> None:
    path = tmp_path / "corrupt.db"
    with SQLiteStore(path) as store:
        store.append(TOKEN, "wf", [_started()], 0)
    _plant(path, 2, state)
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match=r"'wf'#2"):
        store.read_history("wf")


def test_a_row_whose_text_spans_two_rows_is_not_merged(tmp_path: Path) -> None:
    """Bulk decoding joins rows into one JSON array: a row that is not one value each
    must not shift its neighbours into its place."""
    path = tmp_path / "split.db"
    with SQLiteStore(path) as store:
        store.append(TOKEN, "wf", [_started()], 0)
    timer = json.loads(ev.event_json(ev.TimerFired(**_envelope(2), timer_id="named:t")))
    text = json.dumps(timer).encode()
    # Joined, rows 2 and 3 read as one valid object (row 2's "x" holding ","): one
    # value short, so every row is decoded alone and row 2 is found out.
    _plant(path, 2, text[:-1] + b', "x": "')
    _plant(path, 3, b'"}')
    with SQLiteStore(path) as store, pytest.raises(CorruptHistory, match=r"'wf'#2"):
        store.read_history("wf")


def _envelope(seq: int) -> dict[str, object]:
    return {"seq": seq, "recorded_at": SAMPLES[0].recorded_at, "workflow_id": "wf"}


def _started() -> ev.WorkflowStarted:
    return ev.WorkflowStarted(**_envelope(1), workflow_type="order", run_id="r1")


def test_a_history_read_back_replays_to_the_same_result(tmp_path: Path) -> None:
    """The engine's replay over trusted-decoded events reaches the recorded outcome."""
    activities = 50
    history = synthetic_history("long", activities)
    registry = Registry()
    registry.add_workflow(LongHistory)
    with SQLiteStore(tmp_path / "replay.db") as store:
        store.append(TOKEN, "long", history, 0)
        loaded = store.read_history("long")
    assert loaded == history
    driver = replay(registry.workflow("long_history"), loaded)
    assert getattr(driver.terminal, "result", None) == activities
