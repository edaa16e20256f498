"""The chaos harness's workflow (loaded by ``aionactors serve --load``): each ``note`` signal
runs one activity whose side effect is a line appended to the file named by
``AIONACTORS_TEST_CHAOS_LOG``; ``finish`` completes it with the notes it saw."""

from __future__ import annotations

import os
from typing import Any

from aionactors import activity, workflow


@activity.defn
def side_effect(token: str) -> str:
    with open(os.environ["AIONACTORS_TEST_CHAOS_LOG"], "a", encoding="utf-8") as log:
        log.write(token + "\n")
        log.flush()
        os.fsync(log.fileno())
    return token


@workflow.defn(name="chaos")
class Chaos:
    def __init__(self) -> None:
        self.pending: list[str] = []
        self.done = False

    @workflow.run
    async def run(self, arg: Any = None) -> list[str]:
        seen: list[str] = []
        while True:
            await workflow.wait_condition(lambda: bool(self.pending) or self.done)
            while self.pending:
                token = self.pending.pop(0)
                seen.append(await workflow.execute_activity(side_effect, token))
            if self.done:
                return seen

    @workflow.signal
    def note(self, token: str) -> None:
        self.pending.append(token)

    @workflow.signal
    def finish(self, payload: Any = None) -> None:
        self.done = True
