"""The operational log: one line per event an operator wants to hear about.

A workflow that fails or times out, an activity attempt that fails (retried or not),
a stream subscriber cut off as ``lagged``, recovery finishing. Each record carries
its subject as structured fields (``extra``: ``workflow_id``, ``namespace``,
``run_id``, ``activity_id``, ...): a workflow by its id in its namespace, never the
engine's namespaced key, as every reply shows it. So a JSON formatter
(``aionactors serve --log-format json``) emits them as keys and a text formatter
appends them as ``key=value``. The engine calls these helpers from the one place each
event happens, after it is recorded, so a replay never logs an event twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aionactors.core.payload import ActivityError, WorkflowError
from aionactors.core.workflow_keys import key_namespace, public_id

if TYPE_CHECKING:
    from aionactors.engine.activities import ActivityTask
    from aionactors.engine.broadcaster import Subscription

_log = logging.getLogger("aionactors.events")


def subject(key: str, namespace: str | None = None) -> dict[str, str]:
    """The fields naming a workflow: its id and namespace (from its key unless given)."""
    return {"workflow_id": public_id(key), "namespace": namespace or key_namespace(key)}


def workflow_failed(workflow_id: str, run_id: str | None, error: WorkflowError) -> None:
    _log.warning(
        "workflow %s failed: %s",
        public_id(workflow_id),
        error.message,
        extra=subject(workflow_id) | {"run_id": run_id, "error_type": error.type},
    )


def code_ended(workflow_id: str, run_id: str, command: object) -> None:
    """The code returned or raised: log it if it failed (a completion is not news)."""
    error = getattr(command, "error", None)
    if isinstance(error, WorkflowError):
        workflow_failed(workflow_id, run_id, error)


def terminal_recorded(workflow_id: str, run_id: str | None, specs: list[Any]) -> None:
    """An engine-decided end (a non-determinism failure, a timeout): log the failures."""
    kind, fields = specs[0]
    if kind.__name__ == "WorkflowFailed":
        workflow_failed(workflow_id, run_id, fields["error"])
    elif kind.__name__ == "WorkflowTimedOut":
        _log.warning(
            "workflow %s timed out (%s timeout)",
            public_id(workflow_id),
            fields.get("timeout", "workflow"),
            extra=subject(workflow_id) | {"run_id": run_id},
        )


def activity_failed(task: ActivityTask, error: ActivityError, retry_in: float | None) -> None:
    """An attempt failed; ``retry_in`` is the backoff before the next one (None: no retry)."""
    workflow_id = public_id(task.workflow_id)
    fields = {
        **subject(task.workflow_id, task.namespace),
        "run_id": task.run_id,
        "activity_id": task.activity_id,
        "activity_type": task.activity_type,
        "attempt": task.attempt,
        "error_type": error.type,
    }
    if retry_in is None:
        _log.warning(
            "activity %s (workflow %s) attempt %d failed, not retried: %s",
            task.activity_type, workflow_id, task.attempt, error.message,
            extra=fields,
        )  # fmt: skip
    else:
        _log.warning(
            "activity %s (workflow %s) attempt %d failed, retrying in %.3g s: %s",
            task.activity_type, workflow_id, task.attempt, retry_in, error.message,
            extra={**fields, "retry_in_seconds": retry_in},
        )  # fmt: skip


def subscriber_lagged(subscription: Subscription, reason: str) -> None:
    """A stream subscriber was cut off; it resumes from its cursor, so INFO, not a fault."""
    workflow_id = subscription.workflow_id
    _log.info(
        "%s subscriber %s cut off: %s",
        subscription.kind,
        subscription.id,
        reason,
        extra={"subscriber": subscription.id, "subscription": subscription.kind}
        | (subject(workflow_id) if workflow_id else {}),
    )


def timed_recovery(recover: Callable[[], int]) -> int:
    """Run the engine's recovery and log how many workflows it brought back, and how fast."""
    began = time.perf_counter()
    count = recover()
    seconds = time.perf_counter() - began
    _log.info(
        "recovery finished: %d active workflow(s) rehydrated in %.3f s",
        count,
        seconds,
        extra={"workflows": count, "seconds": round(seconds, 6)},
    )
    return count
