"""Charts as SVG: well-formed XML with no script and nothing fetched from anywhere, the exact
texts and the links of their points, style inline or left to the shared stylesheet, the
waterfall's steps where they belong; and a chart printed to PDF by WeasyPrint offline."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from pypdf import PdfReader

from crmledger.formats.charts import (
    CHART_CLASS,
    Chart,
    Point,
    Series,
    Step,
    stylesheet,
    svg,
    waterfall,
)

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def _customers() -> Chart:
    points = (
        Point(D("1200.50"), "1,200.50 EUR", "/customers/7", "Acme & Co: 1,200.50 EUR margin"),
        Point(D("-30.00"), "-30.00 EUR", "/customers/9", "Beta <AG>: -30.00 EUR margin"),
        Point(D("0.00"), "0.00 EUR", "/customers/11", "Cara: 0.00 EUR margin"),
    )
    return Chart(
        "hbar",
        "Top customers",
        ("Acme & Co", "Beta <AG>", "Cara"),
        (Series("Margin", points),),
    )


def _steps() -> list[Step]:
    return [
        Step("Opening", D("100.00"), total=True, text="100.00 EUR", href="/reports/cash-flow"),
        Step("Operating", D("50.00"), text="50.00 EUR", href="/reports/cash-flow"),
        Step("Investing", D("-200.00"), text="-200.00 EUR", href="/reports/cash-flow"),
        Step("Financing", D("30.00"), text="30.00 EUR", href="/reports/cash-flow"),
        Step("Closing", D("-20.00"), total=True, text="-20.00 EUR", href="/reports/cash-flow"),
    ]


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    return root


def assert_self_contained(text: str, root: ET.Element) -> None:
    """No script, no handler, no style attribute, nothing loaded from elsewhere."""
    assert "<script" not in text
    assert root.find(f".//{SVG}script") is None
    assert "<?xml-stylesheet" not in text
    for node in root.iter():
        for name, value in node.attrib.items():
            assert not name.startswith("on"), name
            assert name != "style", node.tag
            assert not re.match(r"^(https?:)?//", value), (name, value)
            if name in (XLINK, "href"):
                assert value.startswith("/"), value
    for style in root.iter(f"{SVG}style"):
        assert "@import" not in (style.text or "")
        assert "url(" not in (style.text or "")


def titles(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}title")]


def links(root: ET.Element) -> dict[str, str]:
    """Each link's accessible name and target."""
    return {a.get("aria-label", ""): a.get(XLINK, "") for a in root.iter(f"{SVG}a")}


def test_a_bar_chart_carries_its_values_and_links() -> None:
    text = svg(_customers())
    root = parse(text)
    assert_self_contained(text, root)
    assert links(root) == {
        "Acme & Co: 1,200.50 EUR margin": "/customers/7",
        "Beta <AG>: -30.00 EUR margin": "/customers/9",
        "Cara: 0.00 EUR margin": "/customers/11",
    }
    for a in root.iter(f"{SVG}a"):
        assert a.get("href") == a.get(XLINK)
        assert a.get("role") == "link"
        assert a.find(f"{SVG}title") is not None
    printed = [t.text for t in root.iter(f"{SVG}text") if "value" in (t.get("class") or "")]
    # Drawn bottom up; a zero is not printed.
    assert [p for p in printed if p] == ["-30.00 EUR", "1,200.50 EUR"]
    assert "Top customers" in titles(root)


def test_the_first_label_of_a_horizontal_chart_is_the_top_bar() -> None:
    root = parse(svg(_customers()))
    tops = {}
    for a in root.iter(f"{SVG}a"):
        rect = a.find(f"{SVG}rect")
        assert rect is not None
        tops[a.get(XLINK)] = float(rect.get("y", "0"))
    assert tops["/customers/7"] < tops["/customers/9"] < tops["/customers/11"]


def test_style_is_inline_or_left_to_the_stylesheet() -> None:
    inline = parse(svg(_customers()))
    [style] = list(inline.iter(f"{SVG}style"))
    assert f".{CHART_CLASS} .color-0" in (style.text or "")
    assert "#chart-" not in (style.text or "")
    assert CHART_CLASS in (inline.get("class") or "")
    assert inline.get("id") is None
    page = svg(_customers(), inline_style=False)
    assert list(parse(page).iter(f"{SVG}style")) == []
    rules = stylesheet()
    assert f".{CHART_CLASS} .color-0" in rules
    assert f".{CHART_CLASS} .step-fall" in rules
    assert "#chart-" not in rules
    assert "&gt;" not in rules  # the stylesheet is CSS, not XML text
    assert "url(" not in rules
    assert "@import" not in rules


