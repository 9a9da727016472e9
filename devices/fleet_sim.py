"""What a simulated device says: a miIO simulator file (plus MIoT spec) turned into replies.

The files extend the format of python-miio's ``SimulatedMiio``: ``properties`` answer
``get_prop`` and may name a ``setter``; ``methods`` give static or templated results. The
extensions are small and generic, never per model:

- a result may use ``$name`` (a state value) and ``@0``/``@0.1``/``@key`` (request params);
- a method may ``set`` several state values from params or constants, ``toggle`` a value
  between two, write a value ``keyed`` by a param, or ``append``/``update``/``remove``
  records (lists keyed by their first element, like Roborock timers);
- a ``miot`` section names a spec file and gives the initial values by ``service:property``
  name, with optional effects of ``actions``; ``get_properties``, ``set_properties`` and
  ``action`` then behave like a MIoT device, checked against the spec.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from miio.miot_models import DeviceModel, MiotAccess, MiotProperty

from devices.fleet_ops import OPS, InvalidParams, evaluate, render

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
METHOD_NOT_FOUND = {"error": {"code": -32601, "message": "Method not found."}}
# MIoT property codes as real devices report them.
NOT_READABLE, NOT_WRITABLE, NOT_FOUND, VALUE_ERROR = -4001, -4002, -4003, -4005

_TYPES: dict[str, Callable[[Any], Any]] = {
    "int": int,
    "float": float,
    "str": str,
    "str_bool": lambda v: ("on" if v else "off") if isinstance(v, bool) else str(v),
    "bool": lambda v: v.lower() in ("on", "true", "1") if isinstance(v, str) else bool(v),
}
_METHOD_KEYS = {"name", "result", "result_json", "description", "error", "models", *OPS}
_PROPERTY_KEYS = {"name", "type", "value", "models", "setter", "description", "min", "max"}


class SimFileError(ValueError):
    """A simulator, spec or fleet file that does not follow the format."""


@dataclass
class Prop:
    """One miIO property: its type, first value and allowed range."""

    name: str
    type: str | None = None
    value: Any = None
    models: list[str] = field(default_factory=list)
    setter: str | None = None
    min: float | None = None
    max: float | None = None
    description: str | None = None

    def coerce(self, value: Any) -> Any:
        """Check a written value against this property's range, then convert it to its type."""
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        too_low = numeric and self.min is not None and value < self.min
        if too_low or (numeric and self.max is not None and value > self.max):
            raise InvalidParams(f"{self.name} out of range")
        if value is not None and self.type in _TYPES:
            try:
                value = _TYPES[self.type](value)
            except (TypeError, ValueError):
                raise InvalidParams(f"{self.name} expects {self.type}") from None
        return value


