"""Expense claims: what an employee paid for the company, and what the company owes back.

A claim holds one line per expense account, each amount as the receipt shows it: gross (tax
included) or net, with an optional tax category whose input tax the company deducts. The
tax is worked out with the rate valid on the claim's date and rounded half-even per line::

    >>> [line] = price_lines([ClaimLine("Expenses:Travel", Decimal("119.00"), "standard")],
    ...                      {"standard": Decimal("0.19")}, scale=2, gross=True)
    >>> line.net, line.tax
    (Decimal('100.00'), Decimal('19.00'))

Approving a claim posts it: expenses and input tax against what the company owes the
employee, on one liability account whose postings name the employee (``user:7``)::

    Expenses:Travel                          100.00 EUR
    Assets:Tax:Input                          19.00 EUR
    Liabilities:Employees:Reimbursements    -119.00 EUR   party user:7

Reimbursing pays that out of a bank account (liability against bank). A claim moves
``draft`` → ``submitted`` → ``posted`` (approved and booked) → ``reimbursed``, or from
``submitted`` to ``rejected``; nobody approves their own claim.

Receipts are PDF, PNG or JPEG files of at most 10 MB, recognised by their first bytes
(never by the name or the type a browser claims) and kept with their SHA-256::

    >>> check_receipt("taxi.png", b"\\x89PNG\\r\\n\\x1a\\n...").content_type
    'image/png'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from urllib.parse import quote

from crmledger.core.access import PermissionDeniedError, Principal
from crmledger.core.accounts import AccountType, account_type
from crmledger.core.billing.entries import FxRate
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.errors import (
    ExcessPrecisionError,
    InvalidAccountNameError,
    InvalidFieldError,
    LedgerError,
    TransitionError,
)
from crmledger.core.money import quantize, to_minor

#: The journals claims and their reimbursements are numbered in.
CLAIM_JOURNAL = "EX"
PAYMENT_JOURNAL = "BK"
#: Lines a claim holds at most, and receipts.
MAX_LINES = 100
MAX_RECEIPTS = 20
#: The largest receipt file kept (10 MB).
MAX_RECEIPT_BYTES = 10 * 1024 * 1024
MAX_NAME = 200

#: Content type by the bytes a file of that type starts with.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
RECEIPT_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/]+')


class ClaimStatus(StrEnum):
    """Where a claim stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    POSTED = "posted"
    REIMBURSED = "reimbursed"
    REJECTED = "rejected"


#: Each action: the states it starts from and the state it leads to.
ACTIONS: dict[str, tuple[frozenset[ClaimStatus], ClaimStatus]] = {
    "submit": (frozenset({ClaimStatus.DRAFT}), ClaimStatus.SUBMITTED),
    "approve": (frozenset({ClaimStatus.SUBMITTED}), ClaimStatus.POSTED),
    "reject": (frozenset({ClaimStatus.SUBMITTED}), ClaimStatus.REJECTED),
    "reimburse": (frozenset({ClaimStatus.POSTED}), ClaimStatus.REIMBURSED),
}


def advance(status: ClaimStatus | str, action: str) -> ClaimStatus:
    """The state ``action`` leads to from ``status``; :class:`TransitionError` when the
    claim is not in a state the action starts from."""
    current = ClaimStatus(status)
    starts, target = ACTIONS[action]
    if current not in starts:
        raise TransitionError(f"a {current.value} claim cannot be {_past(action)}")
    return target


def _past(action: str) -> str:
    return {"submit": "submitted", "reimburse": "reimbursed"}.get(action, f"{action}d")


def editable(status: ClaimStatus | str) -> bool:
    """Whether receipts may still be added (a draft only: what was approved stays put)."""
    return ClaimStatus(status) is ClaimStatus.DRAFT


class SelfApprovalError(PermissionDeniedError):
    """Nobody approves their own expense claim: a second person looks at every one."""

    def __init__(self) -> None:
        self.resource, self.action = "expenses", "approve"
        LedgerError.__init__(self, "nobody may approve their own expense claim")


def sees_all(principal: Principal) -> bool:
    """Approvers and auditors see every claim; everyone else sees their own."""
    return principal.can("expenses", "approve") or principal.can("audit", "read")


