"""The component schemas of the JSON API's OpenAPI document: what each response holds."""

from __future__ import annotations

from typing import Any

from devices import MAX_DID

OBJ = {"type": "object"}
STR = {"type": "string"}
_nstr = {"type": ["string", "null"]}
_int = {"type": "integer"}
_bool = {"type": "boolean"}
# a miIO device id is an unsigned 32-bit number
DID = {"type": "integer", "minimum": 0, "maximum": MAX_DID}


def ref(name: str) -> dict[str, str]:
    """Point at a named schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def schemas() -> dict[str, Any]:
    """Return the named schemas of ``components/schemas``."""
    strings = {"type": "array", "items": STR}
    return {
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {"error": STR, "message": STR},
        },
        "Me": {
            "type": "object",
            "properties": {"id": _int, "name": STR, "role": STR, "language": STR},
        },
        "Recommendation": {
            "type": "object",
            "properties": {
                "lesson": STR,
                "capability": STR,
                "device": _int,
                "device_name": STR,
                "family": _nstr,
                "title": STR,
                "summary": STR,
                "level": STR,
                "minutes": _int,
                "reason": STR,
                "reason_text": STR,
                "reason_code": STR,
                "reason_params": OBJ,
                "at_home": _int,
                "community": {
                    "type": ["object", "null"],
                    "properties": {"homes": _int, "using": _int},
                },
                "people": _int,
                "automatic": _bool,
                "can_try": _bool,
                "lang": STR,
            },
        },
        "DeviceProgress": {
            "type": "object",
            "properties": {
                "device": _int,
                "name": STR,
                "family": _nstr,
                "status": STR,
                "in_use": strings,
                "not_used": strings,
                "total": _int,
            },
        },
        "DeviceAdoption": {
            "type": "object",
            "properties": {
                "did": _int,
                "name": STR,
                "family": _nstr,
                "status": STR,
                "people": strings,
                "features": {"type": "array", "items": OBJ},
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
                "tone": STR,
                "words": STR,
                "title": STR,
                "explanation": STR,
                "steps": strings,
            },
        },
        "Device": {
            "type": "object",
            "description": "A device; its token is never included.",
            "properties": {
                "did": _int,
                "ip": STR,
                "mac": _nstr,
                "name": STR,
                "model": _nstr,
                "family": _nstr,
                "firmware": _nstr,
                "implementation": _nstr,
                "status": STR,
                "status_words": STR,
                "detail": STR,
                "token_known": _bool,
                "source": _nstr,
                "capabilities": strings,
                "unmapped": strings,
                "doctor": ref("Diagnosis"),
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
                "error": STR,
            },
        },
        "Lesson": {
            "type": "object",
            "properties": {
                "id": STR,
                "lang": STR,
                "capability": STR,
                "title": STR,
                "summary": STR,
                "level": STR,
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
                "lesson": STR,
                "capability": STR,
                "device": _int,
                "device_name": STR,
                "value": {},
                "before": {},
                "after": {},
                "revert_at": {"type": ["string", "null"]},
                "recorded": _bool,
                "reason": STR,
            },
        },
        "Mark": {
            "type": "object",
            "properties": {"lesson": STR, "state": STR, "until": {"type": ["string", "null"]}},
        },
        **_demo_schemas(strings),
        "Token": {
            "type": "object",
            "properties": {"id": _int, "name": STR, "hint": STR, "created_at": STR},
        },
    }


def _demo_schemas(strings: dict[str, Any]) -> dict[str, Any]:
    """The store demo's schemas: a device on the demo table, a step, a step shown, a reset."""
    words = {"type": "string", "description": "in the signed-in person's language"}
    tone = {"type": "string", "enum": ["good", "bad", "warn", "neutral", "accent"]}
    problems = {"type": "array", "items": OBJ}
    return {
        "DemoDevice": {
            "type": "object",
            "description": "A device on the demo table; its token is never included.",
            "properties": {
                "did": _int,
                "name": STR,
                "family": _nstr,
                "model": _nstr,
                "status": STR,
                "status_text": words,
                "status_tone": tone,
                "token_ok": _bool,
                "demo": {"type": "string", "enum": ["ready", "in-demo", "flagged"]},
                "demo_text": words,
                "demo_tone": tone,
                "problem_text": words,
                "last_reset_text": words,
                "can_reset": _bool,
                "can_demo": _bool,
                "timeout_in": {"type": "integer", "description": "seconds until it is put back"},
            },
        },
        "DemoStep": {
            "type": "object",
            "properties": {
                "lesson": STR,
                "capability": STR,
                "feature": STR,
                "title": STR,
                "summary": STR,
                "points": {**strings, "description": "talking points for staff"},
                "rank": {"type": ["integer", "null"]},
                "can_show": _bool,
                "shown": {"type": "integer", "description": "times shown in this demo"},
            },
        },
        "DemoScript": {
            "allOf": [
                ref("DemoDevice"),
                {
                    "type": "object",
                    "properties": {
                        "running": _bool,
                        "steps": {"type": "array", "items": ref("DemoStep")},
                    },
                },
            ]
        },
        "DemoShown": {
            "allOf": [
                ref("TryOutcome"),
                {
                    "type": "object",
                    "properties": {
                        "again": {"type": "boolean", "description": "shown before in this demo"},
                        "message": words,
                        "tone": tone,
                    },
                },
            ]
        },
        "DemoReset": {
            "type": "object",
            "properties": {
                "device": _int,
                "device_name": STR,
                "ok": _bool,
                "reason": STR,
                "problems": problems,
                "written": {"type": "integer", "description": "settings written back"},
                "undone": strings,
                "message": words,
            },
        },
    }
