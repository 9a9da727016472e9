"""The cells of the Performance table: a row's five columns and how figures are written."""

from __future__ import annotations

Row = dict[str, str]


def _s(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _verdict(ok: bool) -> str:
    return "✓" if ok else "✗"


def row(figure: str, measured: str, baseline: str, target: str, met: str = "") -> Row:
    return {
        "figure": figure,
        "measured": measured,
        "baseline": baseline,
        "target": target,
        "met": met,
    }
