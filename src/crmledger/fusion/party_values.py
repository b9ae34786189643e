"""A party's typed-in values made canonical, field by field, before any rule sees them.

Every entry point (API, web form, CLI, CSV import) builds a :class:`~crmledger.core.crm.
parties.Party` from what the user typed and hands it here; a bad value comes back as an
:class:`InvalidFieldError` naming the field (``phones[0].number``) and the reason::

    >>> p = Party(kind=PartyKind.PERSON, display_name="Ada", phones=(Phone("030 1234567"),))
    >>> normalise_party(p, region="DE").phones[0].number
    '+49301234567'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from crmledger.core.crm.parties import (
    Address,
    BankAccount,
    Email,
    Party,
    PartyKind,
    Phone,
    TaxNumber,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.fusion import normalise
from crmledger.fusion.normalise import InvalidValueError

T = TypeVar("T")
__all__ = ["Party", "PartyKind", "normalise_country", "normalise_party"]


def _field(name: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except InvalidValueError as exc:
        raise InvalidFieldError(name, str(exc)) from None


def _optional(name: str, value: str | None, fn: Callable[[str], str]) -> str | None:
    if value is None or not value.strip():
        return None
    return _field(name, lambda: fn(value))


def _email(name: str, value: str) -> str:
    try:
        return normalise.email(value)
    except InvalidValueError as exc:
        raise InvalidFieldError(name, str(exc)) from None


def _phone(name: str, value: str, region: str | None) -> str:
    try:
        return normalise.phone(value, region)
    except InvalidValueError as exc:
        raise InvalidFieldError(name, str(exc)) from None


def _emails(party: Party) -> tuple[Email, ...]:
    return tuple(
        Email(_email(f"emails[{i}].address", e.address), e.label)
        for i, e in enumerate(party.emails)
    )


def _phones(party: Party, region: str | None) -> tuple[Phone, ...]:
    return tuple(
        Phone(_phone(f"phones[{i}].number", p.number, region), p.label)
        for i, p in enumerate(party.phones)
    )


def _address(i: int, address: Address) -> Address:
    country = _field(f"addresses[{i}].country", lambda: normalise.country(address.country))
    postcode = address.postcode.strip()
    if postcode:
        postcode = _field(f"addresses[{i}].postcode", lambda: normalise.postcode(postcode, country))
    return replace(
        address,
        country=country,
        postcode=postcode,
        street=address.street.strip(),
        street2=address.street2.strip(),
        city=address.city.strip(),
        region=address.region.strip(),
    )


def _tax_id(name: str, value: str, given: str, home: str | None) -> TaxNumber:
    """A tax id read with its given country, else as written (``DE136695976`` names its
    own), else in the party's home country."""
    tries = [given] if given else [None, home] if home else [None]
    reason = ""
    for country in tries:
        try:
            found = normalise.tax_id(value, country)
        except InvalidValueError as exc:
            reason = str(exc)  # the last reading (the home country's) says most
            continue
        return TaxNumber(found.country, found.scheme, found.value)
    raise InvalidFieldError(name, reason)


def _tax_ids(party: Party, home: str | None) -> tuple[TaxNumber, ...]:
    return tuple(
        _tax_id(f"tax_ids[{i}].value", t.value, t.country, home)
        for i, t in enumerate(party.tax_ids)
    )


def _banks(party: Party) -> tuple[BankAccount, ...]:
    out = []
    for i, bank in enumerate(party.bank_accounts):
        try:
            iban = normalise.iban(bank.iban)
        except InvalidValueError as exc:
            raise InvalidFieldError(f"bank_accounts[{i}].iban", str(exc)) from None
        bic = _optional(f"bank_accounts[{i}].bic", bank.bic, normalise.bic) or ""
        out.append(replace(bank, iban=iban, bic=bic, holder=bank.holder.strip()))
    return tuple(out)


def normalise_party(party: Party, region: str | None = None) -> Party:
    """``party`` with every value in canonical form; ``region`` (ISO alpha-2) reads phone
    numbers typed without a country code where the party has no address (the first
    address's country wins: a local number belongs to where the party is)."""
    addresses = tuple(_address(i, a) for i, a in enumerate(party.addresses))
    home = addresses[0].country if addresses else None
    # One ``replace`` for the whole party: an import normalises 100,000 of them.
    return replace(
        party,
        display_name=party.display_name.strip(),
        legal_name=party.legal_name.strip(),
        given_name=party.given_name.strip(),
        family_name=party.family_name.strip(),
        source=party.source.strip(),
        segment=party.segment.strip(),
        tags=tuple(t.strip() for t in party.tags),
        emails=_emails(party),
        phones=_phones(party, home or region),
        addresses=addresses,
        tax_ids=_tax_ids(party, home),
        bank_accounts=_banks(party),
        website=_optional("website", party.website, normalise.website) or "",
        currency=_optional("currency", party.currency, normalise.currency),
        language=_optional("language", party.language, normalise.language),
    )


def normalise_country(name: str, value: str) -> str:
    """An ISO alpha-2 country code, or :class:`InvalidFieldError` naming ``name``."""
    try:
        return normalise.country(value)
    except InvalidValueError as exc:
        raise InvalidFieldError(name, str(exc)) from None
