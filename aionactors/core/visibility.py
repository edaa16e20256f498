"""Visibility: one summary row per workflow, folded from its events, and list filters.

The summary is what list and count read instead of replaying histories; stores
keep it in step with every append by folding only the new events onto the
previous row (``apply_events``), which gives the same row as folding the whole
history (``summary_from_history``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from aionactors.core.errors import InvalidInput
from aionactors.core.events import (
    EventBase,
    SearchAttributesUpdated,
    WorkflowFailed,
    WorkflowStarted,
)
from aionactors.core.search import (
    DEFAULT_NAMESPACE,
    Predicate,
    SearchAttributes,
    namespace_of,
)
from aionactors.core.status import LEASE_RESET_TYPES, LIFECYCLE_STATUS, WorkflowStatus
from aionactors.core.timestamps import UtcDatetime, from_micros, to_micros

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class WorkflowSummary(BaseModel):
    """What lists show about a workflow: its latest run's type, status and times."""

    model_config = ConfigDict(frozen=True)
    workflow_id: str
    run_id: str
    namespace: str = DEFAULT_NAMESPACE
    workflow_type: str
    status: WorkflowStatus = WorkflowStatus.RUNNING
    started_at: UtcDatetime
    ended_at: UtcDatetime | None = None
    parent: str | None = None
    failure_reason: str | None = None
    search_attributes: SearchAttributes = Field(default_factory=dict)


def apply_event(summary: WorkflowSummary | None, event: EventBase) -> WorkflowSummary | None:
    """Fold one event onto a summary. Histories without a WorkflowStarted have no summary."""
    if isinstance(event, WorkflowStarted):
        attributes = summary.search_attributes if summary is not None else {}
        return WorkflowSummary(
            workflow_id=event.workflow_id,
            run_id=event.run_id,
            namespace=namespace_of(attributes),
            workflow_type=event.workflow_type,
            started_at=event.recorded_at,
            parent=event.parent_workflow_id,
            search_attributes=attributes,
        )
    if summary is None:
        return None
    kind = event.type  # type: ignore[attr-defined]
    if isinstance(event, SearchAttributesUpdated):
        attributes = {**summary.search_attributes, **event.attributes}
        return summary.model_copy(
            update={"search_attributes": attributes, "namespace": namespace_of(attributes)}
        )
    status = LIFECYCLE_STATUS.get(kind)
    if status is None:
        return summary
    update: dict[str, object] = {"status": status}
    if kind in LEASE_RESET_TYPES:
        update |= {"ended_at": None, "failure_reason": None}
    elif status.is_terminal:
        update["ended_at"] = event.recorded_at
        if isinstance(event, WorkflowFailed):
            update["failure_reason"] = event.error.message
    return summary.model_copy(update=update)


def apply_events(
    summary: WorkflowSummary | None, events: Iterable[EventBase]
) -> WorkflowSummary | None:
    for event in events:
        summary = apply_event(summary, event)
    return summary


def summary_from_history(events: Iterable[EventBase]) -> WorkflowSummary | None:
    return apply_events(None, events)


def attributes_of(events: Iterable[EventBase]) -> SearchAttributes:
    """A history's search attributes: every SearchAttributesUpdated folded, later keys winning."""
    attributes: SearchAttributes = {}
    for event in events:
        if isinstance(event, SearchAttributesUpdated):
            attributes.update(event.attributes)
    return attributes


class WorkflowFilter(BaseModel):
    """Which workflows a list or count wants. Every field narrows; the default matches all."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    namespace: str | None = None
    workflow_type: str | None = None
    status: WorkflowStatus | None = None
    started_after: UtcDatetime | None = None
    started_before: UtcDatetime | None = None
    closed_after: UtcDatetime | None = None
    closed_before: UtcDatetime | None = None
    parent: str | None = None
    search_attributes: tuple[Predicate, ...] = ()
    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = None

    def matches(self, summary: WorkflowSummary) -> bool:
        """The whole filter (paging aside), evaluated in Python."""
        return self.matches_columns(summary) and self.matches_attributes(summary)

    def matches_columns(self, summary: WorkflowSummary) -> bool:
        """The part of the filter that SQL stores evaluate in their WHERE clause."""
        checks = (
            self.namespace is None or summary.namespace == self.namespace,
            self.workflow_type is None or summary.workflow_type == self.workflow_type,
            self.status is None or summary.status == self.status,
            self.started_after is None or summary.started_at >= self.started_after,
            self.started_before is None or summary.started_at <= self.started_before,
            self.closed_after is None or _closed_on_or_after(summary.ended_at, self.closed_after),
            self.closed_before is None
            or _closed_on_or_before(summary.ended_at, self.closed_before),
            self.parent is None or summary.parent == self.parent,
        )
        return all(checks)

    def matches_attributes(self, summary: WorkflowSummary) -> bool:
        return all(p.matches(summary.search_attributes) for p in self.search_attributes)


def _closed_on_or_after(ended_at: datetime | None, bound: datetime) -> bool:
    return ended_at is not None and ended_at >= bound


def _closed_on_or_before(ended_at: datetime | None, bound: datetime) -> bool:
    return ended_at is not None and ended_at <= bound


class WorkflowPage(BaseModel):
    """One page of a list, newest start first; pass ``next_page_token`` for the next."""

    model_config = ConfigDict(frozen=True)
    workflows: list[WorkflowSummary]
    next_page_token: str | None = None


def sort_key(summary: WorkflowSummary) -> tuple[int, str]:
    """The list order: newest start first, then workflow id (deterministic ties)."""
    return (-to_micros(summary.started_at), summary.workflow_id)


def page_token_for(summary: WorkflowSummary) -> str:
    """An opaque cursor that resumes the list after ``summary``."""
    raw = json.dumps([to_micros(summary.started_at), summary.workflow_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_page_token(token: str) -> tuple[datetime, str]:
    """The (started_at, workflow_id) a page token resumes after; InvalidInput if malformed."""
    try:
        micros, workflow_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        if type(micros) is not int or not isinstance(workflow_id, str):
            raise ValueError
        started_at = from_micros(micros)
    except (ValueError, TypeError, OverflowError) as exc:
        # TypeError: JSON that is not a pair (null, 5); Overflow/ValueError: micros out of range.
        raise InvalidInput(f"page_token {token!r} is not a token this server issued") from exc
    return started_at, workflow_id


def after_cursor(summary: WorkflowSummary, cursor: tuple[datetime, str] | None) -> bool:
    """True if ``summary`` comes after the cursor in list order."""
    if cursor is None:
        return True
    started_at, workflow_id = cursor
    return sort_key(summary) > (-to_micros(started_at), workflow_id)
