"""The demo's customer half: the demo books' customers as parties with their people, a
catalogue, a pipeline in motion, a support queue, quotes, an order, a contract and survey
answers, all from a fixed seed and all through the same services a user calls::

    load_crm_demo(CrmServices(parties, interactions, deals, products, sales, contracts,
                              satisfaction), year=2026)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from crmledger.core.crm.contracts import Contract, Frequency, PriceChange
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    Status,
)
from crmledger.core.crm.parties import (
    Address,
    Contact,
    Email,
    Lifecycle,
    Party,
    PartyKind,
    Phone,
    TaxNumber,
)
from crmledger.core.crm.products import Price, Product, ProductKind
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.services.contracts import ContractService
from crmledger.services.deals import DealService
from crmledger.services.interactions import InteractionService
from crmledger.services.parties import PartyService
from crmledger.services.products import ProductService
from crmledger.services.sales import DraftLine, SalesService
from crmledger.services.satisfaction import SatisfactionService

# (name, country, city, postcode, phone, VAT id, segment, lifecycle, contact given/family/role)
CUSTOMERS = (
    (
        "Acme Logistics GmbH",
        "DE",
        "Hamburg",
        "20095",
        "040 3099990",
        "DE136695976",
        "enterprise",
        Lifecycle.CUSTOMER,
        ("Greta", "Albers", "Head of Purchasing"),
    ),
    (
        "Borealis Foods Ltd",
        "GB",
        "Leeds",
        "LS1 4AP",
        "0113 496 0000",
        "GB980780684",
        "mid-market",
        Lifecycle.CUSTOMER,
        ("Oliver", "Brant", "Finance Director"),
    ),
    (
        "Café Lumière SARL",
        "FR",
        "Lyon",
        "69002",
        "04 72 00 00 00",
        "FR40303265045",
        "smb",
        Lifecycle.CUSTOMER,
        ("Camille", "Durand", "Owner"),
    ),
    (
        "Delta Dental Inc",
        "US",
        "Austin",
        "73301",
        "(512) 555-0142",
        "",
        "mid-market",
        Lifecycle.PROSPECT,
        ("Maya", "Reyes", "Practice Manager"),
    ),
    (
        "Eastwind Travel",
        "NL",
        "Utrecht",
        "3511 AB",
        "030 123 4567",
        "",
        "smb",
        Lifecycle.CUSTOMER,
        ("Daan", "de Vries", "Managing Partner"),
    ),
    (
        "Fjord Analytics AS",
        "NO",
        "Bergen",
        "5003",
        "55 55 55 55",
        "",
        "enterprise",
        Lifecycle.PROSPECT,
        ("Ingrid", "Solberg", "CTO"),
    ),
    (
        "Greenleaf Gardens",
        "GB",
        "Bristol",
        "BS1 4DJ",
        "0117 496 0123",
        "",
        "smb",
        Lifecycle.LEAD,
        ("Harry", "Moss", "Founder"),
    ),
    (
        "Helios Solar S.A.",
        "ES",
        "Sevilla",
        "41001",
        "954 000 000",
        "",
        "mid-market",
        Lifecycle.FORMER_CUSTOMER,
        ("Lucía", "Ortega", "Operations Lead"),
    ),
)

# (sku, name, unit, kind, EUR price, income account, unit cost or None)
PRODUCTS = (
    (
        "CONSULT-H",
        "Consulting hour",
        "h",
        ProductKind.SERVICE,
        "120.00",
        "Income:Sales:Services",
        None,
    ),
    (
        "SUPPORT-M",
        "Support plan, monthly",
        "month",
        ProductKind.SERVICE,
        "450.00",
        "Income:Sales:Services",
        None,
    ),
    (
        "WORKSHOP-D",
        "On-site workshop day",
        "day",
        ProductKind.SERVICE,
        "1400.00",
        "Income:Sales:Services",
        None,
    ),
    (
        "SENSOR-KIT",
        "Sensor starter kit",
        "pc",
        ProductKind.GOOD,
        "349.00",
        "Income:Sales:Products",
        "140.00",
    ),
    ("SENSOR-X", "Extra sensor", "pc", ProductKind.GOOD, "89.00", "Income:Sales:Products", "31.00"),
    (
        "TRAIN-SEAT",
        "Training seat",
        "seat",
        ProductKind.SERVICE,
        "690.00",
        "Income:Sales:Services",
        None,
    ),
    (
        "INSTALL",
        "Installation visit",
        "pc",
        ProductKind.SERVICE,
        "250.00",
        "Income:Sales:Services",
        None,
    ),
)

TOPICS = ("renewal", "new project", "pricing", "onboarding", "feedback")

COMPLAINTS = (
    ("Invoice sent to the wrong address", Priority.HIGH),
    ("Sensor kit arrived damaged", Priority.URGENT),
    ("Support reply took too long", Priority.NORMAL),
    ("Workshop room was double-booked", Priority.LOW),
)


@dataclass(frozen=True)
class CrmServices:
    """The CRM services the demo writes through."""

    parties: PartyService
    interactions: InteractionService
    deals: DealService
    products: ProductService
    sales: SalesService
    contracts: ContractService
    satisfaction: SatisfactionService


@dataclass(frozen=True)
class CrmDemo:
    """What the demo loaded."""

    parties: int
    interactions: int
    deals: int
    quotes: int
    customers: tuple[int, ...] = ()
    products: tuple[int, ...] = ()
    people: tuple[int, ...] = ()


def _customers(crm: CrmServices) -> list[tuple[int, int]]:
    """The customers and their main contacts, as ``(organisation id, person id)``."""
    crm.parties.set_region("DE")
    out = []
    for name, country, city, postcode, phone, vat, segment, stage, person in CUSTOMERS:
        domain = name.split()[0].lower().replace("é", "e") + ".example"
        org = crm.parties.add(
            Party(
                kind=PartyKind.ORGANISATION,
                display_name=name,
                segment=segment,
                lifecycle=stage,
                emails=(Email(f"office@{domain}"),),
                phones=(Phone(phone),),
                addresses=(Address(country, city=city, postcode=postcode),),
                tax_ids=(TaxNumber(country, "", vat),) if vat else (),
                currency="EUR",
                payment_terms_days=30,
                credit_limit=Decimal("20000.00"),
                tags=(segment,),
                source="demo",
            )
        )
        given, family, role = person
        contact = crm.parties.add(
            Party(
                kind=PartyKind.PERSON,
                display_name="",
                given_name=given,
                family_name=family,
                emails=(Email(f"{given.lower()}.{family.lower().replace(' ', '')}@{domain}"),),
                addresses=(Address(country, city=city),),
                source="demo",
            )
        )
        assert org.id is not None
        assert contact.id is not None
        crm.parties.add_contact(Contact(org.id, contact.id, role, primary=True))
        out.append((org.id, contact.id))
    return out


def _products(crm: CrmServices) -> list[int]:
    ids = []
    for sku, name, unit, kind, price, account, cost in PRODUCTS:
        product = crm.products.add(
            Product(
                sku=sku,
                name=name,
                unit=unit,
                kind=kind,
                income_account=account,
                prices=(Price("EUR", Decimal(price)),),
                cost=None if cost is None else Decimal(cost),
                cost_account=None if cost is None else "Expenses:COGS",
            )
        )
        assert product.id is not None
        ids.append(product.id)
    return ids


def _interactions(crm: CrmServices, customers: list[tuple[int, int]], year: int) -> int:
    rng = random.Random(11)  # noqa: S311 (demo data, not security)
    start = datetime(year, 1, 5, 9, tzinfo=UTC)
    kinds = (
        InteractionKind.CALL,
        InteractionKind.EMAIL,
        InteractionKind.MEETING,
        InteractionKind.NOTE,
        InteractionKind.INQUIRY,
    )
    items = []
    for org, person in customers:
        for n in range(6):
            kind = kinds[(org + n) % len(kinds)]
            at = start + timedelta(days=rng.randrange(0, 300), hours=rng.randrange(0, 8))
            items.append(
                Interaction(
                    kind=kind,
                    party_id=org if n % 2 else person,
                    subject=f"{kind.value.title()}: {rng.choice(TOPICS)}",
                    body="Notes from the conversation.",
                    occurred_at=at,
                    channel=Channel.PHONE if kind is InteractionKind.CALL else Channel.EMAIL,
                    direction=Direction.OUTBOUND if n % 3 else Direction.INBOUND,
                    status=Status.CLOSED,
                )
            )
    stored = crm.interactions.add_many(items)
    for i, (subject, priority) in enumerate(COMPLAINTS):
        org, _ = customers[i]
        at = datetime(year, 6, 1 + i, 10, tzinfo=UTC)
        complaint = crm.interactions.add(
            Interaction(
                kind=InteractionKind.COMPLAINT,
                party_id=org,
                subject=subject,
                body="Reported by the customer.",
                occurred_at=at,
                channel=Channel.EMAIL,
                direction=Direction.INBOUND,
                priority=priority,
            )
        )
        if i % 2 == 0 and complaint.id is not None:
            crm.interactions.change_status(
                complaint.id, Status.RESOLVED, "Apologised and fixed.", complaint.version
            )
    return len(stored) + len(COMPLAINTS)


def _pipeline(crm: CrmServices, customers: list[tuple[int, int]], year: int) -> list[int]:
    stages = (
        "lead",
        "qualified",
        "proposal",
        "negotiation",
        "lead",
        "qualified",
        "proposal",
        "lead",
    )
    deals = []
    for i, ((org, _), stage) in enumerate(zip(customers, stages, strict=True)):
        deal = crm.deals.add(
            Deal(
                pipeline="sales",
                stage="lead",
                title=f"{CUSTOMERS[i][0].split()[0]} rollout",
                party_id=org,
                amount=Decimal(5000 + 2500 * i),
                currency="EUR",
                expected_close=date(year, 7 + i % 6, 28),
            )
        )
        assert deal.id is not None
        if stage != "lead":
            crm.deals.move(deal.id, stage, deal.version)
        deals.append(deal.id)
    return deals


def _sales(
    crm: CrmServices,
    customers: list[tuple[int, int]],
    products: list[int],
    deals: list[int],
    year: int,
) -> int:
    consult, _support, workshop, kit = products[:4]
    accepted = crm.sales.create_quote(
        customers[0][0],
        "EUR",
        [
            DraftLine(product_id=workshop, quantity=Decimal(2)),
            DraftLine(product_id=consult, quantity=Decimal(16), discount=Decimal(10)),
            DraftLine(product_id=kit, quantity=Decimal(3)),
        ],
        deal_id=deals[0],
    )
    crm.sales.send_quote(accepted.id, None)
    crm.sales.accept_quote(accepted.id, None)
    draft = crm.sales.create_quote(
        customers[2][0],
        "EUR",
        [DraftLine(product_id=consult, quantity=Decimal(8))],
        deal_id=deals[2],
    )
    crm.sales.send_quote(draft.id, None)
    return 2


def _contract(
    crm: CrmServices, customers: list[tuple[int, int]], products: list[int], start: date
) -> None:
    """The second customer's monthly support plan, with a price rise half a year in."""
    support = products[1]
    crm.contracts.create(
        Contract(
            party_id=customers[1][0],
            product_id=support,
            description="Support plan",
            currency="EUR",
            frequency=Frequency.MONTHLY,
            start=start,
            next_billing=start,
            prices=(
                PriceChange(start, Decimal("450.00")),
                PriceChange(start + timedelta(days=183), Decimal("480.00")),
            ),
        )
    )


