"""Deterministic books for benchmarks: the same N transactions written in four formats.

A seeded :class:`random.Random` draws the transactions of a small company (about 60
accounts, USD with some entries in EUR that balance on their own, no prices) over five
years, in date order. Each transaction has 2, 3 or 4 postings (2.5 on average) in whole
cents, so every entry balances exactly::

    python -m benchmarks.generate 100000 bench-data/100000

writes ``entries.csv`` (crmledger's import format), ``books.journal`` (ledger-cli and
hledger), ``books.beancount`` and ``expected.json``: the balance of every account per
commodity as the generator summed it, in decimal strings. Transactions stream straight to
the files, so a million of them take seconds and a few megabytes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any, TextIO

FORMAT_VERSION = 1
DEFAULT_SEED = 20_240_601
DEFAULT_EUR_SHARE = 0.05
START = date(2020, 1, 1)
DAYS = 5 * 365 + 1
OPEN_DATE = "1990-01-01"
COMMODITIES = ("USD", "EUR")
TAX_RATE_BP = 825  # sales tax in basis points (8.25 %)

Line = tuple[str, int, str]
"""One posting: account, amount in cents, commodity."""

SALES = ("Income:Sales:Products", "Income:Sales:Services", "Income:Sales:Subscriptions")
CARD_EXPENSES = (
    "Expenses:Travel:Flights",
    "Expenses:Travel:Hotels",
    "Expenses:Travel:Meals",
    "Expenses:Office:Supplies",
    "Expenses:Software",
    "Expenses:Marketing:Ads",
    "Expenses:Repairs",
)
BANK_EXPENSES = (
    "Expenses:Rent",
    "Expenses:Utilities:Power",
    "Expenses:Utilities:Water",
    "Expenses:Utilities:Internet",
    "Expenses:Insurance",
    "Expenses:Bank:Fees",
    "Expenses:Professional:Accounting",
)
BILL_EXPENSES = (
    "Expenses:COGS:Freight",
    "Expenses:Marketing:Events",
    "Expenses:Office:Furniture",
    "Expenses:Professional:Legal",
    "Expenses:Professional:Accounting",
    "Expenses:Software",
    "Expenses:Repairs",
)
FIXED = ("Assets:Fixed:Equipment", "Assets:Fixed:Vehicles", "Assets:Fixed:Computers")

USD_PAIRS: tuple[tuple[str, Sequence[str], Sequence[str]], ...] = (
    ("Cash sale", ("Assets:Bank:Checking", "Assets:Cash:Petty"), SALES),
    ("Customer payment", ("Assets:Bank:Checking",), ("Assets:Receivables:Customers",)),
    ("Vendor payment", ("Liabilities:Payables:Vendors",), ("Assets:Bank:Checking",)),
    ("Card purchase", CARD_EXPENSES, ("Liabilities:CreditCard:Corporate",)),
    ("Direct debit", BANK_EXPENSES, ("Assets:Bank:Checking",)),
    ("Card settlement", ("Liabilities:CreditCard:Corporate",), ("Assets:Bank:Checking",)),
    ("Transfer to savings", ("Assets:Bank:Savings",), ("Assets:Bank:Checking",)),
    ("Payroll funding", ("Assets:Bank:Payroll",), ("Assets:Bank:Checking",)),
    (
        "Tax payment",
        ("Liabilities:Tax:Output", "Liabilities:Payroll:Withholding", "Liabilities:Tax:Income"),
        ("Assets:Bank:Checking",),
    ),
    ("Income tax provision", ("Expenses:Tax:Income",), ("Liabilities:Tax:Income",)),
    ("Depreciation", ("Expenses:Depreciation",), ("Assets:Fixed:Depreciation",)),
    (
        "Stock purchase",
        ("Assets:Inventory:Goods", "Assets:Inventory:Materials"),
        ("Liabilities:Payables:Vendors",),
    ),
    ("Cost of sales", ("Expenses:COGS:Goods",), ("Assets:Inventory:Goods",)),
    ("Owner contribution", ("Assets:Bank:Checking",), ("Equity:Capital",)),
    ("Owner drawing", ("Equity:Drawings",), ("Assets:Bank:Checking",)),
    ("Interest received", ("Assets:Bank:Savings",), ("Income:Interest",)),
    (
        "Prepayment",
        ("Assets:Prepaid:Insurance", "Assets:Prepaid:Rent", "Assets:Deposits"),
        ("Assets:Bank:Checking",),
    ),
    ("Customer prepayment", ("Assets:Bank:Checking",), ("Liabilities:CustomerCredit",)),
    ("Equipment purchase", FIXED, ("Liabilities:Payables:Vendors",)),
    ("Staff advance", ("Assets:Receivables:Employees",), ("Assets:Cash:Petty",)),
    ("Loan drawdown", ("Assets:Bank:Checking",), ("Liabilities:Loans:Bank",)),
    ("Wages paid", ("Liabilities:Payroll:Wages",), ("Assets:Bank:Payroll",)),
    ("Sundry income", ("Assets:Bank:Checking",), ("Income:Other", "Income:Refunds")),
    ("Discount granted", ("Income:Discounts",), ("Assets:Receivables:Customers",)),
    ("Year-end close", ("Equity:RetainedEarnings",), ("Equity:Opening-Balances",)),
)
EUR_PAIRS: tuple[tuple[str, Sequence[str], Sequence[str]], ...] = (
    ("Export sale", ("Assets:Receivables:EUR",), ("Income:Sales:Export",)),
    ("Export receipt", ("Assets:Bank:EUR",), ("Assets:Receivables:EUR",)),
    ("Trip in Europe", ("Expenses:Travel:Europe", "Expenses:Travel:Hotels"), ("Assets:Bank:EUR",)),
    (
        "EU vendor bill",
        ("Expenses:Software", "Expenses:Marketing:Ads"),
        ("Liabilities:Payables:EUR",),
    ),
    ("EU vendor payment", ("Liabilities:Payables:EUR",), ("Assets:Bank:EUR",)),
)
PARTIES = (
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Ltd",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Industries",
    "Soylent Inc",
    "Wonka Foods",
)

ACCOUNTS: tuple[str, ...] = (
    "Assets:Cash:Petty",
    "Assets:Bank:Checking",
    "Assets:Bank:Savings",
    "Assets:Bank:Payroll",
    "Assets:Bank:EUR",
    "Assets:Receivables:Customers",
    "Assets:Receivables:Employees",
    "Assets:Receivables:EUR",
    "Assets:Inventory:Goods",
    "Assets:Inventory:Materials",
    "Assets:Prepaid:Insurance",
    "Assets:Prepaid:Rent",
    "Assets:Deposits",
    "Assets:Tax:Input",
    *FIXED,
    "Assets:Fixed:Depreciation",
    "Liabilities:Payables:Vendors",
    "Liabilities:Payables:EUR",
    "Liabilities:CreditCard:Corporate",
    "Liabilities:Tax:Output",
    "Liabilities:Tax:Income",
    "Liabilities:Payroll:Wages",
    "Liabilities:Payroll:Withholding",
    "Liabilities:CustomerCredit",
    "Liabilities:Loans:Bank",
    "Equity:Capital",
    "Equity:Drawings",
    "Equity:RetainedEarnings",
    "Equity:Opening-Balances",
    *SALES,
    "Income:Sales:Export",
    "Income:Interest",
    "Income:Other",
    "Income:Refunds",
    "Income:Discounts",
    "Expenses:COGS:Goods",
    "Expenses:COGS:Freight",
    "Expenses:Salaries:Staff",
    "Expenses:Salaries:Management",
    "Expenses:Payroll:Taxes",
    "Expenses:Rent",
    "Expenses:Utilities:Power",
    "Expenses:Utilities:Water",
    "Expenses:Utilities:Internet",
    "Expenses:Software",
    "Expenses:Marketing:Ads",
    "Expenses:Marketing:Events",
    "Expenses:Travel:Flights",
    "Expenses:Travel:Hotels",
    "Expenses:Travel:Meals",
    "Expenses:Travel:Europe",
    "Expenses:Office:Supplies",
    "Expenses:Office:Furniture",
    "Expenses:Professional:Legal",
    "Expenses:Professional:Accounting",
    "Expenses:Insurance",
    "Expenses:Depreciation",
    "Expenses:Bank:Fees",
    "Expenses:Interest",
    "Expenses:Repairs",
    "Expenses:Tax:Income",
)


@dataclass(frozen=True, slots=True)
class Transaction:
    """One generated transaction; ``number`` counts from 1."""

    number: int
    date: date
    description: str
    postings: tuple[Line, ...]


def _amount(rng: Random) -> int:
    """An amount in cents: mostly small, sometimes large (1.00 to 50,000.00)."""
    return rng.randint(100, 5_000_000 if rng.random() < 0.1 else 250_000)


def _tax(net: int) -> int:
    return (net * TAX_RATE_BP + 5_000) // 10_000


def _pair(rng: Random, eur: bool) -> tuple[str, tuple[Line, ...]]:
    label, debits, credits = rng.choice(EUR_PAIRS if eur else USD_PAIRS)
    commodity = "EUR" if eur else "USD"
    amount = _amount(rng)
    postings = ((rng.choice(debits), amount, commodity), (rng.choice(credits), -amount, commodity))
    return label, postings


def _invoice_or_bill(rng: Random) -> tuple[str, tuple[Line, ...]]:
    net = _amount(rng)
    tax = _tax(net)
    if rng.random() < 0.5:
        return "Invoice", (
            ("Assets:Receivables:Customers", net + tax, "USD"),
            (rng.choice(SALES), -net, "USD"),
            ("Liabilities:Tax:Output", -tax, "USD"),
        )
    return "Bill", (
        (rng.choice(BILL_EXPENSES), net, "USD"),
        ("Assets:Tax:Input", tax, "USD"),
        ("Liabilities:Payables:Vendors", -(net + tax), "USD"),
    )


def _loan_payment(rng: Random) -> tuple[str, tuple[Line, ...]]:
    principal = _amount(rng)
    interest = principal // rng.randint(8, 40) + 1
    return "Loan instalment", (
        ("Liabilities:Loans:Bank", principal, "USD"),
        ("Expenses:Interest", interest, "USD"),
        ("Assets:Bank:Checking", -(principal + interest), "USD"),
    )


def _payroll(rng: Random) -> tuple[str, tuple[Line, ...]]:
    gross = rng.randint(200_000, 1_500_000)
    withheld = gross * rng.randint(15, 30) // 100
    employer = gross * 765 // 10_000
    return "Payroll", (
        (rng.choice(("Expenses:Salaries:Staff", "Expenses:Salaries:Management")), gross, "USD"),
        ("Expenses:Payroll:Taxes", employer, "USD"),
        ("Liabilities:Payroll:Withholding", -(withheld + employer), "USD"),
        ("Liabilities:Payroll:Wages", -(gross - withheld), "USD"),
    )


def _split_invoice(rng: Random) -> tuple[str, tuple[Line, ...]]:
    goods, services = _amount(rng), _amount(rng)
    tax = _tax(goods + services)
    return "Invoice", (
        ("Assets:Receivables:Customers", goods + services + tax, "USD"),
        ("Income:Sales:Products", -goods, "USD"),
        ("Income:Sales:Services", -services, "USD"),
        ("Liabilities:Tax:Output", -tax, "USD"),
    )


def _draw(rng: Random, eur_share: float) -> tuple[str, tuple[Line, ...]]:
    """60 % two postings, 30 % three, 10 % four: 2.5 postings per transaction."""
    shape = rng.random()
    if shape < 0.6:
        return _pair(rng, eur=rng.random() < eur_share / 0.6)
    if shape < 0.9:
        return _invoice_or_bill(rng) if rng.random() < 0.8 else _loan_payment(rng)
    return _payroll(rng) if rng.random() < 0.3 else _split_invoice(rng)


def transactions(
    n: int, seed: int = DEFAULT_SEED, eur_share: float = DEFAULT_EUR_SHARE
) -> Iterator[Transaction]:
    """The ``n`` transactions for ``seed``, dated evenly over five years from 2020."""
    rng = Random(seed)
    for number in range(1, n + 1):
        label, postings = _draw(rng, eur_share)
        day = START + timedelta(days=(number - 1) * DAYS // n)
        yield Transaction(number, day, f"{label} {rng.choice(PARTIES)}", postings)


def cents(value: int) -> str:
    """``-1234`` -> ``"-12.34"``."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"


