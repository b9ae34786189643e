"""The demo company: a realistic book of customers and money, from a seed.

``crmledger demo --customers N --years Y --seed S`` fills the book with a services company
that also sells some hardware: its share capital and a laptop bought in dollars, rent, the
CRM showcase (eight named customers with their people, products, a pipeline, quotes, an
order, a contract and a support queue), ``N - 8`` more customers drawn from the seed
(:mod:`crmledger.services.demo_world`), and ``Y`` years of trade up to today
(:mod:`crmledger.services.demo_trade`): invoices in five currencies, receipts on time, late,
in part or never, complaints and credit notes, surveys, vendor bills, payroll, dunning,
and the staff's expense claims with their receipts (:mod:`crmledger.services.demo_staff`).

Everything goes through the services a user calls, with a clock that walks through the
months, so timestamps, stage histories and audit records read as if the company had lived
them. The same seed and the same ``today`` give the same book; it balances and passes
``audit verify``. The first quarter of the last year is locked, with one mistake in it
corrected by reversal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from crmledger.core.crm.parties import Contact, Party, PartyKind
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.services.billing_print import CompanyDetails, DocumentPrinter
from crmledger.services.crm_demo import CrmServices, load_showcase, load_showcase_activity
from crmledger.services.demo_staff import ClaimTally, Staff, StaffServices
from crmledger.services.demo_trade import (
    SUPPLIER,
    VENDORS,
    Account,
    Tally,
    Trade,
    TradeServices,
    months,
)
from crmledger.services.demo_world import COUNTRIES, Customer, draw_world
from crmledger.services.parties import PartyService
from crmledger.services.products import ProductService

#: What a step reports: a label, how far it is and how far it goes.
Progress = Callable[[str, int, int], None]

COMPANY = CompanyDetails(
    name="Example Consulting GmbH",
    street="Hafenstraße 1",
    postcode="20457",
    city="Hamburg",
    country="DE",
    vat_id="DE136695976",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    email="billing@example.com",
)
#: How the showcase customers pay, by position, and those billed in a foreign currency.
SHOWCASE_HABITS = ("punctual", "late", "partial", "punctual", "slow", "unpaid", "late", "late")
SHOWCASE_CURRENCY = {1: "GBP", 3: "USD"}


@dataclass(frozen=True, slots=True)
class DemoSpec:
    """How big a demo: ``customers`` customers, ``years`` years up to ``today``."""

    customers: int = 40
    years: int = 1
    seed: int = 7
    today: date = date(2026, 11, 20)

    @property
    def first_month(self) -> date:
        return date(self.today.year - self.years + 1, 1, 1)

    @property
    def months(self) -> int:
        first = self.first_month
        return (self.today.year - first.year) * 12 + self.today.month - first.month + 1


class DemoClock:
    """A clock the demo moves forward as it loads the months."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.date()

    def advance(self, to: datetime) -> None:
        """Move to ``to`` (never back)."""
        self.current = max(self.current, to)


