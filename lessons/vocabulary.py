"""Read the capability vocabulary file into the plain mapping lint takes (for tests and the CLI).

The application builds the same mapping from `devices.vocabulary.Vocabulary`; this
reader exists so that `python -m lessons.lint` and the lesson tests work from the data
file alone, without importing `devices`. The mapping, per capability id::

    {"title": "Child lock", "summary": "Locks the buttons ...", "families": ["fan", ...],
     "kind": "setting",
     "actionable": True,
     "settings": {"child-lock": {"type": "bool", "value": True}},   # writable: try_it.setting
     "actions": {}}                                                 # kind action: try_it.action

A setting's spec carries the vocabulary's sample "try it" value and the type inferred from
it; a setting whose vocabulary entry gives no value has an empty spec, so lint accepts any
value there.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

DEFAULT_VOCABULARY = Path(__file__).resolve().parent.parent / "devices" / "data" / "vocabulary.yaml"

Vocabulary = dict[str, dict[str, Any]]

_TYPE_NAMES = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"))


class VocabularyError(ValueError):
    """The vocabulary file is missing or not in a shape this reader understands."""


def load_vocabulary(path: Path | str = DEFAULT_VOCABULARY) -> Vocabulary:
    """Read a vocabulary YAML file; return capability id -> {families, kind, settings, actions}."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_Loader)
    except OSError as exc:
        raise VocabularyError(f"cannot read vocabulary {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise VocabularyError(f"invalid YAML in vocabulary {path}: {exc}") from None
    return vocabulary_from_data(_with_parts(data, Path(path).with_suffix("")))


def _with_parts(data: Any, folder: Path) -> Any:
    """Append the capabilities of the per-family parts beside the file (vocabulary/*.yaml)."""
    if not isinstance(data, Mapping) or not folder.is_dir():
        return data
    entries = list(data.get("capabilities") or [])
    for part_path in sorted(folder.glob("*.yaml")):
        try:
            part = yaml.load(part_path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, yaml.YAMLError) as exc:
            raise VocabularyError(f"cannot read vocabulary part {part_path}: {exc}") from None
        if isinstance(part, Mapping):
            entries.extend(part.get("capabilities") or [])
    return {**data, "capabilities": entries}


def vocabulary_from_data(data: Any) -> Vocabulary:
    """Normalise parsed vocabulary data (a `capabilities` list of entries) into the mapping."""
    entries = data.get("capabilities") if isinstance(data, Mapping) else None
    if entries is None:
        entries = []
    if isinstance(entries, Mapping):  # also accept {id: entry}
        entries = [{"id": key, **(value or {})} for key, value in entries.items()]
    if not isinstance(entries, list):
        raise VocabularyError("the vocabulary's 'capabilities' must be a list of entries")
    vocabulary: Vocabulary = {}
    for raw in entries:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            raise VocabularyError(f"a vocabulary entry has no id: {raw!r}")
        vocabulary[raw["id"]] = capability_entry(raw)
    return vocabulary


def capability_entry(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn one vocabulary entry into lint's form: families, kind, settings and actions."""
    cap_id = str(raw["id"])
    families = raw.get("families") or []
    if isinstance(families, str):
        families = [families]
    kind = raw.get("kind")
    settings: dict[str, dict[str, Any]] = {}
    setting = raw.get("setting")
    if isinstance(setting, Mapping) and kind in ("setting", "mode"):
        settings[cap_id] = value_spec(setting.get("value"))
    actions: dict[str, dict[str, Any]] = {}
    if kind == "action":
        actions[cap_id] = {}
    return {
        "title": raw.get("title"),
        "summary": raw.get("summary"),
        "families": [str(family) for family in families],
        "kind": kind,
        "actionable": bool(raw.get("actionable", kind != "sensor")),
        "settings": settings,
        "actions": actions,
    }


def value_spec(value: Any) -> dict[str, Any]:
    """Describe a setting from its sample value: the value itself and its type."""
    if value is None:
        return {}
    for python_type, name in _TYPE_NAMES:
        if isinstance(value, python_type):
            return {"type": name, "value": value}
    return {"value": value}
