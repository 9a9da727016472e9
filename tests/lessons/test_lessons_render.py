"""Lesson rendering: Markdown becomes HTML, and anything that could run code comes out inert."""

from __future__ import annotations

import re

import pytest
from xss_fixtures import MARKUP_XSS, assert_inert

from lessons.catalogue import Catalogue
from lessons.render import render, sanitise


def test_render_keeps_ordinary_markdown() -> None:
    html = render(
        "## Try it\n\n1. Open the **Mi Home** app\n2. Tap *Settings*\n\n`code` and a "
        "[link](https://www.mi.com/global/) and ![a picture](https://example.com/a.png)\n\n"
        "| mode | noise |\n|---|---|\n| sleep | low |\n"
    )
    assert "<h2>Try it</h2>" in html
    assert "<ol>" in html and "<li>Open the <strong>Mi Home</strong> app</li>" in html
    assert "<em>Settings</em>" in html and "<code>code</code>" in html
    assert (
        '<a href="https://www.mi.com/global/" rel="nofollow noopener noreferrer">link</a>' in html
    )
    assert '<img alt="a picture" src="https://example.com/a.png">' in html
    assert "<table>" in html and "<td>sleep</td>" in html


@pytest.mark.parametrize("attack", MARKUP_XSS)
def test_render_makes_scripts_and_handlers_inert(attack: str) -> None:
    html = render(f"Before.\n\n{attack}\n\nAfter.")
    assert_inert(html)
    for href in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert href.startswith(("https:", "/", "#")) or href == "x"
        assert not href.startswith("//")
    assert "Before." in html and "After." in html


def test_render_escapes_text_that_looks_like_markup() -> None:
    html = sanitise("<p>1 &lt; 2 &amp;&amp; <b>bold</b> <unknown>kept text</unknown></p>")
    assert html == "<p>1 &lt; 2 &amp;&amp; <b>bold</b> kept text</p>"


def test_render_closes_what_the_author_left_open() -> None:
    assert sanitise("<p><strong>open") == "<p><strong>open</strong></p>"
    assert sanitise("</em>stray</p>") == "stray"


def test_render_turns_lesson_links_into_page_urls() -> None:
    html = render(
        "See [the lock](lesson:fan-child-lock), [the angle](oscillation-angle.en.md#why) and "
        "[the plug](../plug/power-usage.zh-CN.md).",
        lesson_url=lambda lesson_id: f"/learn/{lesson_id}",
        family="fan",
    )
    assert '<a href="/learn/fan-child-lock">the lock</a>' in html
    assert '<a href="/learn/fan-oscillation-angle#why">the angle</a>' in html
    assert '<a href="/learn/plug-power-usage">the plug</a>' in html
    assert '<a href="/lessons/fan-basics">' in render("[b](lesson:fan-basics)")


def test_every_shipped_lesson_renders_to_safe_html() -> None:
    catalogue = Catalogue.load()
    lessons = catalogue.lessons()
    assert lessons
    for lesson in lessons:
        html = render(lesson.body, family=lesson.path.parent.name if lesson.path else None)
        assert "<p>" in html or "<li>" in html, lesson.id
        assert "<script" not in html.lower()
        for href in re.findall(r'href="([^"]*)"', html):
            assert href.startswith(("https://", "/lessons/", "#")), (lesson.id, href)
