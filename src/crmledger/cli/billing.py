"""``crmledger fx``, ``tax``, ``billing`` and ``company``: what every invoice depends on.

::

    crmledger fx rate USD 0.92 --date 2026-06-01     # one dollar is 0.92 of the base currency
    crmledger tax rate standard 0.20 --from 2027-01-01
    crmledger company set --name "Example GmbH" --city Berlin --country DE --iban DE89...
    crmledger billing run --date 2026-06-30          # contract invoices due, each once

A rate is base units per unit of the currency, a tax rate a fraction (``0.19``). The
helpers here also read what the invoice and payment commands share: ``AMOUNT`` and
``ID:AMOUNT`` options, and dates as ``YYYY-MM-DD``; a malformed one is refused naming the
field, e.g. ``allocations[1].amount: 'ten' is not a number``.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.services.billing_print import CompanyDetails
from crmledger.services.billing_views import BillingDoc
from crmledger.services.errors import InvalidInputError

fx_app = typer.Typer(help="Exchange rates against the base currency.", no_args_is_help=True)
tax_app = typer.Typer(help="Tax rates per category, valid from a date.", no_args_is_help=True)
billing_app = typer.Typer(help="Contract billing.", no_args_is_help=True)
company_app = typer.Typer(help="The company printed on every document.", no_args_is_help=True)

Text = Annotated[str, typer.Option(show_default=False)]


def number(field: str, value: str) -> Decimal:
    """``value`` as a finite decimal, else a refusal naming ``field``."""
    try:
        parsed = Decimal(value.strip())
    except InvalidOperation:
        raise InvalidInputError(field, f"{value!r} is not a number") from None
    if not parsed.is_finite():
        raise InvalidInputError(field, f"{value!r} is not a number")
    return parsed


def day(field: str, value: str | None) -> date | None:
    """``YYYY-MM-DD`` as a date (``None`` stays ``None``)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(field, f"{value!r} is not a date as YYYY-MM-DD") from None


def today() -> date:
    """The local calendar day."""
    return datetime.now().astimezone().date()


def id_amounts(field: str, values: list[str], form: str, part: str) -> list[tuple[int, Decimal]]:
    """``["3:50.00"]`` as ``[(3, Decimal("50.00"))]``; a malformed item names its index
    (``allocations[1]``), a bad number its ``part`` (``allocations[1].amount``)."""
    out = []
    for i, value in enumerate(values):
        key, sep, amount = value.partition(":")
        if not sep or not key.strip().isdigit():
            raise InvalidInputError(f"{field}[{i}]", f"{value!r}: write it as {form}")
        out.append((int(key), number(f"{field}[{i}].{part}", amount)))
    return out


def currency_of(party_id: int, given: str | None) -> str:
    """``given``, else the party's currency, else the book's base currency."""
    if given:
        return given.strip().upper()
    party = state.app.parties.get(party_id)
    return party.currency or state.app.ledger.info().base_currency or "EUR"


def doc_label(doc: BillingDoc) -> str:
    """``INV-2026-0001`` or ``draft invoice 7``."""
    return doc.number or f"draft {doc.kind.replace('_', ' ')} {doc.id}"


# -- exchange and tax rates ----------------------------------------------------------------


@fx_app.command("rate")
def fx_rate(
    currency: Annotated[str, typer.Argument(help="An ISO currency, e.g. USD.")],
    rate: Annotated[str, typer.Argument(help="Base units per unit of the currency.")],
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")] = None,
) -> None:
    """Enter (or correct) a currency's rate on a day; documents take the latest on or
    before their date."""
    when = day("day", on) or today()
    stored = state.app.rates.set_rate(currency.upper(), when, number("rate", rate))
    console.print(
        f"1 {stored.currency} = {stored.rate} {stored.base} from {stored.day.isoformat()}."
    )


