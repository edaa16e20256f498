"""Chaos harness: a mixed workload over HTTP against a real ``aionactors serve`` subprocess,
SIGKILLed at random moments and restarted on the same store, then the invariants.

    python -m tests.chaos.harness --kills 40 [--db postgresql://...] [--json out.json]

Invariants checked at the end: every acknowledged start and signal is present exactly once,
one completion per workflow, contiguous seqs, and each activity's side effect happened at
least once and at most once per recorded attempt (never for an unrecorded one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.transports.processes import start_server
from transports.client import AionClient, ClientError

_LOAD = "tests.chaos.workload"


@dataclass
class Report:
    backend: str
    kills: int = 0
    acknowledged_starts: int = 0
    acknowledged_signals: int = 0
    lost: int = 0
    duplicated: int = 0
    violations: list[str] = field(default_factory=list)
    worst_recovery_seconds: float = 0.0


@dataclass
class _Ledger:
    signals: dict[str, list[str]] = field(default_factory=dict)
    """workflow id -> acknowledged signal tokens."""
    sent: int = 0


async def _workload(url: str, ledger: _Ledger, rng: random.Random, stop: float) -> None:
    """Starts and signals until ``stop`` (monotonic) or the server dies."""
    async with AionClient(url, reconnect_attempts=0) as client:
        while time.monotonic() < stop:
            if not ledger.signals or rng.random() < 0.3:
                workflow_id = f"chaos-{len(ledger.signals)}"
                try:
                    await client.start("chaos", workflow_id=workflow_id)
                except ClientError as exc:
                    if exc.code != "already_exists":  # started, but the answer was lost
                        raise
                ledger.signals[workflow_id] = []
            else:
                workflow_id = rng.choice(sorted(ledger.signals))
                ledger.sent += 1  # unique even when a signal's answer was lost in a kill
                token = f"{workflow_id}#{ledger.sent}"
                await client.signal(workflow_id, "note", token)
                ledger.signals[workflow_id].append(token)


def _serve(db: str, env_log: Path) -> tuple[subprocess.Popen[str], str, float]:
    os.environ["AIONACTORS_TEST_CHAOS_LOG"] = str(env_log)
    began = time.monotonic()
    process, url = start_server(db, load=_LOAD)
    return process, url, time.monotonic() - began


async def run(db: str, kills: int, seed: int = 0, workdir: Path | None = None) -> Report:
    rng = random.Random(seed)
    workdir = workdir or Path(tempfile.mkdtemp(prefix="chaos-"))
    effects = workdir / "side-effects.log"
    effects.touch()
    report = Report(backend=db.split(":", 1)[0])
    ledger = _Ledger()
    for _ in range(kills):
        process, url, recovery = _serve(db, effects)
        report.worst_recovery_seconds = max(report.worst_recovery_seconds, recovery)
        try:
            workload = asyncio.create_task(_workload(url, ledger, rng, time.monotonic() + 60))
            await asyncio.sleep(rng.uniform(0.2, 1.0))
        finally:
            process.send_signal(signal.SIGKILL)  # mid-flight: requests are on the wire
            process.wait(30)
        with contextlib.suppress(ClientError, aiohttp.ClientError, OSError, TimeoutError):
            await asyncio.wait_for(workload, timeout=30)  # the one in flight is not acknowledged
        report.kills += 1
    process, url, recovery = _serve(db, effects)
    report.worst_recovery_seconds = max(report.worst_recovery_seconds, recovery)
    try:
        await _check(url, ledger, effects, report)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return report


async def _check(url: str, ledger: _Ledger, effects: Path, report: Report) -> None:
    report.acknowledged_starts = len(ledger.signals)
    report.acknowledged_signals = sum(len(tokens) for tokens in ledger.signals.values())
    async with AionClient(url) as client:
        for workflow_id in ledger.signals:
            await client.signal(workflow_id, "finish", None)
        for workflow_id in ledger.signals:
            outcome = await client.result(workflow_id, wait_ms=60_000)
            if outcome["status"] != "Completed":
                report.violations.append(f"{workflow_id}: ended {outcome['status']}")
        logged = Counter(effects.read_text().split())
        recorded: set[str] = set()
        for workflow_id, tokens in ledger.signals.items():
            events = await _history(client, workflow_id)
            _check_history(workflow_id, tokens, events, logged, recorded, report)
        for token in logged:
            if token not in recorded:
                report.violations.append(f"side effect {token} has no recorded attempt")


async def _history(client: AionClient, workflow_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    from_seq: int | None = 1
    while from_seq is not None:
        page = await client.history(workflow_id, from_seq=from_seq)
        events += page["events"]
        from_seq = page["next_from_seq"]
    return events


def _check_history(
    workflow_id: str,
    tokens: list[str],
    events: list[dict[str, Any]],
    logged: Counter[str],
    recorded: set[str],
    report: Report,
) -> None:
    types = Counter(e["type"] for e in events)
    if types["WorkflowStarted"] != 1:
        report.violations.append(f"{workflow_id}: {types['WorkflowStarted']} starts")
        report.lost += types["WorkflowStarted"] == 0
    if types["WorkflowCompleted"] != 1:
        report.violations.append(f"{workflow_id}: {types['WorkflowCompleted']} completions")
    if [e["seq"] for e in events] != list(range(1, len(events) + 1)):
        report.violations.append(f"{workflow_id}: seqs are not contiguous from 1")
    received = Counter(
        e["payload"] for e in events if e["type"] == "SignalReceived" and e["name"] == "note"
    )
    for token in tokens:
        if received[token] == 0:
            report.lost += 1
            report.violations.append(f"{workflow_id}: acknowledged signal {token} lost")
        elif received[token] > 1:
            report.duplicated += 1
            report.violations.append(f"{workflow_id}: signal {token} recorded twice")
    inputs = {e["activity_id"]: e["input"] for e in events if e["type"] == "ActivityScheduled"}
    attempts = Counter(inputs[e["activity_id"]][0] if isinstance(inputs[e["activity_id"]], list)
                       else inputs[e["activity_id"]]
                       for e in events if e["type"] == "ActivityStarted")  # fmt: skip
    for token, count in attempts.items():
        recorded.add(token)
        if not 1 <= logged[token] <= count:
            report.violations.append(
                f"{workflow_id}: side effect {token} ran {logged[token]}x for {count} attempts"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--db", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    db = args.db or f"sqlite:///{workdir / 'chaos.db'}"
    report = asyncio.run(run(db, args.kills, args.seed, workdir))
    for key, value in asdict(report).items():
        print(f"{key:>24}: {value}")
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    return 1 if report.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
