"""``crmledger fx revalue`` and ``crmledger tax report``: closing a period of a book that
bills in several currencies and collects tax.

::

    crmledger fx revalue --date 2026-06-30     # unrealised differences, reversed on 07-01
    crmledger tax report --from 2026-06-01 --to 2026-06-30
    crmledger tax report --from 2026-04-01 --to 2026-06-30 --format json

A revaluation posts one ``FX`` entry (``FXREV-2026-06-30``) and its reversal the next day;
a date is revalued once. The tax report shows, per category and rate, the net and tax
collected (invoices less credit notes) and deductible (bills) in the base currency, then
what is payable.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crmledger.cli.billing import day
from crmledger.cli.render import FormatOption, OutputFormat, console, emit
from crmledger.cli.state import state
from crmledger.services.fx_revalue import Revaluation, RevaluedItem
from crmledger.services.tax_report import VatLine, VatSummary


def attach(fx_app: typer.Typer, tax_app: typer.Typer) -> None:
    """Add ``revalue`` to ``crmledger fx`` and ``report`` to ``crmledger tax``."""
    fx_app.command("revalue")(fx_revalue)
    tax_app.command("report")(tax_report)


def _item_row(item: RevaluedItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "number": item.number,
        "party": item.party_id,
        "currency": item.currency,
        "open": item.open,
        "rate": item.rate,
        "booked": item.booked_base,
        "revalued": item.revalued_base,
        "difference": item.difference,
    }


def _revaluation_document(done: Revaluation) -> dict[str, Any]:
    return {
        "date": done.on,
        "reference": done.reference,
        "base_currency": done.base,
        "gain": done.gain,
        "loss": done.loss,
        "net": done.net,
        "entry": done.entry.ref if done.entry else None,
        "reversal": done.reversal.ref if done.reversal else None,
        "items": [_item_row(i) for i in done.items],
    }


def _revaluation_said(done: Revaluation) -> str:
    when = done.on.isoformat()
    if done.entry is None or done.reversal is None:
        what = "no open foreign-currency items" if not done.items else "no differences"
        return f"Nothing to post for {when}: {what}."
    return (
        f"Posted {done.entry.ref} ({done.reference}): gain {done.gain}, loss {done.loss} "
        f"{done.base}; reversed by {done.reversal.ref} the next day."
    )


def fx_revalue(
    on: Annotated[str, typer.Option("--date", help="The period end, YYYY-MM-DD.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Value what is open in foreign currencies at the day's rates and post the
    unrealised difference, reversed the next day; a date is revalued once."""
    when = day("date", on)
    assert when is not None
    done = state.app.revaluation.revalue(when)
    rows = [_item_row(i) for i in done.items]
    if fmt is not OutputFormat.table:
        emit(rows, fmt, document=_revaluation_document(done))
        return
    if rows:
        numbers = ("open", "rate", "booked", "revalued", "difference")
        emit(rows, fmt, title=f"Revaluation {when.isoformat()} in {done.base}", right=numbers)
    console.print(_revaluation_said(done))


def _line_row(line: VatLine) -> dict[str, Any]:
    return {
        "category": line.category,
        "rate": line.rate,
        "collected net": line.collected_net,
        "collected tax": line.collected_tax,
        "deductible net": line.deductible_net,
        "deductible tax": line.deductible_tax,
        "payable": line.payable,
    }


def _summary_document(summary: VatSummary) -> dict[str, Any]:
    return {
        "from": summary.start,
        "to": summary.end,
        "currency": summary.currency,
        "documents": summary.documents,
        "lines": [
            {k.replace(" ", "_"): v for k, v in _line_row(line).items()} for line in summary.lines
        ],
        "collected": summary.collected,
        "deductible": summary.deductible,
        "payable": summary.payable,
    }


def tax_report(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Tax collected, deductible and payable in a period, per category and rate, in the
    base currency."""
    first, last = day("from", start), day("to", end)
    assert first is not None
    assert last is not None
    summary = state.app.tax_report.vat_summary(first, last)
    rows = [_line_row(line) for line in summary.lines]
    if fmt is not OutputFormat.table:
        emit(rows, fmt, document=_summary_document(summary))
        return
    if rows:
        title = f"Tax {first.isoformat()} to {last.isoformat()} in {summary.currency}"
        emit(rows, fmt, title=title, right=tuple(rows[0])[1:])
    console.print(
        f"Collected {summary.collected}, deductible {summary.deductible}, "
        f"payable {summary.payable} {summary.currency} ({summary.documents} documents)."
    )