def claimant(employee_id: int) -> str:
    """The pseudonymous id the ledger keeps for an employee (``user:7``)."""
    return f"user:{employee_id}"


# -- receipts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    """A checked receipt file: its name, the type its bytes show, size and SHA-256."""

    name: str
    content_type: str
    size: int
    sha256: str


def sniff(data: bytes) -> str | None:
    """The content type ``data`` starts like (PDF, PNG or JPEG), else None."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def receipt_name(name: str, content_type: str) -> str:
    """A file name safe to store and send back: no path, no quotes or controls, at most
    200 characters; ``receipt.<ext>`` when nothing is left."""
    base = _UNSAFE_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    return base[:MAX_NAME] or f"receipt.{RECEIPT_TYPES[content_type]}"


def attachment(name: str) -> str:
    """The ``Content-Disposition`` of a download of ``name``: an ASCII ``filename`` for
    every client and the exact name as RFC 8187 ``filename*``::

        >>> print(attachment("Quittung-München.pdf"))
        attachment; filename="Quittung-M_nchen.pdf"; filename*=UTF-8''Quittung-M%C3%BCnchen.pdf
    """
    plain = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def check_receipt(name: str, data: bytes, field: str = "receipt") -> Receipt:
    """``data`` as a receipt, or :class:`InvalidFieldError` naming ``field`` when it is
    empty, larger than 10 MB, or not a PDF, PNG or JPEG file."""
    what = f"the file {name}" if name else "the file"
    if not data:
        raise InvalidFieldError(field, f"{what} is empty")
    if len(data) > MAX_RECEIPT_BYTES:
        limit = MAX_RECEIPT_BYTES // (1024 * 1024)
        raise InvalidFieldError(field, f"{what} is larger than {limit} MB")
    kind = sniff(data)
    if kind is None:
        raise InvalidFieldError(field, f"{what} is not a PDF, PNG or JPEG file (by its content)")
    return Receipt(receipt_name(name, kind), kind, len(data), hashlib.sha256(data).hexdigest())


# -- lines and tax --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """A line as the employee enters it; ``tax_category`` None: no input tax."""

    account: str
    amount: Decimal
    tax_category: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A line with its tax worked out: ``net + tax`` is what the employee paid."""

    account: str
    description: str
    amount: Decimal
    tax_category: str | None
    rate: Decimal | None
    net: Decimal
    tax: Decimal


def split_tax(amount: Decimal, rate: Decimal, scale: int, gross: bool) -> tuple[Decimal, Decimal]:
    """``(net, tax)`` of ``amount`` at ``rate``: taken out of a gross amount or added to a
    net one, rounded half-even to ``scale``."""
    if gross:
        tax = quantize(amount * rate / (1 + rate), scale)
        return amount - tax, tax
    return amount, quantize(amount * rate, scale)


def _checked_amount(where: str, amount: Decimal, scale: int) -> None:
    if not amount.is_finite() or amount <= 0:
        raise InvalidFieldError(f"{where}.amount", "the amount must be more than 0")
    try:
        to_minor(amount, scale)
    except ExcessPrecisionError:
        raise InvalidFieldError(
            f"{where}.amount", f"{amount} has more than {scale} decimal place(s)"
        ) from None


def _checked_account(where: str, account: str) -> None:
    try:
        kind = account_type(account)
    except InvalidAccountNameError as error:
        raise InvalidFieldError(f"{where}.account", str(error)) from None
    if kind is not AccountType.EXPENSES:
        raise InvalidFieldError(f"{where}.account", f"{account} is not an expense account")


def _priced(
    index: int, line: ClaimLine, rates: Mapping[str, Decimal], scale: int, gross: bool
) -> PricedLine:
    where = f"lines[{index}]"
    _checked_account(where, line.account)
    _checked_amount(where, line.amount, scale)
    if line.tax_category is None:
        return PricedLine(
            line.account, line.description, line.amount, None, None, line.amount, Decimal(0)
        )
    rate = rates.get(line.tax_category)
    if rate is None:
        raise InvalidFieldError(
            f"{where}.tax_category", f"no tax rate for category {line.tax_category!r}"
        )
    net, tax = split_tax(line.amount, rate, scale, gross)
    return PricedLine(
        line.account, line.description, line.amount, line.tax_category, rate, net, tax
    )


