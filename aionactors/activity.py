"""The activity authoring API: ``from aionactors import activity``, then ``@activity.defn``."""

from aionactors.workflow.activity import (
    ActivityCancelledError,
    ActivityDefinition,
    ActivityInfo,
    ApplicationError,
    activity_definition,
    defn,
    heartbeat,
    info,
    is_cancelled,
)

__all__ = [
    "ActivityCancelledError",
    "ActivityDefinition",
    "ActivityInfo",
    "ApplicationError",
    "activity_definition",
    "defn",
    "heartbeat",
    "info",
    "is_cancelled",
]
