"""The errors supervision raises on purpose, each with a ``code`` naming the case."""

from __future__ import annotations

from typing import ClassVar


class SupervisionError(Exception):
    """Base of every error this package raises on purpose."""

    code: ClassVar[str] = "supervision_error"


class RestartIntensityExceeded(SupervisionError):
    """A supervisor restarted children too often and gave up: it fails to its own supervisor."""

    code = "restart_intensity_exceeded"

    def __init__(self, supervisor: str, child_id: str, max_restarts: int, period: float) -> None:
        super().__init__(
            f"supervisor {supervisor!r} gave up: more than {max_restarts} restarts within "
            f"{period} s (the last for child {child_id!r}); it stopped its children and failed "
            "to its own supervisor. Fix the crashing child, or raise max_restarts / add a Backoff."
        )
        self.supervisor = supervisor
        self.child_id = child_id


class ChildAlreadyStarted(SupervisionError):
    """A child id is already in use under this supervisor."""

    code = "child_already_started"

    def __init__(self, supervisor: str, child_id: str) -> None:
        super().__init__(
            f"supervisor {supervisor!r} already has a child {child_id!r}: "
            "terminate it first or pick another id"
        )
        self.child_id = child_id


class ChildNotFound(SupervisionError):
    """No child with this id under this supervisor."""

    code = "child_not_found"

    def __init__(self, supervisor: str, child_id: str) -> None:
        super().__init__(
            f"supervisor {supervisor!r} has no child {child_id!r}; see which_children()"
        )
        self.child_id = child_id


class TooManyChildren(SupervisionError):
    """A dynamic supervisor is at its ``max_children``."""

    code = "too_many_children"

    def __init__(self, supervisor: str, max_children: int) -> None:
        super().__init__(
            f"supervisor {supervisor!r} already runs max_children={max_children} children: "
            "terminate some or raise the limit"
        )


class ExitUnobserved(SupervisionError):
    """An actor ended before its supervisor could hook into it, so its real exception is lost."""

    code = "exit_unobserved"

    def __init__(self, actor: str) -> None:
        super().__init__(
            f"{actor} ended before its supervisor could watch it (a factory returned an actor "
            "that died at once); start it from a class spec, or make it a SupervisedActor, "
            "to see the real exception"
        )
