"""Charts as SVG drawn on the server with pygal: no script, nothing fetched, links kept.

A chart is plain values (:class:`Chart`, :class:`Series`, :class:`Point`); :func:`svg` draws
it. Each point carries the exact text a reader sees (``1,234.50 EUR``) and, when it stands
for a customer, an account or a stage, the link that opens it::

    revenue = Series("Revenue", (Point(Decimal("1200.00"), "1,200.00 EUR", "/reports"),))
    chart = Chart("bar", "Revenue by month", ("2026-01",), (revenue,))
    svg(chart)                       # with its own <style>: for a PDF or a file
    svg(chart, inline_style=False)   # for a web page, styled by stylesheet()

pygal's script (a ``<script>`` with its configuration, even with ``js=[]``) is taken out, as
are its comments and the tooltip layer that only a script would show; every value gets a
``<title>`` instead, which browsers show on hover and screen readers read. Pages cannot
carry an inline ``<style>`` (the content security policy forbids it), so there the chart
leaves its style out and the page links :func:`stylesheet`, the same rules for every chart.

Decimals become floats only to place the shapes; every number printed on or over a chart
is the exact text given with its point. A waterfall (:func:`waterfall`) is a stacked bar
whose first series, the invisible base each step stands on, is drawn but left empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import Any, Literal
from xml.sax.saxutils import unescape

import pygal
from pygal.style import Style

Kind = Literal["line", "bar", "hbar"]
#: Every chart's root carries this class; the shared rules are prefixed with it.
CHART_CLASS = "pygal-chart"
_UUID = "crmledger"
_PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#9333ea", "#dc2626", "#0891b2", "#64748b")
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#334155",
    foreground_strong="#0f172a",
    foreground_subtle="#cbd5e1",
    opacity="0.85",
    opacity_hover="1",
    transition="150ms",
    colors=_PALETTE,
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    title_font_size=18,
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=12,
    legend_font_size=13,
)
#: The waterfall's series: the invisible base, then levels, rises and falls (each twice:
#: the part above zero and the part below, which pygal stacks separately).
_STEPS = ("base", "total", "total", "rise", "rise", "fall", "fall")
_STEP_COLOURS = {"total": "#2563eb", "rise": "#16a34a", "fall": "#dc2626"}
_EXTRA_CSS = (
    "".join(
        f".{CHART_CLASS} .step-{k},.{CHART_CLASS} .step-{k} a:visited{{stroke:{c};fill:{c}}}"
        for k, c in _STEP_COLOURS.items()
    )
    + f".{CHART_CLASS} a .reactive{{cursor:pointer}}"
    # Printed values sit over their bars: a click goes through to the bar's link.
    + f".{CHART_CLASS} .text-overlay{{pointer-events:none}}"
)
_KINDS: dict[str, Callable[..., Any]] = {
    "line": pygal.Line,
    "bar": pygal.Bar,
    "hbar": pygal.HorizontalBar,
}


@dataclass(frozen=True, slots=True)
class Point:
    """One value: ``None`` leaves a gap; ``text`` is the value as printed (``1,200.50
    EUR``); ``title`` says what it stands for, shown on hover and read out (``Acme: 1,200.50
    EUR gross margin``); ``href`` opens it."""

    value: Decimal | None
    text: str = ""
    href: str | None = None
    title: str = ""


@dataclass(frozen=True, slots=True)
class Series:
    """A named row of points, one per label."""

    name: str
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """What to draw: ``labels`` along the category axis and a point per label per series;
    ``low`` and ``high`` fix the value axis (NPS runs from -100 to 100)."""

    kind: Kind
    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    low: int | None = None
    high: int | None = None
    legend: bool = True

    def __post_init__(self) -> None:
        for series in self.series:
            if len(series.points) != len(self.labels):
                raise ValueError(f"series {series.name!r} has not one point per label")


@dataclass(frozen=True, slots=True)
class Step:
    """A waterfall bar: a level (``total``: an opening or closing balance) or a change."""

    label: str
    amount: Decimal
    total: bool = False
    text: str = ""
    href: str | None = None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _classes(node: Any) -> list[str]:
    return str(node.get("class") or "").split()


def _text_of(node: Any, kind: str) -> str:
    for child in node:
        if _local(child.tag) == "desc" and kind in _classes(child):
            return str(child.text or "")
    return ""


def _labelled(node: Any) -> bool:
    return any(_local(n.tag) == "desc" and "label" in _classes(n) for n in node.iter())


class _Tidy:
    """The XML filter that makes pygal's tree safe for a page and a PDF."""

    def __init__(self, inline_style: bool, waterfall: bool = False) -> None:
        self.inline_style = inline_style
        self.waterfall = waterfall

    def __call__(self, root: Any) -> Any:
        root.attrib.pop("id", None)
        for parent in list(root.iter()):
            for child in list(parent):
                if self._drop(child):
                    parent.remove(child)
        for node in list(root.iter()):
            node.attrib.pop("style", None)
            self._titled(node)
            self._recoloured(node)
        return root

    def _drop(self, node: Any) -> bool:
        tag = _local(node.tag)
        if not tag:  # comments and processing instructions
            return True
        if tag == "script" or "tooltip-overlay" in _classes(node):
            return True
        if self.waterfall and "bar" in _classes(node) and not _labelled(node):
            return True  # a step's empty part: pygal stacks a missing value as zero
        if tag == "style":
            if not self.inline_style:
                return True
            node.text = str(node.text or "").replace(f"#chart-{_UUID}", f".{CHART_CLASS}")
        return False

    @staticmethod
    def _titled(node: Any) -> None:
        """A value's group gets a ``<title>`` (its label, else its value); a link is named
        by it, and carries SVG 2's ``href`` beside ``xlink:href``."""
        named = _text_of(node, "label") or _text_of(node, "value")
        if not named:
            return
        title = node.makeelement("title", {})
        title.text = named
        node.insert(0, title)
        if _local(node.tag) == "a":
            node.set("href", _text_of(node, "xlink"))
            node.set("role", "link")
            node.set("aria-label", named)

    def _recoloured(self, node: Any) -> None:
        if not self.waterfall:
            return
        names = _classes(node)
        for i, step in enumerate(_STEPS):
            if f"color-{i}" in names:
                names = [f"step-{step}" if n == f"color-{i}" else n for n in names]
                node.set("class", " ".join(names))


