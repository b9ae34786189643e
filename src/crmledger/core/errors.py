"""The exception tree of the pure domain.

Every rule the ledger enforces has one exception class, so callers (the CLI, the API,
an import report) can tell *which* rule a command broke without parsing messages::

    try:
        check_balanced(postings, scales)
    except UnbalancedEntryError as err:
        print(err.residuals)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal


class LedgerError(Exception):
    """Base class of every rule violation raised by the domain.

    ``field`` names the input field a report should point at.
    """

    field = "entry"


class InvalidAmountError(LedgerError, ValueError):
    """An amount is not a finite decimal number."""

    field = "amount"


class ExcessPrecisionError(LedgerError, ValueError):
    """An amount has more decimal places than its commodity allows; it is never rounded."""

    field = "amount"

    def __init__(self, number: Decimal, commodity: str, scale: int) -> None:
        self.number, self.commodity, self.scale = number, commodity, scale
        super().__init__(
            f"{number} {commodity} has more than {scale} decimal place(s) allowed for {commodity}"
        )


class UnknownCommodityError(LedgerError, KeyError):
    """A commodity is used that the book does not know."""

    field = "commodity"

    def __init__(self, commodity: str) -> None:
        self.commodity = commodity
        super().__init__(commodity)

    def __str__(self) -> str:
        return f"unknown commodity {self.commodity!r}"


class InvalidCommodityError(LedgerError, ValueError):
    """A commodity code or scale is malformed."""

    field = "commodity"


class InvalidAccountNameError(LedgerError, ValueError):
    """An account name does not follow the ``Type:Sub:Leaf`` convention."""

    field = "account"


class UnknownAccountError(LedgerError, KeyError):
    """A posting names an account that is not open in the book."""

    field = "account"

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(account)

    def __str__(self) -> str:
        return f"unknown account {self.account!r}"


class AccountClosedError(LedgerError):
    """A posting is dated outside its account's open/close dates."""

    field = "account"


class CommodityNotAllowedError(LedgerError):
    """A posting uses a commodity its account does not allow."""

    field = "commodity"


class InvalidEntryError(LedgerError, ValueError):
    """A journal entry is malformed (too few postings, empty narration field types ...)."""


class UnbalancedEntryError(LedgerError):
    """The postings of an entry do not sum to zero per balancing commodity."""

    field = "amount"

    def __init__(self, residuals: Mapping[str, Decimal]) -> None:
        self.residuals = dict(residuals)
        shown = ", ".join(f"{v} {c}" for c, v in sorted(self.residuals.items()))
        super().__init__(f"entry does not balance: residual {shown}")


class PeriodLockedError(LedgerError):
    """A posting, reversal or edit is dated on or before the lock date."""

    field = "date"

    def __init__(self, when: date, lock: date) -> None:
        self.when, self.lock = when, lock
        super().__init__(f"{when.isoformat()} is on or before the lock date {lock.isoformat()}")


class EntryStateError(LedgerError):
    """The entry is not in a state that allows the operation (e.g. reversing a draft)."""


class EntryNotFoundError(LedgerError, LookupError):
    """No entry with that identifier exists."""


class InvalidFieldError(LedgerError, ValueError):
    """A value is malformed or breaks a rule of its field; ``field`` names it (``emails[1]``,
    ``lines[0].quantity``) and the message says why."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class TransitionError(LedgerError):
    """A document or record cannot move from its current state to the one asked for."""

    field = "status"
