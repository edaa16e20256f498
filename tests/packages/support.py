"""Package sources the package tests deploy: one workflow type and its activity per version."""

from __future__ import annotations

from pathlib import Path

from aionactors.packages import MANIFEST_NAME, zip_files

FLOWS = """
from aionactors import workflow
from . import steps


@workflow.defn(name="Greeter")
class Greeter:
    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def release(self, _payload=None) -> None:
        self.go = True

    @workflow.run
    async def run(self, name: str) -> dict:
        first = await workflow.execute_activity(steps.greet, name)
        await workflow.wait_condition(lambda: self.go)
        second = await workflow.execute_activity(steps.greet, name)
        return {"version": VERSION, "first": first, "second": second}


@workflow.defn(name="Looper")
class Looper:
    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def next(self, _payload=None) -> None:
        self.go = True

    @workflow.run
    async def run(self, rounds: int) -> dict:
        await workflow.wait_condition(lambda: self.go)
        if rounds > 0:
            workflow.continue_as_new(rounds - 1)
        return {"version": VERSION}


@workflow.defn(name="Spawner")
class Spawner:
    @workflow.run
    async def run(self, name: str) -> dict:
        child = await workflow.execute_child_workflow("Looper", 0, workflow_id="child-of-" + name)
        return {"version": VERSION, "child": child}
"""

STEPS = """
from aionactors import activity


@activity.defn(name="greet")
def greet(name: str) -> str:
    return f"hello from vVERSION, {name}"
"""


TYPES = ["Greeter", "Looper", "Spawner"]
"""The workflow types every version of the package defines."""


def package_files(version: int, name: str = "greeter") -> dict[str, bytes]:
    """The files of version ``version`` of the greeter package."""
    manifest = f'name = "{name}"\nmodules = ["greeter.flows"]\ndescription = "v{version}"\n'
    return {
        MANIFEST_NAME: manifest.encode(),
        "greeter/__init__.py": b"",
        "greeter/flows.py": FLOWS.replace("VERSION", str(version)).encode(),
        "greeter/steps.py": STEPS.replace("VERSION", str(version)).encode(),
    }


def package_archive(version: int) -> bytes:
    return zip_files(package_files(version))


def write_package_dir(root: Path, version: int) -> Path:
    """The package's source tree on disk, as a team keeps it (for ``package build``)."""
    for path, data in package_files(version).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root
