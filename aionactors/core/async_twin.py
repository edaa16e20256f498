"""``x_async`` twins of blocking facade methods, shared by the engine and the schedules.

It lives in ``core`` because ``schedule/`` may not import ``engine/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class AsyncTwin:
    """``x_async`` runs ``x`` in a worker thread, so asyncio code never blocks on the engine.

    >>> class Facade:                       # doctest: +SKIP
    ...     def describe(self, key): ...
    ...     describe_async = AsyncTwin()
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._sync_name = name.removesuffix("_async")

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        sync = getattr(instance, self._sync_name)

        async def twin(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(sync, *args, **kwargs)

        twin.__doc__ = f"Async twin of :meth:`{owner.__name__}.{self._sync_name}`."
        return twin
