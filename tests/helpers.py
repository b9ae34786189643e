"""Small builders that make tests read like the books they describe."""

from __future__ import annotations

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
