"""Fuzz the JSON API with schemathesis against its own OpenAPI document, as a signed-in admin."""

from __future__ import annotations

import re

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.schemas import BaseSchema
from web_fixtures import Web

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_token(fleet_app: Flask) -> str:
    """A personal API token for Mia (admin), made on her page as she would."""
    web = Web(fleet_app.test_client())
    web.sign_in(fleet_app, "Mia")
    page = web.post("/me", {"action": "token", "name": "fuzzer"}).get_data(as_text=True)
    match = re.search(r'<code class="token-once">([^<]+)</code>', page)
    assert match, "the new token is shown once"
    return match.group(1)


@pytest.fixture
def api_schema(fleet_app: Flask) -> BaseSchema:
    """The public OpenAPI document, loaded in-process from the WSGI app."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fleet_app)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_answers_every_generated_request_within_its_schema(
    case: Case, api_token: str
) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {api_token}"})
