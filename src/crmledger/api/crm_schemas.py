"""Request and response bodies of the CRM: parties, contacts and search.

Inputs only bound sizes and shapes; the services normalise and check the values themselves
(a phone in any format, a tax id by country), so the API, the web forms and the CLI refuse
the same things with the same reasons.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StringConstraints

from crmledger.api.schemas import AMOUNT, NO_NUL, In, RowId, json_number
from crmledger.core.crm.parties import (
    Address,
    BankAccount,
    Email,
    ExternalId,
    Lifecycle,
    Party,
    PartyKind,
    Phone,
    TaxNumber,
)

Str200 = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=200)]
Str100 = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=100)]
Label = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
Money = Annotated[str, StringConstraints(pattern=AMOUNT)]
Items = 20
#: A JSON Schema integer: ``7`` or ``7.0``, never ``"7"`` or ``true``.


class EmailIn(In):
    address: Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=320)]
    label: Label = "work"


class PhoneIn(In):
    number: Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=64)]
    label: Label = "work"


class AddressIn(In):
    country: Annotated[str, StringConstraints(pattern=NO_NUL, min_length=2, max_length=100)]
    street: Str200 = ""
    street2: Str200 = ""
    postcode: Annotated[str, StringConstraints(pattern=NO_NUL, max_length=20)] = ""
    city: Str200 = ""
    region: Str200 = ""
    label: Label = "billing"


class TaxIdIn(In):
    value: Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=64)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None


class BankAccountIn(In):
    iban: Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=64)]
    bic: Annotated[str, StringConstraints(pattern=NO_NUL, max_length=16)] = ""
    holder: Str200 = ""


class ExternalIdIn(In):
    system: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,49}$")]
    id: Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=200)]


class _PartyFields(In):
    display_name: Str200 = ""
    legal_name: Str200 = ""
    given_name: Str200 = ""
    family_name: Str200 = ""
    emails: list[EmailIn] = Field(default_factory=list, max_length=Items)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=Items)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=Items)
    website: Annotated[str, StringConstraints(pattern=NO_NUL, max_length=300)] = ""
    tax_ids: list[TaxIdIn] = Field(default_factory=list, max_length=Items)
    bank_accounts: list[BankAccountIn] = Field(default_factory=list, max_length=Items)
    tags: list[Annotated[str, StringConstraints(pattern=NO_NUL, max_length=50)]] = Field(
        default_factory=list, max_length=50
    )
    owner_id: RowId | None = None
    lifecycle: Lifecycle = Lifecycle.LEAD
    source: Str100 = ""
    segment: Str100 = ""
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z-]{2,35}$")] | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=366), BeforeValidator(json_number)] | None = (
        None
    )
    credit_limit: Money | None = Field(None, description='A decimal string, e.g. "5000.00".')
    external_ids: list[ExternalIdIn] = Field(default_factory=list, max_length=Items)


class PartyCreate(_PartyFields):
    """A new organisation or person; a person's display name defaults to given + family."""

    kind: PartyKind


class PartyUpdate(_PartyFields):
    """The fields to change (those sent replace the stored ones; lists as a whole)."""


def party_values(body: _PartyFields, fields: set[str]) -> dict[str, Any]:
    """The domain values of the ``fields`` of ``body``."""
    convert: dict[str, Any] = {
        "emails": lambda v: tuple(Email(e.address, e.label) for e in v),
        "phones": lambda v: tuple(Phone(p.number, p.label) for p in v),
        "addresses": lambda v: tuple(
            Address(a.country, a.street, a.street2, a.postcode, a.city, a.region, a.label)
            for a in v
        ),
        "tax_ids": lambda v: tuple(TaxNumber(t.country or "", "", t.value) for t in v),
        "bank_accounts": lambda v: tuple(BankAccount(b.iban, b.bic, b.holder) for b in v),
        "tags": tuple,
        "external_ids": lambda v: tuple(ExternalId(e.system, e.id) for e in v),
        "credit_limit": lambda v: None if v is None else Decimal(v),
    }
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(body, name)
        out[name] = convert[name](value) if name in convert else value
    return out


