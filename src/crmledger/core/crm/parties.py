"""Parties: the organisations and people a company deals with, and the links between them.

One record serves sales, support and finance. A person may belong to organisations as a
*contact* with a role::

    >>> acme = Party(kind=PartyKind.ORGANISATION, display_name="Acme GmbH")
    >>> ada = Party(PartyKind.PERSON, "", given_name="Ada", family_name="Lovelace")
    >>> validate_party(ada).display_name
    'Ada Lovelace'

Values arrive here already normalised (phones in E.164, countries as ISO codes; see
``crmledger.fusion.normalise``); this module holds the rules that need no outside data: which
fields are required, their lengths, tags, terms and limits. Each rule names the field it
refuses (``emails[1].label``), so every entry point can point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from crmledger.core.currencies import iso_currency
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import decimal_places


class PartyKind(StrEnum):
    """An organisation (a company, an authority) or a natural person."""

    ORGANISATION = "organisation"
    PERSON = "person"


class Lifecycle(StrEnum):
    """Where the party stands with the company."""

    LEAD = "lead"
    PROSPECT = "prospect"
    CUSTOMER = "customer"
    FORMER_CUSTOMER = "former_customer"


@dataclass(frozen=True, slots=True)
class Email:
    """An email address (normalised) and what it is for."""

    address: str
    label: str = "work"


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone number in E.164 and what it is for."""

    number: str
    label: str = "work"


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; ``country`` is ISO 3166-1 alpha-2."""

    country: str
    street: str = ""
    street2: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    label: str = "billing"


@dataclass(frozen=True, slots=True)
class TaxNumber:
    """A tax identifier as python-stdnum compacts it (``DE136695976``), with its scheme."""

    country: str
    scheme: str
    value: str


@dataclass(frozen=True, slots=True)
class BankAccount:
    """An IBAN (compact) and optionally its BIC and the holder's name."""

    iban: str
    bic: str = ""
    holder: str = ""


@dataclass(frozen=True, slots=True)
class ExternalId:
    """The party's id in another system (a CRM, an accounting package, a webshop)."""

    system: str
    id: str


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation or a person, with everything the CRM and the books need to know."""

    kind: PartyKind
    display_name: str
    id: int | None = None
    legal_name: str = ""
    given_name: str = ""
    family_name: str = ""
    emails: tuple[Email, ...] = ()
    phones: tuple[Phone, ...] = ()
    addresses: tuple[Address, ...] = ()
    website: str = ""
    tax_ids: tuple[TaxNumber, ...] = ()
    bank_accounts: tuple[BankAccount, ...] = ()
    tags: tuple[str, ...] = ()
    owner_id: int | None = None
    lifecycle: Lifecycle = Lifecycle.LEAD
    source: str = ""
    segment: str = ""
    currency: str | None = None
    language: str | None = None
    payment_terms_days: int | None = None
    credit_limit: Decimal | None = None
    external_ids: tuple[ExternalId, ...] = ()
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_person(self) -> bool:
        return self.kind is PartyKind.PERSON


@dataclass(frozen=True, slots=True)
class Contact:
    """A person's place in an organisation: ``role`` such as "Head of Purchasing"."""

    organisation_id: int
    person_id: int
    role: str = ""
    primary: bool = False
    id: int | None = None
    version: int = 1
    created_at: datetime | None = field(default=None, compare=False)


#: Fields whose values are personal data: encrypted at rest, never in the audit log.
PERSONAL = ("given_name", "family_name", "emails", "phones", "addresses", "bank_accounts")

NAME_MAX = 200
_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_TAG = re.compile(r"^[\w][\w .:/+-]{0,49}$")
_SYSTEM = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")
MAX_TERMS_DAYS = 366
MAX_ITEMS = 20


def _text(name: str, value: str, limit: int, required: bool = False) -> None:
    if required and not value.strip():
        raise InvalidFieldError(name, "is required")
    if len(value) > limit:
        raise InvalidFieldError(name, f"is longer than {limit} characters")
    if value != value.strip():
        raise InvalidFieldError(name, "has leading or trailing spaces")


def _labels(name: str, labels: list[str]) -> None:
    if len(labels) > MAX_ITEMS:
        raise InvalidFieldError(name, f"holds more than {MAX_ITEMS} items")
    for i, label in enumerate(labels):
        if not _LABEL.match(label):
            raise InvalidFieldError(f"{name}[{i}].label", "must be a short lower-case word")


def _names(party: Party) -> Party:
    for name in ("display_name", "legal_name", "given_name", "family_name"):
        _text(name, getattr(party, name), NAME_MAX)
    if party.is_person and not party.display_name:
        full = " ".join(p for p in (party.given_name, party.family_name) if p)
        party = replace(party, display_name=full)
    if not party.is_person and (party.given_name or party.family_name):
        raise InvalidFieldError("given_name", "only people have given and family names")
    _text("display_name", party.display_name, NAME_MAX, required=True)
    return party


def _collections(party: Party) -> None:
    _labels("emails", [e.label for e in party.emails])
    _labels("phones", [p.label for p in party.phones])
    _labels("addresses", [a.label for a in party.addresses])
    for i, address in enumerate(party.addresses):
        for part in ("street", "street2", "postcode", "city", "region"):
            _text(f"addresses[{i}].{part}", getattr(address, part), NAME_MAX)
    for i, tag in enumerate(party.tags):
        if not _TAG.match(tag):
            raise InvalidFieldError(f"tags[{i}]", "a tag is 1-50 letters, digits or .:/+-")
    if len(set(party.tags)) != len(party.tags):
        raise InvalidFieldError("tags", "holds the same tag twice")
    seen: set[tuple[str, str]] = set()
    for i, ext in enumerate(party.external_ids):
        if not _SYSTEM.match(ext.system):
            raise InvalidFieldError(f"external_ids[{i}].system", "must be a short lower-case name")
        _text(f"external_ids[{i}].id", ext.id, NAME_MAX, required=True)
        if (ext.system, ext.id) in seen:
            raise InvalidFieldError(f"external_ids[{i}]", "is listed twice")
        seen.add((ext.system, ext.id))


def _terms(party: Party) -> None:
    terms = party.payment_terms_days
    if terms is not None and not 0 <= terms <= MAX_TERMS_DAYS:
        raise InvalidFieldError("payment_terms_days", f"must be between 0 and {MAX_TERMS_DAYS}")
    limit = party.credit_limit
    if limit is not None and (not limit.is_finite() or limit < 0):
        raise InvalidFieldError("credit_limit", "must be zero or more")
    if limit is not None and party.currency is None:
        raise InvalidFieldError("currency", "a credit limit needs the currency it is counted in")
    known = iso_currency(party.currency) if party.currency else None
    if limit is not None and known is not None and decimal_places(limit) > known.scale:
        raise InvalidFieldError(
            "credit_limit", f"{party.currency} amounts have at most {known.scale} decimal places"
        )
    for name in ("source", "segment"):
        _text(name, getattr(party, name), 100)


def validate_party(party: Party) -> Party:
    """``party`` with its display name completed, or :class:`InvalidFieldError`."""
    party = _names(party)
    _collections(party)
    _terms(party)
    return party


def validate_contact(contact: Contact) -> Contact:
    """Refuse a person linked to itself and over-long roles."""
    if contact.organisation_id == contact.person_id:
        raise InvalidFieldError("person_id", "a party cannot be its own contact")
    _text("role", contact.role, 100)
    return contact
