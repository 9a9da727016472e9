"""Fuzz the hub's API with schemathesis against its own OpenAPI document, in-process.

Every operation gets schema-valid and schema-breaking requests. The signed operations
cannot be reached with a valid signature by a fuzzer (it holds no home's key), so what is
checked there is the refusal: never a server error, always a documented status and a
one-line JSON error. Adoption is fuzzed against a hub holding published pairs.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hub_fixtures import Clock, Home, fan
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok

CONFIG = {
    "checks": {
        # a schema-valid message still has no valid signature (the fuzzer has no key),
        # and JSON Schema's integers include 7.0, which the hub refuses as malformed
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "404", "409", "429"]
        },
    }
}
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 12}


@pytest.mark.slow
def test_the_hub_answers_every_generated_request_within_its_schema(
    hub_app: Flask, hub_client: FlaskClient, hub_clock: Clock
) -> None:
    for _ in range(3):
        home = Home(hub_client, hub_clock)
        home.join()
        home.report([fan()])
    loaded = schemathesis.openapi.from_wsgi(
        "/hub/v1/openapi.json", hub_app, config=schemathesis.Config.from_dict(CONFIG)
    )
    failures: list[str] = []
    tried = 0
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), f"the document has a broken operation: {result}"
        operation = result.ok()
        tried += 1
        for mode, count in EXAMPLES.items():

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=count,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
                derandomize=True,
            )
            def run(case: Case) -> None:
                case.call_and_validate()

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert tried == 11  # every operation but the document itself
    assert not failures, "\n\n".join(failures)
