"""An HTTP/WebSocket client for an aionactors server: every route of PROTOCOL.md, and
stream subscriptions that reconnect and resume by themselves (from ``last_seq + 1``
for one workflow, from ``last position + 1`` for a namespace).

    async with AionClient("http://127.0.0.1:8080", namespace="shop") as client:
        handle = await client.start("checkout", {"id": 42})
        await client.signal(handle["workflow_id"], "approve", {})
        async for frame in client.watch(handle["workflow_id"]):
            print(frame["event"]["type"])

``SyncClient`` wraps it for scripts and the CLI.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import pydantic_core

from transports.client_handle import WorkflowClientHandle

_T = TypeVar("_T")
_TERMINAL = frozenset(
    {
        "WorkflowCompleted",
        "WorkflowFailed",
        "WorkflowCancelled",
        "WorkflowTimedOut",
        "WorkflowContinuedAsNew",
    }
)


class ClientError(Exception):
    """The server answered with the error envelope ``{code, message, error_type?}``."""

    def __init__(self, status: int, code: str, message: str, error_type: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type


class StreamEnded(ClientError):
    """The stream ended with a terminal error frame that resuming cannot fix."""


class AionClient:
    """Talks to one server on behalf of one caller (headers or a bearer token)."""

    def __init__(
        self,
        base_url: str,
        *,
        namespace: str = "default",
        token: str | None = None,
        headers: dict[str, str] | None = None,
        reconnect_attempts: int = 20,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.namespace = namespace
        self._headers = dict(headers or {})
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._session: aiohttp.ClientSession | None = None
        self._reconnect_attempts = reconnect_attempts

    async def __aenter__(self) -> AionClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers)
        return self._session

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        payload = {"namespace": self.namespace, **{k: v for k, v in body.items() if v is not None}}
        # Pydantic models and dataclasses go on the wire as their JSON form.
        payload = pydantic_core.to_jsonable_python(payload)
        async with self._http().post(self.base_url + path, json=payload) as response:
            return await _answer(response)

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        async with self._http().get(self.base_url + path, params=query) as response:
            return await _answer(response)

    # ---- workflows ------------------------------------------------------------------
    async def start(
        self,
        workflow_type: str,
        input: Any = None,
        *,
        workflow_id: str | None = None,
        search_attributes: dict[str, Any] | None = None,
        task_queue: str | None = None,
        parent_workflow_id: str | None = None,
        package_version: str | None = None,
    ) -> dict[str, str]:
        """``parent_workflow_id`` and ``package_version`` are for cluster nodes (a child
        started on another node's shard)."""
        return await self._post(
            "/workflows/start",
            {
                "workflow_type": workflow_type,
                "input": input,
                "workflow_id": workflow_id,
                "search_attributes": search_attributes,
                "task_queue": task_queue,
                "parent_workflow_id": parent_workflow_id,
                "package_version": package_version,
            },
        )

    async def child_ended(self, workflow_id: str, child_workflow_id: str) -> None:
        """Between cluster nodes: tell ``workflow_id``'s owner that its child ended."""
        await self._post(
            "/cluster/child_ended",
            {"workflow_id": workflow_id, "child_workflow_id": child_workflow_id},
        )

    async def signal(
        self, workflow_id: str, signal_name: str, payload: Any = None, *, run_id: str | None = None
    ) -> None:
        await self._post(
            "/workflows/signal",
            {
                "workflow_id": workflow_id,
                "signal_name": signal_name,
                "payload": payload,
                "run_id": run_id,
            },
        )

    async def query(
        self, workflow_id: str, query_name: str, *args: Any, run_id: str | None = None
    ) -> Any:
        """The query's result; a ClientError for unknown_query, query_timeout and the like."""
        answer = await self._post(
            "/workflows/query",
            {
                "workflow_id": workflow_id,
                "query_name": query_name,
                "args": list(args) or None,
                "run_id": run_id,
            },
        )
        if "error" in answer:
            error = answer["error"]
            raise ClientError(200, error["code"], error["message"], error.get("error_type"))
        return answer["result"]

    async def cancel(
        self, workflow_id: str, reason: str | None = None, *, run_id: str | None = None
    ) -> None:
        body = {"workflow_id": workflow_id, "reason": reason, "run_id": run_id}
        await self._post("/workflows/cancel", body)

    async def terminate(self, workflow_id: str, reason: str | None = None) -> None:
        """End the run at once, without compensation."""
        await self._post("/workflows/terminate", {"workflow_id": workflow_id, "reason": reason})

    async def reopen(self, workflow_id: str) -> dict[str, str]:
        return await self._post("/workflows/reopen", {"workflow_id": workflow_id})

    async def pause(self, workflow_id: str, reason: str | None = None) -> dict[str, str]:
        return await self._post("/workflows/pause", {"workflow_id": workflow_id, "reason": reason})

    async def resume(self, workflow_id: str) -> dict[str, str]:
        return await self._post("/workflows/resume", {"workflow_id": workflow_id})

    async def result(
        self, workflow_id: str, *, wait_ms: int | None = 30_000, run_id: str | None = None
    ) -> dict[str, Any]:
        """``{status, result?, error?}``, waiting up to ``wait_ms`` for the end."""
        return await self._post(
            "/workflows/result", {"workflow_id": workflow_id, "wait_ms": wait_ms, "run_id": run_id}
        )

    async def describe(
        self, workflow_id: str, *, include_history: bool = False, run_id: str | None = None
    ) -> dict[str, Any]:
        return await self._post(
            "/workflows/describe",
            {
                "workflow_id": workflow_id,
                "include_history": include_history or None,
                "run_id": run_id,
            },
        )

    # ---- messages to running workflows (update, signal-with-start), handles ------------
    async def update(
        self,
        workflow_id: str,
        update_name: str,
        *args: Any,
        run_id: str | None = None,
        wait_ms: int | None = None,
    ) -> Any:
        """The update handler's result; ClientError if it was refused (400 ``UpdateRejected``,
        ``UnknownUpdate``), failed (``update_failed``) or did not finish in ``wait_ms``."""
        answer = await self._post(
            "/workflows/update",
            {
                "workflow_id": workflow_id,
                "update_name": update_name,
                "args": list(args) or None,
                "run_id": run_id,
                "wait_ms": wait_ms,
            },
        )
        if "error" in answer:
            error = answer["error"]
            raise ClientError(200, error["code"], error["message"], error.get("error_type"))
        return answer["result"]

    async def signal_with_start(
        self,
        workflow_type: str,
        workflow_id: str,
        signal_name: str,
        payload: Any = None,
        *,
        input: Any = None,
        search_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``{workflow_id, run_id, started}``: signals the running workflow or starts it."""
        return await self._post(
            "/workflows/signal_with_start",
            {
                "workflow_type": workflow_type,
                "workflow_id": workflow_id,
                "signal_name": signal_name,
                "payload": payload,
                "input": input,
                "search_attributes": search_attributes,
            },
        )

    def get_handle(
        self, workflow_id: str, run_id: str | None = None, *, result_type: Any = None
    ) -> WorkflowClientHandle:
        """A handle with ``result()``, ``signal()``, ``query()``, ``update()``, ``cancel()``,
        ``describe()`` on one workflow (no request is made until one is called)."""
        return WorkflowClientHandle(self, workflow_id, run_id, result_type=result_type)

    async def history(
        self, workflow_id: str, *, from_seq: int = 1, limit: int | None = None
    ) -> dict[str, Any]:
        return await self._post(
            "/workflows/history", {"workflow_id": workflow_id, "from_seq": from_seq, "limit": limit}
        )

    async def list(self, **filters: Any) -> dict[str, Any]:
        """One page: ``{workflows, next_page_token}``; filters as in PROTOCOL.md."""
        return await self._post("/workflows/list", filters)

    async def count(self, **filters: Any) -> int:
        answer = await self._get("/workflows/count", {"namespace": self.namespace, **filters})
        return int(answer["count"])

    async def cluster(self) -> dict[str, Any]:
        """``{node_id, shard_count, nodes: [{node_id, address, owned_shards, last_seen}]}``."""
        return await self._get("/cluster")

    # ---- schedules ---------------------------------------------------------------------
    async def create_schedule(
        self,
        spec: dict[str, Any],
        workflow_type: str,
        *,
        schedule_id: str | None = None,
        **config: Any,
    ) -> dict[str, Any]:
        """``{schedule_id, state}``; config as in PROTOCOL.md (input, overlap_policy, ...)."""
        body = {"spec": spec, "workflow_type": workflow_type, "schedule_id": schedule_id, **config}
        return await self._post("/schedules", body)

    async def schedules(self) -> list[dict[str, Any]]:
        return (await self._get("/schedules", {"namespace": self.namespace}))["schedules"]

    async def schedule(self, schedule_id: str) -> dict[str, Any]:
        return await self._schedule_call("GET", schedule_id)

    async def update_schedule(
        self, schedule_id: str, spec: dict[str, Any], workflow_type: str, **config: Any
    ) -> dict[str, Any]:
        body = {"namespace": self.namespace, "spec": spec, "workflow_type": workflow_type, **config}
        return await self._schedule_call("PUT", schedule_id, body=body)

    async def delete_schedule(self, schedule_id: str) -> None:
        await self._schedule_call("DELETE", schedule_id)

    async def schedule_action(self, schedule_id: str, action: str) -> dict[str, Any]:
        """``pause``, ``resume`` or ``trigger``; returns the schedule's state."""
        return await self._schedule_call("POST", schedule_id, f"/{action}")

    async def _schedule_call(
        self, method: str, schedule_id: str, suffix: str = "", body: Any = None
    ) -> Any:
        url = f"{self.base_url}/schedules/{schedule_id}{suffix}"
        params = {"namespace": self.namespace}
        async with self._http().request(method, url, params=params, json=body) as response:
            answer = await _answer(response)
        return answer.get("state", answer)

    # ---- the event stream ------------------------------------------------------------
    # ---- packages (deploy rights needed) -----------------------------------------------
    async def deploy_package(self, archive: bytes, *, route: bool = True) -> dict[str, Any]:
        """Deploy a package archive; with ``route`` its workflow types route to it."""
        params = {} if route else {"route": "false"}
        async with self._http().post(
            self.base_url + "/packages",
            data=archive,
            params=params,
            headers={"Content-Type": "application/zip"},
        ) as response:
            return await _answer(response)

    async def packages(self) -> list[dict[str, Any]]:
        return (await self._get("/packages"))["packages"]

    async def route_package(self, workflow_type: str, content_hash: str) -> dict[str, Any]:
        body = {"workflow_type": workflow_type, "content_hash": content_hash}
        async with self._http().post(self.base_url + "/packages/route", json=body) as response:
            return await _answer(response)

    async def unload_package(self, content_hash: str) -> None:
        async with self._http().delete(f"{self.base_url}/packages/{content_hash}") as response:
            await _answer(response)

    async def watch(
        self, workflow_id: str, *, from_seq: int | None = 1
    ) -> AsyncIterator[dict[str, Any]]:
        """Every event of one workflow from ``from_seq`` (None: live only), in order, once.

        A dropped connection or a ``lagged`` cut-off is resumed from ``last_seq + 1``;
        the iteration ends after the workflow's terminal event.
        """

        def subscription(cursor: int | None) -> dict[str, Any]:
            spec: dict[str, Any] = {"namespace": self.namespace, "workflow_id": workflow_id}
            if cursor is not None:
                spec["resume_from_seq"] = cursor
            return {"per_workflow": spec}

        async for frame in self._resuming(subscription, from_seq, lambda f: f["event"]["seq"]):
            yield frame
            if frame["event"]["type"] in _TERMINAL:
                return

    async def firehose(self, *, from_position: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every event of the client's namespace from ``from_position`` (None: live only).

        A dropped connection or a ``lagged`` cut-off is resumed from the last frame's
        ``position + 1``, so nothing is lost or repeated once a frame has arrived.
        """
        async for frame in self.watch_namespace(from_position=from_position):
            yield frame

    async def watch_namespace(
        self,
        *,
        workflow_type: str | None = None,
        status: str | None = None,
        from_position: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The firehose, or with ``workflow_type`` / ``status`` the filtered subscription,
        resumed by position across reconnects and ``lagged`` cut-offs."""
        selectors = {"workflow_type": workflow_type, "status": status}
        selectors = {name: value for name, value in selectors.items() if value is not None}
        kind = "filtered" if selectors else "firehose"

        def subscription(cursor: int | None) -> dict[str, Any]:
            spec: dict[str, Any] = {"namespace": self.namespace, **selectors}
            if cursor is not None:
                spec["resume_from_position"] = cursor
            return {kind: spec}

        async for frame in self._resuming(subscription, from_position, lambda f: f["position"]):
            yield frame

    async def _resuming(
        self,
        subscription: Callable[[int | None], dict[str, Any]],
        cursor: int | None,
        position_of: Callable[[dict[str, Any]], int],
    ) -> AsyncIterator[dict[str, Any]]:
        """Frames of one logical subscription, reconnected from the last cursor + 1."""
        failures = 0
        while True:
            try:
                async for frame in self._frames(subscription(cursor)):
                    failures = 0
                    cursor = position_of(frame) + 1
                    yield frame
                return  # closed normally (after a per_workflow's terminal event)
            except (aiohttp.ClientError, ConnectionError, _Lagged):
                failures += 1
                if failures > self._reconnect_attempts:
                    raise
                await asyncio.sleep(min(0.05 * 2**failures, 2.0))

    async def _frames(self, subscription: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        url = self.base_url.replace("http", "ws", 1) + "/events/stream"
        async with self._http().ws_connect(url) as socket:
            await socket.send_str(json.dumps(subscription))
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                frame = json.loads(message.data)
                if "error" in frame:
                    error = frame["error"]
                    if error["code"] in _RESUMABLE:
                        raise _Lagged(429, error["code"], error["message"])
                    raise StreamEnded(400, error["code"], error["message"], error.get("error_type"))
                yield frame
            if socket.close_code not in (None, 1000):
                raise ConnectionError(f"stream closed with code {socket.close_code}")


class _Lagged(ClientError):
    """The server cut a slow subscriber off (or is restarting); resuming from the cursor
    fixes it."""


_RESUMABLE = frozenset({"lagged", "unavailable"})


async def _answer(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    body = json.loads(text) if text else {}
    if response.status >= 400:
        if isinstance(body, dict) and "code" in body:
            raise ClientError(
                response.status, body["code"], body.get("message", ""), body.get("error_type")
            )
        raise ClientError(response.status, "backend", text or response.reason or "error")
    return body


class SyncClient:
    """The same calls, blocking: each runs on a private event loop."""

    def __init__(self, base_url: str, **options: Any) -> None:
        self._base_url = base_url
        self._options = options

    def _run(self, call: Callable[[AionClient], Coroutine[Any, Any, _T]]) -> _T:
        async def go() -> _T:
            async with AionClient(self._base_url, **self._options) as client:
                return await call(client)

        return asyncio.run(go())

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(AionClient, name, None)
        if method is None or name.startswith("_") or name in ("watch", "firehose", "get_handle"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._run(lambda c: getattr(c, name)(*args, **kwargs))

    def watch(self, workflow_id: str, *, from_seq: int | None = 1) -> list[dict[str, Any]]:
        """Collect a workflow's stream until its terminal event."""

        async def collect(client: AionClient) -> list[dict[str, Any]]:
            return [frame async for frame in client.watch(workflow_id, from_seq=from_seq)]

        return self._run(collect)
