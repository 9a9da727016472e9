"""The growth charts: valid SVG, points placed by size and value, and the committed ones current."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # NamedTuple classes look their module up
    spec.loader.exec_module(module)
    return module


charts = _load("_charts")
run_all = _load("run_all")


def _parse(svg: str) -> ET.Element:
    """Parse a chart this test drew (raises on malformed XML, an unescaped < or &)."""
    root = ET.fromstring(svg)  # noqa: S314  (our own output, not untrusted input)
    assert root.tag == f"{SVG}svg"
    return root


def _points(svg: str) -> list[tuple[float, float, str]]:
    """(x, y, tooltip) of every data point of a chart, in document order."""
    root = _parse(svg)
    return [
        (float(c.get("cx", "nan")), float(c.get("cy", "nan")), c.findtext(f"{SVG}title") or "")
        for c in root.iter(f"{SVG}circle")
        if c.get("class") == "point"
    ]


def test_points_follow_the_sizes_on_a_log_axis_and_the_values_from_zero() -> None:
    series = {"10000": 400.0, "30": 0.0, "300": 100.0, "3000": 250.0}  # unordered on purpose
    svg = charts.line_chart(series, title="T", x_label="devices", y_label="ms")
    points = _points(svg)
    assert [p[2] for p in points] == ["30: 0", "300: 100", "3k: 250", "10k: 400"]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert xs == sorted(xs) and len(set(xs)) == 4
    # log scale: 30 -> 300 spans as much as 300 -> 3,000
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.2)
    # SVG y grows downwards: a larger value sits higher, 0 on the x axis, heights in proportion
    assert ys == sorted(ys, reverse=True) and len(set(ys)) == 4
    axis = charts.TOP + (charts.HEIGHT - charts.TOP - charts.BOTTOM)
    assert ys[0] == axis
    heights = [axis - y for y in ys]
    assert heights[3] / heights[1] == pytest.approx(4.0, rel=0.01)
    labels = [t.text for t in _parse(svg).iter(f"{SVG}text")]
    assert "from 0 to 400 while devices grow ×333" in labels  # no ratio to a 0


def test_flat_series_is_drawn_flat_and_the_scale_starts_at_zero() -> None:
    svg = charts.line_chart(
        {"1000": 50.0, "10000": 51.0, "100000": 50.5}, title="R", x_label="people", y_label="tips/s"
    )
    ys = [p[1] for p in _points(svg)]
    assert max(ys) - min(ys) < 2  # 1 in 50 of the height, not stretched to fill the chart
    labels = [t.text for t in _parse(svg).iter(f"{SVG}text")]
    assert "0" in labels and "×1.01 while people grow ×100" in labels


def test_reference_line_shares_the_scale_and_text_is_escaped() -> None:
    svg = charts.line_chart(
        {"30": 10.0, "300": 20.0},
        title="Home <p95> & more",
        x_label="devices",
        y_label="ms",
        reference={"30": 40.0, "300": 1.0},
        reference_label="trivial",
    )
    root = _parse(svg)
    reference = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "reference")
    first_y = float(reference.get("d", "").split()[0].split(",")[1])
    axis = charts.TOP + (charts.HEIGHT - charts.TOP - charts.BOTTOM)
    # the reference's 40 stands twice as high as the series' 20: one scale for both
    assert axis - first_y == pytest.approx(2 * (axis - _points(svg)[1][1]), abs=0.2)
    assert first_y > charts.TOP  # the highest point stays below the top, room for its label


def test_a_chart_needs_two_sizes_above_zero() -> None:
    with pytest.raises(ValueError):
        charts.line_chart({"30": 1.0}, title="T", x_label="x", y_label="y")
    with pytest.raises(ValueError):
        charts.line_chart({"0": 1.0, "10": 2.0}, title="T", x_label="x", y_label="y")


def test_nice_top_rounds_up_to_a_readable_scale() -> None:
    assert [charts.nice_top(v) for v in (0, 0.7, 1, 118, 121, 4408)] == [1, 0.8, 1, 120, 150, 5000]
    assert all(charts.nice_top(v) >= v for v in (0.013, 3.3, 97, 1e6 + 1))
    assert not math.isnan(charts.nice_top(1e-9))


def test_write_charts_and_the_readme_section_come_from_the_growth_series(tmp_path: Path) -> None:
    series = {
        "home_p95_ms": {"30": 5.0, "300": 6.0},
        "trivial_p95_ms": {"30": 1.0, "300": 1.0},
        "tips_per_second": {"1000": 900.0, "100000": 4000.0},
    }
    results = {"benchmarks": {"growth": {"result": {"series": series}}}}
    written = run_all.write_charts(results, tmp_path)
    assert sorted(p.name for p in written) == ["growth-home-p95.svg", "growth-tips-rate.svg"]
    for path in written:
        assert len(_points(path.read_text(encoding="utf-8"))) == 2
    text = charts.growth_markdown(series)
    assert "![Home page p95](docs/bench/growth-home-p95.svg)" in text
    assert "5 ms at 30 devices, 6 at 300; ×1.2 while devices grow ×10." in text
    assert "growth-poll-cpu" not in text  # not measured, not shown
    assert charts.growth_markdown({}) == ""


def test_committed_charts_match_bench_results_json() -> None:
    results_path = ROOT / "bench" / "results.json"
    results = json.loads(results_path.read_text(encoding="utf-8")) if results_path.exists() else {}
    series = run_all.growth_series(results) if results else {}
    if not series:
        pytest.skip("bench/results.json has no growth series: `make bench` measures it")
    for name, svg in charts.growth_charts(series).items():
        committed = ROOT / charts.CHARTS_DIR / name
        assert committed.read_text(encoding="utf-8") == svg, (
            f"{committed} differs from bench/results.json: run `python bench/run_all.py --readme-only`"
        )
