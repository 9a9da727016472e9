"""Render a lesson's Markdown to HTML that is safe to put on a page (allow-list sanitiser)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from html import escape
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1",
        "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
VOID_TAGS = frozenset({"br", "hr", "img"})
# Elements that never have an end tag, so dropping them must not swallow what follows.
HTML_VOID = frozenset({"embed", "frame", "param", "source", "track", "input", "keygen"})
# Dropped with everything inside them, not just the tags.
DROP_CONTENT_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
        "template", "noscript", "noembed", "noframes", "textarea", "select", "svg", "math",
        "title", "head", "xmp", "plaintext",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "abbr": frozenset({"title"}),
    "th": frozenset({"align", "colspan", "rowspan"}),
    "td": frozenset({"align", "colspan", "rowspan"}),
    "ol": frozenset({"start"}),
    "code": frozenset({"class"}),
}
URL_ATTRIBUTES = frozenset({"href", "src"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
DEFAULT_LESSON_URL = "/lessons/{id}"

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_NETWORK_PATH = re.compile(r"^[/\\]{2}")
_CLASS = re.compile(r"^language-[A-Za-z0-9_+-]+$")
_LESSON_PATH = re.compile(
    r"^(?:\.\./(?P<family>[a-z0-9-]+)/|\./)?(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)"
    r"(?:\.[A-Za-z0-9-]+)?\.md(?P<fragment>#.*)?$"
)
_EXTENSIONS = ["tables", "fenced_code", "sane_lists"]


def render(
    markdown_text: str,
    lesson_url: Callable[[str], str] | None = None,
    family: str | None = None,
) -> str:
    """Render Markdown to sanitised HTML.

    Links to other lessons (`lesson:ID`, or a relative path to a lesson file such as
    `../fan/child-lock.en.md`) become `lesson_url(ID)`; family names the folder of the
    lesson being rendered, so that a same-folder path like `child-lock.en.md` resolves too.
    """
    import markdown  # on first use: a server that draws no lesson never loads it

    html = markdown.markdown(markdown_text, extensions=_EXTENSIONS, output_format="html")
    return sanitise(html, lesson_url=lesson_url, family=family)


def sanitise(
    html: str,
    lesson_url: Callable[[str], str] | None = None,
    family: str | None = None,
    *,
    tags: frozenset[str] = ALLOWED_TAGS,
    attributes: Mapping[str, frozenset[str]] = ALLOWED_ATTRIBUTES,
    url: Callable[[str], str | None] | None = None,
) -> str:
    """Keep only allow-listed tags, attributes and URL schemes; escape everything else.

    *tags* and *attributes* narrow the allow-list (owners' tips allow far less than
    lessons); *url*, when given, decides each link instead of the lesson rules: it gets the
    address with control characters removed and returns it, or None to drop it.
    """
    cleaner = _Sanitiser(lesson_url or _default_lesson_url, family, tags, attributes, url)
    cleaner.feed(html)
    cleaner.close()
    return cleaner.output()


def _plain_attribute_ok(name: str, value: str) -> bool:
    """Say whether a non-URL attribute value is one we let through."""
    if name == "class":
        return _CLASS.match(value) is not None
    if name in ("width", "height", "colspan", "rowspan", "start"):
        return value.isdigit()
    if name == "align":
        return value in ("left", "center", "right")
    return True


def _default_lesson_url(lesson_id: str) -> str:
    return DEFAULT_LESSON_URL.format(id=lesson_id)


class _Sanitiser(HTMLParser):
    """Re-emit HTML through an allow-list; HTMLParser already decodes entities for us."""

    def __init__(
        self,
        lesson_url: Callable[[str], str],
        family: str | None,
        tags: frozenset[str],
        attributes: Mapping[str, frozenset[str]],
        url: Callable[[str], str | None] | None,
    ) -> None:
        super().__init__(convert_charrefs=True)
        self._lesson_url = lesson_url
        self._family = family
        self._tags = tags & ALLOWED_TAGS  # never wider than the lessons' own list
        self._attributes = attributes
        self._check_url = url
        self._out: list[str] = []
        self._open: list[str] = []
        self._dropping: list[str] = []

    def output(self) -> str:
        """Return the cleaned HTML, closing anything left open."""
        closing = "".join(f"</{tag}>" for tag in reversed(self._open))
        return "".join(self._out) + closing

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT_TAGS and tag not in HTML_VOID:
            self._dropping.append(tag)
            return
        if self._dropping:
            return
        if tag not in self._tags:
            return
        self._out.append(self._start(tag, attrs))
        if tag not in VOID_TAGS:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping or tag in DROP_CONTENT_TAGS or tag not in self._tags:
            return
        self._out.append(self._start(tag, attrs))
        if tag not in VOID_TAGS:
            self._out.append(f"</{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if self._dropping:
            if tag == self._dropping[-1]:
                self._dropping.pop()
            return
        if tag not in self._open:
            return
        while self._open:
            last = self._open.pop()
            self._out.append(f"</{last}>")
            if last == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self._out.append(escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        return  # comments can hide conditional markup for old browsers: drop them

    def handle_decl(self, decl: str) -> None:
        return

    def handle_pi(self, data: str) -> None:
        return

    def unknown_decl(self, data: str) -> None:
        return

    def _start(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        allowed = self._attributes.get(tag, frozenset()) & ALLOWED_ATTRIBUTES.get(tag, frozenset())
        parts = [tag]
        seen: set[str] = set()
        external = False
        for name, value in attrs:
            if name not in allowed or name in seen or value is None:
                continue
            if name in URL_ATTRIBUTES:
                value = self._url(value)
                if value is None:
                    continue
                external = external or value.startswith(("http:", "https:"))
            elif not _plain_attribute_ok(name, value):
                continue
            seen.add(name)
            parts.append(f'{name}="{escape(value, quote=True)}"')
        if tag == "a" and external:
            parts.append('rel="nofollow noopener noreferrer"')
        return "<" + " ".join(parts) + ">"

    def _url(self, value: str) -> str | None:
        """Return a safe URL for value, a lesson URL for lesson links, or None to drop it."""
        # Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
        compact = _CONTROL.sub("", value)
        if self._check_url is not None:
            return self._check_url(compact)
        match = _SCHEME.match(compact)
        if match is not None:
            scheme = match.group(1).lower()
            if scheme == "lesson":
                lesson_id, _, fragment = compact.split(":", 1)[1].partition("#")
                return self._lesson_url(lesson_id) + (f"#{fragment}" if fragment else "")
            return compact if scheme in SAFE_SCHEMES else None
        if _NETWORK_PATH.match(compact):
            return None  # protocol-relative: would leave the site with an unchecked scheme
        lesson = _LESSON_PATH.match(compact)
        if lesson is not None:
            family = lesson["family"] or self._family
            if family is not None:
                fragment = lesson["fragment"] or ""
                return self._lesson_url(f"{family}-{lesson['slug']}") + fragment
        return compact