def _formatter(text: str) -> Callable[[object], str]:
    return lambda _: text


def _value(point: Point) -> dict[str, Any] | None:
    if point.value is None:
        return None
    shown: dict[str, Any] = {
        "value": float(point.value),
        # pygal leaves a printed "0" out, whatever the formatter says for other values.
        "formatter": _formatter((point.text or format(point.value, ",f")) if point.value else "0"),
    }
    if point.title or point.text:
        shown["label"] = point.title or point.text
    if point.href:
        shown["xlink"] = {"href": point.href, "target": "_self"}
    return shown


def _axis(value: float) -> str:
    """An axis tick, short: ``1.5M``, ``250k``, ``12``, ``0.25``."""
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:,.4g}M"
    if size >= 10_000:
        return f"{value / 1_000:,.4g}k"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _config(title: str, inline_style: bool, **more: Any) -> dict[str, Any]:
    return {
        "title": title,
        "style": _STYLE,
        "js": [],
        "css": ["file://style.css", "file://graph.css", "inline:" + _EXTRA_CSS]
        if inline_style
        else [],
        "classes": [CHART_CLASS, "chart"],
        "disable_xml_declaration": True,
        "no_prefix": False,
        "width": 800,
        "height": 400,
        "value_formatter": _axis,
        "truncate_label": 24,
        "truncate_legend": 30,
        "legend_at_bottom": True,
        **more,
    }