def test_a_line_chart_keeps_gaps_and_a_fixed_range() -> None:
    points = (Point(D("10.0"), "10.0"), Point(None), Point(D("-40.0"), "-40.0", None, "March"))
    chart = Chart(
        "line", "NPS by month", ("Jan", "Feb", "Mar"), (Series("NPS", points),), -100, 100
    )
    text = svg(chart)
    root = parse(text)
    assert_self_contained(text, root)
    ticks = [t.text for t in root.iter(f"{SVG}text") if (t.text or "").lstrip("-").isdigit()]
    assert "-100" in ticks
    assert "100" in ticks
    assert "March" in titles(root)
    assert "10.0" in titles(root)
    assert len(root.findall(f".//{SVG}circle")) == 2


def test_an_all_zero_chart_says_there_is_no_data() -> None:
    zeros = tuple(Point(D(0), "0.00 EUR") for _ in range(3))
    chart = Chart("bar", "Pipeline by stage", ("Lead", "Won", "Lost"), (Series("Open", zeros),))
    root = parse(svg(chart))
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "no_data"] == ["No data"]


def test_a_series_needs_one_point_per_label() -> None:
    with pytest.raises(ValueError, match="one point per label"):
        Chart("bar", "x", ("a", "b"), (Series("s", (Point(D(1)),)),))


def _bars(root: ET.Element) -> dict[str, list[tuple[float, float]]]:
    """Per step title: the (top, bottom) of its drawn parts, and the step's class."""
    found: dict[str, list[tuple[float, float]]] = {}
    for series in root.iter(f"{SVG}g"):
        kind = [c for c in (series.get("class") or "").split() if c.startswith("step-")]
        if not kind:
            continue
        for a in series.iter(f"{SVG}a"):
            rect = a.find(f"{SVG}rect")
            assert rect is not None
            top = float(rect.get("y", "0"))
            name = f"{kind[0]} {a.get('aria-label')}"
            found.setdefault(name, []).append((top, top + float(rect.get("height", "0"))))
    return found


def test_a_waterfall_floats_each_change_between_levels() -> None:
    text = waterfall("Cash flow", _steps())
    root = parse(text)
    assert_self_contained(text, root)
    bars = _bars(root)
    assert sorted(bars) == [
        "step-fall Investing: -200.00 EUR",
        "step-rise Financing: 30.00 EUR",
        "step-rise Operating: 50.00 EUR",
        "step-total Closing: -20.00 EUR",
        "step-total Opening: 100.00 EUR",
    ]
    # The base each change stands on is drawn as nothing.
    base = [g for g in root.iter(f"{SVG}g") if "step-base" in (g.get("class") or "")]
    assert all(not list(g.iter(f"{SVG}rect")) for g in base)
    # A level of 100 from zero, and the change from 100 to 150 on top of it.
    (opening,) = bars["step-total Opening: 100.00 EUR"]
    (operating,) = bars["step-rise Operating: 50.00 EUR"]
    assert operating[1] == pytest.approx(opening[0])
    assert opening[1] - opening[0] == pytest.approx(2 * (operating[1] - operating[0]))
    # From 150 down to -50 crosses zero: two parts, one above and one below the axis.
    above, below = sorted(bars["step-fall Investing: -200.00 EUR"])
    assert above[1] == pytest.approx(below[0]) == pytest.approx(opening[1])
    assert above[0] == pytest.approx(operating[0])
    assert (above[1] - above[0]) == pytest.approx(3 * (below[1] - below[0]))
    assert set(links(root).values()) == {"/reports/cash-flow"}


def test_charts_print_to_pdf_offline() -> None:
    from weasyprint import HTML

    fetched: list[str] = []

    def refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        fetched.append(url)
        raise ValueError(f"nothing is fetched: {url}")

    charts = svg(_customers()) + waterfall("Cash flow", _steps())
    page = f"<html><body><h1>Report</h1>{charts}</body></html>"
    pdf = HTML(string=page, url_fetcher=refuse).write_pdf()
    assert pdf is not None
    assert pdf.startswith(b"%PDF")
    assert fetched == []
    words = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in ("Top customers", "Acme & Co", "1,200.50 EUR", "Cash flow", "Investing"):
        assert expected in words
