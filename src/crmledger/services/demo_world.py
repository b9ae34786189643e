"""The demo's population: customers with the traits that drive what happens to them.

A customer is drawn once from the seed, with a country (and so a currency, a language and
a phone plan), a segment that sets how often it buys, a payment habit, a *friction* between
0 and 1 (how often things go wrong for it: complaints, credit notes) and the month it first
buys and, for some, the month it stops. Everything the demo does later (invoices,
payments, complaints, dunning, survey answers) is read off these traits, so the figures
hang together: a customer with high friction complains more, gets more credit notes and
answers surveys lower, and a late payer shows up in aging and dunning.

Names, streets and people come from Faker in the customer's locale; phone numbers come from
ranges that the numbering plans reserve or that are valid, so they pass the same checks as
real input. The same seed gives the same world.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from faker import Faker

from crmledger.core.crm.parties import Address, Email, Lifecycle, Party, PartyKind, Phone
from crmledger.fusion import normalise
from crmledger.fusion.normalise import InvalidValueError


@dataclass(frozen=True, slots=True)
class Country:
    """Where a customer sits: its locale, currency, language and a valid phone range;
    ``per_eur`` scales a credit limit set in euros to a round limit in the currency."""

    code: str
    locale: str
    currency: str
    language: str
    phone_prefix: str
    phone_digits: int
    weight: int
    per_eur: int = 1


COUNTRIES = (
    Country("DE", "de_DE", "EUR", "de", "+49 30 ", 8, 46),
    Country("FR", "fr_FR", "EUR", "fr", "+33 1 ", 8, 12),
    Country("NL", "nl_NL", "EUR", "nl", "+31 20 ", 7, 8),
    Country("AT", "de_AT", "EUR", "de", "+43 1 ", 7, 6),
    Country("GB", "en_GB", "GBP", "en", "+44 20 7946 0", 3, 12, 1),
    Country("US", "en_US", "USD", "en", "+1 212 555 01", 2, 10, 1),
    Country("CH", "de_CH", "CHF", "de", "+41 44 ", 7, 4),
    Country("JP", "ja_JP", "JPY", "ja", "+81 3 ", 8, 2, 160),
)

#: Segments: (name, share in percent, invoices per active year (low, high), lines per
#: invoice (low, high), payment terms in days, credit limit in EUR or None).
SEGMENTS = (
    ("smb", 70, (1, 3), (1, 2), 14, "15000"),
    ("mid-market", 25, (3, 6), (1, 3), 30, "60000"),
    ("enterprise", 5, (10, 12), (2, 4), 45, None),
)

#: Payment habits with their share in percent; see :mod:`crmledger.services.demo_billing`.
HABITS = (("punctual", 52), ("late", 24), ("partial", 9), ("slow", 10), ("unpaid", 5))

ROLES = ("Head of Purchasing", "Finance Director", "Owner", "Office Manager", "CTO", "Buyer")


@dataclass(frozen=True, slots=True)
class Person:
    """A contact person of a customer."""

    given: str
    family: str
    role: str
    email: str


@dataclass(frozen=True, slots=True)
class Customer:
    """One generated customer and the traits that drive its history."""

    index: int
    name: str
    country: Country
    city: str
    postcode: str
    street: str
    phone: str
    domain: str
    segment: str
    invoices_per_year: tuple[int, int]
    lines_per_invoice: tuple[int, int]
    terms_days: int
    credit_limit: str | None
    habit: str
    friction: float
    acquired: date
    churned: date | None
    people: tuple[Person, ...]

    @property
    def currency(self) -> str:
        return self.country.currency

    def active_in(self, month: date) -> bool:
        """Whether the customer buys in the month starting ``month``."""
        return self.acquired <= month and (self.churned is None or month < self.churned)

    def party(self) -> Party:
        """The organisation as a party."""
        lifecycle = Lifecycle.FORMER_CUSTOMER if self.churned else Lifecycle.CUSTOMER
        return Party(
            kind=PartyKind.ORGANISATION,
            display_name=self.name,
            segment=self.segment,
            lifecycle=lifecycle,
            emails=(Email(f"office@{self.domain}"),),
            phones=(Phone(self.phone),),
            addresses=(
                Address(
                    self.country.code,
                    street=self.street,
                    city=self.city,
                    postcode=self.postcode,
                ),
            ),
            website=f"https://www.{self.domain}",
            currency=self.currency,
            language=self.country.language,
            payment_terms_days=self.terms_days,
            credit_limit=None
            if self.credit_limit is None
            else Decimal(self.credit_limit) * self.country.per_eur,
            tags=(self.segment,),
            source="demo",
        )

    def person(self, person: Person) -> Party:
        """A contact person as a party."""
        return Party(
            kind=PartyKind.PERSON,
            display_name="",
            given_name=person.given,
            family_name=person.family,
            emails=(Email(person.email),),
            addresses=(Address(self.country.code, city=self.city),),
            language=self.country.language,
            source="demo",
        )


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    names = [name for name, _ in weighted]
    return rng.choices(names, weights=[w for _, w in weighted])[0]


def _month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class World:
    """Every generated customer, and the months the demo covers."""

    customers: tuple[Customer, ...]
    first_month: date
    months: int


class _Drawer:
    """Draws customers from one random stream and one Faker per locale."""

    def __init__(self, seed: int, first_month: date, months: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (demo data, not security)
        self.first_month = first_month
        self.months = months
        self.fakers: dict[str, Faker] = {}
        for country in COUNTRIES:
            faker = Faker(country.locale)
            faker.seed_instance(seed + country.weight)
            self.fakers[country.code] = faker
        self.domains: set[str] = set()

    def country(self) -> Country:
        return self.rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]

    def domain(self, name: str, index: int) -> str:
        stem = _ascii(name.split(",", maxsplit=1)[0].split(" ", maxsplit=1)[0]) or "customer"
        domain = f"{stem}.example"
        if domain in self.domains:
            domain = f"{stem}{index}.example"
        self.domains.add(domain)
        return domain

    def postcode(self, faker: Faker, country: Country) -> str:
        """A postcode in the country's format (Faker's draws include a few that are not:
        a Dutch code cannot start with 0)."""
        while True:
            code = str(faker.postcode())
            try:
                return normalise.postcode(code, country.code)
            except InvalidValueError:
                continue

    def phone(self, country: Country) -> str:
        # Subscriber numbers never start with 0 or 1 (trunk and service prefixes).
        first = str(self.rng.randrange(2, 10)) if country.phone_digits > 3 else ""
        rest = "".join(
            str(self.rng.randrange(10)) for _ in range(country.phone_digits - len(first))
        )
        digits = first + rest
        return country.phone_prefix + digits

    def people(self, faker: Faker, domain: str, count: int) -> tuple[Person, ...]:
        out = []
        for _ in range(count):
            given, family = faker.first_name(), faker.last_name()
            parts = [part for part in (_ascii(given), _ascii(family)) if part]
            local = ".".join(parts) or f"contact{self.rng.randrange(10**6)}"
            out.append(Person(given, family, self.rng.choice(ROLES), f"{local}@{domain}"))
        return tuple(out)

    def lifetime(self) -> tuple[date, date | None]:
        # A quarter of the customers were there before the first month; the rest arrive
        # evenly; one in six of those who arrive early enough leaves again.
        start = 0 if self.rng.random() < 0.25 else self.rng.randrange(self.months)
        acquired = _month(self.first_month, start)
        churned = None
        remaining = self.months - start
        if remaining > 6 and self.rng.random() < 1 / 6:
            churned = _month(acquired, self.rng.randrange(3, remaining))
        return acquired, churned

    def customer(self, index: int) -> Customer:
        country = self.country()
        faker = self.fakers[country.code]
        name = faker.company()
        domain = self.domain(name, index)
        segment = self.rng.choices(SEGMENTS, weights=[s[1] for s in SEGMENTS])[0]
        acquired, churned = self.lifetime()
        return Customer(
            index=index,
            name=name,
            country=country,
            city=faker.city(),
            postcode=self.postcode(faker, country),
            street=faker.street_address(),
            phone=self.phone(country),
            domain=domain,
            segment=segment[0],
            invoices_per_year=segment[2],
            lines_per_invoice=segment[3],
            terms_days=segment[4],
            credit_limit=segment[5],
            habit=_pick(self.rng, HABITS),
            friction=round(self.rng.betavariate(1.5, 6.0), 3),
            acquired=acquired,
            churned=churned,
            people=self.people(faker, domain, 1 if segment[0] == "smb" else 2),
        )


def draw_world(customers: int, first_month: date, months: int, seed: int) -> World:
    """``customers`` customers over ``months`` months from ``first_month``, from ``seed``."""
    drawer = _Drawer(seed, first_month, months)
    return World(
        tuple(drawer.customer(i) for i in range(customers)),
        first_month,
        months,
    )