@fx_app.command("rates")
def fx_rates(
    currency: Annotated[str | None, typer.Option(help="Only this currency.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Exchange rates, newest first."""
    found = state.app.rates.rates(currency.upper() if currency else None, limit)
    rows = [{"currency": r.currency, "date": r.day, "rate": r.rate, "base": r.base} for r in found]
    emit(rows, fmt, title="Exchange rates", right=("rate",))


@tax_app.command("rate")
def tax_rate(
    category: Annotated[str, typer.Argument(help="standard, reduced, zero or a new one.")],
    rate: Annotated[str, typer.Argument(help="A fraction: 0.19 is 19 %.")],
    valid_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    per: Annotated[str, typer.Option(help="Round tax per 'line' or per 'document'.")] = "line",
) -> None:
    """Add a category's rate from a date on (earlier documents keep their rate)."""
    when = day("valid_from", valid_from)
    assert when is not None
    added = state.app.rates.add_tax_rate(category, when, number("rate", rate), per)
    console.print(
        f"Tax {added.category}: {added.rate} from {added.valid_from.isoformat()} "
        f"(rounded per {added.per})."
    )


@tax_app.command("rates")
def tax_rates(fmt: FormatOption = OutputFormat.table) -> None:
    """Every dated tax rate by category."""
    rows = [
        {"category": t.category, "from": t.valid_from, "rate": t.rate, "per": t.per}
        for t in state.app.rates.tax_rates()
    ]
    emit(rows, fmt, title="Tax rates", right=("rate",))


# -- contract billing ----------------------------------------------------------------------


def doc_row(doc: BillingDoc) -> dict[str, Any]:
    """A document as one row of a list."""
    return {
        "id": doc.id,
        "number": doc.number or f"draft {doc.kind.replace('_', ' ')}",
        "party": doc.party_id,
        "date": doc.issued_on,
        "due": doc.due_on,
        "status": f"{doc.status} (overdue)" if doc.overdue else doc.status,
        "currency": doc.currency,
        "gross": doc.gross,
        "open": doc.open,
    }


@billing_app.command("run")
def billing_run(
    through: Annotated[str, typer.Option("--date", help="Bill what is due up to this day.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Issue an invoice for every contract billing date and a bill for every recurring
    bill due up to --date that has none yet; running it again for the same date issues
    nothing."""
    when = day("through", through)
    assert when is not None
    issued = state.app.invoices.billing_run(when)
    bills = state.app.recurring_bills.run(when)
    if not issued and not bills and fmt is OutputFormat.table:
        console.print(f"Nothing to bill through {when.isoformat()}.")
        return
    rows = [doc_row(d) | {"billing date": d.billing_date} for d in issued]
    rows += [doc_row(b) | {"billing date": b.issued_on} for b in bills]
    title = f"Issued {len(issued)} contract invoice(s)"
    title += f" and {len(bills)} recurring bill(s)" if bills else ""
    emit(rows, fmt, title=title, right=("gross", "open"))


# -- company -------------------------------------------------------------------------------


@company_app.command("set")
def company_set(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    name: Annotated[str, typer.Option(help="The name printed as the seller.")],
    street: Text = "",
    postcode: Text = "",
    city: Text = "",
    country: Text = "",
    vat_id: Text = "",
    iban: Text = "",
    bic: Text = "",
    email: Text = "",
    logo: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="A PNG logo."),
    ] = None,
) -> None:
    """Set the company details every invoice and credit note prints (all at once)."""
    logo_png = ""
    if logo is not None:
        data = logo.read_bytes()
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            raise InvalidInputError("logo_png", f"{logo.name} is not a PNG file")
        logo_png = base64.b64encode(data).decode("ascii")
    details = CompanyDetails(
        name=name,
        street=street,
        postcode=postcode,
        city=city,
        country=country.upper(),
        vat_id=vat_id,
        iban=iban.replace(" ", "").upper(),
        bic=bic.upper(),
        email=email,
        logo_png=logo_png,
    )
    stored = state.app.printer.set_company(details)
    console.print(f"Company details of [bold]{stored.name}[/bold] stored.")


@company_app.command("show")
def company_show(fmt: FormatOption = OutputFormat.table) -> None:
    """The company details as documents print them."""
    details = state.app.printer.company()
    values = {
        "name": details.name,
        "street": details.street,
        "postcode": details.postcode,
        "city": details.city,
        "country": details.country,
        "vat id": details.vat_id,
        "iban": details.iban,
        "bic": details.bic,
        "email": details.email,
        "logo": "yes" if details.logo_png else "",
    }
    if fmt is OutputFormat.json:
        print(dumps({k.replace(" ", "_"): v for k, v in values.items()}))
        return
    emit([{"field": k, "value": v} for k, v in values.items() if v], fmt, title="Company")