def _draw(kind: Callable[..., Any], config: dict[str, Any], chart: Chart, tidy: _Tidy) -> str:
    drawn = kind(**config)
    drawn.uuid = _UUID
    drawn.add_xml_filter(tidy)
    drawn.x_labels = list(chart.labels)
    for series in chart.series:
        drawn.add(series.name, [_value(p) for p in series.points])
    return str(drawn.render(is_unicode=True))


def _upside_down(chart: Chart) -> Chart:
    """pygal draws a horizontal bar chart's first label at the bottom: the first given is
    meant to be the top one."""
    series = tuple(Series(s.name, s.points[::-1]) for s in chart.series)
    return replace(chart, labels=chart.labels[::-1], series=series)


def _or_nothing(chart: Chart) -> Chart:
    """``chart``, or no values at all when every value is zero: pygal then says so, where
    an axis from zero to zero would be drawn with made-up ticks."""
    if any(p.value for s in chart.series for p in s.points):
        return chart
    blank = tuple(Series(s.name, tuple(Point(None) for _ in s.points)) for s in chart.series)
    return replace(chart, series=blank)


def svg(chart: Chart, *, inline_style: bool = True) -> str:
    """``chart`` as an ``<svg>`` element (no XML declaration: it can sit in a page)."""
    more: dict[str, Any] = {"show_legend": chart.legend and len(chart.series) > 1}
    if chart.low is not None and chart.high is not None:
        more["range"] = (chart.low, chart.high)
    if chart.kind == "line":
        more["allow_interruptions"] = True  # a month without a value is a gap, not a slope
    if chart.kind == "hbar":
        more |= {"print_values": True, "print_zeroes": False}
        chart = _upside_down(chart)
    chart = _or_nothing(chart)
    config = _config(chart.title, inline_style, **more)
    return _draw(_KINDS[chart.kind], config, chart, _Tidy(inline_style))


def _span(before: Decimal, after: Decimal) -> tuple[Decimal, Decimal]:
    return min(before, after), max(before, after)


def _stack(low: Decimal, high: Decimal) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """The invisible base and the parts above and below zero of a bar from ``low`` to
    ``high``."""
    if low >= 0:
        return low, high - low, None
    if high <= 0:
        return high, None, low - high
    return None, high, low


def waterfall(title: str, steps: Sequence[Step], *, inline_style: bool = True) -> str:
    """Levels and the changes between them (opening cash, each activity's flow, closing
    cash) as a waterfall: each change floats from the level before it to the level after."""
    columns: list[list[Point]] = [[Point(None)] * len(steps) for _ in _STEPS]
    level = Decimal(0)
    for i, step in enumerate(steps):
        low, high = (
            _span(Decimal(0), step.amount) if step.total else _span(level, level + step.amount)
        )
        level = step.amount if step.total else level + step.amount
        base, above, below = _stack(low, high)
        kind = "total" if step.total else ("rise" if step.amount >= 0 else "fall")
        first = _STEPS.index(kind)
        shown = step.text or format(step.amount, ",f")
        columns[0][i] = Point(base)
        for offset, part in ((0, above), (1, below)):
            if part is not None:
                named = f"{step.label}: {shown}"
                columns[first + offset][i] = Point(part, shown, step.href, named)
    chart = Chart(
        "bar",
        title,
        tuple(s.label for s in steps),
        tuple(Series(name, tuple(points)) for name, points in zip(_STEPS, columns, strict=True)),
    )
    config = _config(title, inline_style, show_legend=False, print_values=False)
    tidy = _Tidy(inline_style, waterfall=True)
    return _draw(pygal.StackedBar, config, _or_nothing(chart), tidy)


@cache
def stylesheet() -> str:
    """The rules every chart on a page shares (served as a stylesheet, since pages may not
    carry inline style)."""
    many = Chart(
        "bar",
        "",
        ("",),
        tuple(Series(str(i), (Point(Decimal(1)),)) for i in range(len(_PALETTE))),
    )
    drawn = svg(many)
    start = drawn.index(">", drawn.index("<style")) + 1
    return unescape(drawn[start : drawn.index("</style>", start)])
