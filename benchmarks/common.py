"""Shared benchmark plumbing: machine facts, a table printer and the JSON writer."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def machine() -> dict[str, Any]:
    """What a result was measured on, so numbers from different machines are not mixed up."""
    commit = _git("rev-parse", "--short", "HEAD")
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "memory_mib": _memory_mib(),
        "commit": commit or None,
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no"))
        if commit
        else None,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _memory_mib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(f"\n{title}")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2, default=str))
    print(f"\nwrote {path}")
    return path


def last_line(text: str) -> str:
    """The last non-empty line of a process's output (an exception's message), shortened."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def run_json(command: Sequence[str], what: str, timeout: float) -> tuple[dict[str, Any], str]:
    """Run one measuring process in the repository: the JSON on its last stdout line, and
    its stderr. A non-zero exit raises RuntimeError: ``what`` failed, the last line of its
    output first (tables show only that), then the end of its stderr."""
    done = subprocess.run(
        list(command), cwd=REPO, capture_output=True, text=True, check=False, timeout=timeout
    )
    if done.returncode != 0:
        output = done.stderr or done.stdout
        raise RuntimeError(
            f"{what} failed ({done.returncode}): {last_line(output)}\n{output[-2000:]}"
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result, done.stderr
