"""The demo's billing: invoices in three currencies, payments on time, late, in part or not
at all, a credit note, vendor bills, contract billing, all through the billing services
from a fixed seed, dated after the demo books' locked first quarter::

    load_billing_demo(BillingServices(invoices, payments, rates, printer), customers,
                      products, year=2026)

Each customer pays in its own way (punctual, late, in two parts, or not yet), so balances,
aging, days to pay and the timeline have something to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.crm.parties import Party, PartyKind
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.billing_print import CompanyDetails, DocumentPrinter
from crmledger.services.invoicing import DocumentLine, InvoiceService, NewDocument
from crmledger.services.parties import PartyService
from crmledger.services.rates import RateService
from crmledger.services.settling import NewPayment, PaymentService

#: How each customer pays, in turn.
HABITS = ("punctual", "late", "partial", "punctual", "slow", "unpaid")
#: The customers billed in a foreign currency (by position), and the currency.
FOREIGN = {1: "GBP", 3: "USD"}
RATES = {"USD": Decimal("0.92"), "GBP": Decimal("1.17")}


@dataclass(frozen=True, slots=True)
class BillingServices:
    """The services the billing demo goes through."""

    invoices: InvoiceService
    payments: PaymentService
    rates: RateService
    printer: DocumentPrinter
    parties: PartyService


@dataclass(frozen=True, slots=True)
class BillingDemo:
    """What the billing demo loaded."""

    invoices: int
    payments: int
    credit_notes: int
    bills: int


def _rates(services: BillingServices, year: int, rng: random.Random) -> None:
    for month in range(4, 13):
        for currency, rate in RATES.items():
            drift = Decimal(rng.randrange(-300, 300)).scaleb(-4)
            services.rates.set_rate(currency, date(year, month, 1), rate + drift)


def _pay(
    services: BillingServices, habit: str, invoice_id: int, today: date, rng: random.Random
) -> int:
    doc = services.invoices.get(invoice_id)
    assert doc.due_on is not None
    days = {"punctual": -rng.randrange(0, 10), "late": rng.randrange(10, 40), "slow": 55}
    if habit == "unpaid" or (habit not in days and habit != "partial"):
        return 0
    if habit == "partial":
        half = (doc.gross / 2).quantize(doc.gross)
        parts = [(doc.due_on, half), (doc.due_on + timedelta(days=30), doc.gross - half)]
    else:
        parts = [(doc.due_on + timedelta(days=days[habit]), doc.gross)]
    count = 0
    for day, amount in parts:
        if day <= today:
            new = NewPayment(
                party_id=doc.party_id, amount=amount, currency=doc.currency, paid_on=day
            )
            services.payments.record(new)
            count += 1
    return count


def load_billing_demo(
    services: BillingServices,
    customers: tuple[int, ...],
    products: tuple[int, ...],
    year: int,
    today: date,
) -> BillingDemo:
    """Load the billing half of the demo (after the CRM half)."""
    rng = random.Random(11)  # noqa: S311 (demo data, not security)
    services.printer.set_company(
        CompanyDetails(
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
    )
    _rates(services, year, rng)
    invoices = payments = 0
    last = min(today, date(year, 12, 31))
    for month in range(4, 13):
        for index, party in enumerate(customers):
            issued_on = date(year, month, 5 + index)
            if issued_on > last or rng.random() < 0.3:
                continue
            lines = [
                DocumentLine(
                    product_id=rng.choice(products[:3]), quantity=Decimal(rng.randrange(1, 6))
                )
                for _ in range(rng.randrange(1, 4))
            ]
            currency = FOREIGN.get(index, "EUR")
            if currency != "EUR":
                lines = [
                    DocumentLine(
                        description="Consulting day",
                        quantity=line.quantity,
                        unit_price=Decimal("980.00"),
                    )
                    for line in lines
                ]
            draft = services.invoices.create(
                NewDocument(party_id=party, currency=currency, lines=lines, issued_on=issued_on)
            )
            issued = services.invoices.issue(draft.id, override_credit=True)
            invoices += 1
            payments += _pay(services, HABITS[index % len(HABITS)], issued.id, last, rng)
    credit_notes = _credit_one(services, customers)
    bills = _bills(services, year, last)
    invoices += len(services.invoices.billing_run(last))
    return BillingDemo(invoices, payments, credit_notes, bills)


def _credit_one(services: BillingServices, customers: tuple[int, ...]) -> int:
    """Credit the first line of the complaining customer's latest invoice."""
    found = services.invoices.page(BillingQuery(limit=1, kind="invoice", party_id=customers[2]))
    if not found or found[0].status == "void":
        return 0
    services.invoices.credit(
        found[0].id, {1: found[0].lines[0].quantity}, reason="Damaged delivery"
    )
    return 1


def _bills(services: BillingServices, year: int, last: date) -> int:
    """A vendor's monthly bill for office supplies, paid two weeks later."""
    vendor = services.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name="Papierhaus Nord KG", source="demo")
    )
    assert vendor.id is not None
    count = 0
    for month in range(4, 13):
        day = date(year, month, 3)
        if day > last:
            break
        line = DocumentLine(
            description="Office supplies", unit_price=Decimal("184.50"), account="Expenses:Office"
        )
        draft = services.invoices.create(
            NewDocument(
                party_id=vendor.id,
                currency="EUR",
                lines=[line],
                kind="bill",
                issued_on=day,
                reference=f"PN-{month:02d}",
            )
        )
        bill = services.invoices.issue(draft.id)
        count += 1
        paid_on = day + timedelta(days=14)
        if paid_on <= last:
            services.payments.record(
                NewPayment(
                    party_id=vendor.id,
                    amount=bill.gross,
                    currency="EUR",
                    paid_on=paid_on,
                    kind="vendor_payment",
                )
            )
    return count
