"""The OpenAPI 3.0 document of the hub API (what schemathesis checks the hub against)."""

from __future__ import annotations

from typing import Any

from edu.hub.protocol import (
    MAX_BODY,
    MAX_COUNT,
    MAX_ITEMS,
    MAX_MODELS,
    MAX_TIP,
    SHOP_COUNTS,
    SHOP_VERSION,
    SIGNATURE_HEADER,
    TIP_LANGUAGES,
)

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
_TIP = {"$ref": "#/components/schemas/PublishedTip"}
_QUERY_ID = {"type": "string", "minLength": 1, "maxLength": 80}
_REVIEW = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "action": {"type": "string", "enum": ["approve", "reject", "edit"]},
        "reason": {"type": "string", "maxLength": 300},
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_TIP},
    },
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


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
                "Adoption is published only for pairs reported by at least k homes, from a "
                "table the hub recounts every EDU_HUB_REFRESH_SECONDS (300 s by default): a "
                "report, or a leave, shows in it after the next recount."
            ),
        },
        "paths": {
            "/hub/v1/join": _post(
                "Register a home's public key (the answer says whether the hub's homes are "
                "simulated, as `edu demo --hub` makes them)",
                "Join",
                "201",
            ),
            "/hub/v1/report": _post("Send a home's weekly report", "Report", "200"),
            "/hub/v1/leave": _post(
                "Leave: delete the home and its data (at once; the published counts drop at "
                "the next recount)",
                "Leave",
                "200",
            ),
            "/hub/v1/adoption": {
                "get": {
                    "summary": "Published adoption of one model (as of the last recount)",
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
            "/hub/v1/tips": {
                **_post("Send an owner's tip to the moderators' queue", "Tip", "202"),
                "get": {
                    "summary": "Approved tips about a model (and a lesson)",
                    "parameters": [
                        {"name": "model", "in": "query", "required": True, "schema": _QUERY_ID},
                        {"name": "lesson", "in": "query", "required": False, "schema": _QUERY_ID},
                    ],
                    "responses": {
                        "200": _json("approved tips", {"type": "array", "items": _TIP}),
                        **_errors("400"),
                    },
                },
            },
            "/hub/v1/tips/flag": _post("Report a published tip", "Flag", "200"),
            "/hub/v1/moderation/queue": {
                "get": {
                    "summary": "Tips waiting for a moderator: new ones and reported ones",
                    "security": [{"moderator": []}],
                    "responses": {
                        "200": _json("the queue", {"type": "array", "items": _TIP}),
                        **_errors("401"),
                    },
                }
            },
            "/hub/v1/moderation/tips/{tip_id}": {
                "post": {
                    "summary": "Approve, reject with a reason, or edit a tip",
                    "security": [{"moderator": []}],
                    "parameters": [
                        {
                            "name": "tip_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _REVIEW}},
                    },
                    "responses": {
                        "200": _json("the tip as it is now", _TIP),
                        **_errors("400", "401", "404"),
                    },
                }
            },
            **_shop_paths(),
            "/hub/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "the OpenAPI document"}},
                }
            },
        },
        "components": {
            "securitySchemes": {"moderator": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Join": _signed("join"),
                "Leave": _signed("leave"),
                "Report": _signed(
                    "report",
                    {"models": {"type": "array", "items": model, "maxItems": MAX_MODELS}},
                ),
                "Tip": _signed(
                    "tip",
                    {
                        "model": _ID,
                        "lesson": _ID,
                        "lang": {"type": "string", "enum": list(TIP_LANGUAGES)},
                        "text": {"type": "string", "minLength": 1, "maxLength": MAX_TIP},
                    },
                ),
                "Flag": _signed("flag", {"tip": {"type": "integer", "minimum": 1}}),
                "Adoption": {
                    "type": "object",
                    "required": ["capability", "homes", "using"],
                    "properties": {"capability": _ID, "homes": _WHOLE, "using": _WHOLE},
                },
                "PublishedTip": {
                    "type": "object",
                    "required": ["id", "model", "lesson", "lang", "text"],
                    "properties": {
                        "id": _WHOLE,
                        "model": _ID,
                        "lesson": _ID,
                        "lang": {"type": "string"},
                        "text": {"type": "string"},
                        "state": {"type": "string"},
                        "flags": _WHOLE,
                        "reason": {"type": "string"},
                    },
                },
                **_shop_schemas(),
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }


def _shop_paths() -> dict[str, Any]:
    """A shop's weekly report (signed) and what shops publish (public)."""
    return {
        "/hub/v1/shops/report": _post("Send a shop's weekly report", "ShopReport", "200"),
        "/hub/v1/shops/asked": {
            "get": {
                "summary": "Features customers ask to see on one model, and sale intents",
                "parameters": [
                    {"name": "model", "in": "query", "required": True, "schema": _QUERY_ID}
                ],
                "responses": {
                    "200": _json(
                        "features reported by at least k shops, their weeks summed",
                        {"type": "array", "items": {"$ref": "#/components/schemas/Asked"}},
                    ),
                    **_errors("400"),
                },
            }
        },
    }


def _shop_schemas() -> dict[str, Any]:
    """The shop report (version 1) and a published row of it."""
    count = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
    feature = {
        "type": "object",
        "additionalProperties": False,
        "required": ["capability", *SHOP_COUNTS],
        "properties": {"capability": _ID, **dict.fromkeys(SHOP_COUNTS, count)},
    }
    model = {
        "type": "object",
        "additionalProperties": False,
        "required": ["model", "family", "features"],
        "properties": {
            "model": _ID,
            "family": {**_ID, "nullable": True},
            "features": {"type": "array", "items": feature, "minItems": 1, "maxItems": MAX_ITEMS},
        },
    }
    return {
        "ShopReport": _signed(
            "shop-report",
            {
                "version": {"type": "integer", "enum": [SHOP_VERSION]},
                "since": _WHOLE,
                "models": {"type": "array", "items": model, "maxItems": MAX_MODELS},
            },
        ),
        "Asked": {
            "type": "object",
            "required": ["capability", "shops", *SHOP_COUNTS],
            "properties": {
                "capability": _ID,
                "shops": _WHOLE,
                **dict.fromkeys(SHOP_COUNTS, _WHOLE),
            },
        },
    }
