"""The few generic verbs a simulator file may use to turn a request into state changes.

Expressions: ``"@0"``, ``"@0.1"``, ``"@lock_status"`` read the request params (``"@"`` is
all of them); ``"$name"`` reads the device state; ``{"param": "0", "map": {...}}`` maps a
param through a table; ``{"value": x}`` is a literal; anything else is itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

State = dict[str, Any]


class InvalidParams(ValueError):
    """A request whose params do not fit what the method expects."""


def _param(path: str, params: Any) -> Any:
    value = params
    for part in [p for p in path.split(".") if p]:
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, TypeError, ValueError):
            raise InvalidParams(f"missing param @{path}") from None
    return copy.deepcopy(value)


def evaluate(expr: Any, params: Any, state: State) -> Any:
    """Return the value an expression stands for."""
    if isinstance(expr, str) and expr.startswith("@"):
        return _param(expr[1:], params)
    if isinstance(expr, str) and expr.startswith("$"):
        return copy.deepcopy(state.get(expr[1:]))
    if isinstance(expr, dict) and "param" in expr:
        value = _param(str(expr["param"]), params)
        table = expr.get("map")
        if table is None:
            return value
        for key, mapped in table.items():
            if key == value or str(key) == str(value):
                return mapped
        raise InvalidParams(f"unexpected value {value!r}")
    if isinstance(expr, dict) and set(expr) == {"value"}:
        return copy.deepcopy(expr["value"])
    return copy.deepcopy(expr)


def render(template: Any, params: Any, state: State) -> Any:
    """Fill a result template: evaluate every string, list item and dict value in it."""
    if isinstance(template, list):
        return [render(item, params, state) for item in template]
    if isinstance(template, dict) and not ("param" in template or set(template) == {"value"}):
        return {key: render(value, params, state) for key, value in template.items()}
    return evaluate(template, params, state)


def op_set(spec: dict[str, Any], params: Any, state: State) -> State:
    """Write several state values: ``set: {name: expr, ...}``."""
    return {name: evaluate(expr, params, state) for name, expr in spec.items()}


def op_toggle(spec: dict[str, Any], params: Any, state: State) -> State:
    """Flip values between two: ``toggle: {power: ["on", "off"]}``."""
    return {name: (b if state.get(name) == a else a) for name, (a, b) in spec.items()}


def op_keyed(spec: dict[str, Any], params: Any, state: State) -> State:
    """Write the state a param names: ``keyed: {key: "@0", value: "@1", map: {k: name}}``."""
    key = evaluate(spec["key"], params, state)
    table = spec.get("map", {})
    if key not in table:
        raise InvalidParams(f"unknown key {key!r}")
    return {table[key]: evaluate(spec.get("value", "@1"), params, state)}


def _records(state: State, name: str) -> list[Any]:
    return copy.deepcopy(state.get(name) or [])


def op_append(spec: dict[str, Any], params: Any, state: State) -> State:
    """Add a record (a list keyed by its first item), replacing one with the same key."""
    out = {}
    for name, template in spec.items():
        record = render(template, params, state)
        records = [r for r in _records(state, name) if r[0] != record[0]]
        out[name] = [*records, record]
    return out


def op_update(spec: dict[str, Any], params: Any, state: State) -> State:
    """Change one field of a keyed record: ``update: {timers: {key, index, value}}``."""
    out = {}
    for name, how in spec.items():
        key = evaluate(how["key"], params, state)
        records = _records(state, name)
        matching = [r for r in records if r[0] == key]
        if not matching:
            raise InvalidParams(f"no record {key!r}")
        for record in matching:
            record[int(how["index"])] = evaluate(how["value"], params, state)
        out[name] = records
    return out


def op_remove(spec: dict[str, Any], params: Any, state: State) -> State:
    """Drop keyed records: ``remove: {timers: {key: "@0"}}``."""
    out = {}
    for name, how in spec.items():
        key = evaluate(how["key"], params, state)
        out[name] = [r for r in _records(state, name) if r[0] != key]
    return out


OPS: dict[str, Callable[[dict[str, Any], Any, State], State]] = {
    "set": op_set,
    "toggle": op_toggle,
    "keyed": op_keyed,
    "append": op_append,
    "update": op_update,
    "remove": op_remove,
}
