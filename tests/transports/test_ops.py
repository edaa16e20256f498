"""Health, readiness, metrics (parsed by prometheus-client, text and OpenMetrics), the OpenAPI
document, and drain."""

from __future__ import annotations

import re

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_parser,
)
from prometheus_client.parser import text_string_to_metric_families

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


def parse_metrics(text: str, openmetrics: bool = False) -> dict[str, float]:
    """Every sample, keyed by name{labels sorted by name}, as prometheus-client's own parser
    reads it (it raises on anything that is not valid exposition)."""
    parse = openmetrics_parser if openmetrics else text_string_to_metric_families
    samples: dict[str, float] = {}
    for family in parse(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
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
    assert samples['aionactors_durable_ack_seconds_bucket{le="+Inf",operation="signal"}'] == 1
    assert samples['aionactors_http_requests_total{route="start_workflow",status="200"}'] == 3
    assert samples["aionactors_draining"] == 0
    assert samples["process_cpu_seconds_total"] >= 0
    assert samples["process_resident_memory_bytes"] > 0
    assert samples["process_open_fds"] > 0
    assert any(key.startswith("python_info{") for key in samples)
    attempts = "aionactors_activity_attempt_seconds_count"
    assert samples[attempts + '{activity_type="shout",outcome="completed"}'] == 1


async def test_metrics_speak_openmetrics_when_asked(client) -> None:
    await start(client, "shouter", input="m")
    response = await client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    text = await response.text()
    assert text.endswith("# EOF\n")
    samples = parse_metrics(text, openmetrics=True)
    assert samples["aionactors_workflows_started_total"] == 1
    assert "process_resident_memory_bytes" in samples
    plain = await client.get("/metrics", headers={"Accept": "text/plain"})
    assert plain.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "# EOF" not in await plain.text()


async def test_two_apps_in_one_process_keep_their_own_counts(aiohttp_client, engine, tmp_path):
    from tests.transports.conftest import open_engine
    from transports import create_app

    other_engine = open_engine(tmp_path / "other.db")
    try:
        first = await aiohttp_client(create_app(engine))
        second = await aiohttp_client(create_app(other_engine))
        await start(first, "shouter", input="m")
        one = parse_metrics(await (await first.get("/metrics")).text())
        two = parse_metrics(await (await second.get("/metrics")).text())
        assert one["aionactors_workflows_started_total"] == 1
        assert two["aionactors_workflows_started_total"] == 0
    finally:
        other_engine.shutdown()


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


async def test_metrics_count_package_versions_and_deploys(client) -> None:
    from tests.packages.support import TYPES, package_archive

    for version in (1, 2, 2):
        response = await client.post("/packages", data=package_archive(version),
                                     headers={"Content-Type": "application/zip"})  # fmt: skip
        assert response.status == 200
    await client.post("/packages", data=b"not a zip", headers={"Content-Type": "application/zip"})
    samples = parse_metrics(await (await client.get("/metrics")).text())
    assert samples["aionactors_loaded_workflow_versions"] == 2 * len(TYPES)
    assert samples['aionactors_package_deploys_total{outcome="deployed"}'] == 2
    assert samples['aionactors_package_deploys_total{outcome="redeployed"}'] == 1
    assert samples['aionactors_package_deploys_total{outcome="refused"}'] == 1
