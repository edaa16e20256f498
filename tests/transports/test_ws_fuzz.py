"""/events/stream under hostile first frames: garbage, invalid UTF-8, deep nesting, huge
numbers, wrong types, unknown kinds, extra keys, every cursor edge, and cross-namespace
attempts in both auth modes. Each ends with its error frame and close 1011 (reason = the
code) — or, for what breaks the WebSocket protocol itself, the protocol's close code —
and the server keeps serving. Examples are derandomized: every run tries the same ones."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from aionactors import AionError, Engine
from tests.transports import jwt_support as j
from tests.transports.api import start
from tests.transports.raw_socket import BINARY, CLOSE, TEXT, RawWebSocket
from tests.transports.support import TENANT_A, TENANT_B, tenant
from tests.transports.test_stream_errors import assert_still_serving, server_errors
from transports import ServerConfig, create_app
from transports.stream import parse_subscription

EXAMPLES = 60
KINDS = ("per_workflow", "firehose", "filtered")
MAX_SEQ = 2**63 - 1
Headers = dict[str, str]
Ending = tuple[dict[str, Any] | None, int | None, str | None]


def examples(strategy: st.SearchStrategy[Any], count: int = EXAMPLES) -> list[Any]:
    """``count`` derandomized draws of ``strategy`` (the same list every run)."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


async def ending(client: TestClient, frame: str | bytes, headers: Headers | None = None) -> Ending:
    """Send one first frame; the error frame (or None), the close code and reason."""
    ws = await client.ws_connect("/events/stream", headers=headers or {})
    if isinstance(frame, bytes):
        await ws.send_bytes(frame)
    else:
        await ws.send_str(frame)
    error: dict[str, Any] | None = None
    while True:
        message = await ws.receive(timeout=10)
        if message.type == WSMsgType.TEXT:
            assert error is None, f"data after the error frame: {message.data!r}"
            body = json.loads(message.data)
            assert set(body) == {"error"}, body
            error = body["error"]
            continue
        assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED), message
        return error, ws.close_code, message.extra if message.type == WSMsgType.CLOSE else None


async def assert_ends_with(
    client: TestClient,
    frame: str | bytes,
    code: str,
    error_type: str | None = None,
    headers: Headers | None = None,
) -> None:
    error, close_code, reason = await ending(client, frame, headers)
    assert error is not None and error["code"] == code, (frame[:200], error)
    if error_type is not None:
        assert error.get("error_type") == error_type, (frame[:200], error)
    assert (close_code, reason) == (1011, code), (frame[:200], close_code, reason)


# ---- malformed frames ---------------------------------------------------------------------
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
field_values = json_values | st.sampled_from(
    [0, -1, 2**63, 2**64, 10**400, 1e308, -1e308, "", "x" * 300, [], {}, True, "default"]
)


FIELD_NAMES = (
    "namespace",
    "workflow_id",
    "resume_from_seq",
    "resume_from_position",
    "workflow_type",
    "status",
    "extra",
)


@st.composite
def subscription_shaped(draw: st.DrawFn) -> str:
    """A frame that looks like a subscription but breaks it somewhere."""
    kind = draw(st.sampled_from((*KINDS, "broadcast", "", "Firehose")))
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), unique=True, max_size=4))
    fields = {name: draw(field_values) for name in names}
    body: Any = {kind: draw(st.sampled_from([fields, [fields], None, 7]))}
    if draw(st.booleans()):
        body[draw(st.sampled_from(["extra", *KINDS]))] = draw(field_values)
    if draw(st.booleans()):
        body = {"subscription": body}
    return json.dumps(body)


MALFORMED_TEXT = examples(st.text(max_size=200) | json_values.map(json.dumps))
SHAPED = examples(subscription_shaped(), 120)
GARBAGE = examples(st.binary(min_size=0, max_size=2000))
NESTED = [
    "[" * 20000,
    "{" * 20000,
    '{"a":' * 10000 + "1" + "}" * 10000,
    '{"firehose": {"namespace": "x", "extra": ' + "[" * 5000 + "]" * 5000 + "}}",
    '{"per_workflow": {"namespace": "default", "workflow_id": "w", "resume_from_seq": '
    + "9" * 5000
    + "}}",
    '{"per_workflow": {"namespace": "default", "workflow_id": "w", "resume_from_seq": 1e999}}',
]


def refused(frame: str | bytes) -> bool:
    try:
        parse_subscription(frame)
    except AionError:
        return True
    return False


@pytest.mark.parametrize("frame", NESTED, ids=range(len(NESTED)))
async def test_nested_and_huge_frames_are_invalid_input(client, frame, caplog) -> None:
    await assert_ends_with(client, frame, "invalid_input")
    assert server_errors(caplog) == []


async def test_malformed_text_frames_are_invalid_input(client, caplog) -> None:
    for frame in MALFORMED_TEXT:
        if refused(frame):
            await assert_ends_with(client, frame, "invalid_input")
    for frame in GARBAGE:
        if refused(frame):
            await assert_ends_with(client, frame, "invalid_input")
    assert server_errors(caplog) == []
    await assert_still_serving(client)


