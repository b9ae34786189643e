"""Fusion reports as self-contained HTML: a source profile, or a run's report.

Charts are inline SVG bars drawn by the template (no script, no external file), so the
page opens offline and prints as it looks::

    html = profile_html(profile.as_dict())
    html = run_html(fusion.report(run_id))
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_TEMPLATES = Environment(
    loader=PackageLoader("crmledger.formats", "templates/fusion"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
BAR_WIDTH = 240


def bars(items: list[tuple[str, float]], width: int = BAR_WIDTH) -> list[dict[str, Any]]:
    """``(label, value)`` pairs as bars scaled to the largest value (``width`` pixels)."""
    top = max((v for _, v in items), default=0) or 1
    return [
        {"label": label, "value": value, "width": round(width * value / top, 1), "y": 18 * i}
        for i, (label, value) in enumerate(items)
    ]


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


_TEMPLATES.globals["bars"] = bars
_TEMPLATES.filters["pct"] = _pct


def profile_html(profiles: list[dict[str, Any]]) -> str:
    """The profile page of one or more sources (``SourceProfile.as_dict()`` each)."""
    shown = [
        p | {"null_bars": [(c["name"], round(100 * c["null_share"], 1)) for c in p["columns"]]}
        for p in profiles
    ]
    return _TEMPLATES.get_template("profile.html").render(profiles=shown)


def run_html(report: dict[str, Any]) -> str:
    """A run's report page (``FusionService.report()``)."""
    counts = report["counts"]
    outcome = [(k.replace("_", " "), counts[k]) for k in ("created", "updated", "unchanged")]
    by_reason: dict[str, int] = {}
    for issue in report["issues"]:
        if issue["kind"] == "problem":
            key = f"{issue['field']}: {issue['reason']}"
            by_reason[key] = by_reason.get(key, 0) + issue["count"]
    problems = sorted(by_reason.items(), key=lambda item: -item[1])[:12]
    return _TEMPLATES.get_template("run.html").render(
        report=report, outcome=outcome, problem_bars=problems
    )
