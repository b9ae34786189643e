"""``crmledger invoice``: draft, change, delete, issue, list, show, print and credit
customer invoices.

::

    crmledger invoice create --party 1 --line "CONSULT-H:10" --line "Travel:1:240.00"
    crmledger invoice create --party 1 --line "Shirt:2:11.90" --tax-inclusive
    crmledger invoice edit 1 --due 2026-07-31 --line "CONSULT-H:12"   # a draft only
    crmledger invoice delete 2                 # a draft only: numbers are taken on issue
    crmledger invoice issue 1                  # INV-2026-0001, posted to the ledger
    crmledger invoice show 1
    crmledger invoice pdf 1 -o INV-2026-0001.pdf --facturx
    crmledger invoice credit 1 --line 2:1 --reason "Travel not taken"

An invoice line is ``SKU_OR_DESCRIPTION:QTY[:UNIT_PRICE[:DISCOUNT]]``: a SKU (or a
product id) takes the product's name, price and tax category, anything else is a
description and needs a unit price; the discount is a percentage. A malformed line is
refused naming it (``lines[1].quantity``) and nothing is stored. With ``--tax-inclusive`` the
unit prices include tax: each line's tax is taken out of its amount and the total is the sum
of the lines as written.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from crmledger.cli.billing import currency_of, day, doc_label, doc_row, id_amounts, number, today
from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.access import PermissionDeniedError
from crmledger.core.billing.settlement import InvoiceStatus
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.billing_views import BillingDoc
from crmledger.services.errors import InvalidInputError, NotFoundError
from crmledger.services.invoicing import DocumentLine, NewDocument

invoice_app = typer.Typer(help="Customer invoices and credit notes.", no_args_is_help=True)

INVOICE_LINE = "SKU_OR_DESCRIPTION:QTY[:UNIT_PRICE[:DISCOUNT]]"
Lines = Annotated[
    list[str] | None, typer.Option("--line", help=f"{INVOICE_LINE} (repeat).", show_default=False)
]
DateText = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")]
TaxInclusive = Annotated[
    bool,
    typer.Option("--tax-inclusive", help="Unit prices include tax (taken out of each line)."),
]
MONEY = ("net", "tax", "gross", "paid", "credited", "open", "unit price")


def _product(name: str) -> int | None:
    """The product a line names by id or SKU, if any."""
    if name.isdigit():
        return int(name)
    try:
        return state.app.products.by_sku(name).key
    except NotFoundError:
        return None


def _optional(field: str, parts: list[str], index: int) -> Decimal | None:
    text = parts[index].strip() if len(parts) > index else ""
    return number(field, text) if text else None


def invoice_line(index: int, text: str) -> DocumentLine:
    """``"WID-1:2::10"`` as a line of two widgets at their list price less 10 %."""
    where = f"lines[{index}]"
    name, *parts = (p.strip() for p in text.split(":"))
    if not name or not 1 <= len(parts) <= 3:
        raise InvalidInputError(where, f"{text!r}: write a line as {INVOICE_LINE}")
    quantity = number(f"{where}.quantity", parts[0])
    price = _optional(f"{where}.unit_price", parts, 1)
    discount = _optional(f"{where}.discount", parts, 2) or Decimal(0)
    product = _product(name)
    if product is None and price is None:
        raise InvalidInputError(
            f"{where}.unit_price",
            f"{name!r} is no product's SKU: a line without a product needs a unit price",
        )
    return DocumentLine(
        product_id=product,
        description=None if product is not None else name,
        quantity=quantity,
        unit_price=price,
        discount=discount,
    )


def document(doc: BillingDoc) -> dict[str, Any]:
    """A document as JSON: every field of the view, lines included."""
    return asdict(doc)


def totals(doc: BillingDoc) -> str:
    """``"238.00 EUR (net 200.00, tax 38.00)"``."""
    return f"{doc.gross} {doc.currency} (net {doc.net}, tax {doc.tax})"


def print_doc(doc: BillingDoc, fmt: OutputFormat, message: str) -> None:
    """``message``, or the document as JSON with ``--format json``."""
    if fmt is OutputFormat.json:
        print(dumps(document(doc)))
        return
    console.print(message)


def _new_invoice(
    party: int | None,
    lines: list[str],
    currency: str | None,
    on: str | None,
    due: str | None,
    reference: str,
    note: str,
    inclusive: bool,
) -> NewDocument:
    if party is None:
        raise InvalidInputError("party_id", "give --party (or --order)")
    if not lines:
        raise InvalidInputError("lines", f"give at least one --line {INVOICE_LINE}")
    return NewDocument(
        party_id=party,
        currency=currency_of(party, currency),
        lines=[invoice_line(i, text) for i, text in enumerate(lines)],
        issued_on=day("issued_on", on),
        due_on=day("due_on", due),
        reference=reference,
        note=note,
        prices_include_tax=inclusive,
    )


@invoice_app.command("create")
def invoice_create(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    party: Annotated[int | None, typer.Option(help="The customer's party id.")] = None,
    line: Lines = None,
    currency: Annotated[
        str | None, typer.Option(help="Default: the party's currency, else the base.")
    ] = None,
    on: DateText = None,
    due: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: by terms).")] = None,
    order: Annotated[
        int | None, typer.Option(help="Invoice a confirmed sales order, line for line.")
    ] = None,
    reference: Annotated[str, typer.Option(help="The customer's reference.")] = "",
    note: Annotated[str, typer.Option(help="Printed under the lines.")] = "",
    tax_inclusive: TaxInclusive = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Create a draft invoice from --line items, or from a sales order with --order."""
    if order is not None:
        if any((party, line, currency, on, due, reference, note, tax_inclusive)):
            raise InvalidInputError("order_id", "--order takes everything from the order")
        draft = state.app.invoices.from_order(order)
    else:
        new = _new_invoice(party, line or [], currency, on, due, reference, note, tax_inclusive)
        draft = state.app.invoices.create(new)
    print_doc(
        draft,
        fmt,
        f"Draft invoice {draft.id} for party {draft.party_id}: {totals(draft)}; "
        f"issue it with: crmledger invoice issue {draft.id}",
    )


