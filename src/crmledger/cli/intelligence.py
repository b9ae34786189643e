"""``crmledger report profitability|rfm|cohorts|receivables|cost-to-serve`` and the customer
360 of ``crmledger party show ID --360``.

::

    crmledger report profitability --by customer --from 2026-01-01 --to 2026-06-30 --sort net
    crmledger report rfm --segment "At risk" --format csv
    crmledger report cohorts --from 2026-01
    crmledger report receivables --top 5 --format json
    crmledger report cost-to-serve --set interaction.meeting=80.00 --set credit_rate=0.06

CSV, XLSX and PDF are written by :mod:`crmledger.formats.report_export` (CSV safe against
formulas, numbers kept numbers); JSON carries every figure with what explains it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from crmledger.cli.render import OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.churn import ChurnRisk
from crmledger.core.intelligence import LifetimeValue
from crmledger.core.profitability import CostToServe, ProfitLine, flat
from crmledger.core.report_table import NUMBER, ReportTable, TableColumn
from crmledger.formats.report_export import export
from crmledger.services.errors import InvalidInputError
from crmledger.services.intelligence_reports import (
    CohortReport,
    ProfitabilityReport,
    ReceivablesReport,
    RfmReport,
)


class ReportFormat(StrEnum):
    """How a report prints: on screen, as JSON, or as a file format."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    pdf = "pdf"


FormatOption = Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to FILE (required for xlsx and pdf)."),
]
DayOption = Annotated[str | None, typer.Option(help="A date YYYY-MM-DD.", show_default=False)]


