"""Run the benchmark suite and print one comparison table.

    python -m benchmarks                    # everything (about 10 minutes on 2 cores)
    python -m benchmarks --smoke            # every workload once at a tiny size (CI)
    python -m benchmarks --only recovery    # one workload (repeat --only for more)
    python -m benchmarks --markdown         # print the last full results as a markdown table

Workloads: throughput (1), dbos (2, alternating with 1), storage (3), replay (4),
recovery (5), residency (6), fanout (7), server (8). A full or ``--only`` run
updates ``benchmarks/results/latest.json`` (per workload, so ``--only`` keeps
the others) and appends one line to ``benchmarks/results/history.jsonl``; a
smoke run writes ``benchmarks/results/smoke.json`` only, so it never replaces
real figures. Every record carries the machine, the parameters and the commit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, machine, print_table
from benchmarks.suite import NAMES, Outcome, Row, Sizes, parameters, run_suite

TITLE = "aionactors benchmarks (SQLite file, fsync on every commit)"


def markdown(rows: list[Row]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(r[c].replace("|", "\\|") for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def _ratios(outcomes: dict[str, Outcome]) -> str:
    dbos = outcomes.get("dbos")
    ratios = dbos.details.get("ratio_aionactors_over_dbos") if dbos else None
    if not ratios:
        return ""
    rounds = len(outcomes["throughput"].details["rounds"])
    parts = [f"{mode} {value:.2f}x" for mode, value in ratios.items() if value is not None]
    return (
        f"aionactors/DBOS workflows/s: {', '.join(parts)} (median of {rounds} alternating rounds)"
    )


def _record(outcomes: dict[str, Outcome], sizes: Sizes, seconds: float) -> dict[str, Any]:
    return {
        "machine": machine(),
        "mode": "smoke" if sizes.smoke else "full",
        "workloads_run": list(outcomes),
        "parameters": parameters(sizes),
        "seconds": round(seconds, 1),
        "table": [r for outcome in outcomes.values() for r in outcome.rows],
        "workloads": {name: outcome.details for name, outcome in outcomes.items()},
    }


def save(record: dict[str, Any]) -> list[Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    if record["mode"] == "smoke":
        path = RESULTS / "smoke.json"
        path.write_text(json.dumps(record, indent=2, default=str))
        return [path]
    latest_path = RESULTS / "latest.json"
    try:
        latest: dict[str, Any] = json.loads(latest_path.read_text())
        workloads: dict[str, Any] = latest.get("workloads", {})
    except (OSError, ValueError):
        workloads = {}
    header = {k: record[k] for k in ("machine", "mode", "parameters", "seconds")}
    for name in record["workloads_run"]:
        rows = [r for r in record["table"] if r["#"] in _numbers(name)]
        workloads[name] = {**header, "table": rows, "result": record["workloads"][name]}
    ordered = {name: workloads[name] for name in NAMES if name in workloads}
    latest_path.write_text(
        json.dumps(
            {"updated": record["machine"]["measured_at"], "workloads": ordered},
            indent=2,
            default=str,
        )
    )
    history = RESULTS / "history.jsonl"
    with history.open("a") as out:
        out.write(
            json.dumps(
                {k: v for k, v in record.items() if k != "workloads"}
                | {"details": record["workloads"]},
                default=str,
            )
            + "\n"
        )
    return [latest_path, history]


def _numbers(name: str) -> set[str]:
    number = str(NAMES.index(name) + 1)
    return {number, "1-2"} if name == "throughput" else {number}


class NoResults(Exception):
    """There is no full or ``--only`` run to print yet; the message says what to run."""


def latest_rows(results: Path = RESULTS) -> list[Row]:
    path = results / "latest.json"
    if not path.is_file():
        raise NoResults(
            f"no results yet: {path} does not exist. Run `python -m benchmarks` (everything, "
            "~9 min) or `python -m benchmarks --only replay` (one workload) first; "
            "--smoke runs never write it."
        )
    try:
        latest = json.loads(path.read_text())
        rows: list[Row] = []
        for entry in latest["workloads"].values():
            rows += [r for r in entry["table"] if r not in rows]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NoResults(
            f"{path} is not a benchmark record ({exc!r}); run `python -m benchmarks` to rewrite it"
        ) from None
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    parser.add_argument("--smoke", action="store_true", help="every workload once, tiny sizes")
    parser.add_argument(
        "--only",
        action="append",
        choices=NAMES,
        metavar="NAME",
        help=f"run this workload only (one of: {', '.join(NAMES)})",
    )
    parser.add_argument("--no-dbos", action="store_true", help="leave the DBOS side out")
    parser.add_argument("--rounds", type=int, help="alternating aionactors/DBOS rounds (3)")
    parser.add_argument("--workflows", type=int, help="concurrent throughput workflows (2000)")
    parser.add_argument("--sequential", type=int, help="sequential throughput workflows (300)")
    parser.add_argument("--replay-events", type=int, nargs="+", help="history sizes to replay")
    parser.add_argument(
        "--recovery", type=int, nargs="+", help="parked workflows killed and recovered (2000 10000)"
    )
    parser.add_argument("--parked", type=int, help="parked workflows for residency (100000)")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 parked (long)")
    parser.add_argument(
        "--markdown", action="store_true", help="print latest.json's table as markdown, run nothing"
    )
    args = parser.parse_args(argv)

    if args.markdown:
        try:
            print(markdown(latest_rows()))
        except NoResults as exc:
            print(f"python -m benchmarks --markdown: {exc}", file=sys.stderr)
            sys.exit(2)
        return
    sizes = Sizes.for_smoke() if args.smoke else Sizes()
    overrides = {
        "rounds": args.rounds,
        "concurrent": args.workflows,
        "sequential": args.sequential,
        "replay_events": args.replay_events,
        "recovery_workflows": args.recovery,
        "parked": args.parked,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(sizes, name, value)
    sizes.parked_million = args.million
    names = args.only or list(NAMES)
    if args.no_dbos:
        names = [n for n in names if n != "dbos"]

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aionactors-bench-") as scratch:
        outcomes = run_suite(sizes, names, Path(scratch))
    seconds = time.perf_counter() - began
    record = _record(outcomes, sizes, seconds)
    print_table(f"{TITLE}, {'smoke' if sizes.smoke else 'full'} run", record["table"])
    ratios = _ratios(outcomes)
    if ratios:
        print(f"\n{ratios}")
    m = record["machine"]
    print(
        f"\n{m['cores']} cores, Python {m['python']}, SQLite {m['sqlite']}, commit {m['commit']}"
        f"{' (with uncommitted changes)' if m['uncommitted_changes'] else ''};"
        f" {seconds:,.0f} s in all"
    )
    for path in save(record):
        print(f"wrote {path}")
    if any("FAILED" in r["aionactors"] for r in record["table"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