def _surveys(crm: CrmServices, customers: list[tuple[int, int]], year: int) -> None:
    rng = random.Random(5)  # noqa: S311 (demo data, not security)
    answers = []
    for month in range(1, 12):
        for org, _ in customers:
            if rng.random() < 0.5:
                answers.append(
                    Response(
                        kind=SurveyKind.NPS,
                        score=rng.choice([10, 9, 9, 8, 7, 6, 3]),
                        party_id=org,
                        answered_on=date(year, month, 15),
                    )
                )
            if rng.random() < 0.3:
                answers.append(
                    Response(
                        kind=SurveyKind.CSAT,
                        score=rng.choice([5, 4, 4, 3, 2]),
                        party_id=org,
                        answered_on=date(year, month, 20),
                    )
                )
    crm.satisfaction.record_many(answers)


def load_showcase(crm: CrmServices, start: date) -> CrmDemo:
    """The showcase customers with their people, the catalogue and a support contract
    billed monthly from ``start``."""
    customers = _customers(crm)
    products = _products(crm)
    _contract(crm, customers, products, start)
    return CrmDemo(
        2 * len(customers),
        0,
        0,
        0,
        tuple(org for org, _ in customers),
        tuple(products),
        tuple(person for _, person in customers),
    )


def load_showcase_activity(crm: CrmServices, showcase: CrmDemo, year: int) -> CrmDemo:
    """The showcase's year in the CRM: conversations, complaints, a pipeline in motion,
    quotes (one accepted into an order) and survey answers."""
    customers = list(zip(showcase.customers, showcase.people, strict=True))
    interactions = _interactions(crm, customers, year)
    deals = _pipeline(crm, customers, year)
    quotes = _sales(crm, customers, list(showcase.products), deals, year)
    _surveys(crm, customers, year)
    return replace(showcase, interactions=interactions, deals=len(deals), quotes=quotes)


def load_crm_demo(crm: CrmServices, year: int) -> CrmDemo:
    """The showcase and its year, in one go."""
    return load_showcase_activity(crm, load_showcase(crm, date(year, 4, 1)), year)
