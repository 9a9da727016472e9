"""The OpenAPI 3.1 document of the JSON API (public at /api/v1/openapi.json)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from edu.paging import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from edu.services.accounts import TOKEN_PREFIX
from edu.web.api.schemas import DID, OBJ, STR, ref, schemas

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
    outcomes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One operation; *outcomes* are other statuses that answer with the same schema."""
    content = {"content": {JSON: {"schema": schema}}} if schema else {}
    responses: dict[str, Any] = {status: {"description": "OK", **content}}
    for code, description in (outcomes or {}).items():
        responses[code] = {"description": description, **content}
    if paged:
        responses[status]["headers"] = _NEXT
        errors = ("400", *errors)
    for code in (*errors, *(("403",) if admin else ())):
        responses[code] = {
            "description": _ERRORS[code],
            "content": {JSON: {"schema": ref("Error")}},
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
            "schema": DID if p == "did" else STR,
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
    "422": "No device answered, or it rejected the token (nothing was changed)",
    "429": "The device is still busy with the last command; try again after Retry-After seconds",
    "502": "The device did not do it; nothing was changed",
}


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(name)}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    paths = {
        "/api/v1/me": {"get": _op("Who is signed in", ref("Me"), tag="people")},
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
                ref("Device"),
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
                        "name": STR,
                    },
                },
            ),
        },
        "/api/v1/devices/{did}": {
            "get": _op(
                "One device with the network doctor's advice",
                ref("Device"),
                tag="devices",
                params=["did"],
                errors=("401", "404"),
            ),
            "patch": _op(
                "Rename a device",
                ref("Device"),
                tag="devices",
                admin=True,
                params=["did"],
                errors=("401", "404"),
                body={"type": "object", "properties": {"name": STR}},
            ),
            "delete": _op(
                "Remove a device",
                OBJ,
                tag="devices",
                admin=True,
                params=["did"],
                errors=("401", "404"),
            ),
        },
        "/api/v1/devices/scan": {
            "get": _op(
                "How the current scan is going", ref("ScanState"), tag="devices", admin=True
            ),
            "post": _op(
                "Scan the configured networks",
                ref("ScanState"),
                tag="devices",
                admin=True,
                status="202",
                errors=("401", "409"),
            ),
        },
        "/api/v1/lessons/{lesson_id}": {
            "get": _op(
                "A lesson in the person's language",
                ref("Lesson"),
                tag="learning",
                params=["lesson_id"],
                query={"device": "integer"},
                errors=("401", "404"),
            )
        },
        "/api/v1/lessons/{lesson_id}/try": {
            "post": _op(
                "Try the lesson's feature on a device; it is put back after a while",
                ref("TryOutcome"),
                tag="learning",
                params=["lesson_id"],
                errors=("400", "401", "404", "409"),
                outcomes={"502": _ERRORS["502"]},
                body={"type": "object", "required": ["device"], "properties": {"device": DID}},
            )
        },
        "/api/v1/lessons/{lesson_id}/known": {
            "post": _op(
                "I already know this",
                ref("Mark"),
                tag="learning",
                params=["lesson_id"],
                errors=("401", "404"),
            )
        },
        "/api/v1/lessons/{lesson_id}/later": {
            "post": _op(
                "Remind me later",
                ref("Mark"),
                tag="learning",
                params=["lesson_id"],
                errors=("401", "404"),
            )
        },
        **_demo_paths(),
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
            "schemas": schemas(),
        },
        "paths": paths,
    }


def _demo_paths() -> dict[str, Any]:
    """The store demo: staff and admins of a shop (a home answers 404)."""
    staff = ("401", "403", "404")
    device = "/api/v1/demo/devices/{did}"
    restored = {"502": "Not every setting came back; the device is flagged on the board"}

    def one(summary: str, schema: dict[str, Any], **more: Any) -> dict[str, Any]:
        """An operation on one device of the table."""
        return _op(summary, schema, tag="demo", params=["did"], **{"errors": staff, **more})

    end = one(
        "End the demo (sale_intent: the customer wants to buy): put every setting back, check it",
        ref("DemoReset"),
        errors=("400", *staff, "409"),
        outcomes=restored,
        body={"type": "object", "properties": {"sale_intent": {"type": "boolean"}}},
    )
    return {
        "/api/v1/demo/devices": {
            "get": _op(
                "Every device on the demo table, with its state in plain words",
                _array("DemoDevice"),
                tag="demo",
                errors=staff,
                paged=True,
            )
        },
        device: {
            "get": one(
                "One device's state and guided demo, most impressive step first",
                ref("DemoScript"),
            )
        },
        device + "/start": {
            "post": one(
                "Save the device's settings, then start its demo",
                ref("DemoScript"),
                errors=(*staff, "409", "429"),
            )
        },
        device + "/show": {
            "post": one(
                "Run one step of the demo and say what the device now shows",
                ref("DemoShown"),
                errors=("400", *staff, "409", "429"),
                outcomes={"502": "The device did not do it"},
                body={"type": "object", "required": ["lesson"], "properties": {"lesson": STR}},
            )
        },
        device + "/end": {"post": _optional_body(end)},
        device + "/reset": {
            "post": one(
                "Put the device back to its snapshot (a flagged device, or a demo left on)",
                ref("DemoReset"),
                outcomes=restored,
            )
        },
        "/api/v1/demo/reset-all": {
            "post": _op(
                "Put back every device in a demo or flagged",
                _array("DemoReset"),
                tag="demo",
                errors=staff,
                outcomes=restored,
            )
        },
    }


def _optional_body(op: dict[str, Any]) -> dict[str, Any]:
    """The operation with its request body optional (an empty POST does the plain thing)."""
    op["requestBody"]["required"] = False
    return op
