"""Seeded books of a small company, for checking crmledger against other ledger tools.

:func:`generate` draws ``n`` journal entries from ``random.Random(seed)``: sales with VAT,
purchases, receipts and payments, payroll, loans, dollar and yen business, currency
exchanges and trades in a stock ``ACME`` over three years, with unicode and quotes in payees
and narrations, some tags, references and posting memos::

    book = generate(seed=7, n=500)
    app.ledger.add_commodity(*book.commodities)      # Commodity("ACME", 0)
    app.ledger.post(book.entries, open_accounts=True)
    assert trial_balance_of(app) == book.balances()

Every amount is built from integer minor units and every conversion (``@`` unit price in
EUR) is chosen so that its weight is a whole number of cents: each entry balances exactly
per weight commodity, never only within a rounding tolerance.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.chart import chart
from crmledger.core.entries import Conversion, JournalEntry, Posting, check_balanced
from crmledger.core.money import Commodity
from tests.helpers import posting_sums

START = date(2022, 1, 1)
DAYS = (date(2024, 12, 31) - START).days + 1
SCALES = {"EUR": 2, "USD": 2, "JPY": 0, "ACME": 0}
ACME = Commodity("ACME", 0)

CHART = frozenset(account.name for account in chart("default"))
NEW_ACCOUNTS = (
    "Assets:Bank:USD",
    "Assets:Bank:JPY",
    "Assets:Broker:ACME",
    "Liabilities:CreditCard",
    "Income:Dividends",
    "Expenses:Meals and Entertainment",
    "Expenses:Café",
    "Expenses:Travel:Hotels",  # a child of Expenses:Travel, which has postings of its own
)
"""Accounts not in the default chart: the book opens them on first use."""

PAYEES = (
    "Müller & Söhne GmbH",
    "Société Générale",
    "O'Brien Ltd",
    'ACME "Widgets" Inc.',
    "株式会社ヤマダ",
    "Zürcher Kantonalbank",
    "Ærøskøbing Café",
    "Dvořák s.r.o.",
    "Ελληνική Εταιρεία",
    "Иванов и партнёры",
    "Smith, Jones and Partners",
    "100% Organic Ltd",
)
NARRATIONS = (
    'Invoice "{n}"',
    "Büromaterial \u2013 Bestellung {n}",
    "Déjeuner d'affaires à Paris",
    "出張 東京 {n}",
    "Launch 🚀 campaign {n}",
    'He said "ship it" ({n})',
    "Path C:\\temp\\{n}",
    "(draft) accrual {n}",
    "!important {n}",
    "Rabatt 10% auf Ware",
    "Payment | split {n}",
    "#{n} is not a tag",
    "Total: {n} EUR",
    "Œuvre №{n} — «quoted»",
)
TAGS = ("audit", "project-x", "q4", "review", "urgent")
MEMOS = ("Receipt Nr. 17", "inkl. 19 % MwSt", "pro\u2011rata", 'see "terms"', "ÜBERTRAG")
VAT_RATES = (0, 7, 19, 20)


@dataclass(frozen=True)
class GeneratedBook:
    """The entries to post and the non-ISO commodities to declare before posting."""

    entries: list[JournalEntry]
    commodities: list[Commodity]

    def balances(self) -> dict[tuple[str, str], Decimal]:
        """Per account and commodity, the sum of posting amounts (zero sums left out)."""
        return posting_sums(self.entries)


def generate(seed: int = 20_240_601, n: int = 3000) -> GeneratedBook:
    """``n`` balanced entries in date order, the same for the same arguments."""
    rng = random.Random(seed)
    days = sorted(START + timedelta(days=rng.randrange(DAYS)) for _ in range(n - 1))
    drawer = _Drawer(rng)
    entries = [drawer.capital(START)] + [drawer.draw(day) for day in days]
    for entry in entries:
        check_balanced(entry.postings, SCALES)
    return GeneratedBook(entries, [ACME])


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def _posting(account: str, amount: Decimal, commodity: str = "EUR") -> Posting:
    return Posting(account, amount, commodity)


class _Drawer:
    """Draws one entry at a time; keeps the ACME holding so sales never go short."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.holding = 0
        self.serial = 0
        kinds = [
            (self.sale, 24),
            (self.purchase, 20),
            (self.receipt, 14),
            (self.vendor_payment, 10),
            (self.payroll, 6),
            (self.rent, 5),
            (self.loan, 3),
            (self.dollar_sale, 6),
            (self.yen_trip, 4),
            (self.dollar_exchange, 4),
            (self.yen_funding, 2),
            (self.buy_acme, 3),
            (self.sell_acme, 2),
            (self.dividend, 1),
        ]
        self.kinds = [kind for kind, _ in kinds]
        self.weights = [weight for _, weight in kinds]

    def draw(self, day: date) -> JournalEntry:
        [kind] = self.rng.choices(self.kinds, self.weights)
        postings, journal = kind()
        return self._entry(day, postings, journal)

    def capital(self, day: date) -> JournalEntry:
        amount = _cents(25_000_000)
        postings = [
            _posting("Assets:Bank:Checking", amount),
            _posting("Equity:Capital", -amount),
        ]
        return JournalEntry(day, "Share capital paid in", tuple(postings), payee="Founders")

    # -- the parts every entry has -------------------------------------------------------

    def _entry(self, day: date, postings: list[Posting], journal: str) -> JournalEntry:
        rng = self.rng
        self.serial += 1
        narration = rng.choice(NARRATIONS).format(n=self.serial)
        payee = rng.choice(PAYEES) if rng.random() < 0.7 else None
        tags = tuple(sorted(rng.sample(TAGS, rng.choice((1, 1, 2))))) if rng.random() < 0.2 else ()
        reference = f"{journal}-{day.year}-{self.serial:05d}" if rng.random() < 0.3 else None
        if rng.random() < 0.1:
            index = rng.randrange(len(postings))
            postings[index] = replace(postings[index], memo=rng.choice(MEMOS))
        return JournalEntry(
            date=day,
            narration=narration,
            postings=tuple(postings),
            journal=journal,
            payee=payee,
            reference=reference,
            tags=tags,
        )

    def _amount(self, low: int, high: int) -> int:
        """Cents, mostly small, now and then large."""
        return self.rng.randint(low, high if self.rng.random() < 0.9 else high * 20)

    # -- euro business --------------------------------------------------------------------

    def sale(self) -> tuple[list[Posting], str]:
        rng = self.rng
        lines = [("Income:Sales:Products", self._amount(500, 300_000))]
        if rng.random() < 0.3:
            lines.append(("Income:Sales:Services", self._amount(500, 200_000)))
        rate = rng.choice(VAT_RATES)
        net = sum(amount for _, amount in lines)
        tax = net * rate // 100
        debit = "Assets:Receivables:Customers" if rng.random() < 0.8 else "Assets:Cash"
        postings = [_posting(debit, _cents(net + tax))]
        postings += [_posting(account, _cents(-amount)) for account, amount in lines]
        if tax:
            postings.append(_posting("Liabilities:Tax:Output", _cents(-tax)))
        return postings, "SJ"

    def purchase(self) -> tuple[list[Posting], str]:
        rng = self.rng
        accounts = [
            "Expenses:Office",
            "Expenses:Software",
            "Expenses:Marketing",
            "Expenses:Travel",
            "Expenses:Travel:Hotels",
            "Expenses:Meals and Entertainment",
            "Expenses:Café",
            "Expenses:Professional",
            "Expenses:Utilities",
            "Assets:Inventory",
        ]
        chosen = rng.sample(accounts, rng.choice((1, 1, 2, 3)))
        lines = [(account, self._amount(100, 80_000)) for account in chosen]
        rate = rng.choice(VAT_RATES)
        net = sum(amount for _, amount in lines)
        tax = net * rate // 100
        postings = [_posting(account, _cents(amount)) for account, amount in lines]
        if tax:
            postings.append(_posting("Assets:Tax:Input", _cents(tax)))
        elif rng.random() < 0.2:  # a free sample: a posting of zero
            postings.append(_posting("Expenses:Office", _cents(0)))
        credit = rng.choice(("Liabilities:Payables:Vendors", "Liabilities:CreditCard"))
        postings.append(_posting(credit, _cents(-(net + tax))))
        return postings, "PJ"

    def receipt(self) -> tuple[list[Posting], str]:
        amount = self._amount(1000, 400_000)
        postings = [_posting("Assets:Receivables:Customers", _cents(-amount))]
        if self.rng.random() < 0.3:
            fee = self.rng.randint(1, 500)
            postings += [
                _posting("Assets:Bank:Checking", _cents(amount - fee)),
                _posting("Expenses:Bank:Fees", _cents(fee)),
            ]
        else:
            postings.append(_posting("Assets:Bank:Checking", _cents(amount)))
        return postings, "BK"

    def vendor_payment(self) -> tuple[list[Posting], str]:
        amount = self._amount(1000, 200_000)
        creditor = self.rng.choice(("Liabilities:Payables:Vendors", "Liabilities:CreditCard"))
        bank = self.rng.choice(("Assets:Bank:Checking", "Assets:Bank:Savings"))
        return [
            _posting(creditor, _cents(amount)),
            _posting(bank, _cents(-amount)),
        ], "BK"

    def payroll(self) -> tuple[list[Posting], str]:
        gross = self.rng.randint(300_000, 900_000)
        tax = gross * self.rng.randint(20, 40) // 100
        return [
            _posting("Expenses:Salaries", _cents(gross)),
            _posting("Liabilities:Payroll", _cents(-tax)),
            _posting("Assets:Bank:Checking", _cents(tax - gross)),
        ], "GJ"

    def rent(self) -> tuple[list[Posting], str]:
        account = self.rng.choice(("Expenses:Rent", "Expenses:Utilities", "Expenses:Software"))
        amount = self.rng.randint(5_000, 250_000)
        return [
            _posting(account, _cents(amount)),
            _posting("Assets:Bank:Checking", _cents(-amount)),
        ], "GJ"

    def loan(self) -> tuple[list[Posting], str]:
        principal = self.rng.randint(50_000, 200_000)
        interest = self.rng.randint(1_000, 30_000)
        return [
            _posting("Liabilities:Loans", _cents(principal)),
            _posting("Expenses:Interest", _cents(interest)),
            _posting("Assets:Bank:Checking", _cents(-principal - interest)),
        ], "BK"

    # -- dollars and yen ------------------------------------------------------------------

    def dollar_sale(self) -> tuple[list[Posting], str]:
        amount = self._amount(1000, 500_000)
        return [
            _posting("Assets:Bank:USD", _cents(amount), "USD"),
            _posting("Income:Sales:Services", _cents(-amount), "USD"),
        ], "SJ"

    def yen_trip(self) -> tuple[list[Posting], str]:
        accounts = self.rng.sample(
            ("Expenses:Travel:Hotels", "Expenses:Café", "Expenses:Travel"), self.rng.randint(1, 3)
        )
        amounts = [self.rng.randint(300, 90_000) for _ in accounts]
        postings = [_posting(a, Decimal(y), "JPY") for a, y in zip(accounts, amounts, strict=True)]
        postings.append(_posting("Assets:Bank:JPY", Decimal(-sum(amounts)), "JPY"))
        return postings, "PJ"

    def dollar_exchange(self) -> tuple[list[Posting], str]:
        """Sell dollars for euros at a unit price whose weight is whole cents."""
        rng = self.rng
        if rng.random() < 0.5:  # whole dollars at a two-place rate
            dollars = rng.randint(100, 20_000) * 100
            rate = Decimal(rng.randint(85, 98)).scaleb(-2)
        else:  # hundreds of dollars at a four-place rate
            dollars = rng.randint(1, 200) * 10_000
            rate = Decimal(rng.randint(8500, 9800)).scaleb(-4)
        sold = _cents(-dollars)
        euros = sold * rate
        postings = [Posting("Assets:Bank:USD", sold, "USD", price=Conversion(rate, "EUR"))]
        if rng.random() < 0.4:
            fee = rng.randint(100, 2_500)
            postings += [
                _posting("Expenses:Bank:Fees", _cents(fee)),
                _posting("Assets:Bank:Checking", -euros - _cents(fee)),
            ]
        else:
            postings.append(_posting("Assets:Bank:Checking", -euros))
        return postings, "BK"

    def yen_funding(self) -> tuple[list[Posting], str]:
        yen = self.rng.randint(10, 5_000) * 100
        rate = Decimal(self.rng.randint(55, 75)).scaleb(-4)  # EUR per JPY
        bought = Decimal(yen)
        return [
            Posting("Assets:Bank:JPY", bought, "JPY", price=Conversion(rate, "EUR")),
            _posting("Assets:Bank:Checking", -bought * rate),
        ], "BK"

    # -- the stock ------------------------------------------------------------------------

    def _acme_price(self) -> Decimal:
        return _cents(self.rng.randint(4_000, 25_000))

    def buy_acme(self) -> tuple[list[Posting], str]:
        units = self.rng.randint(1, 300)
        price = self._acme_price()
        self.holding += units
        postings = [
            Posting("Assets:Broker:ACME", Decimal(units), "ACME", price=Conversion(price, "EUR"))
        ]
        fee = self.rng.randint(0, 1_500) if self.rng.random() < 0.6 else 0
        if fee:
            postings.append(_posting("Expenses:Bank:Fees", _cents(fee)))
        postings.append(_posting("Assets:Bank:Checking", -units * price - _cents(fee)))
        return postings, "GJ"

    def sell_acme(self) -> tuple[list[Posting], str]:
        if self.holding == 0:
            return self.buy_acme()
        units = self.rng.randint(1, self.holding)
        price = self._acme_price()
        self.holding -= units
        return [
            Posting("Assets:Broker:ACME", Decimal(-units), "ACME", price=Conversion(price, "EUR")),
            _posting("Assets:Bank:Checking", units * price),
        ], "GJ"

    def dividend(self) -> tuple[list[Posting], str]:
        amount = self.rng.randint(100, 50_000)
        return [
            _posting("Assets:Bank:Checking", _cents(amount)),
            _posting("Income:Dividends", _cents(-amount)),
        ], "GJ"
