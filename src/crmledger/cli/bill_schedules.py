"""``crmledger bill schedule``: vendor bills that recur, billed by ``crmledger billing run``.

::

    crmledger bill schedule add --vendor 4 --frequency monthly --start 2026-01-01 \\
        --line "Office rent:1:1200.00:Expenses:Rent" --reference "Lease 7/B"
    crmledger bill schedule list
    crmledger billing run --date 2026-03-31     # the bills due, each once

Lines are written as for ``crmledger bill add`` (``DESCRIPTION:QTY:UNIT_PRICE[:ACCOUNT]``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmledger.cli.billing import currency_of, day
from crmledger.cli.bills import BILL_LINE, bill_line
from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.billing.recurring import Frequency
from crmledger.services.errors import InvalidInputError
from crmledger.services.recurring_bills import NewSchedule, RecurringBill

schedule_app = typer.Typer(help="Recurring vendor bills.", no_args_is_help=True)


def _document(schedule: RecurringBill) -> dict[str, object]:
    return {
        "id": schedule.id,
        "party_id": schedule.party_id,
        "currency": schedule.currency,
        "reference": schedule.reference,
        "frequency": schedule.frequency,
        "starts_on": schedule.starts_on,
        "ends_on": schedule.ends_on,
        "next_on": schedule.next_on,
        "status": schedule.status,
        "lines": [
            {
                "description": x.description,
                "quantity": x.quantity,
                "unit_price": x.unit_price,
                "tax_category": x.tax_category,
                "account": x.account,
            }
            for x in schedule.lines
        ],
        "bills": [{"date": d, "bill_id": b} for d, b in schedule.bills],
    }


@schedule_app.command("add")
def schedule_add(
    vendor: Annotated[int, typer.Option(help="The vendor's party id.")],
    frequency: Annotated[Frequency, typer.Option(help="How often it bills.")],
    start: Annotated[str, typer.Option(help="The first billing date, YYYY-MM-DD.")],
    line: Annotated[
        list[str] | None,
        typer.Option("--line", help=f"{BILL_LINE} (repeat).", show_default=False),
    ] = None,
    end: Annotated[str | None, typer.Option(help="The last day billed, YYYY-MM-DD.")] = None,
    currency: Annotated[
        str | None, typer.Option(help="Default: the vendor's currency, else the base.")
    ] = None,
    reference: Annotated[str, typer.Option(help="The contract or lease number.")] = "",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Schedule a vendor bill that recurs from --start (up to --end)."""
    if not line:
        raise InvalidInputError("lines", f"give at least one --line {BILL_LINE}")
    first = day("starts_on", start)
    assert first is not None
    schedule = state.app.recurring_bills.create(
        NewSchedule(
            party_id=vendor,
            lines=[bill_line(i, text) for i, text in enumerate(line)],
            frequency=frequency,
            starts_on=first,
            ends_on=day("ends_on", end),
            currency=currency_of(vendor, currency),
            reference=reference,
        )
    )
    if fmt is OutputFormat.json:
        print(dumps(_document(schedule)))
        return
    console.print(
        f"Recurring bill {schedule.id} from party {schedule.party_id}: {schedule.frequency} "
        f"from {schedule.starts_on.isoformat()}, next on {schedule.next_on.isoformat()}."
    )


@schedule_app.command("list")
def schedule_list(
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Recurring bills, newest first, with what each billed so far."""
    found = state.app.recurring_bills.page(limit)
    if fmt is OutputFormat.json:
        print(dumps([_document(s) for s in found]))
        return
    rows = [
        {
            "id": s.id,
            "vendor": s.party_id,
            "frequency": s.frequency,
            "from": s.starts_on,
            "until": s.ends_on,
            "next": s.next_on,
            "status": s.status,
            "currency": s.currency,
            "per bill": sum((x.quantity * x.unit_price for x in s.lines), start=0),
            "bills": len(s.bills),
        }
        for s in found
    ]
    emit(rows, fmt, title="Recurring bills", right=("per bill", "bills"))
