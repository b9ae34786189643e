"""The billing forms: the invoice and bill editor, recording a payment, crediting lines.

The editor's rows are the quote editor's (:mod:`.quote_form`: a ``line_key`` per row,
blank rows dropped, a service's ``lines[2].quantity`` naming the third kept row), plus an
``account`` column on a bill, where each line names its expense account. The editor opens a
new document or a stored draft; "Prices include tax" (``prices_include_tax=on``) makes the
unit prices gross::

    draft = read(form)
    new = to_document(draft, "bill", party_id=9)   # NewDocument, or None with errors
    changes = to_changes(of_document(doc))         # what a draft's update takes

The small forms on an invoice's page are read into the values a service takes::

    payment_values(Draft.read(form, PAYMENT_LIMITS))     # amount, day, method, reference
    credited(Draft.read(form, credit_limits(invoice)), invoice)   # [(2, Decimal('1'))] or None
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from starlette.datastructures import FormData

from crmledger.core.errors import LedgerError
from crmledger.services.billing_views import BillingDoc
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import METHODS
from crmledger.web import forms, quote_form
from crmledger.web.crm_view import plain
from crmledger.web.params import parse_date

LIMITS = {
    "currency": 10,
    "issued_on": 20,
    "due_on": 20,
    "reference": 200,
    "note": 2000,
    "prices_include_tax": 5,
    "version": 12,
    "action": 20,
}
RULES = {
    r"lines\[(\d+)\]\.(\w+)": r"line-\2-\1",
    r"lines": "lines",
    r"(currency|issued_on|due_on|reference|note|prices_include_tax)": r"\1",
}
LABELS = {
    **quote_form.LABELS,
    "line-account": "Account",
    "issued_on": "Date",
    "due_on": "Due date",
    "reference": "Reference",
    "note": "Note",
}
PAYMENT_LIMITS = {"amount": 40, "paid_on": 20, "method": 20, "reference": 200}
PAYMENT_RULES = {
    r"amount|allocations(\[\d+\]\.amount)?": "amount",
    r"paid_on|method|reference": r"\g<0>",
}
PAYMENT_LABELS = {"amount": "Amount", "paid_on": "Date", "method": "Method"}
CREDIT_RULES = {r"lines\[(\d+)\].*": r"credit-\1", r"reason|note": "reason"}


@dataclass
class InvoiceForm:
    """The editor's values, its rows (field -> text, with ``line_key``) and errors."""

    values: dict[str, str]
    rows: list[dict[str, str]]
    errors: forms.Errors = field(default_factory=forms.Errors)

    def place(self, error: LedgerError) -> None:
        """Show a service's error next to its input (``line-quantity-2``)."""
        forms.place(self.errors, error, RULES, LABELS)

    def shown_rows(self) -> list[dict[str, str]]:
        """The rows to show, keyed by position, and one blank row to type into."""
        rows = [{**row, "line_key": str(i)} for i, row in enumerate(self.rows)]
        return [*rows, blank_row(str(len(rows)))]


def blank_row(key: str) -> dict[str, str]:
    """An empty line."""
    return {**quote_form.blank_row(key), "account": ""}


def blank(currency: str) -> InvoiceForm:
    """A new document's form (no lines yet: the editor adds a blank row to type into)."""
    return InvoiceForm({**dict.fromkeys(LIMITS, ""), "currency": currency}, [])


def all_rows(form: FormData) -> list[dict[str, str]]:
    """Every row posted, blank ones included, with its ``account`` ('' on an invoice)."""
    rows = quote_form.all_rows(form)
    accounts = forms.values(form, "account", 200, quote_form.MAX_LINES)
    for i, row in enumerate(rows):
        row["account"] = accounts[i] if i < len(accounts) else ""
    return rows


def _is_blank(row: dict[str, str]) -> bool:
    return not any(row[name] for name in (*quote_form.LINE_FIELDS, "account"))


def read(form: FormData) -> InvoiceForm:
    """The form as typed, blank rows dropped."""
    values = {name: forms.value(form, name, limit) for name, limit in LIMITS.items()}
    return InvoiceForm(values, [r for r in all_rows(form) if not _is_blank(r)])


def _dates(draft: InvoiceForm) -> tuple[date | None, date | None]:
    issued = parse_date(draft.values["issued_on"], "issued_on", draft.errors)
    due = parse_date(draft.values["due_on"], "due_on", draft.errors)
    if issued and due and due < issued:
        draft.errors.add("due_on", "The due date lies before the document's date.")
    return issued, due


