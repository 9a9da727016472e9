"""Fuzz the JSON API with schemathesis against its own OpenAPI document, as a signed-in admin."""

from __future__ import annotations

import re

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.schemas import APIOperation
from web_fixtures import Web


@pytest.fixture
def api_token(fleet_app: Flask) -> str:
    """A personal API token for Mia (admin), made on her page as she would."""
    web = Web(fleet_app.test_client())
    web.sign_in(fleet_app, "Mia")
    page = web.post("/me", {"action": "token", "name": "fuzzer"}).get_data(as_text=True)
    match = re.search(r'<code class="token-once">([^<]+)</code>', page)
    assert match, "the new token is shown once"
    return match.group(1)


def _fuzz(operation: APIOperation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=13,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Case) -> None:
        case.call_and_validate(headers=headers)

    run()


@pytest.mark.slow
def test_api_answers_every_generated_request_within_its_schema(
    fleet_app: Flask, api_token: str
) -> None:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fleet_app)
    headers = {"Authorization": f"Bearer {api_token}"}
    failures: list[str] = []
    for result in loaded.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, headers)
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failures
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
