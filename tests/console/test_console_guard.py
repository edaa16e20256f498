"""The namespace guard as the page sees it: a caller granted only namespace A never receives or
shows B's workflows (HTTP responses, stream frames, DOM), in headers mode and with a JWT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.console.conftest import require_browser
from tests.console.server import Server

SECRET = "console-test-secret-of-at-least-32-bytes"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims: dict) -> str:
    """A test token for the server's HS256 secret."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    mac = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


def two_tenants(server: Server):
    a, b = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
    marker = f"secret-{uuid.uuid4().hex}"  # only B's workflow carries it
    ids_a = [server.start(a, "collector")]
    id_b = server.start(b, "collector", marker, search_attributes={"owner": marker})
    return a, b, ids_a, id_b, marker


def assert_never_seen(watched, page, *secrets: str) -> None:
    content = page.content()
    for secret in secrets:
        assert secret not in content
        for url, text in watched.responses:
            assert secret not in text, url
        for frame in watched.frames:
            assert secret not in frame


def test_a_caller_granted_a_never_sees_b(open_page, server):
    a, b, ids_a, id_b, marker = two_tenants(server)
    settings = json.dumps({"mode": "headers", "subject": "alice", "namespaces": a})
    watched = open_page(b, settings)  # B was the saved choice: the page falls back to A
    page = watched.page
    watched.open()
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    expect(page.locator(f'tr[data-workflow-id="{ids_a[0]}"]')).to_have_count(1)
    options = page.locator("#namespace option").evaluate_all("os => os.map(o => o.value)")
    assert options == [a]
    expect(page.locator("#identity")).to_contain_text("alice")

    # Live: both tenants get a new workflow; only A's reaches the page.
    new_a = server.start(a, "checkout")
    new_b = server.start(b, "checkout", search_attributes={"owner": marker})
    server.signal(b, id_b, "note", marker)
    expect(page.locator(f'tr[data-workflow-id="{new_a}"]')).to_have_count(1)
    expect(page.locator("table.grid tbody tr")).to_have_count(2)
    assert_never_seen(watched, page, id_b, new_b, marker)
    assert any(new_a in frame for frame in watched.frames)  # the stream did deliver A's events

    # Naming B's workflow directly gets the same not_found as a missing one, and no data.
    watched.open(f"#/workflow/{id_b}")
    expect(page.locator(".notice.error .error-code")).to_have_text("not_found")
    assert_never_seen(watched, page, marker)
    denied = page.evaluate(
        "ns => fetch('/workflows?namespace=' + ns, {headers: {'x-aion-subject': 'alice',"
        " 'x-aion-namespaces': document.querySelector('#namespace').value}})"
        ".then(r => r.status)",
        b,
    )
    assert denied == 403


def test_a_caller_granted_nothing_is_told_so_and_nothing_is_fetched(open_page, server):
    settings = json.dumps({"mode": "headers", "subject": "mallory", "namespaces": ""})
    watched = open_page("default", settings)
    watched.open()
    expect(watched.page.get_by_role("alert")).to_contain_text("No namespace granted")
    assert watched.responses == [] and watched.frames == []


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory):
    require_browser()
    serving = Server(
        tmp_path_factory.mktemp("jwt") / "jwt.db",
        {"AIONACTORS_JWT_SECRET": SECRET},
        "--auth",
        "jwt",
    )
    yield serving
    serving.stop()


def test_a_pasted_jwt_grants_its_namespaces_and_stays_in_session_storage(open_page, jwt_server):
    a, b = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
    token = hs256({"sub": "carol", "namespaces": [a], "exp": time.time() + 600})
    auth = {"Authorization": f"Bearer {token}"}
    operator = hs256({"sub": "root", "namespaces": ["*"], "exp": time.time() + 600})
    status, _ = jwt_server.call("POST", "/workflows/start", {"namespace": a,
                                "workflow_type": "collector"}, auth)  # fmt: skip
    assert status == 200
    marker = f"secret-{uuid.uuid4().hex}"
    status, started_b = jwt_server.call("POST", "/workflows/start", {
        "namespace": b, "workflow_type": "collector", "input": marker},
        {"Authorization": f"Bearer {operator}"})  # fmt: skip
    assert status == 200

    watched = open_page(b, json.dumps({"mode": "jwt"}), on=jwt_server)
    page = watched.page
    watched.open()
    expect(page.get_by_role("alert")).to_contain_text("No namespace granted")
    page.get_by_role("button", name="Settings").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("JWT bearer token").check()
    dialog.get_by_role("textbox", name="Bearer token").fill(token)
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    expect(page.locator(".live-indicator")).to_have_text("live")
    expect(page.locator("#identity")).to_contain_text("carol")
    assert page.locator("#namespace option").evaluate_all("os => os.map(o => o.value)") == [a]
    stored = page.evaluate(
        "() => [sessionStorage.getItem('aion.jwt'), JSON.stringify(localStorage)]"
    )
    assert stored[0] == token and token not in stored[1]
    status, _ = jwt_server.call("POST", "/workflows/start", {"namespace": a,
                                "workflow_type": "checkout"}, auth)  # fmt: skip
    assert status == 200
    expect(page.locator("table.grid tbody tr")).to_have_count(2)
    assert_never_seen(watched, page, started_b["workflow_id"], marker)