@dataclass
class SimDefinition:
    """A simulator file: the models it serves and how it answers."""

    path: Path
    type: str
    models: dict[str, dict[str, Any]]
    props: list[Prop]
    methods: dict[str, dict[str, Any]]
    unknown_method: dict[str, Any]
    unknown_prop_value: Any
    get_prop_reply: str
    info: dict[str, Any]
    miot: MiotPart | None

    @classmethod
    def load(cls, path: Path) -> SimDefinition:
        """Read and check one simulator file."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not raw.get("models"):
            raise SimFileError(f"{path.name}: a simulator file needs a 'models' list")
        models = {m["model"]: m for m in raw["models"]}
        props = []
        for entry in raw.get("properties", []):
            unknown = set(entry) - _PROPERTY_KEYS
            if unknown or "name" not in entry:
                raise SimFileError(f"{path.name}: bad property {entry!r}")
            props.append(Prop(**entry))
        methods = {}
        for entry in raw.get("methods", []):
            unknown = set(entry) - _METHOD_KEYS
            if unknown or "name" not in entry:
                raise SimFileError(
                    f"{path.name}: bad method {entry.get('name')!r}: {sorted(unknown)}"
                )
            if "result_json" in entry:
                entry = {**entry, "result": json.loads(entry["result_json"])}
            methods[entry["name"]] = entry
        miot = MiotPart.load(path, raw["miot"]) if "miot" in raw else None
        return cls(
            path=path,
            type=raw.get("type", "unknown"),
            models=models,
            props=props,
            methods=methods,
            unknown_method=raw.get("unknown_method", METHOD_NOT_FOUND),
            unknown_prop_value=raw.get("unknown_prop_value"),
            get_prop_reply=raw.get("get_prop_reply", "list"),
            info=raw.get("info", {}),
            miot=miot,
        )

    def props_for(self, model: str) -> dict[str, Prop]:
        """Return the miIO properties a model has (python-miio's ``models`` filter)."""
        return {p.name: p for p in self.props if not p.models or model in p.models}

    def methods_for(self, model: str) -> dict[str, dict[str, Any]]:
        """Return the methods a model answers (a method may list its ``models``)."""
        return {n: m for n, m in self.methods.items() if model in m.get("models", [model])}

    def info_for(self, model: str) -> dict[str, Any]:
        """Return the miIO.info fields of a model (file defaults, then the model's own)."""
        extra = {k: v for k, v in self.models[model].items() if k in ("fw_ver", "hw_ver")}
        return {**self.info, **extra}


@dataclass
class MiotPart:
    """The MIoT side of a simulator file: the spec and the first values."""

    spec: DeviceModel
    names: dict[tuple[int, int], str]
    props: dict[str, MiotProperty]
    values: dict[str, Any]
    actions: dict[tuple[int, int], dict[str, Any]]

    @classmethod
    def load(cls, path: Path, raw: dict[str, Any]) -> MiotPart:
        """Parse the spec file the section names and check the values against it.

        A spec beside the simulator file wins over a shipped one: a device whose spec the
        product does not ship (a test, a new model) brings its own.
        """
        spec_file = path.parent / f"{raw['spec']}.json"
        if not spec_file.is_file():
            spec_file = DATA / "specs" / f"{raw['spec']}.json"
        spec = DeviceModel.parse_obj(json.loads(spec_file.read_text(encoding="utf-8")))
        names: dict[tuple[int, int], str] = {}
        props: dict[str, MiotProperty] = {}
        seen: set[str] = set()
        actions_by_name: dict[str, tuple[int, int]] = {}
        for service in spec.services:
            # Two services of one type (Dreame's brushes) get the later one's siid appended.
            sname = service.name if service.name not in seen else f"{service.name}-{service.siid}"
            seen.add(service.name)
            for prop in service.properties:
                key = f"{sname}:{prop.plain_name}"
                names[(service.siid, prop.piid)] = key
                props[key] = prop
            for act in service.actions:
                actions_by_name[f"{sname}:{act.plain_name}"] = (service.siid, act.aiid)
        values = dict(raw.get("values", {}))
        for key, value in values.items():
            if key not in props:
                raise SimFileError(f"{path.name}: {key!r} is not a property of {spec_file.name}")
            if not check_miot_value(props[key], value):
                raise SimFileError(f"{path.name}: {key} = {value!r} does not fit the spec")
        for key, prop in props.items():
            values.setdefault(key, _default(prop))
        actions = {}
        for key, effect in raw.get("actions", {}).items():
            if key not in actions_by_name:
                raise SimFileError(f"{path.name}: {key!r} is not an action of {spec_file.name}")
            actions[actions_by_name[key]] = effect
        return cls(spec=spec, names=names, props=props, values=values, actions=actions)


def _default(prop: MiotProperty) -> Any:
    """Return a deterministic first value for a property the file does not set."""
    if prop.choices:
        return prop.choices[0].value
    if prop.range:
        return prop.range[0]
    return {bool: False, int: 0, float: 0.0}.get(prop.format, "")


def check_miot_value(prop: MiotProperty, value: Any) -> bool:
    """Tell whether a value fits a MIoT property's format, range and choices."""
    fmt = prop.format
    if fmt is bool:
        return isinstance(value, bool)
    if fmt is str:
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if fmt is int and not isinstance(value, int):
        return False
    if prop.range and not prop.range[0] <= value <= prop.range[1]:
        return False
    return not prop.choices or any(c.value == value for c in prop.choices)


class Behaviour:
    """The live state of one simulated device and its answers to requests."""

    def __init__(self, sim: SimDefinition, model: str, identity: dict[str, Any]) -> None:
        self.sim = sim
        self.model = model
        self.props = sim.props_for(model)
        self.methods = sim.methods_for(model)
        self.setters = {p.setter: p for p in self.props.values() if p.setter}
        self.initial: dict[str, Any] = {name: p.value for name, p in self.props.items()}
        if sim.miot is not None:
            self.initial.update(sim.miot.values)
            self._fill_identity(identity)
        self.state: dict[str, Any] = copy.deepcopy(self.initial)

    def _fill_identity(self, identity: dict[str, Any]) -> None:
        # MIoT device-information (siid 1) tells the device's own facts.
        assert self.sim.miot is not None
        for (siid, _piid), key in self.sim.miot.names.items():
            if siid == 1:
                field_name = key.split(":", 1)[1]
                if field_name in identity:
                    self.initial[key] = identity[field_name]

    def reset(self) -> None:
        """Restore the first state."""
        self.state = copy.deepcopy(self.initial)

    def key_for(self, name: str) -> str:
        """Return the state key for a name, accepting ``siid.piid`` for MIoT properties."""
        if name in self.state:
            return name
        if self.sim.miot is not None and "." in name:
            siid, _, piid = name.partition(".")
            if siid.isdigit() and piid.isdigit() and (int(siid), int(piid)) in self.sim.miot.names:
                return self.sim.miot.names[(int(siid), int(piid))]
        raise KeyError(f"{self.model} has no state {name!r}")

    def handle(self, method: str, params: Any) -> dict[str, Any]:
        """Answer one request with a payload holding ``result`` or ``error``."""
        try:
            if method in self.methods:
                return self._method(self.methods[method], params)
            if method in self.setters:
                self.state[self.setters[method].name] = self._coerce(
                    self.setters[method].name, evaluate("@0", params, self.state)
                )
                return {"result": ["ok"]}
            if method == "get_prop" and self.props:
                return {"result": self._get_prop(params)}
            if self.sim.miot is not None and method in (
                "get_properties",
                "set_properties",
                "action",
            ):
                return {"result": getattr(self, "_miot_" + method)(params)}
        except InvalidParams as exc:
            return {"error": {"code": -5001, "message": f"invalid params: {exc}"}}
        return copy.deepcopy(self.sim.unknown_method)

    def _coerce(self, name: str, value: Any) -> Any:
        prop = self.props.get(name)
        return prop.coerce(value) if prop is not None else value

    def _method(self, spec: dict[str, Any], params: Any) -> dict[str, Any]:
        if "error" in spec:
            return {"error": spec["error"]}
        changes: dict[str, Any] = {}
        for op, handler in OPS.items():
            if op in spec:
                changes.update(handler(spec[op], params, self.state))
        for name, value in changes.items():
            self.state[name] = self._coerce(name, value)
        default = ["ok"] if changes else []
        return {"result": render(spec.get("result", default), params, self.state)}

    def _get_prop(self, params: Any) -> Any:
        names = params if isinstance(params, list) else []
        if self.sim.get_prop_reply == "dict":
            return {n: self.state[n] for n in names if n in self.props}
        return [self.state[n] if n in self.props else self.sim.unknown_prop_value for n in names]

    def _miot_prop(self, item: dict[str, Any]) -> tuple[str | None, MiotProperty | None]:
        assert self.sim.miot is not None
        key = self.sim.miot.names.get((item.get("siid"), item.get("piid")))  # type: ignore[arg-type]
        return key, (self.sim.miot.props[key] if key else None)

    def _miot_get_properties(self, params: Any) -> list[dict[str, Any]]:
        out = []
        for item in params if isinstance(params, list) else []:
            reply = {k: item[k] for k in ("did", "siid", "piid") if k in item}
            key, prop = self._miot_prop(item)
            if key is None or prop is None:
                reply["code"] = NOT_FOUND
            elif MiotAccess.Read in prop.access or MiotAccess.Notify in prop.access:
                reply.update(code=0, value=copy.deepcopy(self.state[key]))
            else:
                reply["code"] = NOT_READABLE
            out.append(reply)
        return out

    def _miot_set_properties(self, params: Any) -> list[dict[str, Any]]:
        out = []
        for item in params if isinstance(params, list) else []:
            reply = {k: item[k] for k in ("did", "siid", "piid") if k in item}
            key, prop = self._miot_prop(item)
            if key is None or prop is None:
                reply["code"] = NOT_FOUND
            elif MiotAccess.Write not in prop.access:
                reply["code"] = NOT_WRITABLE
            elif not check_miot_value(prop, item.get("value")):
                reply["code"] = VALUE_ERROR
            else:
                self.state[key] = item["value"]
                reply["code"] = 0
            out.append(reply)
        return out

    def _miot_action(self, params: Any) -> dict[str, Any]:
        assert self.sim.miot is not None
        if not isinstance(params, dict):
            raise InvalidParams("action expects an object")
        reply = {k: params[k] for k in ("did", "siid", "aiid") if k in params}
        try:
            service = self.sim.miot.spec.get_service_by_siid(int(params.get("siid", -1)))
            service.get_action_by_id(int(params.get("aiid", -1)))
        except (KeyError, TypeError, ValueError):
            return {**reply, "code": NOT_FOUND}
        effect = self.sim.miot.actions.get((params["siid"], params["aiid"]), {})
        self._method(effect, params.get("in", []))
        return {**reply, "code": 0, "out": []}


def load_sims(folder: Path | None = None) -> dict[str, SimDefinition]:
    """Read every simulator file in a folder; return them keyed by model."""
    by_model: dict[str, SimDefinition] = {}
    for path in sorted((folder or DATA / "sims").glob("*.yaml")):
        sim = SimDefinition.load(path)
        for model in sim.models:
            if model in by_model:
                raise SimFileError(
                    f"{model} is in both {by_model[model].path.name} and {path.name}"
                )
            by_model[model] = sim
    return by_model
