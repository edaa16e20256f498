"""The catalog: loaded package versions, what each defines, and each type's current route.

It answers the engine's two questions: which definition runs a run pinned to version H
(``workflow(type, H)``, ``activity(name, H)``), and which version a new start of a type
gets (``route_of(type)``). It holds no store: the engine persists what it changes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from aionactors.core.errors import UnknownVersion, WorkflowTypeNotFound
from aionactors.packages._archive import PackageArchive
from aionactors.packages._loader import LoadedCode, forget_version, import_version
from aionactors.workflow.activity import ActivityDefinition
from aionactors.workflow.definition import WorkflowDefinition

PackageSource = Literal["deployed", "operator"]


@dataclass(frozen=True)
class LoadedPackage:
    """One loaded version."""

    content_hash: str
    name: str
    archive: PackageArchive
    code: LoadedCode
    source: PackageSource
    deployed_at: datetime

    @property
    def workflow_types(self) -> list[str]:
        return sorted(self.code.workflows)

    @property
    def activity_types(self) -> list[str]:
        return sorted(self.code.activities)


@dataclass
class PackageCatalog:
    """Versions by content hash and routes by workflow type; safe to read from any thread."""

    _versions: dict[str, LoadedPackage] = field(default_factory=dict)
    _routes: dict[str, str] = field(default_factory=dict)
    _skipped: dict[str, str] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # ---- loading ------------------------------------------------------------------------
    def load(
        self, archive: PackageArchive, source: PackageSource, deployed_at: datetime
    ) -> tuple[LoadedPackage, bool]:
        """Import a version (once): the loaded package and whether it was freshly loaded."""
        with self._lock:
            known = self._versions.get(archive.content_hash)
            if known is not None:
                return known, False
            code = import_version(archive.content_hash, archive.files, archive.manifest.modules)
            package = LoadedPackage(
                archive.content_hash, archive.manifest.name, archive, code, source, deployed_at
            )
            self._versions[archive.content_hash] = package
            self._skipped.pop(archive.content_hash, None)
            return package, True

    def unload(self, content_hash: str) -> None:
        with self._lock:
            if self._versions.pop(content_hash, None) is not None:
                forget_version(content_hash)

    def mark_skipped(self, content_hash: str, reason: str) -> None:
        """Remember why a stored version could not be loaded, for the runs pinned to it."""
        with self._lock:
            self._skipped[content_hash] = reason

    # ---- routes -------------------------------------------------------------------------
    def set_route(self, workflow_type: str, content_hash: str) -> str | None:
        """Point ``workflow_type`` at a loaded version that defines it; the previous target."""
        with self._lock:
            package = self.package(content_hash)
            if workflow_type not in package.code.workflows:
                raise WorkflowTypeNotFound(workflow_type)
            previous = self._routes.get(workflow_type)
            self._routes[workflow_type] = content_hash
            return previous

    def route_of(self, workflow_type: str) -> str | None:
        return self._routes.get(workflow_type)

    def routes(self) -> Mapping[str, str]:
        with self._lock:
            return dict(self._routes)

    def routed_types(self, content_hash: str) -> list[str]:
        with self._lock:
            return sorted(t for t, h in self._routes.items() if h == content_hash)

    # ---- lookups ------------------------------------------------------------------------
    def package(self, content_hash: str) -> LoadedPackage:
        package = self._versions.get(content_hash)
        if package is None:
            reason = self._skipped.get(content_hash)
            detail = f": it was skipped at startup ({reason})" if reason else ""
            raise UnknownVersion(f"package version {content_hash!r} is not loaded{detail}")
        return package

    def packages(self) -> list[LoadedPackage]:
        with self._lock:
            return sorted(self._versions.values(), key=lambda p: (p.deployed_at, p.content_hash))

    def workflow(self, workflow_type: str, content_hash: str) -> WorkflowDefinition:
        definition = self.package(content_hash).code.workflows.get(workflow_type)
        if definition is None:
            raise WorkflowTypeNotFound(workflow_type)
        return definition

    def activity(self, activity_type: str, content_hash: str) -> ActivityDefinition | None:
        package = self._versions.get(content_hash)
        return package.code.activities.get(activity_type) if package is not None else None

    def defines_workflow(self, workflow_type: str) -> bool:
        """Whether any loaded version defines the type (routed or not)."""
        with self._lock:
            return any(workflow_type in p.code.workflows for p in self._versions.values())
