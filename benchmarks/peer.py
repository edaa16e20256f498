"""The peer we measure against: DBOS Transact, in its own virtual environment.

DBOS pins its own SQLAlchemy, so it never shares the project's environment:
``benchmarks/.venv-dbos`` is created on first use (``python -m venv`` and
``pip install dbos==3.4.0``). When that cannot happen (offline, pip fails) the
peer is reported unavailable with the reason and the suite carries on; a smoke
run never installs anything.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, last_line, run_json

DBOS_VERSION = "3.4.0"
VENV = REPO / "benchmarks" / ".venv-dbos"
WORKLOAD = REPO / "benchmarks" / "dbos_workload.py"
_INSTALL_TIMEOUT = 600.0


@dataclass(frozen=True)
class Peer:
    """DBOS ready to run (``python`` set), or why not (``reason``)."""

    python: Path | None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.python is not None

    def describe(self) -> str:
        return f"DBOS {DBOS_VERSION}" if self.available else f"DBOS {self.reason}"


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('dbos'))"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def prepare_dbos(*, smoke: bool) -> Peer:
    """Find DBOS in its virtual environment, installing it unless this is a smoke run."""
    python = _venv_python()
    if _installed_version(python) == DBOS_VERSION:
        return Peer(python)
    if smoke:
        return Peer(None, f"skipped in smoke mode ({VENV.name} not ready; a full run creates it)")
    print(f"installing dbos=={DBOS_VERSION} into {VENV} ...", file=sys.stderr, flush=True)
    try:
        if not python.exists():
            shutil.rmtree(VENV, ignore_errors=True)
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)],
                capture_output=True,
                text=True,
                check=True,
                timeout=_INSTALL_TIMEOUT,
            )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                f"dbos=={DBOS_VERSION}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=_INSTALL_TIMEOUT,
        )
    except subprocess.CalledProcessError as exc:
        return Peer(None, f"unavailable (install failed: {last_line(exc.stderr or exc.stdout)})")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Peer(None, f"unavailable (install failed: {exc})")
    if _installed_version(python) != DBOS_VERSION:
        return Peer(None, f"unavailable (dbos {DBOS_VERSION} not importable after install)")
    return Peer(python)


def run_dbos(
    peer: Peer, db: Path, mode: str, count: int, starters: int, timeout: float
) -> dict[str, Any]:
    """Run the throughput workload on DBOS in its own interpreter; its JSON result."""
    assert peer.python is not None
    command = [str(peer.python), str(WORKLOAD), "--db", str(db), "--mode", mode]
    command += ["--count", str(count), "--starters", str(starters)]
    result, _ = run_json(command, f"DBOS {mode} run", timeout)
    return result
