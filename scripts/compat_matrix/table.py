"""The README's compatibility table, written from the last ``make test-compat`` run.

Each test marked ``compat`` carries ``feature`` (a row of the table) and optionally ``since``
(the first release that supports the feature; on older releases the test checks that the
feature is refused at DAG parse). ``tests/conftest.py`` copies both into the JUnit report,
which this module reads back. Stdlib only.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # our own pytest report, not untrusted input
from pathlib import Path

BEGIN = "<!-- compat-table:begin (written by python -m scripts.compat_matrix; do not edit) -->"
END = "<!-- compat-table:end -->"
#: The exit code of a row stopped at its time limit (as coreutils' ``timeout``).
TIMED_OUT = 124


def read_junit(path: Path) -> list[dict[str, str]]:
    """Every test case of a JUnit file as ``{test, feature, since, outcome}``."""
    if not path.exists():
        return []
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314
        props = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = {"failure": "failed", "error": "failed"}.get(tag, tag)
        cases.append(
            {
                "test": f"{case.get('classname')}::{case.get('name')}",
                "feature": props.get("feature", case.get("classname", "")),
                "since": props.get("since", ""),
                "outcome": outcome,
            }
        )
    return cases


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _cell(cases: list[dict[str, str]], version: str) -> str:
    if not cases:
        return "not run"
    failed = sum(case["outcome"] == "failed" for case in cases)
    passed = sum(case["outcome"] == "passed" for case in cases)
    since = cases[0]["since"]
    if failed:
        return f"FAILS ({failed} of {len(cases)})"
    if not passed:
        return "skipped"
    tests = f"{passed} test{'s' if passed != 1 else ''}"
    if since and _release(version) < _release(since):
        return f"refused at parse: needs {since} ({tests})"
    return f"yes ({tests})"


def render_table(summary: dict[str, object]) -> str:
    releases: dict[str, dict[str, object]] = summary["releases"]  # type: ignore[assignment]
    versions = list(releases)
    # Summaries written before the matrix had rows per Python name the release only.
    airflow = {v: str(data.get("airflow", v)) for v, data in releases.items()}
    titles = [str(releases[v].get("title", f"Airflow {v}")) for v in versions]
    features: list[str] = []
    by_feature: dict[tuple[str, str], list[dict[str, str]]] = {}
    for version, data in releases.items():
        for case in data["tests"]:  # type: ignore[attr-defined]
            if case["feature"] not in features:
                features.append(case["feature"])
            by_feature.setdefault((case["feature"], version), []).append(case)
    lines = [
        "| feature | " + " | ".join(titles) + " |",
        "|---" * (len(versions) + 1) + "|",
    ]
    for feature in features:
        cells = [_cell(by_feature.get((feature, v), []), airflow[v]) for v in versions]
        lines.append(f"| {feature} | " + " | ".join(cells) + " |")
    totals = []
    for version in versions:
        data = releases[version]
        cases: list[dict[str, str]] = data["tests"]  # type: ignore[assignment]
        ok = sum(case["outcome"] == "passed" for case in cases)
        missing = f"not run: {data.get('build_error')}"
        if data.get("exit") == TIMED_OUT:
            missing = "stopped at the row's time limit"
        totals.append(f"{ok}/{len(cases)} passed" if cases else missing)
    lines.append("| **tests on this release** | " + " | ".join(totals) + " |")
    days = ", ".join(
        f"{airflow[v]} on Python {d.get('python', '3.11')} as of {d['release_day']}"
        for v, d in releases.items()
    )
    lines.append("")
    lines.append(
        f"Environments: {days}. A canary column is the next Airflow's pre-release: reported,"
        f" not gating. Matrix wall time: {summary['seconds']} s."
    )
    return "\n".join(lines)


def write_readme_table(readme: Path, summary_path: Path) -> None:
    """Replace the text between the table markers of ``readme`` with the last run's table."""
    summary = json.loads(summary_path.read_text())
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme} has no compat-table markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{render_table(summary)}\n{END}{tail}")
