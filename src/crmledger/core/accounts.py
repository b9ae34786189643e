"""Accounts named in the plain-text-accounting convention.

The first segment of a name is its type, the rest a hierarchy::

    >>> account_type("Assets:Bank:Checking")
    <AccountType.ASSETS: 'Assets'>

Balances carry the plain-text-accounting sign: assets and expenses are positive when they
hold a debit balance; liabilities, equity and income are negative when they hold the usual
credit balance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from crmledger.core.errors import InvalidAccountNameError


class AccountType(StrEnum):
    """The five roots of every chart."""

    ASSETS = "Assets"
    LIABILITIES = "Liabilities"
    EQUITY = "Equity"
    INCOME = "Income"
    EXPENSES = "Expenses"

    @property
    def debit_normal(self) -> bool:
        """True where a positive (debit) balance is the usual one."""
        return self in (AccountType.ASSETS, AccountType.EXPENSES)


_SEGMENT_RE = re.compile(r"^[A-Z0-9][^\s:;]*(?: [^\s:;]+)*$", re.UNICODE)


def account_type(name: str) -> AccountType:
    """Validate ``name`` and return its type (the root segment)."""
    segments = name.split(":")
    try:
        kind = AccountType(segments[0])
    except ValueError:
        roots = ", ".join(t.value for t in AccountType)
        raise InvalidAccountNameError(f"account {name!r} must start with one of {roots}") from None
    for segment in segments[1:]:
        if not _SEGMENT_RE.match(segment):
            raise InvalidAccountNameError(
                f"account {name!r}: segment {segment!r} must start with a capital letter "
                "or digit and contain no ':', ';' or double spaces"
            )
    return kind


@dataclass(frozen=True, slots=True)
class Account:
    """An account of the chart. ``commodities`` empty means any commodity is allowed."""

    name: str
    code: str | None = None
    commodities: tuple[str, ...] = ()
    open_date: date | None = None
    close_date: date | None = None
    description: str = ""

    def __post_init__(self) -> None:
        account_type(self.name)
        if self.open_date and self.close_date and self.close_date < self.open_date:
            raise InvalidAccountNameError(f"account {self.name!r} closes before it opens")

    @property
    def type(self) -> AccountType:
        """The account's type, from its root segment."""
        return AccountType(self.name.split(":", 1)[0])

    def is_open_on(self, day: date) -> bool:
        """Whether a posting dated ``day`` may use this account."""
        if self.open_date and day < self.open_date:
            return False
        return not (self.close_date and day > self.close_date)

    def allows(self, commodity: str) -> bool:
        """Whether this account may hold ``commodity``."""
        return not self.commodities or commodity in self.commodities
