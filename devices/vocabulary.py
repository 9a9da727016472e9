"""The capability vocabulary: a data file of features, how python-miio reveals each, when it is in use."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from devices import detectors
from devices.matching import (
    METHOD as _METHOD,
)
from devices.matching import (
    EntryError as _Invalid,
)
from devices.matching import (
    Match,
    parse_match,
)
from devices.matching import (
    fields as _fields,
)
from devices.matching import (
    strings as _strings,
)
from devices.vocabulary_parts import ORIGINS, PartError, read_vocabulary_data

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).with_name("data") / "vocabulary.yaml"
KINDS = ("setting", "action", "sensor", "mode")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ENTRY_FIELDS = (
    "id title families kind summary actionable match detect setting action detect_changes undo"
    " needs"
)
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class VocabularyError(ValueError):
    """The vocabulary file is broken; the message is one line naming the file and entry."""


@dataclass(frozen=True)
class Undo:
    """What brings a device back to rest after an action (every action must say).

    ``how`` is ``none`` (nothing to put back: a one-shot, or an action that ends at rest),
    ``irreversible`` (it cannot be put back, so a store demo never shows it) or ``run``:
    run the action *run* (with *params*), then the device is back when *at_rest* holds.
    """

    how: str
    run: str | None = None
    params: Any = None
    at_rest: detectors.Rule | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Capability:
    """One feature a person can learn, as defined in the vocabulary."""

    id: str
    title: str
    families: tuple[str, ...]
    kind: str
    summary: str
    actionable: bool
    match: Match = field(default_factory=Match, repr=False)
    detect: detectors.Rule | None = field(default=None, repr=False, compare=False)
    setting_descriptors: tuple[str, ...] = ()
    setting_methods: tuple[str, ...] = ()
    try_value: Any = field(default=None, compare=False)
    change_keys: tuple[str, ...] = ()
    detect_changes: bool = False
    action_descriptors: tuple[str, ...] = ()
    undo: Undo | None = None  # actions only
    # what a lesson's try-it value means in a model's terms: lesson value -> globs over the
    # names of the setter's enum (or the MIoT value-list), first match wins
    means: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    # methods that switch it on and off (on(), off()) when no setter takes the value
    switch: tuple[str, ...] = ()
    # attributes of the python-miio object that say whether the model has the feature
    # (Yeelight's _light_info.supports_color): where one exists, it must be true
    needs: tuple[str, ...] = ()


# ---------------------------------------------------------------- loading and validation


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
        raise _Invalid(f"{key} must be a non-empty single-line string")
    return value.strip()


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _undo(entry: Mapping[str, Any], kind: str) -> Undo | None:
    if kind != "action":
        if "undo" in entry:
            raise _Invalid("undo is only for actions")
        return None
    data = entry.get("undo")
    if data in ("none", "irreversible"):
        return Undo(data)
    if not isinstance(data, Mapping):
        raise _Invalid("an action needs an undo: none, irreversible or {run, at_rest}")
    data = _fields(data, "undo", "run params at_rest")
    run = data.get("run")
    if not isinstance(run, str) or not _ID.match(run):
        raise _Invalid("undo.run must name an action of the vocabulary")
    if data.get("at_rest") is None:
        raise _Invalid("undo.at_rest must say when the device is back at rest")
    try:
        at_rest = detectors.compile_rule(data["at_rest"])
    except detectors.RuleError as ex:
        raise _Invalid(f"undo.at_rest: {ex}") from None
    return Undo("run", run, _frozen(data.get("params")), at_rest)


def _capability(entry: Any, families: tuple[str, ...]) -> Capability:
    entry = _fields(entry, "entry", _ENTRY_FIELDS)
    fams = _strings(entry.get("families"), "families")
    for fam in fams:
        if fam not in families or fams.count(fam) > 1:
            raise _Invalid(f"families: unknown or repeated family {fam!r}")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise _Invalid(f"kind must be one of {', '.join(KINDS)}")
    flags = (entry.get("actionable"), entry.get("detect_changes", False))
    if not all(isinstance(flag, bool) for flag in flags):
        raise _Invalid("actionable and detect_changes must be true or false")
    try:
        rule = detectors.compile_rule(entry["detect"]) if entry.get("detect") is not None else None
    except detectors.RuleError as ex:
        raise _Invalid(f"detect: {ex}") from None
    setting = _fields(
        entry.get("setting", {}), "setting", "descriptors methods value keys means switch"
    )
    means = setting.get("means", {})
    if not isinstance(means, Mapping):
        raise _Invalid("setting.means must map a lesson value to a list of globs")
    switch = _strings(setting.get("switch", []), "setting.switch", _METHOD)
    if switch and len(switch) != 2:
        raise _Invalid("setting.switch names two methods: on, then off")
    keys = rule.keys if rule is not None and kind in ("setting", "mode") else ()
    return Capability(
        id=entry["id"],
        title=_text(entry, "title"),
        families=fams,
        kind=kind,
        summary=_text(entry, "summary"),
        actionable=entry["actionable"],
        match=parse_match(entry.get("match")),
        detect=rule,
        setting_descriptors=_strings(setting.get("descriptors", []), "setting.descriptors"),
        setting_methods=_strings(setting.get("methods", []), "setting.methods", _METHOD),
        try_value=_frozen(setting.get("value")),
        change_keys=_strings(setting["keys"], "setting.keys") if "keys" in setting else keys,
        detect_changes=entry.get("detect_changes", kind in ("setting", "mode")),
        action_descriptors=_strings(entry.get("action", []), "action"),
        undo=_undo(entry, kind),
        means={str(k): _strings(v, f"setting.means.{k}") for k, v in means.items()},
        switch=switch,
        needs=_strings(entry.get("needs", []), "needs", _PATH),
    )


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The validated capability vocabulary: capabilities, families and model patterns."""

    by_id: Mapping[str, Capability]
    families: tuple[str, ...]
    models: tuple[tuple[str, str], ...] = ()
    device_types: Mapping[str, str] = field(default_factory=dict)
    source: str = "vocabulary.yaml"
    # setter parameters a try-it may leave at their default (a fade time); any other extra
    # parameter would be reset by the try-it, so it is not offered
    harmless_params: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path | str | None = None) -> Vocabulary:
        """Load and validate a vocabulary file (the shipped one by default); cached per path."""
        return _load_cached(str(Path(path or DEFAULT_PATH).resolve()))

    @classmethod
    def from_data(cls, data: Any, source: str = "vocabulary.yaml") -> Vocabulary:
        """Validate already-parsed vocabulary data; raise VocabularyError when it is broken."""
        if not isinstance(data, Mapping) or not isinstance(data.get("capabilities"), list):
            raise VocabularyError(f"{source}: expected a mapping with a 'capabilities' list")
        families = data.get("families")
        if not isinstance(families, list) or not all(isinstance(f, str) for f in families or [0]):
            raise VocabularyError(f"{source}: 'families' must be a non-empty list of names")
        caps: dict[str, Capability] = {}
        for index, entry in enumerate(data["capabilities"]):
            cap_id = entry.get("id") if isinstance(entry, Mapping) else None
            label = cap_id if isinstance(cap_id, str) else f"#{index + 1}"
            try:
                if not isinstance(cap_id, str) or not _ID.match(cap_id) or cap_id in caps:
                    raise _Invalid("id must be a kebab-case string used once")
                caps[cap_id] = _capability(entry, tuple(families))
            except _Invalid as ex:
                where = data.get(ORIGINS, {}).get(label, source)
                raise VocabularyError(f"{where}: entry '{label}': {ex}") from None
        for cap in caps.values():
            run = cap.undo.run if cap.undo is not None else None
            if run is not None and (run not in caps or caps[run].kind != "action"):
                raise VocabularyError(
                    f"{source}: entry '{cap.id}': undo.run: {run!r} is not an action of the vocabulary"
                )
        try:
            models = tuple(
                (str(m["pattern"]).lower(), m["family"]) for m in data.get("models") or []
            )
            types = dict(data.get("device_types") or {})
            harmless = tuple(str(p) for p in data.get("harmless_params") or ())
        except (KeyError, TypeError, ValueError):
            raise VocabularyError(f"{source}: models/device_types are malformed") from None
        if not {fam for _, fam in models} | set(types.values()) <= set(families):
            raise VocabularyError(f"{source}: models/device_types name an unknown family")
        return cls(caps, tuple(families), models, types, source, harmless)

    def __getitem__(self, cap_id: str) -> Capability:
        return self.by_id[cap_id]

    def __contains__(self, cap_id: object) -> bool:
        return cap_id in self.by_id

    def __iter__(self) -> Iterator[Capability]:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def undo_of(self, cap_id: str) -> Undo | None:
        """What brings a device back after the action *cap_id* (None: unknown, or no action)."""
        cap = self.by_id.get(cap_id)
        return cap.undo if cap is not None else None

    def ids(self) -> list[str]:
        """Return every capability id, sorted."""
        return sorted(self.by_id)

    def for_family(self, family: str) -> list[Capability]:
        """Return the capabilities of one device family, sorted by id."""
        return sorted((c for c in self if family in c.families), key=lambda c: c.id)

    def family_for_model(self, model: str | None) -> str | None:
        """Return the family of a model id from the model patterns, or None."""
        model = (model or "").lower()
        return next((fam for pat, fam in self.models if model and fnmatchcase(model, pat)), None)

    def family_for_device_type(self, device_type: str | None) -> str | None:
        """Return the family of a MIoT device type (urn:...:device:<type>:...), or None."""
        return self.device_types.get(device_type or "")


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> Vocabulary:
    name = Path(path).name
    try:
        data = read_vocabulary_data(Path(path))
    except PartError as ex:
        raise VocabularyError(str(ex)) from None
    vocab = Vocabulary.from_data(data, source=name)
    logger.debug("Loaded %d capabilities from %s", len(vocab), path)
    return vocab
