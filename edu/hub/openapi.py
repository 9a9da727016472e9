"""The OpenAPI 3.0 document of the hub API (what schemathesis checks the hub against)."""

from __future__ import annotations

from typing import Any

from edu.hub.protocol import MAX_BODY, MAX_ITEMS, MAX_MODELS, SIGNATURE_HEADER

_ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._:-]{0,79}$"}
_IDS = {"type": "array", "items": _ID, "maxItems": MAX_ITEMS}
_WHOLE = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
_BASE = {
    "type": {"type": "string"},
    "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}=?$"},
    "seq": _WHOLE,
    "sent_at": _WHOLE,
}
_ERROR = {"$ref": "#/components/schemas/Error"}


def _signed(kind: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {**_BASE, **(extra or {})}
    properties["type"] = {"type": "string", "enum": [kind]}
    return {
        "type": "object",
        "required": sorted(properties),
        "additionalProperties": False,
        "properties": properties,
    }


def _errors(*codes: str) -> dict[str, Any]:
    return {
        code: {
            "description": "refused, with a one-line reason",
            "content": {"application/json": {"schema": _ERROR}},
        }
        for code in codes
    }


def _post(summary: str, schema: str, ok: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [
                {
                    "name": SIGNATURE_HEADER,
                    "in": "header",
                    "required": True,
                    "description": "base64url Ed25519 signature of the exact body by `key`",
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            },
            "responses": {
                ok: {
                    "description": "done",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_errors("400", "401", "409", "413", "429"),
            },
        }
    }


def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    model = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "model",
            "family",
            "capabilities",
            "in_use",
            "lessons_done",
            "lessons_dismissed",
        ],
        "properties": {
            "model": _ID,
            "family": {**_ID, "nullable": True},
            "capabilities": _IDS,
            "in_use": _IDS,
            "lessons_done": _IDS,
            "lessons_dismissed": _IDS,
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Feature Coach community hub",
            "version": "1",
            "description": (
                "Homes that opted in report, per device model, which features exist and are "
                f"in use, signed with their own Ed25519 key; bodies are at most {MAX_BODY} bytes. "
                "Adoption is published only for pairs reported by at least k homes."
            ),
        },
        "paths": {
            "/hub/v1/join": _post("Register a home's public key", "Join", "201"),
            "/hub/v1/report": _post("Send a home's weekly report", "Report", "200"),
            "/hub/v1/leave": _post("Leave: delete the home and its data", "Leave", "200"),
            "/hub/v1/adoption": {
                "get": {
                    "summary": "Published adoption of one model",
                    "parameters": [
                        {
                            "name": "model",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 80},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "pairs reported by at least k homes",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Adoption"},
                                    }
                                }
                            },
                        },
                        **_errors("400"),
                    },
                }
            },
            "/hub/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "the OpenAPI document"}},
                }
            },
        },
        "components": {
            "schemas": {
                "Join": _signed("join"),
                "Leave": _signed("leave"),
                "Report": _signed(
                    "report",
                    {"models": {"type": "array", "items": model, "maxItems": MAX_MODELS}},
                ),
                "Adoption": {
                    "type": "object",
                    "required": ["capability", "homes", "using"],
                    "properties": {"capability": _ID, "homes": _WHOLE, "using": _WHOLE},
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
            }
        },
    }
