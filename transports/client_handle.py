"""A handle on one workflow of a server: what ``AionClient.get_handle`` returns.

async with AionClient("http://127.0.0.1:8080") as client:
    handle = client.get_handle("order-42")
    await handle.signal("approve", {})
    print(await handle.update("add_line", {"sku": "a"}))
    print(await handle.result())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

if TYPE_CHECKING:
    from transports.client import AionClient


class WorkflowClientHandle:
    """Calls on one workflow (and, with ``run_id``, pinned to that run where the route has one).

    ``result()`` returns the workflow's result (converted to ``result_type`` if given: a
    pydantic model, a dataclass...) or raises ClientError for how it ended.
    """

    def __init__(
        self,
        client: AionClient,
        workflow_id: str,
        run_id: str | None = None,
        *,
        result_type: Any = None,
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.result_type = result_type

    def __repr__(self) -> str:
        return f"WorkflowClientHandle({self.workflow_id!r}, run_id={self.run_id!r})"

    async def result(self, *, wait_ms: int = 30_000) -> Any:
        """The result once the workflow completed; ClientError if it failed, was cancelled,
        timed out, or was still running after ``wait_ms`` (code ``query_timeout``)."""
        from transports.client import ClientError

        answer = await self.client.result(self.workflow_id, wait_ms=wait_ms, run_id=self.run_id)
        if "error" in answer:
            error = answer["error"]
            raise ClientError(200, error["code"], error["message"], error.get("error_type"))
        if answer["status"] != "Completed":
            raise ClientError(
                408,
                "query_timeout",
                f"workflow {self.workflow_id!r} is {answer['status']} after {wait_ms} ms",
                "ResultTimeout",
            )
        value = answer.get("result")
        if self.result_type is None:
            return value
        return TypeAdapter(self.result_type).validate_python(value)

    async def signal(self, signal_name: str, payload: Any = None) -> None:
        await self.client.signal(self.workflow_id, signal_name, payload, run_id=self.run_id)

    async def query(self, query_name: str, *args: Any) -> Any:
        return await self.client.query(self.workflow_id, query_name, *args, run_id=self.run_id)

    async def update(self, update_name: str, *args: Any, wait_ms: int | None = None) -> Any:
        return await self.client.update(
            self.workflow_id, update_name, *args, run_id=self.run_id, wait_ms=wait_ms
        )

    async def cancel(self, reason: str | None = None) -> None:
        await self.client.cancel(self.workflow_id, reason, run_id=self.run_id)

    async def describe(self, *, include_history: bool = False) -> dict[str, Any]:
        return await self.client.describe(
            self.workflow_id, include_history=include_history, run_id=self.run_id
        )
