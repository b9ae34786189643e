"""Report rows computed from balances, with no I/O.

The trial balance lists, per account and commodity, the debit and credit turnover up to a
date and the balance (debit - credit) in the plain-text-accounting sign. Its totals per
commodity are the check every bookkeeper knows: debits equal credits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    """Turnover and balance of one account in one commodity."""

    account: str
    commodity: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit minus credit: positive for a debit balance."""
        return self.debit - self.credit


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """A trial balance as of a date."""

    as_of: date | None
    rows: tuple[TrialBalanceRow, ...]
    conversions: tuple[tuple[str, Decimal], ...] = ()
    """Per commodity, what costs and prices moved into it (negative: out of it); with
    them each commodity's balances add up to zero, up to the rounding of converted weights."""

    def totals(self) -> dict[str, TrialBalanceRow]:
        """Sum of the rows per commodity (account ``*``)."""
        sums: dict[str, tuple[Decimal, Decimal]] = {}
        for row in self.rows:
            debit, credit = sums.get(row.commodity, (Decimal(0), Decimal(0)))
            sums[row.commodity] = (debit + row.debit, credit + row.credit)
        return {c: TrialBalanceRow("*", c, d, k) for c, (d, k) in sorted(sums.items())}

    def residuals(self) -> dict[str, Decimal]:
        """Per commodity, what balances and conversions leave over (empty: it adds up).

        Only the rounding of converted weights (half a minor unit per converted posting at
        most) can leave anything over; an unbalanced entry cannot be posted.
        """
        moved = dict(self.conversions)
        left = {c: t.balance + moved.pop(c, Decimal(0)) for c, t in self.totals().items()}
        left.update(moved)
        return {c: v for c, v in left.items() if v}


def build_trial_balance(
    as_of: date | None,
    rows: Iterable[TrialBalanceRow],
    include_zero: bool = False,
    conversions: Mapping[str, Decimal] | None = None,
) -> TrialBalance:
    """Sort rows by account and commodity; drop all-zero rows unless asked."""
    kept = sorted(
        (r for r in rows if include_zero or r.debit or r.credit),
        key=lambda r: (r.account, r.commodity),
    )
    moved = tuple(sorted((c, v) for c, v in (conversions or {}).items() if v))
    return TrialBalance(as_of, tuple(kept), moved)


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One posting in an account's activity, with the running balance after it."""

    date: date
    entry: str
    narration: str
    commodity: str
    amount: Decimal
    balance: Decimal


def running_lines(
    opening: dict[str, Decimal],
    postings: Iterable[tuple[date, str, str, str, Decimal]],
) -> list[LedgerLine]:
    """Attach a running balance per commodity to ``(date, ref, narration, ccy, amount)``."""
    balances = dict(opening)
    lines = []
    for day, ref, narration, commodity, amount in postings:
        balances[commodity] = balances.get(commodity, Decimal(0)) + amount
        lines.append(LedgerLine(day, ref, narration, commodity, amount, balances[commodity]))
    return lines
