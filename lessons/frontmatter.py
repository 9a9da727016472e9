"""Split a lesson file into YAML front matter and Markdown body, keeping line numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml is several times faster; fall back to the pure-Python loader.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

FENCE = "---"


class FrontMatterError(ValueError):
    """A lesson file whose front matter cannot be read; carries the 1-based file line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Document:
    """A parsed lesson file: front matter data, where each key sits, and the body."""

    meta: dict[str, Any]
    body: str
    body_line: int  # 1-based file line of the body's first line
    lines: dict[str, int] = field(default_factory=dict)  # "key", "try_it.value" -> file line
    duplicates: list[tuple[str, int]] = field(default_factory=list)  # keys given twice

    def line_of(self, key: str, default: int | None = None) -> int:
        """Return the file line of a front-matter key (dotted for nested keys)."""
        if key in self.lines:
            return self.lines[key]
        parent = key.rsplit(".", 1)[0]
        if parent != key and parent in self.lines:
            return self.lines[parent]
        return default if default is not None else 2


def parse(text: str) -> Document:
    """Parse a lesson file's text; raise FrontMatterError with the offending line."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        raise FrontMatterError(1, "missing front matter: the file must start with a '---' line")
    end = None
    for index in range(1, len(lines)):
        if lines[index].rstrip() == FENCE:
            end = index
            break
    if end is None:
        raise FrontMatterError(1, "unterminated front matter: no closing '---' line")
    yaml_text = "\n".join(lines[1:end])
    # The YAML text starts on file line 2; marks are 0-based.
    offset = 2
    loader = _Loader(yaml_text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        context = exc.context or ""
        # An unclosed bracket or quote is found lines later; point at where it was opened.
        if exc.context_mark is not None and (
            "flow" in context or context.startswith("while scanning")
        ):
            mark = exc.context_mark
        line = mark.line + offset if mark is not None else offset
        problem = exc.problem or context or "invalid YAML"
        if context:
            problem = f"{problem} ({context})"
        raise FrontMatterError(line, f"invalid YAML in front matter: {problem}") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(offset, f"invalid YAML in front matter: {exc}") from None
    finally:
        loader.dispose()
    if data is None:
        raise FrontMatterError(offset, "empty front matter")
    if not isinstance(data, dict):
        raise FrontMatterError(offset, "front matter must be a mapping of keys to values")
    key_lines: dict[str, int] = {}
    duplicates: list[tuple[str, int]] = []
    if isinstance(node, yaml.MappingNode):
        _collect_lines(node, "", offset, key_lines, duplicates)
    body = "\n".join(lines[end + 1 :])
    return Document(meta=data, body=body, body_line=end + 2, lines=key_lines, duplicates=duplicates)


def _collect_lines(
    node: yaml.Node,
    prefix: str,
    offset: int,
    out: dict[str, int],
    duplicates: list[tuple[str, int]],
) -> None:
    """Record the file line of every mapping key and sequence item under node."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            line = key_node.start_mark.line + offset
            if key in out:
                # YAML keeps the last value silently; a lesson author meant one of them.
                duplicates.append((key, line))
            out[key] = line
            _collect_lines(value_node, key + ".", offset, out, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = f"{prefix.rstrip('.')}[{index}]"
            out[key] = item.start_mark.line + offset
            _collect_lines(item, key + ".", offset, out, duplicates)
