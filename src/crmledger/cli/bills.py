"""``crmledger bill``: vendor bills, entered as drafts or posted right away.

::

    crmledger bill add --vendor 4 --reference R-889 --line "Printer paper:10:4.50" --issue
    crmledger bill add --vendor 4 --line "Toner:2:80.00:Expenses:Office" --date 2026-06-03

A bill line is ``DESCRIPTION:QTY:UNIT_PRICE[:ACCOUNT]``; the account defaults to
``Expenses:Office`` and may itself contain colons. Issuing a bill numbers it
(``BILL-2026-0001``) and posts expense and input tax against the payable.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmledger.cli.billing import currency_of, day, number
from crmledger.cli.invoices import DateText, print_doc, totals
from crmledger.cli.render import FormatOption, OutputFormat
from crmledger.cli.state import state
from crmledger.services.errors import InvalidInputError
from crmledger.services.invoicing import DocumentLine, NewDocument

bill_app = typer.Typer(help="Vendor bills.", no_args_is_help=True)

BILL_LINE = "DESCRIPTION:QTY:UNIT_PRICE[:ACCOUNT]"


def bill_line(index: int, text: str) -> DocumentLine:
    """``"Paper:10:4.50:Expenses:Office"`` as ten packs of paper at 4.50 to that account."""
    where = f"lines[{index}]"
    parts = [p.strip() for p in text.split(":", 3)]
    if len(parts) < 3 or not parts[0]:
        raise InvalidInputError(where, f"{text!r}: write a line as {BILL_LINE}")
    return DocumentLine(
        description=parts[0],
        quantity=number(f"{where}.quantity", parts[1]),
        unit_price=number(f"{where}.unit_price", parts[2]),
        account=parts[3] if len(parts) > 3 and parts[3] else None,
    )


@bill_app.command("add")
def bill_add(
    vendor: Annotated[int, typer.Option(help="The vendor's party id.")],
    line: Annotated[
        list[str] | None,
        typer.Option("--line", help=f"{BILL_LINE} (repeat).", show_default=False),
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="Default: the vendor's currency, else the base.")
    ] = None,
    reference: Annotated[str, typer.Option(help="The vendor's invoice number.")] = "",
    on: DateText = None,
    due: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: by terms).")] = None,
    issue: Annotated[bool, typer.Option("--issue", help="Post it right away.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Enter a vendor bill (a draft unless --issue); lines default to Expenses:Office."""
    if not line:
        raise InvalidInputError("lines", f"give at least one --line {BILL_LINE}")
    new = NewDocument(
        kind="bill",
        party_id=vendor,
        currency=currency_of(vendor, currency),
        lines=[bill_line(i, text) for i, text in enumerate(line)],
        issued_on=day("issued_on", on),
        due_on=day("due_on", due),
        reference=reference,
    )
    doc = state.app.invoices.create(new)
    if issue:
        doc = state.app.invoices.issue(doc.id, doc.version)
    state_text = f"issued as [bold]{doc.number}[/bold]" if doc.number else "saved as a draft"
    print_doc(doc, fmt, f"Bill {doc.id} from party {doc.party_id} {state_text}: {totals(doc)}.")
