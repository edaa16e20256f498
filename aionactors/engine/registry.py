"""Which workflow types and activities this engine can run, by name."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from aionactors.core.errors import InvalidInput, WorkflowTypeNotFound
from aionactors.workflow.activity import ActivityDefinition, activity_definition
from aionactors.workflow.definition import WorkflowDefinition, workflow_definition


class Registry:
    """Workflow definitions and activity definitions, registered up front."""

    def __init__(self) -> None:
        self.workflows: dict[str, WorkflowDefinition] = {}
        self.activities: dict[str, ActivityDefinition] = {}

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

    def workflow(self, name: str) -> WorkflowDefinition:
        definition = self.workflows.get(name)
        if definition is None:
            raise WorkflowTypeNotFound(name)
        return definition

    def workflow_name(self, type_or_class: str | type) -> str:
        if isinstance(type_or_class, str):
            return self.workflow(type_or_class).name
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