async def test_subscription_shaped_frames_end_with_their_envelope(client, caplog) -> None:
    """As the local operator (every namespace): a broken frame is invalid_input, a
    well-formed per_workflow of a workflow that does not exist is not_found."""
    for frame in SHAPED:
        if refused(frame):
            await assert_ends_with(client, frame, "invalid_input")
        elif "per_workflow" in frame:
            await assert_ends_with(client, frame, "not_found", "WorkflowNotFound")
    assert server_errors(caplog) == []
    await assert_still_serving(client)


async def test_invalid_utf8_in_a_text_frame_is_closed_1007(client, caplog) -> None:
    """aiohttp's reader refuses it before any handler code runs (RFC 6455 §8.1): the
    protocol's own close code, and the server keeps serving."""
    raw = await RawWebSocket.connect(client.make_url("/events/stream"))
    raw.send(b'{"firehose": {"namespace": "\xff\xfe"}}', TEXT)
    opcode, payload = await raw.frame()
    assert opcode == CLOSE and int.from_bytes(payload[:2]) == 1007
    raw.close()
    raw = await RawWebSocket.connect(client.make_url("/events/stream"))
    raw.send(b'{"firehose": {"namespace": "\xff\xfe"}}', BINARY)
    opcode, payload = await raw.frame()
    assert opcode == TEXT and json.loads(payload)["error"]["code"] == "invalid_input"
    opcode, payload = await raw.frame()
    assert opcode == CLOSE and int.from_bytes(payload[:2]) == 1011
    raw.close()
    assert server_errors(caplog) == []
    await assert_still_serving(client)


# ---- cursors ------------------------------------------------------------------------------
SEQ_CURSORS = [
    (0, "invalid_input", None),
    (-1, "invalid_input", None),
    (4, "invalid_input", "ResumeCursorAheadOfHistory"),  # head 2: the largest cursor is 3
    (10**6, "invalid_input", "ResumeCursorAheadOfHistory"),
    (MAX_SEQ, "invalid_input", "ResumeCursorAheadOfHistory"),
    (MAX_SEQ + 1, "invalid_input", None),
    (2**64, "invalid_input", None),
    (10**30, "invalid_input", None),
    ("1", "invalid_input", None),
    (1.0, "invalid_input", None),
    (1.5, "invalid_input", None),
    (True, "invalid_input", None),
    ([1], "invalid_input", None),
]


@pytest.mark.parametrize(("cursor", "code", "error_type"), SEQ_CURSORS)
async def test_resume_from_seq_edges(client, cursor, code, error_type) -> None:
    workflow_id = (await start(client))["workflow_id"]  # head 2
    frame = json.dumps(
        {"per_workflow": {"namespace": TENANT_A, "workflow_id": workflow_id,
                          "resume_from_seq": cursor}}
    )  # fmt: skip
    await assert_ends_with(client, frame, code, error_type, tenant(TENANT_A))


# ---- cross-namespace, in both auth modes ------------------------------------------------
Grant = Callable[[tuple[str, ...]], Headers]


@pytest.fixture(params=["headers", "jwt"])
async def tenant_client(
    request: pytest.FixtureRequest, aiohttp_client: Callable[..., Awaitable[TestClient]],
    engine: Engine,
) -> tuple[TestClient, Grant]:  # fmt: skip
    """A server and how a caller granted some namespaces identifies itself to it."""
    if request.param == "headers":
        return await aiohttp_client(create_app(engine, ServerConfig())), lambda ns: tenant(*ns)
    config = ServerConfig(auth="jwt", jwt_secret=SecretStr(j.SECRET))

    def grant(namespaces: tuple[str, ...]) -> Headers:
        return j.bearer(j.mint("HS256", j.claims(namespaces=list(namespaces))))

    return await aiohttp_client(create_app(engine, config)), grant


async def test_cross_namespace_attempts(tenant_client, caplog) -> None:
    client, grant = tenant_client
    operator = grant(("*",))
    status_started = await client.post(
        "/workflows/start",
        json={"namespace": TENANT_B, "workflow_type": "collector"},
        headers=operator,
    )
    foreign = (await status_started.json())["workflow_id"]
    only_a, both = grant((TENANT_A,)), grant((TENANT_A, TENANT_B))
    per_workflow = {"namespace": TENANT_A, "workflow_id": foreign, "resume_from_seq": 1}
    attempts: list[tuple[dict[str, Any], Headers, str]] = [
        ({"per_workflow": per_workflow}, both, "not_found"),  # B's workflow named in A
        ({"per_workflow": per_workflow}, only_a, "not_found"),
        ({"per_workflow": {**per_workflow, "workflow_id": "missing"}}, only_a, "not_found"),
        ({"per_workflow": {**per_workflow, "namespace": TENANT_B}}, only_a, "namespace_denied"),
        ({"firehose": {"namespace": TENANT_B}}, only_a, "namespace_denied"),
        ({"filtered": {"namespace": TENANT_B}}, only_a, "namespace_denied"),
        ({"filtered": {"namespace": TENANT_B, "status": "Running"}}, only_a, "namespace_denied"),
        ({"firehose": {"namespace": "default"}}, only_a, "namespace_denied"),
    ]
    for subscription, headers, code in attempts:
        await assert_ends_with(client, json.dumps(subscription), code, headers=headers)
    assert server_errors(caplog) == []
