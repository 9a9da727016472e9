"""The try-it contract: can a lesson's "try it now" run on a model, with what value, read back how.

A lesson says what it means ("the quietest mode", "off", 30); the vocabulary's ``means`` maps
that onto the names a model's class or MIoT spec offers. ``decide`` looks only at the class
(setter signatures, enums), the device's capability report and the status keys it can read,
so the same answer comes out offline (``edu lessons check``), on a page and in the CLI.
A try-it is offered only when it can be written, read back and put back.
"""

from __future__ import annotations

import enum
import inspect
import logging
import typing
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from devices.detectors import resolve_keys
from devices.link import LinkError
from devices.vocabulary import Capability, Vocabulary

logger = logging.getLogger(__name__)

_EMPTY = inspect.Parameter.empty
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True)
class Target:
    """What is known of one model (or one device): its class, capabilities and readable keys.

    ``keys`` maps each status key the model can show to its current value (a live device)
    or to the type its status class declares for it (offline); ``descriptors`` are the
    JSON descriptions kept in a capability report.
    """

    model: str
    cls: type
    capabilities: frozenset[str]
    settings: Mapping[str, str] = field(default_factory=dict)
    actions: Mapping[str, str] = field(default_factory=dict)
    methods: Mapping[str, str] = field(default_factory=dict)
    descriptors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    keys: Mapping[str, Any] = field(default_factory=dict)
    live: bool = False


@dataclass(frozen=True)
class Contract:
    """The answer for one (try-it, model): offered or not (and why), and how it is done.

    ``via`` is ``switch`` (``writer`` is the on method; the off one is the capability's
    second switch method), ``method`` (a setter of the class), ``descriptor`` (a writable
    descriptor, the MIoT way) or ``action``. ``value`` is in the model's terms.
    """

    capability: str
    offered: bool
    reason: str = ""
    via: str = ""
    writer: str | None = None
    value: Any = None
    key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the contract as JSON-able data."""
        return asdict(self)


def _no(capability: str, reason: str) -> Contract:
    return Contract(capability, False, reason)


def parameters(fn: Any) -> list[inspect.Parameter]:
    """The positional parameters of a setter, without ``self``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []
    return [p for p in params if p.kind in _POSITIONAL and p.name != "self"]


def first_hint(fn: Any) -> Any:
    """The annotation of a setter's first parameter (None when it has none we can read)."""
    params = parameters(fn)
    if not params:
        return None
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # python-miio annotations it cannot resolve itself
        return None
    return hints.get(params[0].name)


def _is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, enum.Enum)


def _is_number(hint: Any) -> bool:
    return hint in (int, float)


def _means(cap: Capability, value: Any) -> tuple[str, ...]:
    return cap.means.get(str(value).lower()) or cap.means.get(str(value)) or (str(value),)


def pick_choice(cap: Capability, value: Any, names: list[str]) -> str | None:
    """The first of *names* (enum member names, value-list descriptions) that *value* means."""
    for pattern in _means(cap, value):
        for name in names:
            if fnmatchcase(name.casefold(), pattern.casefold()):
                return name
    return None


def _enum_names(hint: type[enum.Enum]) -> list[str]:
    return list(hint.__members__)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("0", "false", "off", "no"):
        return False
    return None


def _number_in_range(value: Any, rng: Any) -> tuple[Any, str]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"takes a number, and {value!r} is not one"
    if rng:
        low, high = rng[0], rng[1]
        if not low <= value <= high:
            return None, f"{value!r} is outside its range {low}-{high}"
    return value, ""


def _value_for_hint(cap: Capability, value: Any, hint: Any, rng: Any = None) -> tuple[Any, str]:
    """The lesson's *value* in the terms of a setter whose first parameter is *hint*."""
    if _is_enum(hint):
        name = pick_choice(cap, value, _enum_names(hint))
        if name is None:
            choices = ", ".join(_enum_names(hint))
            return None, f"no choice of its {hint.__name__} ({choices}) means {value!r}"
        return name, ""
    if hint is bool:
        flag = _as_bool(value)
        return (flag, "") if flag is not None else (None, f"takes on or off, not {value!r}")
    if _is_number(hint):
        return _number_in_range(value, rng)
    return value, ""


