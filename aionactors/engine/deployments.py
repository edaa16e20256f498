"""Deploy, route, roll back and unload package versions; persist them; reload them at open.

``engine.packages`` is the one place a deploy mutation happens, serialised by one lock:
verify the archive, import it (a new version beside the old ones), persist the archive and
its routes in one store transaction, and only then publish the routes to new starts. At
open, every stored version is reloaded BEFORE recovery, so each pinned run finds its code;
a stored row that fails to load, or disagrees with its key, is skipped loudly while every
other version and workflow comes up (runs pinned to it fail their recovery with the
reason). Operator files (``serve --package``) load every boot and are never stored.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from aionactors.core.async_twin import AsyncTwin
from aionactors.core.errors import (
    AlreadyExists,
    InvalidInput,
    PackageInvalid,
    RouteActive,
    VersionPinned,
)
from aionactors.core.search import PACKAGE_VERSION_ATTRIBUTE, StringValue
from aionactors.core.status import WorkflowStatus
from aionactors.core.visibility import WorkflowFilter
from aionactors.engine.registry import Registry
from aionactors.packages import (
    ExtractionLimits,
    LoadedPackage,
    PackageSource,
    is_content_hash,
    read_archive,
)
from aionactors.store.contract import EventStore, PackageRecord

_log = logging.getLogger(__name__)
_PINNING_STATUSES = (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)


class DeployOutcome(BaseModel):
    """What a deploy did (PROTOCOL.md's ``POST /packages`` answer)."""

    model_config = ConfigDict(frozen=True)
    content_hash: str
    name: str
    workflow_types: list[str]
    activity_types: list[str]
    freshly_loaded: bool
    routes_changed: list[str]


class RouteChange(BaseModel):
    model_config = ConfigDict(frozen=True)
    workflow_type: str
    content_hash: str
    previous: str | None


class PackageInfo(BaseModel):
    """One loaded version as operators see it; ``pinned_runs == 0`` means it is drained."""

    model_config = ConfigDict(frozen=True)
    content_hash: str
    name: str
    workflow_types: list[str]
    activity_types: list[str]
    deployed_at: datetime
    source: PackageSource
    routed_types: list[str]
    pinned_runs: int


class PackageService:
    """``engine.packages``: every method has an ``*_async`` twin."""

    def __init__(
        self,
        store: EventStore,
        registry: Registry,
        limits: ExtractionLimits,
        now: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._registry = registry
        self._catalog = registry.packages
        self._limits = limits
        self._now = now
        self._lock = threading.RLock()
        self._child_starts: Counter[str] = Counter()
        """Children recorded with a version whose start has not run yet (they pin it too)."""
        self.outcomes: Counter[str] = Counter()
        """Deploy mutations by outcome (``deployed``, ``refused``, ...), for the metrics."""

    # ---- mutations ------------------------------------------------------------------------
    def deploy(self, archive: bytes, *, route: bool = True) -> DeployOutcome:
        """Load and persist a version; with ``route`` its workflow types route to it."""
        return self._deploy(archive, "deployed", route=route, persist=True)

    def load_file(self, path: str | Path) -> DeployOutcome:
        """Load a trusted operator package file (every boot; never stored) and route to it."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise PackageInvalid(f"cannot read package file {path}: {exc.strerror}") from None
        return self._deploy(data, "operator", route=True, persist=False)

    def route(self, workflow_type: str, content_hash: str) -> RouteChange:
        """Point new starts of ``workflow_type`` at a loaded version: rollback or roll-forward."""
        with self._lock:
            package = self._catalog.package(content_hash)  # UnknownVersion if not loaded
            if workflow_type not in package.code.workflows:
                raise InvalidInput(
                    f"package version {content_hash!r} does not define workflow type "
                    f"{workflow_type!r}; it defines {package.workflow_types}"
                )
            if package.source == "deployed":
                self._store.put_package_route(workflow_type, content_hash)
            previous = self._catalog.set_route(workflow_type, content_hash)
            self._audit("routed", package, types=[workflow_type], previous=previous)
            return RouteChange(
                workflow_type=workflow_type, content_hash=content_hash, previous=previous
            )

    def unload(self, content_hash: str) -> None:
        """Forget a version and its stored archive; refused while routed or pinned."""
        with self._lock:
            package = self._catalog.package(content_hash)
            routed = self._catalog.routed_types(content_hash)
            if routed:
                self.outcomes["unload_refused"] += 1
                raise RouteActive(
                    f"package version {content_hash!r} still routes {routed}; route them to "
                    "another version first"
                )
            pinned = self.pinned_runs().get(content_hash, 0)
            if pinned:
                self.outcomes["unload_refused"] += 1
                raise VersionPinned(
                    f"package version {content_hash!r} has {pinned} non-terminal run(s) or "
                    "unstarted children pinned to it; let them finish first"
                )
            if package.source == "deployed":
                self._store.delete_package(content_hash)
            self._catalog.unload(content_hash)
            self.outcomes["unloaded"] += 1
            self._audit("unloaded", package)

    # ---- reading ---------------------------------------------------------------------------
    def list(self) -> list[PackageInfo]:
        pinned = self.pinned_runs()
        return [
            PackageInfo(
                content_hash=p.content_hash,
                name=p.name,
                workflow_types=p.workflow_types,
                activity_types=p.activity_types,
                deployed_at=p.deployed_at,
                source=p.source,
                routed_types=self._catalog.routed_types(p.content_hash),
                pinned_runs=pinned.get(p.content_hash, 0),
            )
            for p in self._catalog.packages()
        ]

    def routes(self) -> dict[str, str]:
        return dict(self._catalog.routes())

    def pinned_runs(self) -> Counter[str]:
        """Non-terminal runs per version, plus children recorded on it but not started yet."""
        counts: Counter[str] = Counter(self._child_starts)
        for status in _PINNING_STATUSES:
            for summary in self._store.scan(WorkflowFilter(status=status)):
                value = summary.search_attributes.get(PACKAGE_VERSION_ATTRIBUTE)
                if isinstance(value, StringValue) and value.data:
                    counts[value.data] += 1
        return +counts

    def loaded_versions(self) -> int:
        """How many workflow versions are loaded (a type in two versions counts twice)."""
        return sum(len(p.workflow_types) for p in self._catalog.packages())

    # ---- children pin their version until they start --------------------------------------
    def child_recorded(self, version: str | None) -> None:
        if version is not None:
            with self._lock:
                self._child_starts[version] += 1

    def child_settled(self, version: str | None) -> None:
        if version is not None:
            with self._lock:
                self._child_starts[version] -= 1
                if self._child_starts[version] <= 0:
                    del self._child_starts[version]

    # ---- startup ---------------------------------------------------------------------------
    def reload_stored(self) -> None:
        """Reload every stored version, then its routes; bad rows are skipped loudly.

        A route naming a version that did not load falls back to the newest loaded
        version defining the type (as the reference system's reloads re-point), if any.
        """
        for record in self._store.list_packages():
            self._reload(record)
        for route in self._store.list_package_routes():
            try:
                self._catalog.set_route(route.workflow_type, route.content_hash)
            except Exception as exc:  # a missing version or a type it no longer defines
                fallback = self._newest_defining(route.workflow_type)
                _log.warning(
                    "stored route of %s names package version %s, which is not loaded (%s);"
                    " skipping the route%s",
                    route.workflow_type,
                    route.content_hash,
                    getattr(exc, "message", exc),
                    f"; {route.workflow_type} routes to {fallback}" if fallback else "",
                    extra={"workflow_type": route.workflow_type},
                )
                if fallback is not None:
                    self._catalog.set_route(route.workflow_type, fallback)

    def _newest_defining(self, workflow_type: str) -> str | None:
        defining = [p for p in self._catalog.packages() if workflow_type in p.code.workflows]
        return defining[-1].content_hash if defining else None

    def load_operator_files(self, paths: Iterable[str | Path]) -> None:
        for path in paths:
            outcome = self.load_file(path)
            _log.info(
                "operator package %s loaded from %s (%s)", outcome.name, path, outcome.content_hash
            )

    def _reload(self, record: PackageRecord) -> None:
        try:
            archive = read_archive(record.archive, ExtractionLimits.model_construct(**_UNBOUNDED))
            if archive.content_hash != record.content_hash or archive.manifest.name != record.name:
                raise PackageInvalid(
                    f"the stored archive hashes to {archive.content_hash} with manifest name"
                    f" {archive.manifest.name!r}, not its key {record.content_hash}"
                    f" / {record.name!r}"
                )
            self._catalog.load(archive, "deployed", record.deployed_at)
        except Exception as exc:
            reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self._catalog.mark_skipped(record.content_hash, reason)
            _log.error(
                "stored package %s (%s) could not be reloaded and is skipped; runs pinned to it "
                "will fail their recovery: %s",
                record.name,
                record.content_hash,
                reason,
                extra={"content_hash": record.content_hash},
            )

    # ---- the one deploy path ---------------------------------------------------------------
    def _deploy(
        self, data: bytes, source: PackageSource, *, route: bool, persist: bool
    ) -> DeployOutcome:
        with self._lock:
            try:
                archive = read_archive(data, self._limits)
                package, fresh = self._catalog.load(archive, source, self._now())
            except Exception:
                self.outcomes["refused"] += 1
                raise
            if fresh:
                # A version's types are known only once it is imported: undo a clash.
                clash = sorted(set(package.workflow_types) & set(self._registry.workflows))
                if clash:
                    self._catalog.unload(package.content_hash)
                    self.outcomes["refused"] += 1
                    raise AlreadyExists(
                        f"workflow type(s) {clash} are defined by the server's own code and "
                        "cannot be deployed as a package"
                    )
            types = package.workflow_types if route else []
            changed = [t for t in types if self._catalog.route_of(t) != package.content_hash]
            if persist:
                try:
                    self._store.put_package(
                        PackageRecord(
                            package.content_hash, package.name, data, package.deployed_at
                        ),
                        types,
                    )
                except Exception:
                    if fresh:
                        self._catalog.unload(package.content_hash)  # nothing changed
                    self.outcomes["failed"] += 1
                    raise
            for workflow_type in types:
                self._catalog.set_route(workflow_type, package.content_hash)
            self.outcomes["deployed" if fresh else "redeployed"] += 1
            self._audit("deployed" if fresh else "redeployed", package, types=changed)
            return DeployOutcome(
                content_hash=package.content_hash,
                name=package.name,
                workflow_types=package.workflow_types,
                activity_types=package.activity_types,
                freshly_loaded=fresh,
                routes_changed=changed,
            )

    def _audit(
        self,
        action: str,
        package: LoadedPackage,
        *,
        types: Iterable[str] = (),
        previous: str | None = None,
    ) -> None:
        """One audit line per deploy mutation."""
        routed = list(types)
        _log.info(
            "package %s %s (%s)%s%s",
            package.name,
            action,
            package.content_hash,
            f"; routes {routed}" if routed else "",
            f"; previous {previous}" if previous else "",
            extra={"audit": "package", "action": action, "content_hash": package.content_hash},
        )

    deploy_async = AsyncTwin()
    load_file_async = AsyncTwin()
    route_async = AsyncTwin()
    unload_async = AsyncTwin()
    list_async = AsyncTwin()


_UNBOUNDED = {
    "max_compressed_bytes": 2**62,
    "max_inflated_bytes": 2**62,
    "max_files": 2**62,
    "max_ratio": 2.0**62,
}
"""Stored archives passed the deploy limits when they were admitted: reload trusts them."""


def check_hash(text: str) -> str:
    """Refuse a malformed content hash before anything looks it up."""
    if not is_content_hash(text):
        raise InvalidInput(f"{text!r} is not a content hash (sha256: and 64 hex digits)")
    return text
