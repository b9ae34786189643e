"""Small builders that make tests read like the books they describe."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from crmledger.core.entries import JournalEntry, Posting


def entry(day: str, narration: str, *lines: tuple[str, str], ccy: str = "EUR") -> JournalEntry:
    """``entry("2026-01-05", "Chairs", ("Expenses:Office", "120"), ("Assets:Cash", "-120"))``."""
    return JournalEntry(
        date=date.fromisoformat(day),
        narration=narration,
        postings=tuple(Posting(account, Decimal(amount), ccy) for account, amount in lines),
    )


def sale(day: str, amount: str) -> JournalEntry:
    """A cash sale of ``amount`` EUR."""
    return entry(day, "Sale", ("Assets:Cash", amount), ("Income:Sales:Products", f"-{amount}"))


def posting_sums(entries: Iterable[JournalEntry]) -> dict[tuple[str, str], Decimal]:
    """Per account and commodity, the sum of posting amounts; zero sums are left out.

    Each account's own postings, not its sub-accounts': the shape of the balances the peer
    tools report (:mod:`tests.peers`), so entries compare with them directly.
    """
    sums: dict[tuple[str, str], Decimal] = {}
    for posting in (p for e in entries for p in e.postings):
        key = (posting.account, posting.commodity)
        sums[key] = sums.get(key, Decimal(0)) + posting.amount
    return {key: total for key, total in sums.items() if total}
