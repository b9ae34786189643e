"""Billing documents to journal entries: a document in, balanced postings out.

An invoice debits the party's receivable with the gross amount and credits revenue per income
account and output tax per category; a product with a cost also moves that cost from
inventory to its cost-of-goods account. A credit note is the mirror image of an invoice; a
vendor bill credits the payable and debits expenses and input tax::

    >>> doc = BillingDocument(kind="invoice", number="INV-2026-0001", party="7",
    ...     on=date(2026, 3, 1), currency="EUR", lines=(("Income:Sales:Services",
    ...     Decimal("100.00")),), taxes=(("standard", Decimal("19.00")),),
    ...     gross=Decimal("119.00"))
    >>> entry, base = document_entry(doc, BillingAccounts(), FxRate("EUR", "EUR", Decimal(1), 2))
    >>> [(p.account, p.amount) for p in entry.postings]     # doctest: +NORMALIZE_WHITESPACE
    [('Assets:Receivables:Customers', Decimal('119.00')),
     ('Income:Sales:Services', Decimal('-100.00')),
     ('Liabilities:Tax:Output', Decimal('-19.00'))]

A document in a foreign currency is posted in that currency, every posting carrying its value
in the base currency as a total price (``@@``). Each line's base value is rounded half-even
once; the control posting (receivable or payable) takes the sum of the others, so the entry
balances exactly in the base currency too and that sum is the document's *open base value*,
which settlements draw down until it is zero (see :mod:`crmledger.core.billing.settlement`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import quantize

DocumentKind = Literal["invoice", "credit_note", "bill"]

#: The journal each kind of billing entry is numbered in.
JOURNALS: dict[str, str] = {"invoice": "SI", "credit_note": "SI", "bill": "PI", "payment": "BK"}


@dataclass(frozen=True, slots=True)
class BillingAccounts:
    """The accounts billing posts to (those of the default chart unless configured)."""

    receivable: str = "Assets:Receivables:Customers"
    payable: str = "Liabilities:Payables:Vendors"
    output_tax: str = "Liabilities:Tax:Output"
    input_tax: str = "Assets:Tax:Input"
    inventory: str = "Assets:Inventory"
    fx_gain: str = "Income:FX:Gains"
    fx_loss: str = "Expenses:FX:Losses"

    def control(self, kind: str) -> str:
        """The receivable for sales documents and customer payments, else the payable."""
        return self.payable if kind in ("bill", "vendor_payment") else self.receivable


@dataclass(frozen=True, slots=True)
class FxRate:
    """``rate`` base units per unit of ``currency`` on a day; 1 when they are the same."""

    currency: str
    base: str
    rate: Decimal
    base_scale: int

    def __post_init__(self) -> None:
        if not self.rate.is_finite() or self.rate <= 0:
            raise InvalidFieldError("rate", "an exchange rate must be more than 0")

    @property
    def converts(self) -> bool:
        """Whether amounts need converting (the currency is not the base)."""
        return self.currency != self.base

    def to_base(self, amount: Decimal) -> Decimal:
        """``amount`` in the base currency, rounded half-even to the base's scale."""
        return quantize(amount * self.rate, self.base_scale) if self.converts else amount


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingDocument:
    """What a document posts: net per account, tax per category, the gross, and costs.

    ``lines`` and ``taxes`` hold positive amounts in the document's currency (a line of a
    credit note is positive too: the kind gives the side). ``costs`` are ``(cost account,
    amount, currency)`` of goods sold, moved out of inventory.
    """

    kind: DocumentKind
    number: str
    party: str
    on: date
    currency: str
    lines: tuple[tuple[str, Decimal], ...]
    taxes: tuple[tuple[str, Decimal], ...]
    gross: Decimal
    costs: tuple[tuple[str, Decimal, str], ...] = ()
    narration: str = ""


def _control_sign(kind: str) -> int:
    """+1 where the document debits its control account (an invoice), else -1."""
    return 1 if kind == "invoice" else -1


