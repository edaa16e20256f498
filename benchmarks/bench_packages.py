"""Package benchmarks: deploy time and a pinned run's first activation, for a 1 MB package.

    python benchmarks/bench_packages.py            # full run (a few seconds)
    python benchmarks/bench_packages.py --smoke    # tiny run, as CI does

Each deploy is a distinct version (one byte differs) of a package whose archive is about
1 MB: verify + hash + import + persist (SQLite file, fsynced). A pinned run's first
activation is start -> completed for a one-activity workflow on a version deployed just
before, side by side with the same workflow as in-process code. Reopen measures
``Engine.open`` with every deployed version stored (they are reloaded before recovery).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aionactors import Engine, activity, workflow
from aionactors.packages import MANIFEST_NAME, zip_files
from benchmarks.common import machine, print_table, write_results

FLOWS = """
from aionactors import activity, workflow

@activity.defn(name="pkg_echo")
def echo(value: str) -> str:
    return value

@workflow.defn(name="PkgBench")
class PkgBench:
    @workflow.run
    async def run(self, value: str) -> str:
        return await workflow.execute_activity(echo, value)
"""


@activity.defn(name="local_echo")
def local_echo(value: str) -> str:
    return value


@workflow.defn(name="LocalBench")
class LocalBench:
    @workflow.run
    async def run(self, value: str) -> str:
        return await workflow.execute_activity(local_echo, value)


def package(version: int, size: int) -> bytes:
    """An archive of about ``size`` bytes: the flows plus incompressible data files."""
    files = {
        MANIFEST_NAME: b'name = "bench"\nmodules = ["bench.flows"]\n',
        "bench/__init__.py": b"",
        "bench/flows.py": (FLOWS + f"\nVERSION = {version}\n").encode(),
    }
    chunk = 64 * 1024
    for n in range(max(1, size // chunk)):
        files[f"bench/data/blob{n}.bin"] = os.urandom(chunk)
    return zip_files(files)


def run(deploys: int, size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        archives = [package(v, size) for v in range(deploys)]
        engine = Engine.open(url, workflows=[LocalBench], activities=[local_echo])
        deploy_ms, pinned_ms, local_ms = [], [], []
        try:
            for n, archive in enumerate(archives):
                began = time.perf_counter()
                engine.packages.deploy(archive)
                deploy_ms.append((time.perf_counter() - began) * 1000)
                for workflow_type, samples in (("PkgBench", pinned_ms), ("LocalBench", local_ms)):
                    began = time.perf_counter()
                    workflow_id = f"{workflow_type}-{n}"
                    handle = engine.start_workflow(workflow_type, "x", workflow_id=workflow_id)
                    engine.result(handle.workflow_id, timeout=60)
                    samples.append((time.perf_counter() - began) * 1000)
        finally:
            engine.shutdown()
        began = time.perf_counter()
        Engine.open(url, workflows=[LocalBench], activities=[local_echo]).shutdown()
        reopen_ms = (time.perf_counter() - began) * 1000
    return {
        "archive_bytes": len(archives[0]),
        "deploys": deploys,
        "deploy_ms_median": statistics.median(deploy_ms),
        "deploy_ms_max": max(deploy_ms),
        "pinned_first_run_ms_median": statistics.median(pinned_ms),
        "in_process_run_ms_median": statistics.median(local_ms),
        "reopen_with_versions_ms": reopen_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny, fast run (for CI)")
    parser.add_argument("--deploys", type=int, default=None)
    args = parser.parse_args()
    deploys = args.deploys or (3 if args.smoke else 20)
    size = 64 * 1024 if args.smoke else 1024 * 1024
    result = run(deploys, size)
    kib = result["archive_bytes"] // 1024
    rows = [
        {"measure": "deploy (verify, hash, import, persist)", "archive KiB": kib,
         "median ms": result["deploy_ms_median"], "max ms": result["deploy_ms_max"]},
        {"measure": "pinned run, first activation (start -> done)", "archive KiB": kib,
         "median ms": result["pinned_first_run_ms_median"], "max ms": None},
        {"measure": "same workflow, in-process code", "archive KiB": None,
         "median ms": result["in_process_run_ms_median"], "max ms": None},
        {"measure": f"Engine.open with {deploys} stored versions", "archive KiB": None,
         "median ms": result["reopen_with_versions_ms"], "max ms": None},
    ]  # fmt: skip
    print_table(f"Packages ({deploys} versions of ~{size // 1024} KiB)", rows)
    write_results("packages", {"machine": machine(), "smoke": args.smoke, **result})


if __name__ == "__main__":
    main()
