"""Import a package version from memory under a module prefix of its own.

Each version's modules live under ``aionactors_pkg_<hash>``, so two versions of one
workflow type (and of its activities) are two sets of modules side by side in one
process. Nothing is written to disk: a meta-path finder serves the archive's sources
from memory. Inside a package, modules reach each other with relative imports
(``from . import activities``); an absolute import names the process's own modules.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aionactors.core.errors import PackageInvalid
from aionactors.packages._hash import HASH_PREFIX
from aionactors.workflow.activity import ActivityDefinition, activity_definition
from aionactors.workflow.definition import WorkflowDefinition, workflow_definition


def module_prefix(content_hash: str) -> str:
    """The top-level module under which a version's modules are imported."""
    return "aionactors_pkg_" + content_hash.removeprefix(HASH_PREFIX)


@dataclass(frozen=True)
class LoadedCode:
    """What a version's modules define, keyed by the names the engine knows them by."""

    prefix: str
    workflows: Mapping[str, WorkflowDefinition]
    activities: Mapping[str, ActivityDefinition]


class _MemoryLoader(importlib.abc.Loader):
    def __init__(self, source: bytes | None, filename: str) -> None:
        self._source = source
        self._filename = filename

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        if self._source is None:
            return  # a directory without __init__.py: an empty package
        code = compile(self._source, self._filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def get_source(self, fullname: str) -> str | None:
        """For tracebacks and ``inspect``: linecache asks the loader when no file exists."""
        return self._source.decode("utf-8") if self._source is not None else None


class _PackageFinder(importlib.abc.MetaPathFinder):
    """Serves every loaded version's modules from memory, by prefix."""

    def __init__(self) -> None:
        self._versions: dict[str, Mapping[str, bytes]] = {}
        self._lock = threading.Lock()

    def add(self, prefix: str, files: Mapping[str, bytes]) -> None:
        with self._lock:
            self._versions[prefix] = files

    def remove(self, prefix: str) -> None:
        with self._lock:
            self._versions.pop(prefix, None)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        prefix, _, rest = fullname.partition(".")
        with self._lock:
            files = self._versions.get(prefix)
        if files is None:
            return None
        label = f"<package {prefix}>"
        if not rest:
            return self._spec(fullname, None, f"{label}/__init__.py", package=True)
        relative = rest.replace(".", "/")
        if (init := f"{relative}/__init__.py") in files:
            return self._spec(fullname, files[init], f"{label}/{init}", package=True)
        if (module := f"{relative}.py") in files:
            return self._spec(fullname, files[module], f"{label}/{module}", package=False)
        if any(name.startswith(relative + "/") for name in files):
            return self._spec(fullname, None, f"{label}/{relative}/__init__.py", package=True)
        return None

    @staticmethod
    def _spec(
        fullname: str, source: bytes | None, filename: str, *, package: bool
    ) -> importlib.machinery.ModuleSpec:
        spec = importlib.util.spec_from_loader(
            fullname, _MemoryLoader(source, filename), origin=filename, is_package=package
        )
        assert spec is not None
        if package:
            spec.submodule_search_locations = []
        return spec


_FINDER = _PackageFinder()
sys.meta_path.append(_FINDER)


def import_version(
    content_hash: str, files: Mapping[str, bytes], modules: Sequence[str]
) -> LoadedCode:
    """Import ``modules`` of one version; PackageInvalid (nothing left behind) if one fails."""
    prefix = module_prefix(content_hash)
    _FINDER.add(prefix, files)
    try:
        for name in modules:
            importlib.import_module(f"{prefix}.{name}")
        # Everything the version's modules imported of their own counts (not just the
        # manifest's modules): activities usually live beside the workflows that call them.
        imported = [m for n, m in sorted(sys.modules.items()) if _under(n, prefix)]
        workflows, activities = _definitions(prefix, imported)
    except PackageInvalid:
        forget_version(content_hash)
        raise
    except BaseException as exc:  # user code: anything may come out of an import
        forget_version(content_hash)
        if not isinstance(exc, Exception):
            raise
        raise PackageInvalid(f"importing the package failed: {type(exc).__name__}: {exc}") from None
    return LoadedCode(prefix, workflows, activities)


def forget_version(content_hash: str) -> None:
    """Drop a version's modules from the process (its definitions stay valid while referenced)."""
    prefix = module_prefix(content_hash)
    _FINDER.remove(prefix)
    for name in [n for n in sys.modules if _under(n, prefix)]:
        del sys.modules[name]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _definitions(
    prefix: str, modules: Sequence[ModuleType]
) -> tuple[dict[str, WorkflowDefinition], dict[str, ActivityDefinition]]:
    """The workflows and activities the package's own modules define (not ones they import)."""
    workflows: dict[str, WorkflowDefinition] = {}
    activities: dict[str, ActivityDefinition] = {}
    for module in modules:
        for _, member in inspect.getmembers(module):
            if not _defined_in(member, prefix):
                continue
            if inspect.isclass(member) and (wf := _workflow_of(member)) is not None:
                _add(workflows, wf.name, wf, "workflow type")
            elif callable(member) and (act := _activity_of(member)) is not None:
                _add(activities, act.name, act, "activity")
    if not workflows and not activities:
        raise PackageInvalid("the package's modules define no workflow and no activity")
    return workflows, activities


def _add(into: dict[str, Any], name: str, definition: Any, what: str) -> None:
    known = into.get(name)
    if known is not None and known != definition:
        raise PackageInvalid(f"the package defines two {what}s named {name!r}")
    into[name] = definition


def _defined_in(member: Any, prefix: str) -> bool:
    return _under(getattr(member, "__module__", None) or "", prefix)


def _workflow_of(cls: type) -> WorkflowDefinition | None:
    try:
        return workflow_definition(cls)
    except TypeError:
        return None


def _activity_of(fn: Any) -> ActivityDefinition | None:
    try:
        return activity_definition(fn)
    except TypeError:
        return None
