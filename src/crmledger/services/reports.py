"""Report use cases, answered from running balances rather than every posting.

The trial balance as of a date sums the monthly balances before that date's month and adds
the postings of that month up to the date (:func:`rows_before`); with no date, or at a
month end, balances alone answer.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.money import from_minor
from crmledger.core.reports import (
    LedgerLine,
    TrialBalance,
    TrialBalanceRow,
    build_trial_balance,
    running_lines,
)
from crmledger.services.ports import BalanceRow, LedgerStore, UnitOfWorkFactory
from crmledger.services.trail import OPERATOR, Actor


class ReportService:
    """Trial balance and account activity."""

    def __init__(self, uow: UnitOfWorkFactory, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self.actor = actor

    def acting_as(self, actor: Actor) -> ReportService:
        """The same service, for another actor."""
        return ReportService(self._uow, actor)

    def trial_balance(self, as_of: date | None = None) -> TrialBalance:
        """Debit and credit turnover and balance per account and commodity."""
        self.actor.require("reports", "read")
        with self._uow(readonly=True) as uow:
            store = uow.ledger
            scales = store.scales()
            if as_of is None:
                rows, moved = store.balances(None), store.conversions(None)
            else:
                rows, moved = rows_before(store, as_of + timedelta(days=1))
        conversions = {c: from_minor(net, scales[c]) for c, net in moved.items()}
        return build_trial_balance(as_of, _sum_rows(rows, scales), conversions=conversions)

    def account_ledger(
        self, account: str, start: date | None = None, end: date | None = None
    ) -> tuple[dict[str, Decimal], list[LedgerLine]]:
        """Opening balance per commodity before ``start`` and the lines from there on.

        ``account`` includes its sub-accounts, as in ledger-cli's register.
        """
        self.actor.require("reports", "read")
        with self._uow(readonly=True) as uow:
            store = uow.ledger
            scales = store.scales()
            opening = balance_before(store, account, start) if start is not None else {}
            postings = store.account_postings(account, start, end)
        lines = running_lines(
            opening,
            (
                (
                    p.date,
                    p.entry_ref,
                    p.narration,
                    p.commodity,
                    from_minor(p.amount_minor, scales[p.commodity]),
                )
                for p in postings
            ),
        )
        return opening, lines


def _sum_rows(rows: list[BalanceRow], scales: dict[str, int]) -> list[TrialBalanceRow]:
    sums: dict[tuple[str, str], tuple[int, int]] = {}
    for row in rows:
        debit, credit = sums.get((row.account, row.commodity), (0, 0))
        sums[(row.account, row.commodity)] = (debit + row.debit_minor, credit + row.credit_minor)
    return [
        TrialBalanceRow(
            account,
            commodity,
            from_minor(debit, scales[commodity]),
            from_minor(credit, scales[commodity]),
        )
        for (account, commodity), (debit, credit) in sums.items()
    ]


def rows_before(store: LedgerStore, day: date) -> tuple[list[BalanceRow], dict[str, int]]:
    """Turnover per account and commodity, and conversions per commodity, of everything
    dated before ``day``: monthly running balances, plus the postings of ``day``'s month
    before it (none when ``day`` is the first of a month)."""
    period = day.year * 100 + day.month
    rows, moved = store.balances(period), store.conversions(period)
    if day.day > 1:
        month_start, last = day.replace(day=1), day - timedelta(days=1)
        rows += store.turnover_between(month_start, last)
        for code, net in store.conversions_between(month_start, last).items():
            moved[code] = moved.get(code, 0) + net
    return rows, moved


def balance_before(store: LedgerStore, account: str, day: date) -> dict[str, Decimal]:
    """Balance per commodity of ``account`` and its sub-accounts at the start of ``day``."""
    scales = store.scales()
    totals: dict[str, Decimal] = {}
    for row in rows_before(store, day)[0]:
        if row.account == account or row.account.startswith(account + ":"):
            value = from_minor(row.debit_minor - row.credit_minor, scales[row.commodity])
            totals[row.commodity] = totals.get(row.commodity, Decimal(0)) + value
    return totals
