"""Health, readiness, metrics (parsed as Prometheus text), the OpenAPI document, and drain."""

from __future__ import annotations

import re

from tests.transports.api import act, post, result, start
from tests.transports.support import TENANT_A, tenant
from transports.state import STATE

PROTOCOL_ROUTES = {
    ("post", "/workflows/start"),
    ("post", "/workflows/signal"),
    ("post", "/workflows/query"),
    ("post", "/workflows/cancel"),
    ("post", "/workflows/result"),
    ("post", "/workflows/describe"),
    ("post", "/workflows/history"),
    ("post", "/workflows/list"),
    ("post", "/workflows/reopen"),
    ("post", "/workflows/pause"),
    ("post", "/workflows/resume"),
    ("post", "/workflows/update"),
    ("post", "/workflows/signal_with_start"),
    ("get", "/workflows"),
    ("get", "/workflows/count"),
    ("get", "/events/stream"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
}
SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(?:\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)\})?'
    r" (?P<value>[-+]?(?:[0-9.]+(?:e[-+]?[0-9]+)?|Inf|NaN))$"
)


def parse_metrics(text: str) -> dict[str, float]:
    """Every sample, keyed by name{labels}; asserts each line is valid text format 0.0.4."""
    samples: dict[str, float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            typed.add(name)
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        base = re.sub(r"_(bucket|sum|count)$", "", match["name"])
        assert match["name"] in typed or base in typed, f"sample before its TYPE: {line}"
        key = match["name"] + (f"{{{match['labels']}}}" if match["labels"] else "")
        samples[key] = float(match["value"].replace("Inf", "inf"))
    return samples


async def test_health(client) -> None:
    response = await client.get("/health/live")
    assert (response.status, await response.json()) == (200, {"status": "live"})
    response = await client.get("/health/ready")
    assert (response.status, await response.json()) == (200, {"status": "ready"})


async def test_metrics_parse_and_count_what_happened(client, connect) -> None:
    done = (await start(client, "shouter", input="m"))["workflow_id"]
    await result(client, done)
    failed = (await start(client, "failing", input="no"))["workflow_id"]
    await result(client, failed)
    open_id = (await start(client))["workflow_id"]
    await act(client, "signal", workflow_id=open_id, signal_name="note", payload=1)
    stream = await connect(tenant(TENANT_A))
    await stream.per_workflow(TENANT_A, open_id, resume_from_seq=1)
    await stream.next_event()
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = parse_metrics(await response.text())
    assert samples["aionactors_workflows_started_total"] == 3
    assert samples["aionactors_workflows_completed_total"] == 1
    assert samples["aionactors_workflows_failed_total"] == 1
    assert samples["aionactors_activities_scheduled_total"] == 1
    assert samples["aionactors_activities_completed_total"] == 1
    assert samples["aionactors_signals_received_total"] == 1
    assert samples["aionactors_resident_workflows"] >= 1
    assert samples['aionactors_stream_subscribers{kind="per_workflow"}'] == 1
    assert samples['aionactors_durable_ack_seconds_count{operation="start"}'] == 3
    assert samples['aionactors_durable_ack_seconds_bucket{operation="signal",le="+Inf"}'] == 1
    assert samples['aionactors_http_requests_total{route="start_workflow",status="200"}'] == 3
    assert samples["aionactors_draining"] == 0


async def test_openapi_lists_every_route_with_schemas(client, server) -> None:
    response = await client.get("/openapi.json")
    document = await response.json()
    assert document["openapi"].startswith("3.")
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented >= PROTOCOL_ROUTES
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in server.app.router.routes()
        if route.method != "HEAD"
    }
    assert served == documented
    schemas = document["components"]["schemas"]
    for name in ("StartRequest", "SignalRequest", "ListRequest", "Subscribe", "ErrorBody"):
        assert name in schemas
    assert schemas["StartRequest"]["additionalProperties"] is False
    text = str(document)
    for ref in re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text):
        assert ref in schemas, ref
    start_op = document["paths"]["/workflows/start"]["post"]
    assert {"200", "400", "403", "404", "409", "413", "503"} <= set(start_op["responses"])
    assert "x-websocket" in document["paths"]["/events/stream"]["get"]
    params = {p["name"] for p in document["paths"]["/workflows"]["get"]["parameters"]}
    assert {"namespace", "status", "limit", "page_token", "search_attributes"} <= params


async def test_drain_refuses_starts_with_503_but_serves_the_rest(client, server, engine) -> None:
    workflow_id = (await start(client))["workflow_id"]
    engine.drain()
    status, body = await post(
        client, "/workflows/start", {"namespace": TENANT_A, "workflow_type": "greeter"}
    )
    assert status == 503
    assert body["code"] == "unavailable" and body["error_type"] == "ShuttingDown"
    response = await client.get("/health/ready")
    assert response.status == 503
    status, _ = await act(client, "signal", workflow_id=workflow_id, signal_name="finish")
    assert status == 200
    assert (await result(client, workflow_id))["status"] == "Completed"
    samples = parse_metrics(await (await client.get("/metrics")).text())
    assert samples["aionactors_draining"] == 1
    assert server.app[STATE].draining is False  # the engine's flag alone is enough
