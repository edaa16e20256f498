"""The suite: every workload, its sizes, and the rows it adds to the comparison table.

Each workload runs in fresh interpreters where it matters (throughput, DBOS,
recovery, residency, server), so one workload's threads, caches and garbage
never weigh on the next. A workload that fails is reported as failed, with the
reason, and the suite goes on.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import recovery, replay, residency
from benchmarks.common import REPO, RESULTS, run_json
from benchmarks.peer import Peer, prepare_dbos, run_dbos

Row = dict[str, str]
_RUN_TIMEOUT = 1800.0


@dataclass
class Sizes:
    """Every parameter of a run; recorded with its results."""

    smoke: bool = False
    rounds: int = 3
    concurrent: int = 2000
    sequential: int = 300
    starters: int = 64
    replay_events: list[int] = field(default_factory=lambda: [1_000, 10_000, 100_000])
    recovery_workflows: list[int] = field(default_factory=lambda: [2_000, 50_000])
    parked: int = 100_000
    parked_warm_up: int = residency.WARM_UP
    parked_million: bool = False
    server_clients: int = 32
    server_round_trips: int = 3000
    fanout_subscribers: list[int] = field(default_factory=lambda: [1, 100, 1000])
    fanout_events: int = 100
    fanout_burst: int = 200
    """Short workflows started flat out while the firehose subscribers count deliveries."""

    @classmethod
    def for_smoke(cls) -> Sizes:
        return cls(
            smoke=True,
            rounds=1,
            concurrent=20,
            sequential=5,
            replay_events=[1_000],
            recovery_workflows=[50],
            parked=400,
            parked_warm_up=100,
        )


@dataclass
class Outcome:
    """What one workload measured: its table rows and everything behind them."""

    rows: list[Row]
    details: dict[str, Any]


def row(
    number: str, workload: str, measure: str, ours: str, other: str = "", ratio: str = ""
) -> Row:
    return {
        "#": number,
        "workload": workload,
        "measure": measure,
        "aionactors": ours,
        "compared with": other,
        "ratio": ratio,
    }


def _n(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _short(count: int) -> str:
    return f"{count / 1000:g}k" if count >= 1000 else str(count)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- 1, 2, 3: throughput, DBOS side by side, storage limit ---------------------------------


def _run_aion(
    folder: Path, mode: str, count: int, starters: int, storage: bool, *, empty: bool = False
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.aion_workload",
        "--folder",
        str(folder),
        "--mode",
        mode,
        "--count",
        str(count),
        "--starters",
        str(starters),
    ]
    if storage:
        command.append("--storage-limit")
    if empty:
        command.append("--empty")
    result, _ = run_json(command, f"aionactors {mode} run", _RUN_TIMEOUT)
    return result


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs": len(runs),
        "workflows_per_s": _median([r["workflows_per_s"] for r in runs]),
        "p50_ms": _median([r["p50_ms"] for r in runs]),
        "p99_ms": _median([r["p99_ms"] for r in runs]),
        "cores_busy": _median([r["cores_busy"] for r in runs if "cores_busy" in r]),
        "context_switches_per_ms": _median(
            [r["context_switches_per_ms"] for r in runs if "context_switches_per_ms" in r]
        ),
        "cpu_ms_per_workflow": _median(
            [
                (r["cpu_user_s"] + r["cpu_system_s"]) * 1000 / r["workflows"]
                for r in runs
                if "cpu_user_s" in r
            ]
        ),
        "sqlite": runs[-1]["sqlite"] if runs else None,
        "appends_per_commit": _median([r["appends_per_commit"] for r in runs])
        if runs and "appends_per_commit" in runs[0]
        else None,
    }


def comparison(sizes: Sizes, scratch: Path, names: set[str]) -> dict[str, Outcome]:
    """Alternate aionactors and DBOS, round after round, so drift hits both alike."""
    with_dbos = "dbos" in names
    with_storage = "storage" in names
    peer = prepare_dbos(smoke=sizes.smoke) if with_dbos else Peer(None, "not run")
    modes = {"concurrent": sizes.concurrent, "sequential": sizes.sequential}
    rounds: list[dict[str, Any]] = []
    for number in range(sizes.rounds):
        engines = ["aionactors", "dbos"] if number % 2 == 0 else ["dbos", "aionactors"]
        measured: dict[str, Any] = {}
        for mode, count in modes.items():
            for engine in engines:
                if engine == "dbos" and not peer.available:
                    continue
                folder = scratch / f"round{number}-{engine}-{mode}"
                folder.mkdir(parents=True)
                _progress(f"round {number + 1}/{sizes.rounds}: {engine} {mode}, {count} workflows")
                if engine == "aionactors":
                    measured[f"aionactors_{mode}"] = _run_aion(
                        folder, mode, count, sizes.starters, with_storage and mode == "concurrent"
                    )
                else:
                    try:
                        measured[f"dbos_{mode}"] = run_dbos(
                            peer, folder / "dbos.sqlite", mode, count, sizes.starters, _RUN_TIMEOUT
                        )
                    except (RuntimeError, subprocess.TimeoutExpired) as exc:
                        peer = Peer(None, f"unavailable (run failed: {exc})")
        rounds.append(measured)

    ours = {m: _summary([r[f"aionactors_{m}"] for r in rounds]) for m in modes}
    theirs = {m: _summary([r[f"dbos_{m}"] for r in rounds if f"dbos_{m}" in r]) for m in modes}
    ratios = {
        m: _median(
            [
                r[f"aionactors_{m}"]["workflows_per_s"] / r[f"dbos_{m}"]["workflows_per_s"]
                for r in rounds
                if f"dbos_{m}" in r
            ]
        )
        for m in modes
    }
    dbos_ok = peer.available and all(theirs[m]["runs"] == sizes.rounds for m in modes)
    outcomes: dict[str, Outcome] = {}

    number = "1-2" if with_dbos else "1"
    throughput_rows: list[Row] = []
    for mode, count in modes.items():
        label = f"3 activities, {mode}, {count:,} wf" + (
            f", {sizes.starters} starter threads" if mode == "concurrent" else ""
        )
        a, d = ours[mode], theirs[mode]
        ratio = ratios[mode]
        other = f"DBOS {_n(d['workflows_per_s'])}" if dbos_ok else peer.describe()
        throughput_rows.append(
            row(
                number,
                label,
                "workflows/s (median)",
                _n(a["workflows_per_s"]),
                other if with_dbos else "",
                f"{ratio:.2f}x DBOS" if dbos_ok and ratio else "",
            )
        )
        throughput_rows.append(
            row(
                number,
                label,
                "latency p50 / p99 ms",
                f"{_n(a['p50_ms'])} / {_n(a['p99_ms'])}",
                f"DBOS {_n(d['p50_ms'])} / {_n(d['p99_ms'])}" if dbos_ok else "",
            )
        )
        if mode == "concurrent":
            throughput_rows.append(
                row(
                    number,
                    label,
                    "cores busy / context switches per ms",
                    f"{_n(a['cores_busy'], 2)} / {_n(a['context_switches_per_ms'])}",
                    f"DBOS {_n(d['cores_busy'], 2)} / {_n(d['context_switches_per_ms'])}"
                    if dbos_ok
                    else "",
                )
            )
            throughput_rows.append(
                row(
                    number,
                    label,
                    "CPU ms per workflow (all threads, user + system)",
                    _n(a["cpu_ms_per_workflow"], 2),
                    f"DBOS {_n(d['cpu_ms_per_workflow'], 2)}" if dbos_ok else "",
                )
            )
    # What a workflow costs before its first activity: the floor under row 1's CPU.
    folder = scratch / "no-activities"
    folder.mkdir(parents=True)
    _progress(f"no-activity workflows, concurrent, {sizes.concurrent} workflows")
    bare = _run_aion(folder, "concurrent", sizes.concurrent, sizes.starters, False, empty=True)
    bare_cpu = (bare["cpu_user_s"] + bare["cpu_system_s"]) * 1000 / bare["workflows"]
    throughput_rows.append(
        row(
            number,
            f"no activities (start, complete), concurrent, {sizes.concurrent:,} wf",
            "workflows/s / CPU ms per workflow",
            f"{_n(bare['workflows_per_s'])} / {_n(bare_cpu, 2)}",
        )
    )
    sqlite = ours["concurrent"]["sqlite"] or {}
    their_sqlite = theirs["concurrent"]["sqlite"] or {}
    throughput_rows.append(
        row(
            number,
            "SQLite file, same disk",
            "journal / synchronous",
            f"{sqlite.get('journal_mode')} / {sqlite.get('synchronous')}",
            f"DBOS {their_sqlite.get('journal_mode')} / {their_sqlite.get('synchronous')}"
            if dbos_ok
            else "",
        )
    )
    details = {
        "rounds": rounds,
        "aionactors": ours,
        "dbos": theirs if dbos_ok else {"status": peer.describe()},
        "ratio_aionactors_over_dbos": ratios if dbos_ok else None,
    }
    outcomes["throughput"] = Outcome(
        throughput_rows, {"aionactors": ours, "rounds": rounds, "no_activities": bare}
    )
    if with_dbos:
        outcomes["dbos"] = Outcome([], details)  # its figures are in the throughput rows
    if with_storage:
        outcomes["storage"] = _storage(sizes, rounds)
    return outcomes


def _storage(sizes: Sizes, rounds: list[dict[str, Any]]) -> Outcome:
    runs = [r["aionactors_concurrent"] for r in rounds]
    limits = [r["storage_limit"] for r in runs]
    ours = _median([r["workflows_per_s"] for r in runs]) or 0.0
    same = _median([s["same_batches_workflows_per_s"] for s in limits]) or 0.0
    grouped = _median([s["grouped_workflows_per_s"] for s in limits]) or 0.0
    events_per_txn = _median([s["events"] / max(s["transactions"], 1) for s in limits]) or 0.0
    fraction_same = _median(
        [r["workflows_per_s"] / r["storage_limit"]["same_batches_workflows_per_s"] for r in runs]
    )
    fraction_grouped = _median(
        [r["workflows_per_s"] / r["storage_limit"]["grouped_workflows_per_s"] for r in runs]
    )
    rows = [
        row(
            "3",
            f"raw eventsourcing recorder, our own commits ({events_per_txn:,.0f} events/txn)",
            "workflows/s",
            _n(ours),
            f"raw {_n(same)}",
            f"{fraction_same:.1%} of it" if fraction_same is not None else "",
        ),
        row(
            "3",
            f"raw eventsourcing recorder, {limits[0]['grouped_per_transaction']} wf/txn",
            "workflows/s",
            _n(ours),
            f"raw {_n(grouped)}",
            f"{fraction_grouped:.1%} of it" if fraction_grouped is not None else "",
        ),
    ]
    details = {
        "ours_workflows_per_s": ours,
        "raw_same_batches_workflows_per_s": same,
        "raw_grouped_workflows_per_s": grouped,
        "fraction_of_same_batches": fraction_same,
        "fraction_of_grouped": fraction_grouped,
        "events_per_workflow": limits[0]["events_per_workflow"],
        "per_round": limits,
    }
    return Outcome(rows, details)


# ---- 4: replay -----------------------------------------------------------------------------


def replay_workload(sizes: Sizes, scratch: Path) -> Outcome:
    folder = scratch / "replay"
    folder.mkdir()
    _progress(f"replay: histories of {', '.join(f'{n:,}' for n in sizes.replay_events)} events")
    details = replay.run(folder, sizes.replay_events)
    rows = [
        row(
            "4",
            f"rehydrate a {h['events']:,}-event history (read + replay)",
            "events/s",
            _n(h["events_per_s"]),
            f"read {_n(h['read_ms'])} ms + replay {_n(h['replay_ms'])} ms",
        )
        for h in details["histories"]
    ]
    if not details["synthetic_matches_live"] or not all(
        h["completed_with_same_result"] for h in details["histories"]
    ):
        rows.append(row("4", "replay check", "", "FAILED: see latest.json"))
    return Outcome(rows, details)


# ---- 5: recovery ---------------------------------------------------------------------------


def recovery_workload(sizes: Sizes, scratch: Path) -> Outcome:
    rows: list[Row] = []
    runs: list[dict[str, Any]] = []
    million = [1_000_000] if sizes.parked_million and not sizes.smoke else []
    for count in [*sizes.recovery_workflows, *million]:
        _progress(f"recovery: {count:,} parked workflows, SIGKILL, restart")
        try:
            d = recovery.run(scratch / f"recovery-{count}", count, _RUN_TIMEOUT)
        except Exception as exc:
            d = {"workflows": count, "failed": f"{type(exc).__name__}: {exc}"[:300]}
        runs.append(d)
        label = f"{count:,} parked on timer + signal, kill -9, restart"
        if "open_s" in d:
            rows.append(
                row(
                    "5",
                    label,
                    "Engine.open returns (s)",
                    _n(d["open_s"], 2),
                    f"{d['resident_at_open']:,} actors started",
                )
            )
        if "first_answer_s" in d:
            rows.append(row("5", label, "open -> first answer (s)", _n(d["first_answer_s"], 2), ""))
        if "failed" in d:
            logged = d.get("logged_errors") or []
            rows.append(row("5", label, "all recovered", "FAILED", d["failed"][:120]))
            rows += [row("5", label, "engine log", "", line) for line in logged[:2]]
            continue
        rows += [
            row(
                "5",
                label,
                "all rehydrated, answering (s)",
                _n(d["ready_s"], 2),
                f"{d['timers_armed']:,} timers armed",
            ),
            row(
                "5",
                label,
                "a signal to each until all done (s)",
                _n(d["signals_s"], 2),
                f"{_n(d['signal_to_complete_per_s'])} signal-to-complete/s",
            ),
        ]
        if not (d["all_waiting"] and d["all_completed"]):
            rows.append(row("5", label, "check", "FAILED: not every workflow recovered"))
        for line in (d.get("logged_errors") or [])[:1]:  # recovered, but not without trouble
            rows.append(row("5", label, "engine log, recovered anyway", "", line))
    return Outcome(rows, {"runs": runs})


# ---- 6: residency --------------------------------------------------------------------------


def residency_workload(sizes: Sizes, scratch: Path) -> Outcome:
    counts = [sizes.parked] + ([1_000_000] if sizes.parked_million else [])
    runs = []
    for count in counts:
        _progress(f"residency: {count:,} parked workflows (max_resident={residency.MAX_RESIDENT})")
        runs.append(residency.run(scratch / f"residency-{count}", count, sizes.parked_warm_up))
    rows = []
    for d in runs:
        label = f"{d['workflows']:,} parked, evicted (max_resident {d['max_resident']:,})"
        rows += [
            row(
                "6",
                label,
                "RSS bytes/workflow",
                _n(d["rss_bytes_per_workflow"], 0),
                f"RSS {_n(d['rss_baseline_mib'])} MiB at baseline, then "
                + ", ".join(f"{_n(mib)} at {_short(n)}" for n, mib in d["rss_mib_at"]),
            ),
            row(
                "6",
                label,
                "store bytes/workflow",
                _n(d["store_bytes_per_workflow"], 0),
                f"started at {_n(d['starts_per_s'])}/s",
            ),
        ]
    if not sizes.parked_million and not sizes.smoke:
        rate = runs[0]["starts_per_s"] or 1
        rows.append(
            row(
                "6",
                "1,000,000 parked",
                "",
                "skipped",
                f"~{1_000_000 / rate / 60:,.0f} min to start at {_n(rate)}/s; --million runs it",
            )
        )
    return Outcome(rows, {"runs": runs, "million": "run" if sizes.parked_million else "skipped"})


# ---- 7, 8: server (bench_server.py) --------------------------------------------------------


def server_workloads(sizes: Sizes, names: set[str]) -> dict[str, Outcome]:
    script = REPO / "benchmarks" / "bench_server.py"
    if not script.exists():
        pending = {"status": "pending (benchmarks/bench_server.py not written yet)"}
        return {
            name: Outcome([row(number, label, "", "pending")], pending)
            for name, number, label in (("fanout", "7", "fan-out"), ("server", "8", "server"))
            if name in names
        }
    command = [sys.executable, str(script)]
    if sizes.smoke:
        command.append("--smoke")
    else:
        command += [
            "--clients",
            str(sizes.server_clients),
            "--round-trips",
            str(sizes.server_round_trips),
            "--events",
            str(sizes.fanout_events),
            "--burst",
            str(sizes.fanout_burst),
            "--subscribers",
            *map(str, sizes.fanout_subscribers),
        ]
    _progress("server: " + " ".join(command[1:]))
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, check=False, timeout=_RUN_TIMEOUT
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench_server.py failed: {done.stderr.strip()[-500:]}")
    results = json.loads((RESULTS / "server.json").read_text())["results"]
    outcomes: dict[str, Outcome] = {}
    fanout = [r for r in results if r["benchmark"].startswith("commit-to-delivery")]
    rates = [r for r in results if r["benchmark"].startswith("delivery rate")]
    trips = [r for r in results if r["benchmark"].startswith("start+signal")]
    if "fanout" in names:
        outcomes["fanout"] = Outcome(
            [
                row(
                    "7",
                    f"WebSocket {r['benchmark']}",
                    "latency p50 / p99 ms",
                    f"{_n(r['p50_ms'])} / {_n(r['p99_ms'])}",
                    f"{r['count']:,} deliveries, one event in flight",
                )
                for r in fanout
            ]
            + [
                row(
                    "7",
                    f"WebSocket firehose {r['benchmark']}",
                    "events/s delivered",
                    _n(r["per_s"]),
                    f"{r['events']:,} events to each of {r['complete_subscribers']:,} in full,"
                    f" {r['lagged']:,} cut off as lagged",
                )
                for r in rates
            ],
            {"results": fanout + rates, "command": command[1:]},
        )
    if "server" in names:
        outcomes["server"] = Outcome(
            [
                row(
                    "8",
                    f"HTTP {r['benchmark']}",
                    "round trips/s",
                    _n(r["per_s"]),
                    f"p50 {_n(r['p50_ms'])} / p99 {_n(r['p99_ms'])} ms",
                )
                for r in trips
            ],
            {"results": trips, "command": command[1:]},
        )
    return outcomes


# ---- the whole suite -----------------------------------------------------------------------

NAMES = ["throughput", "dbos", "storage", "replay", "recovery", "residency", "fanout", "server"]
_NUMBERS = {name: str(index) for index, name in enumerate(NAMES, 1)}


def _failed(name: str, exc: BaseException) -> Outcome:
    reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
    return Outcome(
        [row(_NUMBERS[name], name, "", "FAILED", reason)],
        {"error": reason, "traceback": traceback.format_exc()},
    )


def run_suite(sizes: Sizes, names: list[str], scratch: Path) -> dict[str, Outcome]:
    """Run the named workloads in table order; each one's failure is contained."""
    wanted = set(names)
    if "dbos" in wanted:
        wanted.add("throughput")  # the comparison's figures sit in the throughput rows
    outcomes: dict[str, Outcome] = {}
    groups: list[tuple[set[str], Callable[[], dict[str, Outcome]]]] = [
        (
            {"throughput", "dbos", "storage"},
            lambda: comparison(sizes, scratch, wanted | {"throughput"}),
        ),
        ({"replay"}, lambda: {"replay": replay_workload(sizes, scratch)}),
        ({"recovery"}, lambda: {"recovery": recovery_workload(sizes, scratch)}),
        ({"residency"}, lambda: {"residency": residency_workload(sizes, scratch)}),
        ({"fanout", "server"}, lambda: server_workloads(sizes, wanted)),
    ]
    for members, work in groups:
        if not members & wanted:
            continue
        began = time.perf_counter()
        try:
            produced = work()
        except Exception as exc:
            produced = {name: _failed(name, exc) for name in sorted(members & wanted)}
        seconds = round(time.perf_counter() - began, 1)
        for name, outcome in produced.items():
            if name in wanted:
                outcome.details["group_seconds"] = seconds
                outcomes[name] = outcome
    return {name: outcomes[name] for name in NAMES if name in outcomes}


def parameters(sizes: Sizes) -> dict[str, Any]:
    return asdict(sizes)
