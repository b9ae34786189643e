"""The quote editor's form: the document's fields and its line rows, read into draft lines.

Each row carries a ``line_key`` (its ids end in it, so the preview can answer with the
row's net amount out of band); rows are read by position, blank rows are dropped, and a
service's ``lines[2].quantity`` names the third kept row. "Prices include tax"
(``prices_include_tax=on``) makes the unit prices gross, in the preview as in the quote::

    draft = read(form)
    lines = draft_lines(draft)     # [DraftLine, ...], or None with errors on the rows
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from starlette.datastructures import FormData

from crmledger.core.errors import LedgerError
from crmledger.services.sales import DraftLine, Quote
from crmledger.web import forms
from crmledger.web.crm_view import plain

LINE_FIELDS = ("product_id", "description", "quantity", "unit_price", "discount", "tax_category")
LINE_LIMITS = {
    "line_key": 40,
    "product_id": 12,
    "description": 2000,
    "quantity": 30,
    "unit_price": 40,
    "discount": 20,
    "tax_category": 40,
}
LIMITS = {
    "currency": 10,
    "valid_until": 20,
    "deal_id": 12,
    "prices_include_tax": 5,
    "version": 12,
    "action": 20,
}
MAX_LINES = 200
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
RULES = {
    r"lines\[(\d+)\]\.(\w+)": r"line-\2-\1",
    r"lines": "lines",
    r"(currency|valid_until|deal_id|prices_include_tax)": r"\1",
}
LABELS = {
    "line-product_id": "Product",
    "line-description": "Description",
    "line-quantity": "Quantity",
    "line-unit_price": "Unit price",
    "line-discount": "Discount",
    "line-tax_category": "Tax category",
    "valid_until": "Valid until",
    "currency": "Currency",
    "prices_include_tax": "Prices include tax",
}


@dataclass
class QuoteForm:
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
    return {"line_key": key, **dict.fromkeys(LINE_FIELDS, "")}


def blank(currency: str, deal_id: int | None) -> QuoteForm:
    """A new quote's form (no lines yet: the editor adds a blank row to type into)."""
    values = dict.fromkeys(LIMITS, "")
    values |= {"currency": currency, "deal_id": "" if deal_id is None else str(deal_id)}
    return QuoteForm(values, [])


def _is_blank(row: dict[str, str]) -> bool:
    return not any(row[name] for name in LINE_FIELDS)


def all_rows(form: FormData) -> list[dict[str, str]]:
    """Every row posted, blank ones included, in page order."""
    columns = {
        name: forms.values(form, name, limit, MAX_LINES) for name, limit in LINE_LIMITS.items()
    }
    count = max(len(column) for column in columns.values())
    rows = []
    for i in range(count):
        row = {name: (col[i] if i < len(col) else "") for name, col in columns.items()}
        row["line_key"] = row["line_key"] if _KEY.match(row["line_key"]) else f"n{i}"
        rows.append(row)
    return rows


def read(form: FormData) -> QuoteForm:
    """The form as typed, blank rows dropped."""
    values = {name: forms.value(form, name, limit) for name, limit in LIMITS.items()}
    return QuoteForm(values, [r for r in all_rows(form) if not _is_blank(r)])


def of_quote(quote: Quote) -> QuoteForm:
    """The editor filled from a stored quote."""
    values = {
        "currency": quote.currency,
        "valid_until": "" if quote.valid_until is None else quote.valid_until.isoformat(),
        "deal_id": "" if quote.deal_id is None else str(quote.deal_id),
        "prices_include_tax": "on" if quote.prices_include_tax else "",
        "version": str(quote.version),
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
        }
        for i, line in enumerate(quote.lines)
    ]
    return QuoteForm(values, rows)


def _line(index: int, row: dict[str, str], errors: forms.Errors) -> DraftLine | None:
    def number(name: str, label: str) -> Decimal | None:
        return forms.decimal(row[name], f"line-{name}-{index}", errors, label)

    product = forms.integer(row["product_id"], f"line-product_id-{index}", errors, "Product")
    quantity, price = number("quantity", "Quantity"), number("unit_price", "Unit price")
    discount = number("discount", "Discount")
    if any(k.endswith(f"-{index}") for k in errors):
        return None
    return DraftLine(
        product_id=product,
        description=row["description"] or None,
        quantity=Decimal(1) if quantity is None else quantity,
        unit_price=price,
        discount=Decimal(0) if discount is None else discount,
        tax_category=row["tax_category"] or None,
    )


def draft_lines(rows: list[dict[str, str]], errors: forms.Errors) -> list[DraftLine] | None:
    """The draft lines of ``rows`` (non-blank), or None with errors per row index."""
    lines = [_line(i, row, errors) for i, row in enumerate(rows)]
    kept = [line for line in lines if line is not None]
    return kept if len(kept) == len(lines) else None


def valid_until(draft: QuoteForm) -> date | None:
    """The typed validity date (None when blank; an error when unreadable)."""
    raw = draft.values["valid_until"]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        draft.errors.add("valid_until", f"{raw!r} is not a date; use YYYY-MM-DD.")
        return None


def inclusive(draft: QuoteForm) -> bool:
    """Whether "Prices include tax" is ticked: the unit prices are gross."""
    return draft.values["prices_include_tax"] == "on"


def version(draft: QuoteForm) -> int | None:
    """The version the editor was opened at (None when missing)."""
    text = draft.values["version"]
    return int(text) if text.isdigit() and len(text) < 10 else None