class BookWriter:
    """Writes each transaction to the CSV, journal and beancount files and sums balances."""

    def __init__(self, csv: TextIO, journal: TextIO, beancount: TextIO) -> None:
        self._csv, self._journal, self._beancount = csv, journal, beancount
        self.totals: dict[tuple[str, str], int] = {}
        self.postings = 0
        self._last_day: date | None = None
        self._iso = ""

    def header(self, n: int, seed: int) -> None:
        """Column names, account declarations and options."""
        note = f"generated by benchmarks.generate: {n} transactions, seed {seed}"
        self._csv.write("entry,date,account,amount,commodity,description\n")
        self._journal.write(f"; {note}\n\n")
        self._journal.writelines(f"commodity {c}\n    format 1000.00 {c}\n" for c in COMMODITIES)
        self._journal.writelines(f"account {account}\n" for account in ACCOUNTS)
        self._beancount.write(f'; {note}\n\noption "operating_currency" "USD"\n\n')
        self._beancount.writelines(f"{OPEN_DATE} commodity {c}\n" for c in COMMODITIES)
        self._beancount.writelines(f"{OPEN_DATE} open {account}\n" for account in ACCOUNTS)

    def write(self, tx: Transaction) -> None:
        """Append one transaction to every file."""
        if tx.date != self._last_day:
            self._last_day, self._iso = tx.date, tx.date.isoformat()
        day, text = self._iso, tx.description
        csv_rows, journal, beancount = [], [f"\n{day} * {text}\n"], [f'\n{day} * "{text}"\n']
        for account, amount, commodity in tx.postings:
            number = cents(amount)
            csv_rows.append(f"{tx.number},{day},{account},{number},{commodity},{text}\n")
            journal.append(f"    {account}  {number} {commodity}\n")
            beancount.append(f"  {account}  {number} {commodity}\n")
            key = (account, commodity)
            self.totals[key] = self.totals.get(key, 0) + amount
        self.postings += len(tx.postings)
        self._csv.write("".join(csv_rows))
        self._journal.write("".join(journal))
        self._beancount.write("".join(beancount))

    def expected(self, n: int, seed: int, eur_share: float) -> dict[str, Any]:
        """The document written to ``expected.json``."""
        balances: dict[str, dict[str, str]] = {}
        for (account, commodity), total in sorted(self.totals.items()):
            balances.setdefault(account, {})[commodity] = cents(total)
        return {
            "format_version": FORMAT_VERSION,
            "transactions": n,
            "postings": self.postings,
            "seed": seed,
            "eur_share": eur_share,
            "balances": balances,
        }