def _value_for_descriptor(cap: Capability, value: Any, desc: Mapping[str, Any]) -> tuple[Any, str]:
    choices = desc.get("choices")
    if choices:
        name = pick_choice(cap, value, [str(c) for c in choices])
        if name is None:
            return None, f"no choice of {', '.join(map(str, choices))} means {value!r}"
        return name, ""
    if desc.get("type") == "bool":
        flag = _as_bool(value)
        return (flag, "") if flag is not None else (None, f"takes on or off, not {value!r}")
    if desc.get("range") or desc.get("type") in ("int", "float"):
        return _number_in_range(value, desc.get("range"))
    return value, ""


def _restorable(hint: Any, shown: Any, live: bool) -> bool:
    """Can the value the read-back key shows be given back to a setter taking *hint*?"""
    if live:
        if shown is None:
            return False
        if _is_enum(hint):
            text = str(shown).casefold()
            return any(text in (m.name.casefold(), str(m.value).casefold()) for m in hint)
        if hint is bool:
            return _as_bool(shown) is not None
        if _is_number(hint):
            return isinstance(shown, int | float) and not isinstance(shown, bool)
        return True
    declared = shown  # offline: the type the status class declares, None when unknown
    if declared is None or hint is None:
        return True
    if _is_enum(hint):
        return declared is not bool
    if hint is bool:
        return declared in (bool, int)
    if _is_number(hint):
        return declared in (int, float) or declared is None
    return True


def _read_key(
    cap: Capability, descriptor: str | None, target: Target, hint: Any = None
) -> str | None:
    """The first status key that shows the setting and whose value the writer takes back."""
    patterns = ([descriptor] if descriptor else []) + list(cap.change_keys)
    found = resolve_keys(patterns, target.keys)
    if target.live:
        found = [k for k in found if target.keys.get(k) is not None]
    suits = [k for k in found if _restorable(hint, target.keys.get(k), target.live)]
    chosen = suits or found
    return chosen[0] if chosen else None


def decide(
    vocabulary: Vocabulary,
    setting: str | None,
    value: Any,
    target: Target,
    *,
    action: str | None = None,
) -> Contract:
    """Decide the contract of a try-it (``setting`` + ``value``, or ``action``) on *target*."""
    cap_id = setting or action or ""
    if cap_id not in vocabulary:
        return _no(cap_id, f"{cap_id!r} is not in the vocabulary")
    cap = vocabulary[cap_id]
    if cap_id not in target.capabilities:
        return _no(cap_id, f"{target.model} does not have {cap_id}")
    if action:
        return _action(cap, target)
    descriptor = target.settings.get(cap_id)
    # the report's method first, then the vocabulary's other setters the class has: an
    # AirPurifier that shows only `led` is switched by set_led, not set_led_brightness
    methods = [target.methods.get(cap_id) or "", *cap.setting_methods, *cap.switch[:1]]
    refusals: list[Contract] = []
    for method in dict.fromkeys(m for m in methods if callable(getattr(target.cls, m, None))):
        found = _by_method(
            vocabulary, cap, value, target, method, getattr(target.cls, method), descriptor
        )
        if found.offered:
            return found
        refusals.append(found)
    if refusals and not (descriptor and descriptor in target.descriptors):
        return refusals[0]
    if descriptor and descriptor in target.descriptors:
        desc = target.descriptors[descriptor]
        sent, why = _value_for_descriptor(cap, value, desc)
        if why:
            return _no(cap_id, f"{descriptor} {why}")
        key = _read_key(cap, descriptor, target)
        if key is None:
            return _no(cap_id, f"no status key of {target.model} shows {cap_id}")
        if target.live and target.keys.get(key) is None:
            return _no(cap_id, f"{key} shows nothing to put back")
        return Contract(cap_id, True, via="descriptor", writer=descriptor, value=sent, key=key)
    return _no(cap_id, f"nothing in {target.cls.__name__} writes {cap_id}")