def _merge(amounts: Sequence[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    """Sum amounts per key, keeping the order keys first appear in; drop zero sums."""
    sums: dict[str, Decimal] = {}
    for key, amount in amounts:
        sums[key] = sums.get(key, Decimal(0)) + amount
    return [(key, amount) for key, amount in sums.items() if amount]


def _converted(account: str, amount: Decimal, fx: FxRate, memo: str = "") -> Posting:
    base = fx.to_base(abs(amount))
    price = Conversion(base, fx.base, total=True) if fx.converts else None
    return Posting(account, amount, fx.currency, price=price, memo=memo)


def document_entry(
    doc: BillingDocument, accounts: BillingAccounts, fx: FxRate
) -> tuple[JournalEntry, Decimal]:
    """The entry that posts ``doc`` and its open value in the base currency.

    Raises :class:`InvalidFieldError` if the lines and taxes do not add up to the gross.
    """
    total = sum((a for _, a in doc.lines), Decimal(0)) + sum((t for _, t in doc.taxes), Decimal(0))
    if total != doc.gross:
        raise InvalidFieldError("gross", f"lines and taxes add up to {total}, not {doc.gross}")
    sign = _control_sign(doc.kind)
    tax_account = accounts.input_tax if doc.kind == "bill" else accounts.output_tax
    others = [_converted(account, -sign * amount, fx) for account, amount in _merge(doc.lines)] + [
        _converted(tax_account, -sign * tax, fx, memo=category)
        for category, tax in _merge(doc.taxes)
    ]
    base = sum((abs(p.weight) for p in others), Decimal(0))
    price = Conversion(base, fx.base, total=True) if fx.converts else None
    control = Posting(
        accounts.control(doc.kind), sign * doc.gross, doc.currency, price=price, party=doc.party
    )
    costs = []
    for cost_account, amount, currency in _merge_costs(doc.costs):
        costs += [
            Posting(cost_account, amount, currency),
            Posting(accounts.inventory, -amount, currency),
        ]
    entry = JournalEntry(
        date=doc.on,
        narration=doc.narration or doc.number,
        postings=(control, *others, *costs),
        journal=JOURNALS[doc.kind],
        party=doc.party,
        reference=doc.number,
    )
    return entry, base


def _merge_costs(costs: Sequence[tuple[str, Decimal, str]]) -> list[tuple[str, Decimal, str]]:
    sums: dict[tuple[str, str], Decimal] = {}
    for account, amount, currency in costs:
        sums[(account, currency)] = sums.get((account, currency), Decimal(0)) + amount
    return [(account, amount, currency) for (account, currency), amount in sums.items() if amount]


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """Money moving between a bank account and a party: a customer's receipt or refund, or a
    payment to or refund from a vendor. ``amount`` is positive."""

    kind: Literal["receipt", "customer_refund", "vendor_payment", "vendor_refund"]
    number: str
    party: str
    on: date
    amount: Decimal
    bank_account: str
    narration: str = ""


def settlement_entry(
    settlement: Settlement, accounts: BillingAccounts, fx: FxRate
) -> tuple[JournalEntry, Decimal]:
    """The bank-against-control entry of ``settlement`` and its value in the base currency.

    A receipt debits the bank and credits the receivable; a refund to a customer the other
    way round; a payment to a vendor debits the payable and credits the bank.
    """
    if settlement.amount <= 0:
        raise InvalidFieldError("amount", "the amount must be more than 0")
    into_bank = settlement.kind in ("receipt", "vendor_refund")
    bank_amount = settlement.amount if into_bank else -settlement.amount
    control_kind = "bill" if settlement.kind.startswith("vendor") else "invoice"
    bank = _converted(settlement.bank_account, bank_amount, fx)
    control = replace(
        _converted(accounts.control(control_kind), -bank_amount, fx), party=settlement.party
    )
    entry = JournalEntry(
        date=settlement.on,
        narration=settlement.narration or settlement.number,
        postings=(bank, control),
        journal=JOURNALS["payment"],
        party=settlement.party,
        reference=settlement.number,
    )
    return entry, abs(bank.weight)


def fx_difference_entry(
    *,
    on: date,
    party: str,
    residual: Decimal,
    control_account: str,
    base: str,
    accounts: BillingAccounts,
    reference: str,
) -> JournalEntry | None:
    """Clear ``residual`` (the base value a settled pair leaves on the control account,
    debit positive) to exchange gains or losses; ``None`` when there is nothing left."""
    if residual == 0:
        return None
    fx_account = accounts.fx_loss if residual > 0 else accounts.fx_gain
    return JournalEntry(
        date=on,
        narration=f"Realised exchange difference, {reference}",
        postings=(
            Posting(fx_account, residual, base),
            Posting(control_account, -residual, base, party=party),
        ),
        journal=JOURNALS["payment"],
        party=party,
        reference=reference,
    )
