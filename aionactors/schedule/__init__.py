"""Schedules: cron and interval triggers that start workflows, durably and exactly once per tick.

Example::

    from aionactors.schedule import Schedules

    schedules = Schedules.start(engine)
    state = schedules.create(
        {"spec": {"cron": "0 3 * * *", "timezone": "Europe/Berlin"},
         "workflow_type": "nightly_report", "overlap_policy": "buffer_one"},
        schedule_id="nightly",
    )
    print(state.next_fire_times)
    ...
    schedules.stop()          # then engine.shutdown()

Each schedule is an actor under a supervisor, the only writer of its own
history ``schedule:{key}``; its state is the fold of that history. Schedule ids are
per namespace: the key of ``nightly`` is ``nightly`` in ``default`` and
``schedule_key("acme", "nightly")`` in ``acme``, and every method takes ``namespace=``. Triggers,
policies and the projection are pure modules that can be used on their own.
"""

from aionactors.core.schedules import (
    CatchUpPolicy,
    OverlapPolicy,
    ScheduleConfig,
    ScheduleSpec,
    SkipReason,
    TriggerCause,
)
from aionactors.schedule.facade import Schedules
from aionactors.schedule.messages import BackfillResult
from aionactors.schedule.policies import OverlapDecision, decide_overlap, plan_catch_up
from aionactors.schedule.seams import (
    SCHEDULE_ID_ATTRIBUTE,
    EventSink,
    EventSource,
    Seams,
    StartedRun,
    TickTimer,
    WorkflowCanceller,
    WorkflowStarter,
    engine_seams,
)
from aionactors.schedule.state import (
    BufferedTick,
    ScheduleExecution,
    ScheduleProjection,
    ScheduleState,
    history_id,
    schedule_key,
    tick_workflow_id,
)
from aionactors.schedule.triggers import (
    jitter,
    next_fire_times,
    previous_fire_times,
    validate_spec,
)

__all__ = [
    "SCHEDULE_ID_ATTRIBUTE",
    "BackfillResult",
    "BufferedTick",
    "CatchUpPolicy",
    "EventSink",
    "EventSource",
    "OverlapDecision",
    "OverlapPolicy",
    "ScheduleConfig",
    "ScheduleExecution",
    "ScheduleProjection",
    "ScheduleSpec",
    "ScheduleState",
    "Schedules",
    "Seams",
    "SkipReason",
    "StartedRun",
    "TickTimer",
    "TriggerCause",
    "WorkflowCanceller",
    "WorkflowStarter",
    "decide_overlap",
    "engine_seams",
    "history_id",
    "jitter",
    "next_fire_times",
    "plan_catch_up",
    "previous_fire_times",
    "schedule_key",
    "tick_workflow_id",
    "validate_spec",
]
