"""NaN and Infinity in a request body are invalid_input naming the field, and change nothing.

Python's JSON reader (and pydantic's) accept the NaN/Infinity constants, but JSON has
no such numbers: recorded, they would come back as null and replay would diverge.
"""

from __future__ import annotations

import pytest

from tests.transports.api import post, start
from tests.transports.support import TENANT_A, tenant

RAW_BODIES = [
    ("/workflows/start", b'{"workflow_type": "greeter", "input": NaN}', "'input'"),
    ("/workflows/start", b'{"workflow_type": "greeter", "input": {"a": [1, Infinity]}}',
     "'input.a[1]'"),
    ("/workflows/start", b'{"workflow_type": "greeter", "search_attributes": {"s": -Infinity}}',
     "'search_attributes.s'"),
    ("/workflows/signal", b'{"workflow_id": "w", "signal_name": "note", "payload": NaN}',
     "'payload'"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "raw", "field"), RAW_BODIES)
async def test_non_finite_numbers_are_invalid_input_naming_the_field(
    client, engine, path, raw, field
) -> None:
    await start(client, "collector", workflow_id="w")
    before = engine.store.head_position()
    headers = {**tenant(TENANT_A), "content-type": "application/json"}
    body = raw.replace(b"{", b'{"namespace": "%s", ' % TENANT_A.encode(), 1)
    status, reply = await post(client, path, data=body, headers=headers)
    assert status == 400, reply
    assert reply["code"] == "invalid_input"
    assert f"field {field}" in reply["message"] and "NaN and Infinity" in reply["message"]
    assert engine.store.head_position() == before


async def test_strings_holding_the_words_are_still_accepted(client) -> None:
    started = await start(client, "greeter", input="NaN and Infinity")
    assert started["workflow_id"]


async def test_an_empty_workflow_id_is_invalid_input(client, engine) -> None:
    status, reply = await post(
        client,
        "/workflows/start",
        {"namespace": TENANT_A, "workflow_type": "greeter", "workflow_id": ""},
        tenant(TENANT_A),
    )
    assert status == 400 and reply["code"] == "invalid_input"
    assert "workflow_id" in reply["message"]
    assert engine.count_workflows() == 0
