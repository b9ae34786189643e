"""Report use cases, answered from running balances rather than every posting.

The trial balance as of a date sums the monthly balances before that date's month and adds
the postings of that month up to the date; with no date, balances alone answer.
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
from crmledger.services.ports import BalanceRow, UnitOfWorkFactory


class ReportService:
    """Trial balance and account activity."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def trial_balance(self, as_of: date | None = None) -> TrialBalance:
        """Debit and credit turnover and balance per account and commodity."""
        with self._uow(readonly=True) as uow:
            store = uow.ledger
            scales = store.scales()
            if as_of is None:
                rows, moved = store.balances(None), store.conversions(None)
            elif (as_of + timedelta(days=1)).day == 1:  # a month end: balances alone answer
                rows = store.balances(_period(as_of) + 1)
                moved = store.conversions(_period(as_of) + 1)
            else:
                rows = store.balances(_period(as_of))
                rows += store.turnover_between(as_of.replace(day=1), as_of)
                moved = store.conversions(_period(as_of))
                for code, net in store.conversions_between(as_of.replace(day=1), as_of).items():
                    moved[code] = moved.get(code, 0) + net
        conversions = {c: from_minor(net, scales[c]) for c, net in moved.items()}
        return build_trial_balance(as_of, _sum_rows(rows, scales), conversions=conversions)

    def account_ledger(
        self, account: str, start: date | None = None, end: date | None = None
    ) -> tuple[dict[str, Decimal], list[LedgerLine]]:
        """Opening balance per commodity before ``start`` and the lines from there on.

        ``account`` includes its sub-accounts, as in ledger-cli's register.
        """
        with self._uow(readonly=True) as uow:
            store = uow.ledger
            scales = store.scales()
            opening: dict[str, Decimal] = {}
            if start is not None:
                before = store.balances(_period(start))
                month_start = start.replace(day=1)
                if month_start < start:
                    before += store.turnover_between(month_start, start - timedelta(days=1))
                for row in before:
                    if row.account == account or row.account.startswith(account + ":"):
                        value = from_minor(
                            row.debit_minor - row.credit_minor, scales[row.commodity]
                        )
                        opening[row.commodity] = opening.get(row.commodity, Decimal(0)) + value
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


def _period(day: date) -> int:
    return day.year * 100 + day.month