def generate(
    n: int, outdir: Path, seed: int = DEFAULT_SEED, eur_share: float = DEFAULT_EUR_SHARE
) -> dict[str, Any]:
    """Write the four files for ``n`` transactions into ``outdir``; return the expectation.

    ``expected.json`` is written last, so its presence marks a complete data set.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "expected.json").unlink(missing_ok=True)
    with ExitStack() as stack:

        def open_out(name: str) -> TextIO:
            return stack.enter_context(
                (outdir / name).open("w", encoding="utf-8", newline="\n", buffering=1 << 20)
            )

        writer = BookWriter(
            open_out("entries.csv"), open_out("books.journal"), open_out("books.beancount")
        )
        writer.header(n, seed)
        for tx in transactions(n, seed, eur_share):
            writer.write(tx)
    expected = writer.expected(n, seed, eur_share)
    (outdir / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    return expected


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m benchmarks.generate N OUTDIR [--seed S] [--eur-share F]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", type=int, help="number of transactions")
    parser.add_argument("outdir", type=Path, help="folder for the four files")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--eur-share",
        type=float,
        default=DEFAULT_EUR_SHARE,
        help="share of transactions in EUR (0 for USD only)",
    )
    args = parser.parse_args(argv)
    expected = generate(args.n, args.outdir, args.seed, args.eur_share)
    print(
        f"wrote {expected['transactions']} transactions, {expected['postings']} postings "
        f"to {args.outdir}"
    )


if __name__ == "__main__":
    main()
