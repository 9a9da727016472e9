"""Owners' tips as light Markdown, made safe to show: one renderer for the hub and every home.

A tip may use emphasis, strong, inline code, bullet and numbered lists, paragraphs and line
breaks, and links to allow-listed hosts (``EDU_HUB_LINK_HOSTS``). Everything else Markdown
knows (raw HTML, headings, quotes, code blocks, images, reference links) is switched off, so
it shows as the characters typed; a link to any other host shows as its text and address, not
as a link. The HTML then goes through the lessons' allow-list sanitiser, narrowed to those few
tags, with every address checked against the hosts once more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from lessons.render import sanitise

TIP_TAGS = frozenset({"p", "br", "em", "strong", "code", "ul", "ol", "li", "a"})
TIP_ATTRIBUTES = {"a": frozenset({"href"})}
# Markdown's parts a tip does without: raw HTML, headings, rules, quotes, code blocks,
# reference links and images. Removed by name, so a newer Markdown that renames one fails
# loudly here instead of quietly letting it through.
_OFF_PREPROCESSORS = ("html_block",)
_OFF_BLOCKS = ("code", "hashheader", "setextheader", "hr", "quote", "reference")
_OFF_INLINE = (
    "html",
    "reference",
    "image_link",
    "image_reference",
    "short_reference",
    "short_image_ref",
    "automail",
)


def link_allowed(url: str, hosts: Iterable[str]) -> bool:
    """Tell whether *url* is an http(s) address on one of *hosts* or below one."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
        return False
    return any(host == allowed or host.endswith(f".{allowed}") for allowed in hosts)


@cache
def _tip_extension() -> Callable[[tuple[str, ...]], Any]:
    """Markdown's extension for a tip, built on first use: a server that never shows an
    owner's tip never loads Markdown."""
    import xml.etree.ElementTree as etree

    import markdown
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    def text(words: str) -> etree.Element:
        element = etree.Element("span")
        element.text = words
        return element

    class Links(Treeprocessor):
        """Turn each link to a host that is not allowed into plain text: its words and address."""

        def __init__(self, md: markdown.Markdown, hosts: tuple[str, ...]) -> None:
            super().__init__(md)
            self.hosts = hosts

        def run(self, root: etree.Element) -> None:
            for link in root.iter("a"):
                href = link.get("href", "")
                if link_allowed(href, self.hosts):
                    continue
                words = "".join(link.itertext())
                link.attrib.clear()
                # a <span> is not among the tip's tags: the sanitiser keeps its text, not the tag
                link.tag = "span"
                if href and href != words:
                    link.append(text(f" ({href})"))

    class TipMarkdown(Extension):
        def __init__(self, hosts: tuple[str, ...]) -> None:
            super().__init__()
            self.hosts = hosts

        def extendMarkdown(self, md: markdown.Markdown) -> None:
            for name in _OFF_PREPROCESSORS:
                md.preprocessors.deregister(name)
            for name in _OFF_BLOCKS:
                md.parser.blockprocessors.deregister(name)
            for name in _OFF_INLINE:
                md.inlinePatterns.deregister(name)
            # after the inline patterns have made the links, before the tree is written out
            md.treeprocessors.register(Links(md, self.hosts), "tip_links", 15)

    return TipMarkdown


def tip_html(text: str, hosts: Iterable[str]) -> Markup:
    """Render an owner's tip (light Markdown) to safe HTML; links only to *hosts*."""
    import markdown

    allowed = tuple(h.lower() for h in hosts)
    md = markdown.Markdown(
        extensions=[_tip_extension()(allowed), "nl2br", "sane_lists"], output_format="html"
    )
    html = md.convert(text)
    clean = sanitise(
        html,
        tags=TIP_TAGS,
        attributes=TIP_ATTRIBUTES,
        url=lambda url: url if link_allowed(url, allowed) else None,
    )
    return Markup(clean)  # noqa: S704  (sanitised above: allow-listed tags, checked links)
