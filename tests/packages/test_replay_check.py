"""The replay check: recorded histories against new code, from a store or exported files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aionactors.core.events import event_dict
from aionactors.workflow.definition import workflow_definition
from aionactors.workflow.replayer import check_history, load_history
from tests.engine.test_patched import Before, Patched, PatchRemoved, run_on
from tests.packages.support import package_files
from tests.transports.processes import ROOT

CODE = """
from aionactors import workflow
from tests.engine.test_patched import _Waits, new_step


@workflow.defn(name="patchy")
class Changed(_Waits):
    @workflow.run
    async def run(self, name: str) -> str:
        step = await workflow.execute_activity(new_step, name)  # no patched(): breaks old runs
        await workflow.wait_condition(lambda: self.go)
        return step
"""


def replay_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aionactors.cli", "replay", *args],
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_check_history_reports_each_run(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_on(db, Before, starts=["old"], finishes=["old"])
    from tests.engine.support import open_engine

    engine = open_engine(db)
    try:
        history = engine.history("old")
    finally:
        engine.shutdown()
    exported = json.dumps({"events": [event_dict(e) for e in history]})
    events = load_history(exported)
    (ok,) = check_history({"patchy": workflow_definition(Patched)}, events)
    assert (ok.outcome, ok.workflow_id) == ("ok", "old")
    (bad,) = check_history({"patchy": workflow_definition(PatchRemoved)}, events)
    assert bad.failed and "ScheduleActivity #0 'new_step'" in bad.detail
    (skipped,) = check_history({}, events)
    assert skipped.outcome == "skipped"


def test_the_command_exits_non_zero_on_non_determinism(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_on(db, Before, starts=["a", "b"])
    (tmp_path / "changed_code.py").write_text(CODE)
    url = f"sqlite:///{db}"
    bad = replay_cli("--load", "changed_code", "--db", url, cwd=tmp_path)
    assert bad.returncode == 1, bad.stderr
    assert "0 replayed, 2 non-deterministic" in bad.stdout
    assert "NONDETERMINISTIC" in bad.stdout and "'new_step'" in bad.stdout
    (tmp_path / "patched_code.py").write_text("from tests.engine.test_patched import Patched\n")
    good = replay_cli("--load", "patched_code", "--db", url, "--json", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "2 replayed, 0 non-deterministic" in good.stderr
    assert [json.loads(line)["outcome"] for line in good.stdout.splitlines()] == ["ok", "ok"]
    missing = replay_cli("--load", "no_such_module", "--db", url, cwd=tmp_path)
    assert missing.returncode == 2 and "no_such_module" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_package_is_checked_against_its_old_histories(tmp_path: Path) -> None:
    from aionactors.packages import zip_files
    from tests.engine.support import CommitWatch, open_engine

    db = tmp_path / "p.db"
    engine = open_engine(db)
    try:
        engine.packages.deploy(zip_files(package_files(1)))
        engine.start_workflow("Greeter", "ada", workflow_id="g")
        CommitWatch(engine).has("g", "ActivityCompleted")
    finally:
        engine.shutdown()
    same = tmp_path / "same.zip"
    same.write_bytes(zip_files(package_files(2)))  # other strings, same commands: replays
    files = package_files(3)
    first = b"first = await workflow.execute_activity(steps.greet, name)"
    files["greeter/flows.py"] = files["greeter/flows.py"].replace(
        first, b"await workflow.sleep(1)\n        " + first
    )
    changed = tmp_path / "changed.zip"
    changed.write_bytes(zip_files(files))
    url = f"sqlite:///{db}"
    assert replay_cli("--package", str(same), "--db", url, cwd=tmp_path).returncode == 0
    broken = replay_cli("--package", str(changed), "--db", url, cwd=tmp_path)
    assert broken.returncode == 1 and "StartTimer" in broken.stdout
