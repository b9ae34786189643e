"""The columns a party import understands and how one row becomes a :class:`Party`.

A row needs a name: ``display_name`` (or ``given_name`` / ``family_name`` for a person).
``kind`` defaults to organisation, or person when only personal names are given. Lists
take several values separated by ``;`` (``tags``, ``email``, ``phone``)::

    party_from_row({"display_name": "Acme GmbH", "phone": "030 1234567", "country": "DE"})
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

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
    validate_party,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.core.imports import Problem
from crmledger.fusion.party_values import normalise_party
from crmledger.services.ports import UnitOfWork
from crmledger.services.record_import import ImportReport

#: Field → other header spellings it is recognised by.
PARTY_FIELDS: dict[str, tuple[str, ...]] = {
    "kind": ("type", "party type"),
    "display_name": ("name", "company", "company name", "organisation", "organization", "customer"),
    "legal_name": ("legal name", "registered name"),
    "given_name": ("first name", "firstname", "forename", "vorname"),
    "family_name": ("last name", "lastname", "surname", "nachname"),
    "email": ("e-mail", "email address", "mail"),
    "phone": ("telephone", "tel", "phone number", "telefon"),
    "mobile": ("cell", "mobile phone", "handy"),
    "street": ("address", "street address", "address line 1", "strasse"),
    "street2": ("address line 2",),
    "postcode": ("zip", "zip code", "postal code", "plz"),
    "city": ("town", "ort", "stadt"),
    "region": ("state", "province", "county"),
    "country": ("country code", "land"),
    "website": ("web", "url", "homepage"),
    "tax_id": ("vat", "vat id", "vat number", "tax number", "ust-id", "ustid"),
    "iban": ("bank account",),
    "bic": ("swift", "swift code"),
    "tags": ("tag", "labels"),
    "lifecycle": ("stage", "status", "lifecycle stage"),
    "source": ("lead source",),
    "segment": ("industry segment", "customer segment"),
    "currency": (),
    "language": ("lang", "locale"),
    "payment_terms_days": ("payment terms", "terms", "net days"),
    "credit_limit": ("credit line",),
    "external_id": ("id", "customer id", "customer number", "external id"),
    "external_system": ("system", "source system"),
}

REQUIRED_ANY = ("display_name", "given_name", "family_name")


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def _kind(values: dict[str, str]) -> PartyKind:
    given = values.get("kind")
    if given is None:
        personal = "given_name" in values or "family_name" in values
        return (
            PartyKind.PERSON
            if personal and "display_name" not in values
            else PartyKind.ORGANISATION
        )
    try:
        return PartyKind(given.strip().lower())
    except ValueError:
        raise InvalidFieldError("kind", f"{given!r} is not organisation or person") from None


def _lifecycle(value: str | None) -> Lifecycle:
    if value is None:
        return Lifecycle.LEAD
    try:
        return Lifecycle(value.strip().lower().replace(" ", "_"))
    except ValueError:
        names = ", ".join(v.value for v in Lifecycle)
        raise InvalidFieldError("lifecycle", f"{value!r} is not one of {names}") from None


def _int(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removesuffix(" days").removeprefix("net ").strip()
    if not text.isdigit():
        raise InvalidFieldError(name, f"{value!r} is not a whole number")
    return int(text)


def _decimal(name: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value.replace(" ", ""))
    except InvalidOperation:
        raise InvalidFieldError(name, f"{value!r} is not a number") from None


def _address(values: dict[str, str]) -> tuple[Address, ...]:
    parts = ("street", "street2", "postcode", "city", "region")
    if "country" not in values:
        if any(p in values for p in parts):
            raise InvalidFieldError("country", "an address needs its country")
        return ()
    return (Address(values["country"], **{p: values.get(p, "") for p in parts}),)


def _external(values: dict[str, str]) -> tuple[ExternalId, ...]:
    ext = values.get("external_id")
    if ext is None:
        return ()
    return (ExternalId(values.get("external_system", "import").strip().lower(), ext),)


def party_from_row(values: dict[str, str]) -> Party:
    """The party a row describes (values still as typed; the service normalises them)."""
    if not any(values.get(f) for f in REQUIRED_ANY):
        raise InvalidFieldError("display_name", "a row needs a name (or a person's names)")
    phones = [Phone(p) for p in _split(values.get("phone", ""))]
    phones += [Phone(p, "mobile") for p in _split(values.get("mobile", ""))]
    iban = values.get("iban")
    return Party(
        kind=_kind(values),
        display_name=values.get("display_name", ""),
        legal_name=values.get("legal_name", ""),
        given_name=values.get("given_name", ""),
        family_name=values.get("family_name", ""),
        emails=tuple(Email(e) for e in _split(values.get("email", ""))),
        phones=tuple(phones),
        addresses=_address(values),
        website=values.get("website", ""),
        tax_ids=tuple(TaxNumber("", "", t) for t in _split(values.get("tax_id", ""))),
        bank_accounts=(BankAccount(iban, values.get("bic", "")),) if iban else (),
        tags=tuple(dict.fromkeys(t for t in _split(values.get("tags", "").replace(",", ";")))),
        lifecycle=_lifecycle(values.get("lifecycle")),
        source=values.get("source", ""),
        segment=values.get("segment", ""),
        currency=values.get("currency"),
        language=values.get("language"),
        payment_terms_days=_int("payment_terms_days", values.get("payment_terms_days")),
        credit_limit=_decimal("credit_limit", values.get("credit_limit")),
        external_ids=_external(values),
    )


def normalise_rows(
    rows: Sequence[tuple[int, Party]], source: str, region: str | None
) -> tuple[list[Party], list[Problem]]:
    """Normalise and check a batch of ``(line, party)``: the good parties and a problem per
    refused row. A plain function of its arguments, so another process can run it."""
    ready: list[Party] = []
    problems: list[Problem] = []
    for line, party in rows:
        try:
            ready.append(validate_party(normalise_party(party, region)))
        except InvalidFieldError as error:
            problems.append(Problem(source, line, error.field, str(error)))
    return ready, problems


def external_id_problems(
    uow: UnitOfWork,
    rows: Sequence[tuple[int, Party]],
    seen: dict[tuple[str, str], int],
    report: ImportReport,
) -> None:
    """Problems for external ids that appear twice in the file (``seen`` remembers the
    earlier batches') or belong to a party already."""
    pairs = [(e.system, e.id) for _, p in rows for e in p.external_ids]
    if not pairs:
        return
    owners = uow.parties.external_owners(pairs)
    for line, party in rows:
        for ext in party.external_ids:
            key = (ext.system, ext.id)
            if key in seen:
                reason = f"{ext.system}:{ext.id} is also on line {seen[key]}"
                report.add(Problem(report.source, line, "external_id", reason))
            elif key in owners:
                reason = f"{ext.system}:{ext.id} belongs to party {owners[key]} already"
                report.add(Problem(report.source, line, "external_id", reason))
            seen.setdefault(key, line)
