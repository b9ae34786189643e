"""``crmledger report aging``: receivables or payables by days overdue, as of any day.

Amounts are in the base currency; the total equals the control account's balance that day
(the report says so, or names the difference)::

    crmledger report aging --kind receivable --as-of 2026-06-30 --buckets 30,60,90
    crmledger report aging --kind payable -f xlsx -o payables.xlsx
    crmledger report aging --party 7          # the open documents behind a party's row
    crmledger report aging --details -f csv   # every open document, party by party
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from crmledger.cli.state import state
from crmledger.cli.statements import (
    OutputOption,
    ReportFormat,
    ReportFormatOption,
    day,
    write_report,
)
from crmledger.core.aging import AgedItem, AgedParty, AgingReport
from crmledger.core.aging_table import aging_detail_table, aging_table


class AgingKind(StrEnum):
    """Which control account is aged."""

    receivable = "receivable"
    payable = "payable"


def _item(item: AgedItem) -> dict[str, Any]:
    return {
        "source": item.source,
        "id": item.id,
        "kind": item.kind,
        "number": item.number,
        "date": item.day,
        "due_on": item.due_on,
        "days_overdue": item.days_overdue,
        "currency": item.currency,
        "open": item.open,
        "base": item.base,
        "bucket": item.bucket,
    }


def _party(party: AgedParty, details: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "party_id": party.party_id,
        "name": party.name,
        "buckets": list(party.buckets),
        "unapplied_credit": party.credit,
        "total": party.total,
    }
    if details:
        found["documents"] = [_item(i) for i in party.items]
    return found


def aging_document(report: AgingReport, details: bool) -> dict[str, Any]:
    """The JSON shape of an aging report (amounts as decimal strings)."""
    return {
        "kind": report.kind,
        "as_of": report.as_of,
        "currency": report.currency,
        "buckets": [
            {"label": b.label, "from_days": b.low, "to_days": b.high} for b in report.buckets
        ],
        "parties": [_party(p, details) for p in report.parties],
        "totals": list(report.totals),
        "unapplied_credit": report.credit,
        "total": report.total,
        "control_account": report.control_account,
        "control_balance": report.control,
        "difference": report.difference,
    }


def aging(
    kind: Annotated[
        AgingKind, typer.Option("--kind", help="receivable or payable.")
    ] = AgingKind.receivable,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day YYYY-MM-DD (default: today).")
    ] = None,
    buckets: Annotated[
        str, typer.Option("--buckets", help="Upper day bounds of the overdue buckets.")
    ] = "30,60,90",
    party: Annotated[int | None, typer.Option("--party", help="Only this party.")] = None,
    details: Annotated[bool, typer.Option(help="List every open document.")] = False,
    fmt: ReportFormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Receivables (invoices less unapplied credit) or payables (bills less payments not
    yet allocated) per party in buckets of days overdue: current, 1-30, 31-60, 61-90 and
    over 90 by default."""
    day_asked = day("as-of", as_of) if as_of else None
    report = state.app.aging.report(kind.value, day_asked, buckets, party)
    detailed = details or party is not None
    table = aging_detail_table(report) if detailed else aging_table(report)
    write_report(table, aging_document(report, detailed), fmt, output)


def attach(report_app: typer.Typer) -> None:
    """Add ``aging`` to ``crmledger report``."""
    report_app.command("aging")(aging)
