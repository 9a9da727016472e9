"""Owners' tips as light Markdown: the few things allowed render, the rest stays text, nothing runs."""

from __future__ import annotations

import re

import pytest
from xss_fixtures import MARKUP_XSS, XSS, assert_inert

from edu.config import DEFAULT_LINK_HOSTS, Settings, link_hosts
from edu.hub import HubSettings
from edu.markup import link_allowed, tip_html

HOSTS = ("mi.com",)


def test_emphasis_strong_code_lists_paragraphs_and_line_breaks_render() -> None:
    html = tip_html(
        "At *night* use **natural breeze** with `speed 1`.\n\n- hold M\n- wait 3 s\n\n"
        "1. first\n2. then\n\nline one\nline two",
        HOSTS,
    )
    assert "<em>night</em>" in html and "<strong>natural breeze</strong>" in html
    assert "<code>speed 1</code>" in html
    assert "<ul>\n<li>hold M</li>\n<li>wait 3 s</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n<li>then</li>\n</ol>" in html
    assert "<p>line one<br>\nline two</p>" in html


def test_what_a_tip_may_not_use_shows_as_the_characters_typed() -> None:
    html = tip_html(
        "# Big\n\n> quoted\n\n---\n\n<b>bold</b> &amp; ![pic](https://www.mi.com/a.png)", HOSTS
    )
    assert "<h1" not in html and "<blockquote" not in html and "<hr" not in html
    assert "<img" not in html and "<b>" not in html
    assert "# Big" in html and "&gt; quoted" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "![pic](https://www.mi.com/a.png)" in html


def test_links_work_only_to_allowed_hosts_and_others_show_as_plain_text() -> None:
    html = tip_html(
        "[manual](https://www.mi.com/global/support) [top](https://mi.com/) "
        "[bad](https://evil.example/x) [look-alike](https://mi.com.evil.example/) "
        "[userinfo](https://www.mi.com@evil.example/) <https://evil.example/auto>",
        HOSTS,
    )
    hrefs = re.findall(r'<a href="([^"]*)"', html)
    assert hrefs == ["https://www.mi.com/global/support", "https://mi.com/"]
    assert html.count('rel="nofollow noopener noreferrer"') == 2
    assert "bad (https://evil.example/x)" in html
    assert "look-alike (https://mi.com.evil.example/)" in html
    assert "userinfo (https://www.mi.com@evil.example/)" in html
    assert "https://evil.example/auto" in html
    assert 'href="' not in tip_html("[manual](https://www.mi.com/)", ())  # no hosts: no links


@pytest.mark.parametrize("attack", XSS + MARKUP_XSS)
def test_the_xss_corpus_stays_inert_in_a_tip(attack: str) -> None:
    html = tip_html(f"Before.\n\n{attack}\n\nAfter.", HOSTS)
    assert_inert(html)
    assert not re.search(r"<(?!/?(?:p|br|em|strong|code|ul|ol|li|a)\b)[a-z]", html), html
    for href in re.findall(r'<a\b[^>]*\shref="([^"]*)"', html):
        assert link_allowed(href, HOSTS), href
    assert "Before." in html and "After." in html


def test_the_link_hosts_setting_is_one_list_for_the_hub_and_the_home() -> None:
    env = {"EDU_HUB_LINK_HOSTS": "Mi.com, support.example.org"}
    assert link_hosts(env) == ("mi.com", "support.example.org")
    assert HubSettings.from_env(env).link_hosts == Settings.from_env(env).link_hosts
    assert link_hosts({}) == DEFAULT_LINK_HOSTS == ("mi.com",)
    assert link_hosts({"EDU_HUB_LINK_HOSTS": "none"}) == ()
    for bad in ("https://mi.com", "mi.com/path", "localhost", "*.mi.com"):
        with pytest.raises(ValueError, match=r"^EDU_HUB_LINK_HOSTS: .* is not a host name"):
            link_hosts({"EDU_HUB_LINK_HOSTS": bad})
