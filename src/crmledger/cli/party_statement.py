"""``crmledger party statement ID``: a customer's or vendor's statement of account.

The PDF is ready to send (in the party's language, with the company's details); ``--format
json`` or ``table`` show the same figures::

    crmledger party statement 7 --from 2026-01-01 --to 2026-06-30 --output acme.pdf
    crmledger party statement 7 --from 2026-01-01 --to 2026-06-30 --format json
    crmledger party statement 12 --kind vendor --output supplier.pdf
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmledger.cli.render import console, dumps
from crmledger.cli.state import state
from crmledger.cli.statements import day
from crmledger.core.party_statement import CurrencyStatement, PartyStatement
from crmledger.services.errors import InvalidInputError


class StatementFormat(StrEnum):
    """How a statement is printed or written."""

    pdf = "pdf"
    json = "json"
    table = "table"


class StatementKind(StrEnum):
    """A customer's statement (receivables) or a vendor's (payables)."""

    customer = "customer"
    vendor = "vendor"


def _section(section: CurrencyStatement, labels: tuple[str, ...]) -> dict[str, Any]:
    return {
        "currency": section.currency,
        "opening": section.opening,
        "lines": [
            {
                "date": line.day,
                "kind": line.kind,
                "number": line.number,
                "due_on": line.due_on,
                "amount": line.amount,
                "balance": line.balance,
            }
            for line in section.lines
        ],
        "closing": section.closing,
        "aging": dict(zip(labels, section.aging, strict=True)),
        "unapplied_credit": section.credit,
    }


def statement_document(found: PartyStatement) -> dict[str, Any]:
    """The JSON shape of a statement (amounts as decimal strings)."""
    return {
        "party_id": found.party_id,
        "kind": found.kind,
        "name": found.buyer.name,
        "from": found.start,
        "to": found.end,
        "language": found.language,
        "sections": [_section(s, found.bucket_labels) for s in found.sections],
    }


def _money(value: Decimal | None) -> str:
    return "" if value is None else format(value, ",f")


def _print(found: PartyStatement) -> None:
    for section in found.sections:
        table = Table(
            title=f"{escape(found.buyer.name)}: {found.start} to {found.end}, {section.currency}"
        )
        for label in ("Date", "Document", "Kind", "Due", "Charges", "Credits", "Balance"):
            table.add_column(label, justify="right" if label[0] in "CB" else "left")
        table.add_row("", "Opening balance", "", "", "", "", _money(section.opening), style="bold")
        for line in section.lines:
            due = line.due_on.isoformat() if line.due_on and line.amount > 0 else ""
            table.add_row(
                line.day.isoformat(),
                escape(line.number),
                line.kind,
                due,
                _money(line.charge),
                _money(line.credit),
                _money(line.balance),
            )
        table.add_row("", "Closing balance", "", "", "", "", _money(section.closing), style="bold")
        console.print(table)
        aging = ", ".join(
            f"{label} {_money(amount)}"
            for label, amount in zip(found.bucket_labels, section.aging, strict=True)
        )
        console.print(f"Open: {aging}; unapplied credit {_money(section.credit)}")


def statement(
    party_id: Annotated[int, typer.Argument(help="The party's id.")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day (default: 1 January).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: today).")] = None,
    kind: Annotated[
        StatementKind | None,
        typer.Option("--kind", help="customer or vendor (default: by the party's documents)."),
    ] = None,
    fmt: Annotated[
        StatementFormat | None,
        typer.Option("--format", "-f", help="pdf (with --output), json or table."),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
) -> None:
    """A statement of account: the opening balance, every document and payment of the
    period with the running balance, the closing balance and the aging of what is open."""
    chosen = fmt or (StatementFormat.pdf if output else StatementFormat.table)
    first: date | None = day("from", start) if start else None
    last: date | None = day("to", end) if end else None
    wanted = kind.value if kind else None
    service = state.app.party_statements
    if chosen is StatementFormat.table:
        _print(service.statement(party_id, first, last, wanted))
        return
    if chosen is StatementFormat.json:
        found = service.statement(party_id, first, last, wanted)
        data = (dumps(statement_document(found)) + "\n").encode("utf-8")
    else:
        if output is None:
            raise InvalidInputError("output", "a PDF is written to a file: add --output")
        data = service.pdf(party_id, first, last, wanted)
    if output is None:
        print(data.decode("utf-8"), end="")
        return
    output.write_bytes(data)
    console.print(f"Wrote {escape(str(output))} ({chosen.value}, {len(data)} bytes)")


def attach(party_app: typer.Typer) -> None:
    """Add ``statement`` to ``crmledger party``."""
    party_app.command("statement")(statement)
