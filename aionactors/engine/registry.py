"""Which workflow types and activities this engine can run, by name and by package version.

In-process code (``workflows=[...]``, ``--load``) has no version (``None``); deployed
packages add versions side by side, each type routed to one of them for new starts.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from aionactors.core.errors import InvalidInput, WorkflowTypeNotFound
from aionactors.packages import PackageCatalog
from aionactors.workflow.activity import ActivityDefinition, activity_definition
from aionactors.workflow.definition import WorkflowDefinition, workflow_definition


class Registry:
    """In-process definitions registered up front, plus the catalog of package versions."""

    def __init__(self) -> None:
        self.workflows: dict[str, WorkflowDefinition] = {}
        self.activities: dict[str, ActivityDefinition] = {}
        self.packages = PackageCatalog()

    def add_workflow(self, cls: type) -> WorkflowDefinition:
        definition = workflow_definition(cls)
        known = self.workflows.get(definition.name)
        if known is not None and known.cls is not cls:
            raise InvalidInput(f"two workflow classes are named {definition.name!r}")
        self.workflows[definition.name] = definition
        return definition

    def add_activity(self, fn: Callable[..., Any]) -> ActivityDefinition:
        definition = activity_definition(fn)
        known = self.activities.get(definition.name)
        if known is not None and known.fn is not definition.fn:
            raise InvalidInput(f"two activities are named {definition.name!r}")
        self.activities[definition.name] = definition
        return definition

    def load_modules(self, names: Iterable[str]) -> None:
        """Import modules and register every decorated workflow class and activity in them."""
        for name in names:
            module = importlib.import_module(name)
            for _, member in inspect.getmembers(module):
                if inspect.isclass(member) and _is_workflow(member):
                    self.add_workflow(member)
                elif callable(member) and _is_activity(member):
                    self.add_activity(member)

    def workflow(self, name: str, version: str | None = None) -> WorkflowDefinition:
        """The definition a run of ``name`` pinned to ``version`` (None: in-process) runs."""
        if version is not None:
            return self.packages.workflow(name, version)
        definition = self.workflows.get(name)
        if definition is None:
            raise WorkflowTypeNotFound(name)
        return definition

    def route_of(self, name: str) -> str | None:
        """The version a new run of ``name`` is pinned to: None for in-process code."""
        if name in self.workflows:
            return None
        version = self.packages.route_of(name)
        if version is None:
            raise WorkflowTypeNotFound(name)
        return version

    def version_for(self, name: str) -> str | None:
        """Like :meth:`route_of`, but None (not an error) for a type nobody defines: a child
        or successor of an unknown type fails when it is started, not when it is recorded."""
        return None if name in self.workflows else self.packages.route_of(name)

    def activity(self, name: str, version: str | None = None) -> ActivityDefinition | None:
        """A pinned run's activities come from its version, then from in-process code."""
        if version is not None and (found := self.packages.activity(name, version)) is not None:
            return found
        return self.activities.get(name)

    def workflow_name(self, type_or_class: str | type) -> str:
        if isinstance(type_or_class, str):
            self.route_of(type_or_class)  # known in-process or routed, else not found
            return type_or_class
        return workflow_definition(type_or_class).name


def _is_workflow(cls: type) -> bool:
    try:
        workflow_definition(cls)
    except TypeError:
        return False
    return True


def _is_activity(fn: Callable[..., Any]) -> bool:
    try:
        activity_definition(fn)
    except TypeError:
        return False
    return True
