"""The OpenAPI 3.1 document of the JSON API (public at /api/v1/openapi.json)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from devices import MAX_DID
from edu.web.accounts import TOKEN_PREFIX
from edu.web.paging import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT

JSON = "application/json"
# Query parameters and the Link header of a list read page by page (keyset on the device id).
_PAGED: list[dict[str, Any]] = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"How many items at most (default {DEFAULT_LIMIT}).",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    },
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "Where to continue: the cursor of the previous page's Link header. "
        "Opaque; leave it out for the first page.",
        "schema": {"type": "string", "pattern": CURSOR_PATTERN},
    },
]
_NEXT = {
    "Link": {
        "description": 'The next page, as `<URL>; rel="next"` (RFC 8288); absent on the last page.',
        "schema": {"type": "string"},
    }
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(
    summary: str,
    schema: dict[str, Any] | None,
    *,
    tag: str,
    admin: bool = False,
    body: dict[str, Any] | None = None,
    status: str = "200",
    params: list[str] = (),  # type: ignore[assignment]
    query: dict[str, str] | None = None,
    errors: tuple[str, ...] = ("401",),
    paged: bool = False,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        status: {"description": "OK", **({"content": {JSON: {"schema": schema}}} if schema else {})}
    }
    if paged:
        responses[status]["headers"] = _NEXT
        errors = ("400", *errors)
    for code in (*errors, *(("403",) if admin else ())):
        responses[code] = {
            "description": _ERRORS[code],
            "content": {JSON: {"schema": _ref("Error")}},
        }
    op: dict[str, Any] = {
        "summary": summary + (" (admin only)" if admin else ""),
        "tags": [tag],
        "responses": responses,
    }
    parameters: list[dict[str, Any]] = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": _DID if p == "did" else _str,
        }
        for p in params
    ]
    parameters += [
        {"name": k, "in": "query", "required": False, "schema": {"type": v}}
        for k, v in (query or {}).items()
    ]
    parameters += _PAGED if paged else []
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return op


_ERRORS = {
    "400": "Bad input",
    "401": "Not signed in, or the API token is not valid",
    "403": "Your role cannot do this, or the CSRF token is missing (cookie sign-in)",
    "404": "Not found (or not yours)",
    "409": "Cannot be done now",
    "422": "No device answered",
    "502": "The device did not do it; nothing was changed",
}

_obj = {"type": "object"}
_str = {"type": "string"}
_nstr = {"type": ["string", "null"]}
_int = {"type": "integer"}
_bool = {"type": "boolean"}
# a miIO device id is an unsigned 32-bit number
_DID = {"type": "integer", "minimum": 0, "maximum": MAX_DID}


def _schemas() -> dict[str, Any]:
    strings = {"type": "array", "items": _str}
    return {
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {"error": _str, "message": _str},
        },
        "Me": {
            "type": "object",
            "properties": {"id": _int, "name": _str, "role": _str, "language": _str},
        },
        "Recommendation": {
            "type": "object",
            "properties": {
                "lesson": _str,
                "capability": _str,
                "device": _int,
                "device_name": _str,
                "family": _nstr,
                "title": _str,
                "summary": _str,
                "level": _str,
                "minutes": _int,
                "reason": _str,
                "reason_text": _str,
                "reason_code": _str,
                "reason_params": _obj,
                "community": _int,
                "people": _int,
                "automatic": _bool,
                "can_try": _bool,
                "lang": _str,
            },
        },
        "DeviceProgress": {
            "type": "object",
            "properties": {
                "device": _int,
                "name": _str,
                "family": _nstr,
                "status": _str,
                "in_use": strings,
                "not_used": strings,
                "total": _int,
            },
        },
        "DeviceAdoption": {
            "type": "object",
            "properties": {
                "did": _int,
                "name": _str,
                "family": _nstr,
                "status": _str,
                "people": strings,
                "features": {"type": "array", "items": _obj},
                "used": _int,
                "total": _int,
                "unused": strings,
            },
        },
        "Diagnosis": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "ok",
                        "new",
                        "needs-token",
                        "wrong-token",
                        "other-subnet",
                        "offline",
                        "unsupported",
                        "error",
                    ],
                },
                "tone": _str,
                "words": _str,
                "title": _str,
                "explanation": _str,
                "steps": strings,
            },
        },
        "Device": {
            "type": "object",
            "description": "A device; its token is never included.",
            "properties": {
                "did": _int,
                "ip": _str,
                "mac": _nstr,
                "name": _str,
                "model": _nstr,
                "family": _nstr,
                "firmware": _nstr,
                "implementation": _nstr,
                "status": _str,
                "status_words": _str,
                "detail": _str,
                "token_known": _bool,
                "source": _nstr,
                "capabilities": strings,
                "unmapped": strings,
                "doctor": _ref("Diagnosis"),
            },
        },
        "ScanState": {
            "type": "object",
            "properties": {
                "phase": {
                    "type": "string",
                    "enum": ["idle", "looking", "reading", "done", "failed"],
                },
                "networks": strings,
                "total": _int,
                "done": _int,
                "found": _int,
                "online": _int,
                "needs_token": _int,
                "percent": _int,
                "running": _bool,
                "error": _str,
            },
        },
        "Lesson": {
            "type": "object",
            "properties": {
                "id": _str,
                "lang": _str,
                "capability": _str,
                "title": _str,
                "summary": _str,
                "level": _str,
                "minutes": _int,
                "html": {"type": "string", "description": "sanitised HTML"},
                "automatic": _bool,
                "device": {"type": ["integer", "null"]},
                "in_use": _bool,
                "can_try": _bool,
            },
        },
        "TryOutcome": {
            "type": "object",
            "properties": {
                "status": {
                    "type": "string",
                    "enum": ["changed", "already", "done", "unconfirmed", "failed"],
                },
                "ok": _bool,
                "lesson": _str,
                "capability": _str,
                "device": _int,
                "device_name": _str,
                "value": {},
                "before": {},
                "after": {},
                "revert_at": {"type": ["string", "null"]},
                "recorded": _bool,
                "reason": _str,
            },
        },
        "Mark": {
            "type": "object",
            "properties": {"lesson": _str, "state": _str, "until": {"type": ["string", "null"]}},
        },
        "Token": {
            "type": "object",
            "properties": {"id": _int, "name": _str, "hint": _str, "created_at": _str},
        },
    }


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    paths = {
        "/api/v1/me": {"get": _op("Who is signed in", _ref("Me"), tag="people")},
        "/api/v1/recommendations": {
            "get": _op(
                "What to learn next, ranked, with reasons",
                _array("Recommendation"),
                tag="learning",
                query={"limit": "integer"},
            )
        },
        "/api/v1/progress": {
            "get": _op(
                "Features in use and not yet used, per device, by device id",
                _array("DeviceProgress"),
                tag="learning",
                paged=True,
            )
        },
        "/api/v1/household/progress": {
            "get": _op(
                "Who in the household uses what, per device, by device id",
                _array("DeviceAdoption"),
                tag="learning",
                paged=True,
                admin=True,
            )
        },
        "/api/v1/devices": {
            "get": _op(
                "The devices by device id (all for an admin, one's own otherwise)",
                _array("Device"),
                tag="devices",
                paged=True,
            ),
            "post": _op(
                "Add a device by address and token",
                _ref("Device"),
                tag="devices",
                admin=True,
                status="201",
                errors=("400", "401", "422"),
                body={
                    "type": "object",
                    "required": ["ip", "token"],
                    "properties": {
                        "ip": {"type": "string", "format": "ipv4"},
                        "token": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"},
                        "name": _str,
                    },
                },
            ),
        },
        "/api/v1/devices/{did}": {
            "get": _op(
                "One device with the network doctor's advice",
                _ref("Device"),
                tag="devices",
                params=["did"],
                errors=("401", "404"),
            ),
            "patch": _op(
                "Rename a device",
                _ref("Device"),
                tag="devices",
                admin=True,
                params=["did"],
                errors=("401", "404"),
                body={"type": "object", "properties": {"name": _str}},
            ),
            "delete": _op(
                "Remove a device",
                _obj,
                tag="devices",
                admin=True,
                params=["did"],
                errors=("401", "404"),
            ),
        },
        "/api/v1/devices/scan": {
            "get": _op(
                "How the current scan is going", _ref("ScanState"), tag="devices", admin=True
            ),
            "post": _op(
                "Scan the configured networks",
                _ref("ScanState"),
                tag="devices",
                admin=True,
                status="202",
                errors=("401", "409"),
            ),
        },
        "/api/v1/lessons/{lesson_id}": {
            "get": _op(
                "A lesson in the person's language",
                _ref("Lesson"),
                tag="learning",
                params=["lesson_id"],
                query={"device": "integer"},
                errors=("401", "404"),
            )
        },
        "/api/v1/lessons/{lesson_id}/try": {
            "post": _op(
                "Try the lesson's feature on a device; it is put back after a while",
                _ref("TryOutcome"),
                tag="learning",
                params=["lesson_id"],
                errors=("400", "401", "404", "409", "502"),
                body={"type": "object", "required": ["device"], "properties": {"device": _DID}},
            )
        },
        "/api/v1/lessons/{lesson_id}/known": {
            "post": _op(
                "I already know this",
                _ref("Mark"),
                tag="learning",
                params=["lesson_id"],
                errors=("401", "404"),
            )
        },
        "/api/v1/lessons/{lesson_id}/later": {
            "post": _op(
                "Remind me later",
                _ref("Mark"),
                tag="learning",
                params=["lesson_id"],
                errors=("401", "404"),
            )
        },
        "/api/v1/tokens": {
            "get": _op(
                "Your API tokens (never the tokens themselves)", _array("Token"), tag="people"
            )
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "tags": ["meta"],
                "security": [],
                "responses": {"200": {"description": "OK"}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Feature Coach API",
            "version": "1",
            "description": "What the household page shows, as JSON. Create a personal token on "
            f"the “Me” page (it starts with `{TOKEN_PREFIX}`) and send it as "
            "`Authorization: Bearer <token>`. A signed-in browser session works "
            "too; then state-changing requests need the `X-CSRF-Token` header. Lists that "
            "grow with the household (devices, progress) come in pages ordered by device id: "
            f"`limit` items (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}), and while there "
            'are more, a `Link: <URL>; rel="next"` header whose URL carries the `cursor` '
            "for the next page.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a personal API token",
                },
                "cookie": {"type": "apiKey", "in": "cookie", "name": "edu_session"},
            },
            "schemas": _schemas(),
        },
        "paths": paths,
    }