def price_lines(
    lines: Sequence[ClaimLine], rates: Mapping[str, Decimal], scale: int, gross: bool
) -> tuple[PricedLine, ...]:
    """Check ``lines`` and work out their tax with ``rates`` (fraction by category);
    errors name the line's field, ``lines[1].tax_category``."""
    if not lines:
        raise InvalidFieldError("lines", "a claim needs at least one line")
    if len(lines) > MAX_LINES:
        raise InvalidFieldError("lines", f"a claim has at most {MAX_LINES} lines")
    return tuple(_priced(i, line, rates, scale, gross) for i, line in enumerate(lines))


# -- entries --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpenseAccounts:
    """The accounts claims post to (those of the default chart)."""

    liability: str = "Liabilities:Employees:Reimbursements"
    input_tax: str = "Assets:Tax:Input"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovedClaim:
    """What an approved claim posts: net per expense account and tax per category, in
    the claim's currency."""

    number: str
    employee_id: int
    on: date
    currency: str
    description: str
    lines: tuple[tuple[str, Decimal], ...]
    taxes: tuple[tuple[str, Decimal], ...]

    @property
    def gross(self) -> Decimal:
        """What the company owes the employee."""
        return sum((a for _, a in self.lines), Decimal(0)) + sum(
            (t for _, t in self.taxes), Decimal(0)
        )


def _merged(amounts: Sequence[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    sums: dict[str, Decimal] = {}
    for key, amount in amounts:
        sums[key] = sums.get(key, Decimal(0)) + amount
    return [(key, amount) for key, amount in sums.items() if amount]


def _converted(account: str, amount: Decimal, fx: FxRate, memo: str = "") -> Posting:
    price = Conversion(fx.to_base(abs(amount)), fx.base, total=True) if fx.converts else None
    return Posting(account, amount, fx.currency, price=price, memo=memo)


def claim_entry(
    claim: ApprovedClaim, accounts: ExpenseAccounts, fx: FxRate
) -> tuple[JournalEntry, Decimal]:
    """The entry that books ``claim`` and what it owes in the base currency (the sum of
    the expense and tax postings' base values, so the entry balances there too)."""
    if claim.gross <= 0:
        raise InvalidFieldError("lines", "a claim must total more than 0")
    debits = [_converted(account, amount, fx) for account, amount in _merged(claim.lines)] + [
        _converted(accounts.input_tax, tax, fx, memo=category)
        for category, tax in _merged(claim.taxes)
    ]
    base = sum((p.weight for p in debits), Decimal(0))
    price = Conversion(base, fx.base, total=True) if fx.converts else None
    employee = claimant(claim.employee_id)
    owed = Posting(accounts.liability, -claim.gross, claim.currency, price=price, party=employee)
    entry = JournalEntry(
        date=claim.on,
        narration=f"{claim.number}: {claim.description}"[:2000],
        postings=(*debits, owed),
        journal=CLAIM_JOURNAL,
        party=employee,
        reference=claim.number,
    )
    return entry, base


@dataclass(frozen=True, slots=True, kw_only=True)
class Reimbursement:
    """Paying a posted claim back: ``gross`` in the claim's currency, worth ``base`` in
    the base currency as booked (a foreign claim is paid at the rate it was booked at)."""

    number: str
    employee_id: int
    on: date
    currency: str
    gross: Decimal
    base: Decimal
    base_currency: str
    bank_account: str


def reimbursement_entry(payment: Reimbursement, accounts: ExpenseAccounts) -> JournalEntry:
    """Liability against bank: what the claim left owing is cleared."""
    if payment.gross <= 0:
        raise InvalidFieldError("amount", "the amount must be more than 0")
    converts = payment.currency != payment.base_currency
    price = Conversion(payment.base, payment.base_currency, total=True) if converts else None
    employee = claimant(payment.employee_id)
    return JournalEntry(
        date=payment.on,
        narration=f"Reimbursement of {payment.number}",
        postings=(
            Posting(
                accounts.liability, payment.gross, payment.currency, price=price, party=employee
            ),
            Posting(payment.bank_account, -payment.gross, payment.currency, price=price),
        ),
        journal=PAYMENT_JOURNAL,
        party=employee,
        reference=payment.number,
    )
