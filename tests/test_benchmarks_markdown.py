"""`python -m benchmarks --markdown` on a fresh clone (no results yet) says what to run first."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_clone(tmp_path: Path) -> Path:
    """The benchmarks package as a fresh clone has it: the code, an empty results folder."""
    shutil.copytree(
        ROOT / "benchmarks",
        tmp_path / "benchmarks",
        ignore=shutil.ignore_patterns(".venv-dbos", "__pycache__", "*.json", "*.jsonl"),
    )
    return tmp_path


def markdown(clone: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", "--markdown"],
        cwd=clone, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_markdown_without_results_says_what_to_run_and_exits_non_zero(tmp_path) -> None:
    clone = fresh_clone(tmp_path)
    assert not (clone / "benchmarks" / "results" / "latest.json").exists()
    done = markdown(clone)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "no results yet" in done.stderr and "python -m benchmarks" in done.stderr


def test_markdown_with_a_corrupt_record_names_the_file(tmp_path) -> None:
    clone = fresh_clone(tmp_path)
    (clone / "benchmarks" / "results" / "latest.json").write_text('{"machine": {}}')
    done = markdown(clone)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "latest.json is not a benchmark record" in done.stderr


def test_markdown_prints_the_recorded_table(tmp_path) -> None:
    clone = fresh_clone(tmp_path)
    row = {"#": "4", "workload": "replay", "measure": "events/s", "aionactors": "1"}
    record = {"workloads": {"replay": {"table": [row]}}}
    (clone / "benchmarks" / "results" / "latest.json").write_text(json.dumps(record))
    done = markdown(clone)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "| # | workload | measure | aionactors |"
    assert "| 4 | replay | events/s | 1 |" in done.stdout