@dataclass(frozen=True, slots=True)
class DemoServices:
    """The services the demo goes through (all built on the same :class:`DemoClock`)."""

    crm: CrmServices
    trade: TradeServices
    staff: StaffServices
    printer: DocumentPrinter


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo loaded."""

    customers: int
    parties: int
    entries: int
    locked_until: date
    tally: Tally
    claims: ClaimTally


def _entry(
    day: date, narration: str, *lines: tuple[str, str], payee: str | None = None, ccy: str = "EUR"
) -> JournalEntry:
    return JournalEntry(
        date=day,
        narration=narration,
        payee=payee,
        postings=tuple(Posting(account, Decimal(amount), ccy) for account, amount in lines),
    )


def company_entries(first_year: int, last_year: int, today: date) -> list[JournalEntry]:
    """The company's own entries: capital, monthly rent and a laptop bought in dollars."""
    entries = [
        _entry(
            date(first_year, 1, 2),
            "Share capital paid in",
            ("Assets:Bank:Checking", "50000.00"),
            ("Equity:Capital", "-50000.00"),
        ),
        _entry(
            date(first_year, 1, 3),
            "Dollar account opened",
            ("Assets:Bank:Savings", "2000.00"),
            ("Equity:Capital", "-2000.00"),
            ccy="USD",
        ),
    ]
    for year in range(first_year, last_year + 1):
        for month in range(1, 13):
            day = date(year, month, 1)
            if day <= today:
                entries.append(
                    _entry(
                        day,
                        "Office rent",
                        ("Expenses:Rent", "1800.00"),
                        ("Assets:Bank:Checking", "-1800.00"),
                        payee="City Offices",
                    )
                )
    entries.append(
        JournalEntry(
            date=date(last_year, 3, 15),
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
    return sorted(entries, key=lambda e: e.date)


def _books(services: DemoServices, spec: DemoSpec) -> int:
    """Post the company's entries and a mistake in the last year's April, corrected by
    reversal; returns how many entries that made."""
    ledger = services.trade.ledger
    last = spec.today.year
    refs = ledger.post(company_entries(spec.first_month.year, last, spec.today))
    mistake = ledger.post(
        [
            _entry(
                date(last, 4, 10),
                "Team lunch (booked to rent by mistake)",
                ("Expenses:Rent", "240.00"),
                ("Assets:Bank:Checking", "-240.00"),
            )
        ]
    )[0]
    ledger.reverse(mistake.id, date(last, 4, 11), "Correction: team lunch is not rent")
    ledger.post(
        [
            _entry(
                date(last, 4, 11),
                "Team lunch",
                ("Expenses:Office", "240.00"),
                ("Assets:Bank:Checking", "-240.00"),
            )
        ]
    )
    return len(refs) + 3


def _showcase(customer: Customer, index: int) -> Customer:
    """The traits of a showcase customer: it has been a customer all along."""
    currency = SHOWCASE_CURRENCY.get(index)
    country = customer.country
    if currency is not None:
        country = next(c for c in COUNTRIES if c.currency == currency)
    elif country.currency != "EUR":
        country = COUNTRIES[0]
    return replace(
        customer,
        country=country,
        habit=SHOWCASE_HABITS[index % len(SHOWCASE_HABITS)],
        friction=0.45 if index in (0, 1, 2, 3) else 0.15,
        acquired=date(1970, 1, 1),
        churned=None,
        segment="enterprise" if index < 2 else "mid-market",
        invoices_per_year=(6, 9),
        lines_per_invoice=(1, 3),
        credit_limit="20000",
    )


def _population(
    parties: PartyService, customers: list[Customer]
) -> list[tuple[int, tuple[int, ...]]]:
    """Store generated customers and their people; returns (party id, contact ids) each."""
    orgs = parties.add_many([c.party() for c in customers])
    people = parties.add_many([c.person(p) for c in customers for p in c.people])
    links = []
    out = []
    position = 0
    for customer, org in zip(customers, orgs, strict=True):
        assert org.id is not None
        ids = []
        for n, _person in enumerate(customer.people):
            person = people[position]
            position += 1
            assert person.id is not None
            links.append(Contact(org.id, person.id, customer.people[n].role, primary=n == 0))
            ids.append(person.id)
        out.append((org.id, tuple(ids)))
    parties.add_contacts(links)
    return out


def _vendors(parties: PartyService) -> list[int]:
    """The vendors of :data:`VENDORS`, then the hardware supplier."""
    stored = parties.add_many(
        [
            Party(kind=PartyKind.ORGANISATION, display_name=name, source="demo", tags=("vendor",))
            for name in [v[0] for v in VENDORS] + [SUPPLIER]
        ]
    )
    return [p.id for p in stored if p.id is not None]


def _catalogue(
    products: ProductService, ids: tuple[int, ...]
) -> dict[str, list[tuple[int, Decimal, Decimal]]]:
    """The products each segment buys, with their EUR list prices and unit costs."""
    priced: list[tuple[int, Decimal, Decimal]] = []
    for product_id in ids:
        product = products.get(product_id)
        price = product.price("EUR")
        if price is not None and product.active:
            priced.append((product_id, price, product.cost or Decimal(0)))
    cheap = [p for p in priced if p[1] < 1000]
    return {"smb": cheap, "mid-market": priced, "enterprise": priced}


def _showcase_year(today: date) -> int:
    """The year of the showcase's CRM activity (the last one that has reached July)."""
    return today.year if today >= date(today.year, 7, 1) else today.year - 1


def load_demo(
    services: DemoServices,
    spec: DemoSpec,
    clock: DemoClock,
    progress: Progress | None = None,
) -> DemoResult:
    """Load the demo company (see the module docstring) into an initialised book."""
    report = progress or (lambda _label, _done, _total: None)
    first = spec.first_month
    clock.advance(datetime.combine(first, time(8), tzinfo=UTC))
    services.printer.set_company(COMPANY)
    entries = _books(services, spec)
    staff = Staff(services.staff, spec.seed, spec.today, clock.advance)
    staff.hire()
    crm = load_showcase(services.crm, first)
    world = draw_world(spec.customers, first, spec.months, spec.seed)
    report("customers", 0, spec.customers)
    showcase = min(len(crm.customers), spec.customers)
    traits = [_showcase(c, i) for i, c in enumerate(world.customers[:showcase])]
    stored: list[tuple[int, tuple[int, ...]]] = [(p, ()) for p in crm.customers[:showcase]]
    drawn = list(world.customers[showcase:])
    stored += _population(services.crm.parties, drawn)
    report("customers", spec.customers, spec.customers)
    catalogue = _catalogue(services.crm.products, crm.products)
    accounts = [
        Account(c, party_id, contacts, tuple(catalogue[c.segment]))
        for c, (party_id, contacts) in zip(traits + drawn, stored, strict=True)
    ]
    trade = Trade(services.trade, accounts, spec.seed, spec.today, clock.advance)
    *trade.vendors, trade.supplier = _vendors(services.crm.parties)
    for n, month in enumerate(months(first, spec.months)):
        trade.month(month, staff.month)
        report("months", n + 1, spec.months)
    tally = trade.finish()
    load_showcase_activity(services.crm, crm, _showcase_year(spec.today))
    locked = date(spec.today.year, 3, 31)
    if locked < spec.today:
        services.trade.ledger.lock_period(locked)
    clock.advance(datetime.combine(spec.today, time(18), tzinfo=UTC) + timedelta(minutes=1))
    parties = len(stored) + sum(len(c) for _, c in stored) + len(trade.vendors) + 1
    return DemoResult(spec.customers, parties, entries, locked, tally, staff.tally)