def _day(name: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(name, f"{text!r} is not a date as YYYY-MM-DD") from None


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        print(data.decode("utf-8"), end="")
    else:
        output.write_bytes(data)
        console.print(f"wrote {output}")


def _out(
    fmt: ReportFormat,
    output: Path | None,
    table: ReportTable,
    document: dict[str, Any],
) -> None:
    """Print or write a report in ``fmt``."""
    if fmt in (ReportFormat.xlsx, ReportFormat.pdf) and output is None:
        raise InvalidInputError("output", f"--format {fmt.value} needs --output FILE")
    if fmt is ReportFormat.json:
        _write((dumps(document) + "\n").encode("utf-8"), output)
    elif fmt is ReportFormat.table:
        keys = [c.label for c in table.columns]
        rows = [dict(zip(keys, row, strict=True)) for row in table.rows]
        right = [c.label for c in table.columns if c.kind == NUMBER]
        emit(rows, OutputFormat.table, title=f"{table.title} ({table.subtitle})", right=right)
    else:
        _write(export(table, fmt.value), output)


# -- documents ------------------------------------------------------------------------------


def line_document(line: ProfitLine) -> dict[str, Any]:
    """A profit line as JSON."""
    c = line.cost_to_serve
    return {
        "key": line.key,
        "label": line.label,
        "revenue": line.revenue,
        "cost_of_goods": line.cost_of_goods,
        "gross_margin": line.gross_margin,
        "margin_percent": line.margin_percent,
        "cost_to_serve": {
            "interactions": c.interactions,
            "complaints": c.complaints,
            "credit_notes": c.credit_notes,
            "dunning": c.dunning,
            "financing": c.financing,
            "total": c.total,
        },
        "net": line.net,
    }


def config_document(config: CostToServe) -> dict[str, str]:
    """The cost-to-serve settings as JSON."""
    return flat(config)


def churn_document(risk: ChurnRisk) -> dict[str, Any]:
    """A churn risk with its drivers as JSON."""
    return {
        "score": risk.score,
        "level": risk.level,
        "drivers": [
            {
                "name": d.name,
                "value": d.value,
                "contribution": d.contribution,
                "explanation": d.explanation,
            }
            for d in risk.drivers
        ],
    }


def clv_document(clv: LifetimeValue | None) -> dict[str, Any] | None:
    """A lifetime value with its assumptions as JSON."""
    if clv is None:
        return None
    a = clv.assumptions
    return {
        "value": clv.value,
        "expected_lifetime_months": clv.expected_lifetime_months,
        "formula": clv.formula,
        "assumptions": {
            "margin_to_date": a.margin_to_date,
            "months_active": a.months_active,
            "monthly_margin": a.monthly_margin,
            "monthly_retention": a.monthly_retention,
            "retention_source": a.retention_source,
            "annual_discount_rate": a.annual_discount_rate,
            "horizon_months": a.horizon_months,
        },
    }


# -- profitability --------------------------------------------------------------------------

_PROFIT_COLUMNS = (
    TableColumn("key", "Key"),
    TableColumn("label", "Name"),
    TableColumn("revenue", "Revenue", NUMBER),
    TableColumn("cost_of_goods", "Cost of goods", NUMBER),
    TableColumn("gross_margin", "Gross margin", NUMBER),
    TableColumn("cost_to_serve", "Cost to serve", NUMBER),
    TableColumn("net", "Net", NUMBER),
)


def profitability_table(report: ProfitabilityReport) -> ReportTable:
    """Profit lines and their total as a table."""
    lines = (*report.lines, report.totals)
    rows = tuple(
        (
            line.key,
            line.label,
            line.revenue,
            line.cost_of_goods,
            line.gross_margin,
            line.cost_to_serve.total,
            line.net,
        )
        for line in lines
    )
    period = f"{report.start or 'start'} to {report.end or report.as_of}"
    return ReportTable(
        f"Profitability by {report.by} ({report.base_currency})",
        period,
        _PROFIT_COLUMNS,
        rows,
        ("item",) * len(report.lines) + ("total",),
        tuple(f"cost to serve: {k} = {v}" for k, v in flat(report.config).items()),
    )


def profitability(
    by: Annotated[
        str, typer.Option(help="customer, product, owner, segment, rfm_segment or month.")
    ] = "customer",
    date_from: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day YYYY-MM-DD.")] = None,
    sort: Annotated[str, typer.Option(help="A column; '-' first for descending.")] = "-revenue",
    fmt: FormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Revenue, cost of goods, gross margin, cost to serve and net profitability.

    Net profitability subtracts the cost to serve (interactions by kind, complaints, credit
    notes, dunning letters, and the financing of open receivables at the configured rate;
    see 'report cost-to-serve'); a negative net means the line costs more than it brings.
    """
    report = state.app.intelligence.profitability(
        by, _day("from", date_from), _day("to", date_to), sort=sort
    )
    document = {
        "by": report.by,
        "from": report.start,
        "to": report.end,
        "as_of": report.as_of,
        "base_currency": report.base_currency,
        "cost_to_serve": config_document(report.config),
        "lines": [line_document(line) for line in report.lines],
        "totals": line_document(report.totals),
    }
    _out(fmt, output, profitability_table(report), document)


# -- RFM ------------------------------------------------------------------------------------


def rfm_table(report: RfmReport) -> ReportTable:
    """Each customer's RFM scores as a table."""
    columns = (
        TableColumn("party_id", "Party", NUMBER, 0),
        TableColumn("name", "Name"),
        TableColumn("recency_days", "Recency (days)", NUMBER, 0),
        TableColumn("frequency", "Frequency", NUMBER, 0),
        TableColumn("monetary", "Monetary", NUMBER),
        TableColumn("code", "RFM"),
        TableColumn("segment", "Segment"),
    )
    rows = tuple(
        (
            s.party_id,
            report.names.get(s.party_id, ""),
            s.recency_days,
            s.frequency,
            s.monetary,
            s.code,
            s.segment,
        )
        for s in report.scores
    )
    notes = tuple(
        f"{s.segment}: {s.customers} customers, {s.share} % of revenue" for s in report.segments
    )
    return ReportTable(
        "RFM segments", f"as of {report.as_of}", columns, rows, ("item",) * len(rows), notes
    )


def rfm(
    segment: Annotated[str | None, typer.Option(help="Only this segment's customers.")] = None,
    fmt: FormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Recency, frequency and monetary scores (quintiles 1..5) and segments."""
    report = state.app.intelligence.rfm(segment)
    b = report.breaks
    document = {
        "as_of": report.as_of,
        "breaks": {
            "customers": b.customers,
            "recency_days": list(b.recency),
            "frequency": list(b.frequency),
            "monetary": list(b.monetary),
        },
        "segments": [
            {"segment": s.segment, "customers": s.customers, "revenue": s.revenue, "share": s.share}
            for s in report.segments
        ],
        "customers": [
            {
                "party_id": s.party_id,
                "name": report.names.get(s.party_id, ""),
                "recency_days": s.recency_days,
                "frequency": s.frequency,
                "monetary": s.monetary,
                "r": s.r,
                "f": s.f,
                "m": s.m,
                "segment": s.segment,
            }
            for s in report.scores
        ],
    }
    table = rfm_table(report)
    _out(fmt, output, table, document)
    if fmt is ReportFormat.table:
        emit(
            [
                {
                    "segment": s.segment,
                    "customers": s.customers,
                    "revenue": s.revenue,
                    "share %": s.share,
                }
                for s in report.segments
            ],
            OutputFormat.table,
            title="Segments",
            right=("customers", "revenue", "share %"),
        )


# -- cohorts --------------------------------------------------------------------------------


def cohort_table(report: CohortReport) -> ReportTable:
    """Cohorts by month with the retention of each following month, in percent."""
    width = max((len(c.active) for c in report.cohorts), default=1)
    columns = (
        TableColumn("cohort", "Cohort"),
        TableColumn("customers", "Customers", NUMBER, 0),
        *(TableColumn(f"m{k}", f"M+{k} %", NUMBER, 1) for k in range(width)),
    )
    rows = tuple(
        (c.label, c.customers, *c.retention, *((None,) * (width - len(c.active))))
        for c in report.cohorts
    )
    r = report.retention
    notes = (
        f"observed year-on-year retention: {r.kept} of {r.base}"
        + (f" ({r.annual} a year, {r.monthly} a month)" if r.annual is not None else ""),
    )
    return ReportTable(
        "Cohort retention", f"through {report.through}", columns, rows, ("item",) * len(rows), notes
    )


def cohorts(
    month_from: Annotated[str | None, typer.Option("--from", help="First cohort YYYY-MM.")] = None,
    month_to: Annotated[str | None, typer.Option("--to", help="Last cohort YYYY-MM.")] = None,
    fmt: FormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Customers by first-purchase month and who bought again 0, 1, 2 ... months later."""
    report = state.app.intelligence.cohorts(month_from, month_to)
    r = report.retention
    document = {
        "as_of": report.as_of,
        "through": report.through,
        "cohorts": [
            {
                "month": c.label,
                "customers": c.customers,
                "active": list(c.active),
                "retention": list(c.retention),
            }
            for c in report.cohorts
        ],
        "retention": {"base": r.base, "kept": r.kept, "annual": r.annual, "monthly": r.monthly},
    }
    _out(fmt, output, cohort_table(report), document)


# -- receivables ----------------------------------------------------------------------------


def receivables_table(report: ReceivablesReport) -> ReportTable:
    """The KPIs as ``figure: value`` rows, then the top debtors."""
    c = report.concentration
    figures: list[tuple[str, Decimal | int | None]] = [
        ("Receivables at the start", report.opening),
        ("Credit sales", report.credit_sales),
        ("Receivables at the end", report.receivables),
        ("of which overdue", report.overdue),
        ("Collected", report.collected),
        ("DSO (days)", report.dso),
        ("Collection effectiveness (%)", report.cei),
        *((f"Top {n} share of revenue (%)", share) for n, share in c.top),
        ("Herfindahl-Hirschman index", c.herfindahl),
    ]
    rows: list[tuple[Any, ...]] = [(name, value, None) for name, value in figures]
    rows += [
        (f"Debtor: {d.name} (party {d.party_id})", d.open, d.days_overdue)
        for d in report.top_debtors
    ]
    columns = (
        TableColumn("figure", "Figure"),
        TableColumn("value", f"Value ({report.base_currency})", NUMBER),
        TableColumn("days_overdue", "Days overdue", NUMBER, 0),
    )
    return ReportTable(
        "Receivables",
        f"{report.start} to {report.end}",
        columns,
        tuple(rows),
        ("item",) * len(rows),
    )


def receivables(
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day (default: 90 days).")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day (default: today).")] = None,
    top: Annotated[int, typer.Option(help="How many top debtors.")] = 10,
    fmt: FormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """DSO, collection effectiveness, top debtors and revenue concentration."""
    report = state.app.intelligence.receivables_kpis(
        _day("from", date_from), _day("to", date_to), top
    )
    c = report.concentration
    document = {
        "from": report.start,
        "to": report.end,
        "base_currency": report.base_currency,
        "opening_receivables": report.opening,
        "receivables": report.receivables,
        "overdue": report.overdue,
        "credit_sales": report.credit_sales,
        "collected": report.collected,
        "dso": report.dso,
        "cei": report.cei,
        "top_debtors": [
            {
                "party_id": d.party_id,
                "name": d.name,
                "open": d.open,
                "overdue": d.overdue,
                "oldest_due": d.oldest_due,
                "days_overdue": d.days_overdue,
            }
            for d in report.top_debtors
        ],
        "concentration": {
            "customers": c.customers,
            "revenue": c.total,
            "top_shares": {str(n): s for n, s in c.top},
            "herfindahl": c.herfindahl,
        },
    }
    _out(fmt, output, receivables_table(report), document)


# -- cost to serve --------------------------------------------------------------------------


def cost_to_serve(
    changes: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE, e.g. interaction.call=8.00 or credit_rate=0.08."),
    ] = None,
    reset: Annotated[bool, typer.Option(help="Start from the defaults.")] = False,
    fmt: FormatOption = ReportFormat.table,
) -> None:
    """Show (or change) what serving a customer costs: per interaction kind, per complaint,
    credit note and dunning letter, and the annual rate on money-days of credit."""
    service = state.app.intelligence
    if changes or reset:
        pairs = {}
        for item in changes or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise InvalidInputError("--set", f"{item!r} is not KEY=VALUE")
            pairs[key.strip()] = value.strip()
        config = service.set_cost_to_serve(pairs, reset=reset)
    else:
        config = service.cost_to_serve()
    values = flat(config)
    if fmt is ReportFormat.json:
        print(dumps(values))
        return
    rows = [{"setting": k, "value": v} for k, v in values.items()]
    emit(
        rows,
        OutputFormat.csv if fmt is ReportFormat.csv else OutputFormat.table,
        title="Cost to serve",
    )


def attach(report_app: typer.Typer) -> None:
    """Add the customer-intelligence reports to ``crmledger report``."""
    report_app.command("profitability")(profitability)
    report_app.command("rfm")(rfm)
    report_app.command("cohorts")(cohorts)
    report_app.command("receivables")(receivables)
    report_app.command("cost-to-serve")(cost_to_serve)