def _changes(  # noqa: PLR0913, PLR0917 - the edit command's options, one each
    party: int | None,
    lines: list[str],
    currency: str | None,
    on: str | None,
    due: str | None,
    clear_due: bool,
    reference: str | None,
    note: str | None,
    inclusive: bool | None,
) -> dict[str, Any]:
    if due is not None and clear_due:
        raise InvalidInputError("due_on", "give --due or --clear-due, not both")
    given: dict[str, Any] = {
        "party_id": party,
        "currency": currency.strip().upper() if currency else None,
        "lines": [invoice_line(i, text) for i, text in enumerate(lines)] or None,
        "issued_on": day("issued_on", on),
        "due_on": day("due_on", due),
        "reference": reference,
        "note": note,
        "prices_include_tax": inclusive,
    }
    changes = {name: value for name, value in given.items() if value is not None}
    if clear_due:
        changes["due_on"] = None
    if not changes:
        raise InvalidInputError("changes", "give at least one thing to change (see --help)")
    return changes


@invoice_app.command("edit")
def invoice_edit(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    document_id: Annotated[int, typer.Argument(help="The draft's id.")],
    party: Annotated[int | None, typer.Option(help="Another customer's party id.")] = None,
    line: Annotated[
        list[str] | None,
        typer.Option("--line", help=f"{INVOICE_LINE} (repeat): replaces every line."),
    ] = None,
    currency: Annotated[str | None, typer.Option(help="Another currency.")] = None,
    on: DateText = None,
    due: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    clear_due: Annotated[
        bool, typer.Option("--clear-due", help="Let the payment terms set the due date.")
    ] = False,
    reference: Annotated[str | None, typer.Option(help="The customer's reference.")] = None,
    note: Annotated[str | None, typer.Option(help="Printed under the lines.")] = None,
    tax_inclusive: Annotated[
        bool | None,
        typer.Option(
            "--tax-inclusive/--tax-exclusive",
            help="Whether the unit prices include tax (the lines are priced anew).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change a draft invoice (or a bill's dates, party, reference, note or price basis);
    an issued one is refused: credit it instead."""
    if line and state.app.invoices.get(document_id).kind == "bill":
        raise InvalidInputError("lines", "a bill's lines name their accounts: use the API or web")
    changes = _changes(
        party, line or [], currency, on, due, clear_due, reference, note, tax_inclusive
    )
    doc = state.app.invoices.update(document_id, changes, None)
    print_doc(doc, fmt, f"Changed draft {doc.kind} {doc.id}: {totals(doc)}.")


@invoice_app.command("delete")
def invoice_delete(
    document_id: Annotated[int, typer.Argument(help="The draft's id.")],
) -> None:
    """Delete a draft invoice or bill (an issued one is refused: credit it instead)."""
    doc = state.app.invoices.get(document_id)
    state.app.invoices.delete(document_id, doc.version)
    console.print(f"Deleted draft {doc.kind} {doc.id}: {totals(doc)}.")


@invoice_app.command("issue")
def invoice_issue(
    invoice_id: Annotated[int, typer.Argument(help="The draft's id.")],
    override_credit_limit: Annotated[
        bool,
        typer.Option("--override-credit-limit", help="Issue over the credit limit (audited)."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Number the draft, post it to the ledger and set its due date."""
    doc = state.app.invoices.issue(invoice_id, override_credit=override_credit_limit)
    due = f", due {doc.due_on.isoformat()}" if doc.due_on else ""
    print_doc(
        doc,
        fmt,
        f"Issued [bold]{doc.number}[/bold] ({doc.kind} {doc.id}): {doc.gross} {doc.currency}{due}.",
    )


@invoice_app.command("list")
def invoice_list(
    party: Annotated[int | None, typer.Option(help="Only this party's documents.")] = None,
    status: Annotated[InvoiceStatus | None, typer.Option()] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Open past the due date.")] = False,
    kind: Annotated[
        str | None, typer.Option(help="invoice, credit_note or bill (default all).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Invoices, credit notes and bills, newest first."""
    query = BillingQuery(
        limit=limit,
        kind=kind,
        party_id=party,
        status=status.value if status else None,
        overdue_on=today() if overdue else None,
    )
    found = state.app.invoices.page(query)
    emit(
        [doc_row(d) for d in found],
        fmt,
        title="Documents",
        document={"items": [document(d) for d in found]},
        right=("gross", "open"),
    )


def _order(order_id: int | None) -> str | None:
    """``"5 (paid)"``: the order a document bills and its status, if the role may read it."""
    if order_id is None:
        return None
    try:
        return f"{order_id} ({state.app.sales.get_order(order_id).status.value})"
    except (PermissionDeniedError, NotFoundError):
        return str(order_id)


def _summary(doc: BillingDoc) -> list[dict[str, Any]]:
    values: dict[str, Any] = {
        "id": doc.id,
        "kind": doc.kind,
        "number": doc.number,
        "party": doc.party_id,
        "status": f"{doc.status} (overdue)" if doc.overdue else doc.status,
        "date": doc.issued_on,
        "due": doc.due_on,
        "settled": doc.settled_on,
        "currency": doc.currency,
        "rate": f"{doc.rate} {doc.base_currency}" if doc.rate else None,
        "net": doc.net,
        "tax": doc.tax,
        "gross": doc.gross,
        "paid": doc.paid,
        "credited": doc.credited,
        "open": doc.open,
        "prices": "include tax" if doc.prices_include_tax else None,
        "order": _order(doc.order_id),
        "contract": doc.contract_id,
        "credits": doc.refers_to,
        "reference": doc.reference,
        "note": doc.note,
    }
    return [{"field": k, "value": v} for k, v in values.items() if v not in (None, "")]


@invoice_app.command("show")
def invoice_show(
    document_id: Annotated[int, typer.Argument(help="The document's id.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One document: its lines, totals, what is paid and open, and its status."""
    doc = state.app.invoices.get(document_id)
    if fmt is OutputFormat.json:
        print(dumps(document(doc)))
        return
    emit(_summary(doc), fmt, title=doc_label(doc))
    rows = [
        {
            "#": line.position,
            "description": line.description,
            "quantity": f"{line.quantity} {line.unit}".strip(),
            "unit price": line.unit_price,
            "discount %": line.discount,
            "tax %": format((line.tax_rate * 100).normalize(), "f"),
            "net": line.net,
        }
        for line in doc.lines
    ]
    emit(rows, fmt, title="Lines", right=("#", "quantity", *MONEY, "discount %", "tax %"))


@invoice_app.command("pdf")
def invoice_pdf(
    document_id: Annotated[int, typer.Argument(help="The document's id.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default NUMBER.pdf).")
    ] = None,
    facturx: Annotated[
        bool, typer.Option("--facturx", help="Embed the EN 16931 XML (PDF/A-3).")
    ] = False,
) -> None:
    """Write the document as PDF (Factur-X with --facturx)."""
    pdf = state.app.printer.pdf(document_id, facturx=facturx)
    if output is None:
        doc = state.app.invoices.get(document_id)
        output = Path(f"{doc.number or f'DRAFT-{doc.id}'}.pdf")
    output.write_bytes(pdf)
    console.print(f"Wrote {output} ({len(pdf):,} bytes).")


@invoice_app.command("credit")
def invoice_credit(
    invoice_id: Annotated[int, typer.Argument(help="The issued invoice's id.")],
    line: Annotated[
        list[str] | None,
        typer.Option("--line", help="POSITION:QTY to credit (repeat); default: all of it."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Printed on the credit note.")] = "",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Issue a credit note for an invoice, in full or line by line, at its own prices."""
    quantities = id_amounts("lines", line, "POSITION:QTY", "quantity") if line else None
    note = state.app.invoices.credit(invoice_id, quantities, reason=reason)
    print_doc(
        note,
        fmt,
        f"Issued credit note [bold]{note.number}[/bold] ({note.id}) for invoice {invoice_id}: "
        f"{note.gross} {note.currency}; {note.open} left as customer credit.",
    )
