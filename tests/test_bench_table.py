"""The README's Performance table is the one bench/run_all.py makes from bench/results.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run_all() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run_all", ROOT / "bench" / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_all = _run_all()


def _results() -> dict[str, Any]:
    """A small results document in the shape run_all writes."""
    return {
        "date": "2025-01-02T03:04:05+00:00",
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "cores_usable": 2,
            "memory_gib": 4.0,
            "python": "3.11.7",
            "os": "Linux",
        },
        "total_seconds": 321.0,
        "benchmarks": {
            "startup": {
                "seconds": 5.0,
                "exit_status": 0,
                "result": {
                    "runs": 10,
                    "python_pass": {"median_s": 0.02},
                    "edu_help": {"median_s": 0.06},
                    "edu_lessons_lint": {"median_s": 0.45},
                    "import_miio": {"median_s": 0.4},
                    "targets": {"startup_s_max": 0.3},
                },
            },
            "later": {"seconds": 1.0, "exit_status": "timed out after 240 s", "result": None},
        },
    }


def test_readme_table_matches_bench_results_json() -> None:
    results_path = ROOT / "bench" / "results.json"
    if not results_path.exists():
        pytest.skip("bench/results.json is absent: `make bench` writes it and the README table")
    results = json.loads(results_path.read_text(encoding="utf-8"))
    in_readme = run_all.readme_section(ROOT / "README.md")
    assert in_readme is not None, "README.md lacks the <!-- bench:start/end --> markers"
    assert in_readme == run_all.section(results), (
        "README's Performance table differs from bench/results.json: "
        "run `python bench/run_all.py --readme-only` (or `make bench`)"
    )


def test_rewrite_readme_replaces_only_the_text_between_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Title\n\n## Performance\n\n{run_all.START}\nold table\n{run_all.END}\n\n## After\n",
        encoding="utf-8",
    )
    results = _results()
    run_all.rewrite_readme(results, readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\n## Performance\n\n")
    assert text.endswith(f"{run_all.END}\n\n## After\n")
    assert "old table" not in text
    assert run_all.readme_section(readme) == run_all.section(results)
    run_all.rewrite_readme(results, readme)  # idempotent
    assert readme.read_text(encoding="utf-8") == text


def test_table_marks_missed_targets_and_failed_benchmarks() -> None:
    lines = run_all.table(_results()).splitlines()
    lint = next(line for line in lines if "edu lessons lint" in line)
    helped = next(line for line in lines if "edu --help" in line)
    failed = next(line for line in lines if line.startswith("| later "))
    assert lint.endswith("| ✗ |") and "python -c pass 0.02 s" in lint
    assert helped.endswith("| ✓ |")
    assert "timed out" in failed and failed.endswith("| ✗ |")


def test_section_names_the_machine_and_the_run_time() -> None:
    first = run_all.section(_results()).splitlines()[0]
    assert "Test CPU" in first and "2 cores" in first and "4 GiB" in first
    assert "Python 3.11.7" in first and "2025-01-02" in first and "5 min 21 s" in first


def test_merge_replaces_only_the_benchmarks_run_and_says_so() -> None:
    previous = _results()
    rerun = {
        "date": "2025-02-03T04:05:06+00:00",
        "machine": previous["machine"],
        "total_seconds": 99.0,
        "benchmarks": {"later": {"seconds": 41.0, "exit_status": 0, "result": {}}},
    }
    merged = run_all.merged(rerun, previous)
    assert merged["benchmarks"]["startup"] == previous["benchmarks"]["startup"]
    assert merged["benchmarks"]["later"]["exit_status"] == 0
    assert merged["total_seconds"] == 321.0 - 1.0 + 41.0  # the old entry's time swapped out
    assert merged["date"] == previous["date"] and merged["rerun"] == {"later": rerun["date"]}
    first = run_all.section(merged).splitlines()[0]
    assert first.endswith("; later re-run alone 2025-02-03 (`--only later --merge`).")
    assert "re-run" not in run_all.section(previous).splitlines()[0]


def test_the_hub_rows_show_cpu_a_report_the_workers_and_the_refresh() -> None:
    results = _results()
    hub = {
        "database": "postgresql",
        "homes_joined": 3000,
        "devices_per_home": 20,
        "senders": 16,
        "workers": 2,
        "joins_per_second": 600,
        "reports_refused": 0,
        "reports_per_second": 900,
        "hub_cpu_ms_per_report": 1.1,
        "postgres_cpu_ms_per_report": 0.3,
        "hub_peak_rss_mb": 230.0,
        "hub_pss_mb_at_end": 150.0,
        "report_rows": 3000,
        "capabilities_counted": 480000,
        "refresh_seconds": 0.25,
        "adoption_p95_ms": 3.0,
        "published_index_p95_ms": 9.0,
        "targets": {"reports_per_second_min": 1000},
    }
    results["benchmarks"]["hub"] = {"seconds": 30.0, "exit_status": 0, "result": hub}
    lines = run_all.table(results).splitlines()
    reports = next(line for line in lines if "signed reports" in line)
    refresh = next(line for line in lines if "refresh of the published table" in line)
    assert "2 hub worker(s)" in reports and "900 reports/s" in reports
    assert "hub 1.1 ms + PostgreSQL 0.3 ms CPU a report" in reports and reports.endswith("✗ |")
    assert "3,000 reports" in refresh and "480,000 capabilities" in refresh