def _lines(draft: InvoiceForm, kind: str) -> list[DocumentLine] | None:
    lines = quote_form.draft_lines(draft.rows, draft.errors)
    if kind == "bill":
        for i, row in enumerate(draft.rows):
            if not row["account"]:
                draft.errors.add(f"line-account-{i}", "Choose the expense account.")
    if lines is None:
        return None
    return [
        DocumentLine(**asdict(line), account=row["account"] or None)
        for line, row in zip(lines, draft.rows, strict=True)
    ]


def inclusive(draft: InvoiceForm) -> bool:
    """Whether "Prices include tax" is ticked."""
    return draft.values["prices_include_tax"] == "on"


def version(draft: InvoiceForm) -> int | None:
    """The version a draft was opened at (None when missing)."""
    text = draft.values["version"]
    return int(text) if text.isdigit() and len(text) < 10 else None


def of_document(doc: BillingDoc) -> InvoiceForm:
    """The editor filled from a stored draft."""
    values = {
        "currency": doc.currency,
        "issued_on": doc.issued_on.isoformat() if doc.issued_on else "",
        "due_on": doc.due_on.isoformat() if doc.due_on else "",
        "reference": doc.reference,
        "note": doc.note,
        "prices_include_tax": "on" if doc.prices_include_tax else "",
        "version": str(doc.version),
        "action": "",
    }
    rows = [
        {
            "line_key": str(i),
            "product_id": "" if line.product_id is None else str(line.product_id),
            "description": line.description,
            "quantity": plain(line.quantity),
            "unit_price": str(line.unit_price),
            "discount": "" if line.discount == 0 else plain(line.discount),
            "tax_category": line.tax_category,
            "account": line.account if doc.kind == "bill" else "",
        }
        for i, line in enumerate(doc.lines)
    ]
    return InvoiceForm(values, rows)


def to_changes(draft: InvoiceForm, kind: str) -> dict[str, Any] | None:
    """What the editor changes on a stored draft (a blank date keeps the draft's; a blank
    due date lets the payment terms set it), or None with the reasons in ``draft.errors``."""
    new = to_document(draft, kind, 0)
    if new is None:
        return None
    changes: dict[str, Any] = {
        "currency": new.currency,
        "lines": new.lines,
        "due_on": new.due_on,
        "reference": new.reference,
        "note": new.note,
        "prices_include_tax": new.prices_include_tax,
    }
    if new.issued_on is not None:
        changes["issued_on"] = new.issued_on
    return changes


def to_document(draft: InvoiceForm, kind: str, party_id: int) -> NewDocument | None:
    """The draft document typed, or None with the reasons in ``draft.errors``."""
    if not draft.rows:
        draft.errors.add("lines", "Add at least one line.")
    lines = _lines(draft, kind)
    issued, due = _dates(draft)
    if lines is None or draft.errors:
        return None
    return NewDocument(
        party_id=party_id,
        currency=draft.values["currency"].upper(),
        lines=lines,
        kind=kind,
        issued_on=issued,
        due_on=due,
        reference=draft.values["reference"],
        note=draft.values["note"],
        prices_include_tax=inclusive(draft),
    )


@dataclass(frozen=True, slots=True)
class PaymentValues:
    """A payment as typed on a document's page."""

    amount: Decimal
    paid_on: date | None
    method: str
    reference: str


def payment_values(draft: forms.Draft) -> PaymentValues | None:
    """The payment typed, or None with the reasons in ``draft.errors``."""
    amount = forms.decimal(draft.get("amount"), "amount", draft.errors, "Amount")
    if amount is None and "amount" not in draft.errors:
        draft.errors.add("amount", "Amount is required.")
    paid_on = parse_date(draft.get("paid_on"), "paid_on", draft.errors)
    if draft.get("method") not in METHODS:
        draft.errors.add("method", "Choose a payment method from the list.")
    if amount is None or draft.errors:
        return None
    return PaymentValues(amount, paid_on, draft.get("method"), draft.get("reference"))


def credit_limits(invoice: BillingDoc) -> dict[str, int]:
    """The credit form's fields: a quantity per line (``credit-<position>``), a reason."""
    return {f"credit-{line.position}": 30 for line in invoice.lines} | {"reason": 2000}


def credited(draft: forms.Draft, invoice: BillingDoc) -> list[tuple[int, Decimal]] | None:
    """``(position, quantity)`` to credit, one per quantity typed; None when every one is
    blank: the whole invoice is credited."""
    chosen: list[tuple[int, Decimal]] = []
    for line in invoice.lines:
        name = f"credit-{line.position}"
        quantity = forms.decimal(draft.get(name), name, draft.errors, "Quantity")
        if quantity is not None:
            chosen.append((line.position, quantity))
    return chosen or None
