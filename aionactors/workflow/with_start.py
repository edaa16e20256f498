"""Signal-with-start: the signal recorded with a start is delivered before the run's first line.

The start's own ``SearchAttributesUpdated`` carries ``aion.signal_with_start``
set to the run's id. That marks the ``SignalReceived`` of the same append as
"delivered first", unambiguously: a signal sent later to a run whose first step
issued no command lands at the same place in history, but its run has no such
mark (and a successor run inherits the attribute with another run's id). Replay
applies the marked signal before it starts the run method, exactly as the first
boot did, so both see the same order.
"""

from __future__ import annotations

from collections.abc import Sequence

from aionactors.core import events as ev
from aionactors.core.search import StringValue

SIGNAL_WITH_START_ATTRIBUTE = "aion.signal_with_start"
"""Search attribute set on a run started by signal-with-start: that run's id."""


def with_start_signals(started: ev.WorkflowStarted, events: Sequence[ev.Event]) -> list[ev.Event]:
    """The signals recorded in ``started``'s own append by a signal-with-start (else none).

    ``events`` follow ``started`` in its run segment.
    """
    if not events or not isinstance(events[0], ev.SearchAttributesUpdated):
        return []
    mark = events[0].attributes.get(SIGNAL_WITH_START_ATTRIBUTE)
    if events[0].seq != started.seq + 1 or mark != StringValue(data=started.run_id):
        return []
    signals: list[ev.Event] = []
    for event in events[1:]:
        if isinstance(event, ev.TimerStarted) and event.timer_id.is_reserved:
            continue  # the run's deadline, recorded with the start
        if not isinstance(event, ev.SignalReceived):
            break
        signals.append(event)
    return signals
