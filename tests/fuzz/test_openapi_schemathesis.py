"""Issue 13 defect 6: /openapi.json is a valid OpenAPI document, and schemathesis can test
every operation against a real server: no 5xx, answers match the document, and no rejected
request (4xx) changes the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis.core.errors import UnsupportedSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from aionactors import Engine
from tests.fuzz.live_server import live_server, quiet_head

MAX_EXAMPLES = 8
"""Per operation: enough to hit every operation's edges in CI in well under a minute."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    with live_server(Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.db") as running:
        yield running


def test_the_document_validates(server: tuple[str, Engine]) -> None:
    url, _ = server
    document = requests.get(f"{url}/openapi.json", timeout=10).json()
    validate(document)  # raises, naming the offending part, if it is not valid OpenAPI
    operation = document["paths"]["/schedules/{schedule_id}"]["get"]
    assert {"name": "schedule_id", "in": "path", "required": True,
            "schema": {"type": "string"}} in operation["parameters"]  # fmt: skip
    assert document["paths"]["/workflows/start"]["post"]["requestBody"]["required"] is True


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_every_operation(server: tuple[str, Engine], mode: str) -> None:
    """Each operation of the document (the WebSocket aside), fuzzed from its own schema:
    inputs that fit it (positive) and inputs that break it (negative, which must be 4xx).
    Derandomized, so CI runs the same examples every time.

    schemathesis' pytest plugin does not load under pytest 9, so the operations are walked
    here and each is driven by hypothesis from ``operation.as_strategy()``."""
    url, engine = server
    generation = (
        schemathesis.GenerationMode.POSITIVE
        if mode == "positive"
        else schemathesis.GenerationMode.NEGATIVE
    )
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    tested = []
    for result in schema.exclude(path="/events/stream").get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=generation))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(case: schemathesis.Case) -> None:
            _call_and_check(case, url, engine)

        try:
            check()
        except (Unsatisfiable, UnsupportedSchema):
            # Nothing can break this operation's schema (no input, or any text), or
            # schemathesis cannot negate it: positive mode still covers the operation.
            continue
        tested.append(operation.label)
    assert len(tested) >= (20 if mode == "positive" else 10), tested


def _call_and_check(case: schemathesis.Case, url: str, engine: Engine) -> None:
    before = quiet_head(engine)
    response = case.call(base_url=url, timeout=30)
    # Every check but "schema-valid data is accepted": the document cannot say everything the
    # server checks (a workflow id that exists, a search attribute's registered type).
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    if 400 <= response.status_code < 500:
        after = quiet_head(engine)
        changed = engine.store.read_committed(before, limit=10) if after != before else []
        assert after == before, (
            f"{case.method} {case.path} was rejected ({response.status_code}) but the store"
            f" moved from {before} to {after}: {[e.event.type for e in changed]}"
        )
