"""``crmledger payment`` and ``crmledger balance``: money received, and what a party owes.

::

    crmledger payment record --party 1 --amount 500.00 --date 2026-07-10   # oldest first
    crmledger payment record --party 1 --amount 80.00 --to 3:50.00 --to 4:30.00
    crmledger payment record --party 1 --amount 99.00 --keep-as-credit
    crmledger payment allocate 2 --to 5:99.00
    crmledger payment record --party 4 --amount 148.75 --vendor     # pays the vendor's bills
    crmledger balance 1

A payment is allocated to the party's open invoices (a vendor payment to its open bills)
in its currency, oldest first unless ``--to INVOICE_ID:AMOUNT`` says otherwise; what is
left is credit, allocated later with ``payment allocate``. The balance shows per currency
what is open, overdue and unapplied, what is still due, and how many days the party takes
to pay on average.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any

import typer

from crmledger.cli.billing import currency_of, day, id_amounts, number
from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.billing.settlement import Allocation
from crmledger.services.billing_ports import PaymentQuery
from crmledger.services.billing_views import Payment
from crmledger.services.errors import InvalidInputError
from crmledger.services.settling import DEFAULT_BANK, METHODS, NewPayment, PartyBalance

payment_app = typer.Typer(help="Receipts and their allocation to invoices.", no_args_is_help=True)

To = Annotated[
    list[str] | None,
    typer.Option("--to", help="INVOICE_ID:AMOUNT to allocate (repeat); default: oldest first."),
]


def _allocations(values: list[str] | None) -> list[Allocation] | None:
    if not values:
        return None
    pairs = id_amounts("allocations", values, "INVOICE_ID:AMOUNT", "amount")
    return [Allocation(target, amount) for target, amount in pairs]


def document(payment: Payment) -> dict[str, Any]:
    """A payment as JSON (the API's field names)."""
    return asdict(payment)


def _said(payment: Payment, fmt: OutputFormat, verb: str) -> None:
    if fmt is OutputFormat.json:
        print(dumps(document(payment)))
        return
    allocated = payment.amount - payment.open
    console.print(
        f"{verb} [bold]{payment.number}[/bold] (payment {payment.id}): {payment.amount} "
        f"{payment.currency}; {allocated} allocated, {payment.open} left as credit."
    )


@payment_app.command("record")
def payment_record(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    party: Annotated[int, typer.Option(help="Who paid (a party id).")],
    amount: Annotated[str, typer.Option(help="What was received, e.g. 100.00.")],
    currency: Annotated[
        str | None, typer.Option(help="Default: the party's currency, else the base.")
    ] = None,
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")] = None,
    method: Annotated[str, typer.Option(help=", ".join(METHODS) + ".")] = "transfer",
    bank_account: Annotated[str, typer.Option(help="The account the money went to.")] = (
        DEFAULT_BANK
    ),
    reference: Annotated[str, typer.Option(help="The bank's or payer's reference.")] = "",
    rate: Annotated[
        str | None, typer.Option(help="Exchange rate of the day (default: the rate table).")
    ] = None,
    to: To = None,
    keep_as_credit: Annotated[
        bool, typer.Option("--keep-as-credit", help="Allocate nothing now.")
    ] = False,
    vendor: Annotated[
        bool, typer.Option("--vendor", help="Money paid to a vendor, settling its bills.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record money received from a customer (or paid to a vendor with --vendor) and
    allocate it to open invoices (or bills)."""
    if keep_as_credit and to:
        raise InvalidInputError("allocations", "--to and --keep-as-credit exclude each other")
    new = NewPayment(
        party_id=party,
        kind="vendor_payment" if vendor else "receipt",
        amount=number("amount", amount),
        currency=currency_of(party, currency),
        paid_on=day("paid_on", on),
        method=method,
        bank_account=bank_account,
        reference=reference,
        rate=None if rate is None else number("rate", rate),
    )
    allocations = [] if keep_as_credit else _allocations(to)
    _said(state.app.payments.record(new, allocations), fmt, "Recorded")


@payment_app.command("allocate")
def payment_allocate(
    payment_id: Annotated[int, typer.Argument(help="The payment's id.")],
    to: To = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Allocate what is left of a payment to open invoices."""
    _said(state.app.payments.allocate(payment_id, _allocations(to)), fmt, "Allocated")


@payment_app.command("list")
def payment_list(
    party: Annotated[int | None, typer.Option(help="Only this party's payments.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Payments, newest first."""
    found = state.app.payments.list(PaymentQuery(limit=limit, party_id=party))
    rows = [
        {
            "id": p.id,
            "number": p.number,
            "kind": p.kind,
            "party": p.party_id,
            "date": p.paid_on,
            "method": p.method,
            "currency": p.currency,
            "amount": p.amount,
            "unallocated": p.open,
            "reference": p.reference,
        }
        for p in found
    ]
    emit(
        rows,
        fmt,
        title="Payments",
        document={"items": [document(p) for p in found]},
        right=("amount", "unallocated"),
    )


def balance_document(balance: PartyBalance) -> dict[str, Any]:
    """A balance as JSON: ``asdict`` plus each currency's ``due``."""
    out = asdict(balance)
    for cell, currency in zip(out["currencies"], balance.currencies, strict=True):
        cell["due"] = currency.due
    return out


def _average(days: Decimal | None, paid: int) -> str:
    if days is None:
        return "no invoice paid yet"
    return f"pays in {days} days on average ({paid} paid invoice(s))"


def balance(
    party_id: Annotated[int, typer.Argument(help="The party's id.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """What a party owes per currency: open, overdue, unapplied credit and due; and how
    many days it takes to pay."""
    found = state.app.payments.balance(party_id)
    if fmt is OutputFormat.json:
        print(dumps(balance_document(found)))
        return
    rows = [
        {
            "currency": c.currency,
            "open": c.invoiced_open,
            "overdue": c.overdue,
            "unapplied credit": c.unapplied,
            "due": c.due,
            "bills open": c.bills_open,
        }
        for c in found.currencies
    ]
    if rows or fmt is not OutputFormat.table:
        emit(
            rows,
            fmt,
            title=f"Balance of party {party_id}",
            right=("open", "overdue", "unapplied credit", "due", "bills open"),
        )
    if fmt is OutputFormat.table:
        if not rows:
            console.print(f"Nothing open for party {party_id}.")
        console.print(
            f"Due in {found.base_currency}: {found.due_base} (overdue {found.overdue_base}); "
            f"{_average(found.average_days_to_pay, found.paid_invoices)}."
        )
