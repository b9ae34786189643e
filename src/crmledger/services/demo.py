"""Demo books: a year of realistic books for a small services company.

The data is generated from a fixed seed, so every demo shows the same figures: capital paid
in, monthly rent, salaries and software, customer invoices and their receipts, a dollar
purchase at the day's rate, a correction by reversal and a locked first quarter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.services.ledger import LedgerService

CUSTOMERS = (
    "Acme Logistics GmbH",
    "Borealis Foods Ltd",
    "Café Lumière SARL",
    "Delta Dental Inc",
    "Eastwind Travel",
    "Fjord Analytics AS",
    "Greenleaf Gardens",
    "Helios Solar S.A.",
)


def _entry(
    day: date, narration: str, *lines: tuple[str, str], payee: str | None = None, ccy: str = "EUR"
) -> JournalEntry:
    return JournalEntry(
        date=day,
        narration=narration,
        payee=payee,
        postings=tuple(Posting(account, Decimal(amount), ccy) for account, amount in lines),
    )


def demo_entries(year: int, seed: int = 7) -> list[JournalEntry]:
    """The demo year's entries in date order."""
    rng = random.Random(seed)  # noqa: S311 (demo data, not security)
    entries = [
        _entry(
            date(year, 1, 2),
            "Share capital paid in",
            ("Assets:Bank:Checking", "50000.00"),
            ("Equity:Capital", "-50000.00"),
        ),
    ]
    for month in range(1, 13):
        first = date(year, month, 1)
        entries.append(
            _entry(
                first,
                "Office rent",
                ("Expenses:Rent", "1800.00"),
                ("Assets:Bank:Checking", "-1800.00"),
                payee="City Offices",
            )
        )
        entries.append(
            _entry(
                first + timedelta(days=24),
                "Salaries",
                ("Expenses:Salaries", "9200.00"),
                ("Assets:Bank:Checking", "-9200.00"),
            )
        )
        entries.append(
            _entry(
                first + timedelta(days=4),
                "Software subscriptions",
                ("Expenses:Software", "349.00"),
                ("Assets:Bank:Checking", "-349.00"),
                payee="CloudSuite",
            )
        )
        for customer in rng.sample(CUSTOMERS, 3):
            amount = Decimal(rng.randrange(150_000, 900_000)) / 100
            tax = (amount * Decimal("0.19")).quantize(Decimal("0.01"))
            day = first + timedelta(days=rng.randrange(0, 20))
            entries.append(
                _entry(
                    day,
                    f"Invoice {month:02d}-{customer[:3].upper()}",
                    ("Assets:Receivables:Customers", str(amount + tax)),
                    ("Income:Sales:Services", str(-amount)),
                    ("Liabilities:Tax:Output", str(-tax)),
                    payee=customer,
                )
            )
            if month < 12 or rng.random() < 0.5:
                entries.append(
                    _entry(
                        day + timedelta(days=rng.randrange(10, 40)),
                        "Customer payment",
                        ("Assets:Bank:Checking", str(amount + tax)),
                        ("Assets:Receivables:Customers", str(-(amount + tax))),
                        payee=customer,
                    )
                )
    entries.append(
        JournalEntry(
            date=date(year, 3, 15),
            narration="Laptop bought in dollars",
            payee="Gadget Store",
            postings=(
                Posting("Assets:Fixed:Equipment", Decimal("1450.01"), "EUR"),
                Posting(
                    "Assets:Bank:Savings",
                    Decimal("-1595.00"),
                    "USD",
                    price=Conversion(Decimal("0.9091"), "EUR"),
                ),
            ),
        )
    )
    entries.append(
        _entry(
            date(year, 3, 31),
            "Move dollars to savings",
            ("Assets:Bank:Savings", "2000.00"),
            ("Equity:Capital", "-2000.00"),
            ccy="USD",
        )
    )
    return sorted(entries, key=lambda e: e.date)


@dataclass(frozen=True, slots=True)
class DemoBooks:
    """What :func:`load_demo` posted."""

    year: int
    entries: int
    locked_until: date


def load_demo(ledger: LedgerService, year: int) -> DemoBooks:
    """Post the demo year, a mistake and its correction by reversal, and lock Q1."""
    refs = ledger.post(demo_entries(year))
    mistake = ledger.post(
        [
            _entry(
                date(year, 4, 10),
                "Team lunch (booked to rent by mistake)",
                ("Expenses:Rent", "240.00"),
                ("Assets:Bank:Checking", "-240.00"),
            )
        ]
    )[0]
    ledger.reverse(mistake.id, date(year, 4, 11), "Correction: team lunch is not rent")
    ledger.post(
        [
            _entry(
                date(year, 4, 11),
                "Team lunch",
                ("Expenses:Office", "240.00"),
                ("Assets:Bank:Checking", "-240.00"),
            )
        ]
    )
    ledger.lock_period(date(year, 3, 31))
    return DemoBooks(year, len(refs) + 3, date(year, 3, 31))