class EmailPublic(BaseModel):
    address: str
    label: str


class PhonePublic(BaseModel):
    number: str
    label: str


class AddressPublic(BaseModel):
    country: str
    street: str
    street2: str
    postcode: str
    city: str
    region: str
    label: str


class TaxIdPublic(BaseModel):
    country: str
    scheme: str
    value: str


class BankAccountPublic(BaseModel):
    iban: str
    bic: str
    holder: str


class ExternalIdPublic(BaseModel):
    system: str
    id: str


class PartyPublic(BaseModel):
    """A party with every field; ``version`` is what ``If-Match`` must name."""

    id: int
    kind: PartyKind
    display_name: str
    legal_name: str
    given_name: str
    family_name: str
    emails: list[EmailPublic]
    phones: list[PhonePublic]
    addresses: list[AddressPublic]
    website: str
    tax_ids: list[TaxIdPublic]
    bank_accounts: list[BankAccountPublic]
    tags: list[str]
    owner_id: int | None
    lifecycle: Lifecycle
    source: str
    segment: str
    currency: str | None
    language: str | None
    payment_terms_days: int | None
    credit_limit: str | None
    external_ids: list[ExternalIdPublic]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, party: Party) -> PartyPublic:
        """The API view of a stored party."""
        assert party.id is not None
        assert party.created_at is not None
        assert party.updated_at is not None
        return cls(
            id=party.id,
            kind=party.kind,
            display_name=party.display_name,
            legal_name=party.legal_name,
            given_name=party.given_name,
            family_name=party.family_name,
            emails=[EmailPublic(address=e.address, label=e.label) for e in party.emails],
            phones=[PhonePublic(number=p.number, label=p.label) for p in party.phones],
            addresses=[
                AddressPublic(
                    country=a.country,
                    street=a.street,
                    street2=a.street2,
                    postcode=a.postcode,
                    city=a.city,
                    region=a.region,
                    label=a.label,
                )
                for a in party.addresses
            ],
            website=party.website,
            tax_ids=[
                TaxIdPublic(country=t.country, scheme=t.scheme, value=t.value)
                for t in party.tax_ids
            ],
            bank_accounts=[
                BankAccountPublic(iban=b.iban, bic=b.bic, holder=b.holder)
                for b in party.bank_accounts
            ],
            tags=list(party.tags),
            owner_id=party.owner_id,
            lifecycle=party.lifecycle,
            source=party.source,
            segment=party.segment,
            currency=party.currency,
            language=party.language,
            payment_terms_days=party.payment_terms_days,
            credit_limit=None if party.credit_limit is None else str(party.credit_limit),
            external_ids=[ExternalIdPublic(system=e.system, id=e.id) for e in party.external_ids],
            version=party.version,
            created_at=party.created_at,
            updated_at=party.updated_at,
        )


class PartyRef(BaseModel):
    """A party named in another resource."""

    id: int
    kind: PartyKind
    display_name: str


class ContactCreate(In):
    """Link a person to an organisation."""

    organisation_id: RowId
    person_id: RowId
    role: Str100 = ""
    primary: StrictBool = False


class ContactUpdate(In):
    """A contact's new role or primary flag."""

    role: Str100 | None = None
    primary: StrictBool | None = None


class ContactPublic(BaseModel):
    id: int
    organisation: PartyRef
    person: PartyRef
    role: str
    primary: bool
    version: int
    created_at: dt.datetime


class SearchResult(BaseModel):
    """One thing found: ``type`` says what (party, contact, deal, interaction)."""

    type: Literal["party", "contact", "deal", "interaction"]
    id: int
    title: str
    subtitle: str
    matched: str
    rank: int
    party_id: int | None
    url: str