def _by_method(
    vocabulary: Vocabulary,
    cap: Capability,
    value: Any,
    target: Target,
    method: str,
    fn: Any,
    descriptor: str | None,
) -> Contract:
    params = parameters(fn)
    required = [p for p in params if p.default is _EMPTY]
    if not required:
        switch = [m for m in cap.switch if callable(getattr(target.cls, m, None))]
        if len(cap.switch) != 2 or len(switch) != 2:
            return _no(cap.id, f"{method}() takes no value")
        flag = _as_bool(value)
        if flag is None:
            return _no(cap.id, f"{cap.id} is switched on or off, not set to {value!r}")
        key = _read_key(cap, descriptor, target, bool)
        if key is None:
            return _no(cap.id, f"no status key of {target.model} shows whether it is on")
        if not _restorable(bool, target.keys.get(key), target.live):
            return _no(cap.id, f"{key} does not say on or off")
        return Contract(cap.id, True, via="switch", writer=switch[0], value=flag, key=key)
    if len(required) > 1:
        return _no(cap.id, f"{method}() needs {len(required)} values")
    extra = [p.name for p in params[1:] if p.name not in vocabulary.harmless_params]
    if extra:
        return _no(cap.id, f"{method}() would also reset {', '.join(extra)}")
    hint = first_hint(fn)
    rng = target.descriptors.get(descriptor or "", {}).get("range") if descriptor else None
    sent, why = _value_for_hint(cap, value, hint, rng)
    if why:
        return _no(cap.id, f"{method}() {why}")
    key = _read_key(cap, descriptor, target, hint)
    if key is None:
        return _no(cap.id, f"no status key of {target.model} shows {cap.id}: nothing to read back")
    if not _restorable(hint, target.keys.get(key), target.live):
        return _no(cap.id, f"what {key} shows cannot be given back to {method}()")
    return Contract(cap.id, True, via="method", writer=method, value=sent, key=key)


def _action(cap: Capability, target: Target) -> Contract:
    if cap.undo is not None and cap.undo.how == "irreversible":
        return _no(cap.id, f"{cap.id} cannot be undone")
    method = target.methods.get(cap.id)
    fn = getattr(target.cls, method, None) if method else None
    if callable(fn):
        if any(p.default is _EMPTY for p in parameters(fn)):
            return _no(cap.id, f"{method}() needs values")
        return Contract(cap.id, True, via="action", writer=method)
    if target.actions.get(cap.id):
        return Contract(cap.id, True, via="action", writer=target.actions[cap.id])
    return _no(cap.id, f"nothing in {target.cls.__name__} runs {cap.id}")


def write_call(
    device: Any, contract: Contract, vocabulary: Vocabulary, value: Any
) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """The bound call (and its arguments) that writes *value* (in the model's terms)."""
    if contract.via == "switch":
        on, off = vocabulary[contract.capability].switch
        return getattr(device, on if _as_bool(value) else off), ()
    if contract.via == "method" and contract.writer:
        fn = getattr(device, contract.writer)
        return fn, (coerce_argument(fn, value),)
    if contract.via == "descriptor" and contract.writer:
        desc = (getattr(device, "_descriptors", None) or {}).get(contract.writer)
        kind = getattr(desc, "choices", None)
        if kind is not None and _is_enum(kind) and not isinstance(value, int | bool):
            for member in kind:
                if member.name == value or str(member.value) == str(value):
                    value = member.value
                    break
        return device.change_setting, (contract.writer, value)
    raise ValueError(f"{contract.capability} is not written through a setting")


def coerce_argument(fn: Callable[..., Any], value: Any) -> Any:
    """Convert *value* to the type the setter's first parameter is annotated with.

    Lessons and forms speak plain values ("off", 30, true); python-miio's setters often
    want enums (LedBrightness.Off) or booleans.
    """
    if not parameters(fn):
        return value
    wanted = first_hint(fn)
    if _is_enum(wanted) and not isinstance(value, wanted):
        for member in wanted:
            if (
                member.value == value
                or str(member.value).lower() == str(value).lower()
                or member.name.lower() == str(value).lower()
            ):
                return member
        raise LinkError("error", f"{value!r} is not one of {', '.join(m.name for m in wanted)}")
    if wanted is bool and not isinstance(value, bool):
        flag = _as_bool(value)
        if flag is None:
            raise LinkError("error", f"{value!r} is not on or off")
        return flag
    if wanted is int and not isinstance(value, bool):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise LinkError("error", f"{value!r} is not a whole number") from None
    return value
