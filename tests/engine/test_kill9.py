"""A real engine process killed with SIGKILL mid-activity; a new one finishes the workflow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from aionactors import Engine
from tests.engine.kill9_worker import Survivor, slow_step

ROOT = Path(__file__).resolve().parents[2]


def test_sigkill_mid_activity_then_restart_completes_with_everything_acknowledged(
    tmp_path,
) -> None:
    db, marker = tmp_path / "kill9.db", tmp_path / "activity-started"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.kill9_worker", str(db), str(marker)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        lines = []
        while "activity-running" not in lines:
            line = process.stdout.readline().strip()
            assert line, f"worker exited early: {lines}"
            lines.append(line)
        assert "signal-acknowledged" in lines
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert process.returncode == -signal.SIGKILL

    with Engine.open(f"sqlite:///{db}", workflows=[Survivor], activities=[slow_step]) as engine:
        assert engine.result("survivor", timeout=30) == {"step": "stepped", "approved": True}
        history = engine.history("survivor")
    types = [e.type for e in history]
    assert types.count("SignalReceived") == 1  # acknowledged before the kill, so it is there
    attempts = [e.attempt for e in history if e.type == "ActivityStarted"]
    assert attempts == [1, 2]  # attempt 1 died with the process; attempt 2 continued the trail
    assert types[-1] == "WorkflowCompleted"
