"""Parties to stored rows and back: personal fields sealed, search terms blind-indexed.

The personal fields of a party travel as one JSON document encrypted with the field cipher
and bound to the party's row (``parties.personal``), so a row copied elsewhere does not
decrypt. Its search terms (``core.crm.search``) are stored only as keyed hashes::

    codec = PartyCodec(cipher)
    row, terms = codec.encode(party, party_id=7, at=now)
    assert codec.decode(row, scales).emails == party.emails
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
from crmledger.core.crm.search import exact_terms, name_terms
from crmledger.core.currencies import iso_currency
from crmledger.core.money import from_minor, to_minor
from crmledger.fusion.normalise import search_key
from crmledger.services.crm_ports import PartyRow
from crmledger.services.ports import FieldCipher, FieldContext

TABLE = "parties"
SEARCH_COLUMN = "search"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _scale(currency: str | None) -> int:
    found = iso_currency(currency) if currency else None
    return found.scale if found is not None else 2


def _personal(party: Party) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "emails": [[e.address, e.label] for e in party.emails],
        "phones": [[p.number, p.label] for p in party.phones],
        "addresses": [
            [a.country, a.street, a.street2, a.postcode, a.city, a.region, a.label]
            for a in party.addresses
        ],
        "bank_accounts": [[b.iban, b.bic, b.holder] for b in party.bank_accounts],
    }
    if party.is_person:
        doc |= {
            "display_name": party.display_name,
            "legal_name": party.legal_name,
            "given_name": party.given_name,
            "family_name": party.family_name,
        }
    return doc


def search_terms(party: Party) -> set[str]:
    """Every plain search term of ``party`` (names, emails, phones, tax ids)."""
    terms = name_terms(search_key(party.display_name))
    if party.legal_name:
        terms |= name_terms(search_key(party.legal_name))
    # Stored addresses are normalised already: email_key() of them is just the case-fold.
    terms |= exact_terms("email", (e.address.casefold() for e in party.emails))
    terms |= exact_terms("phone", (p.number for p in party.phones))
    # With and without the country prefix: people type "136695976" as often as "DE1366…".
    terms |= exact_terms("tax", (t.value for t in party.tax_ids))
    terms |= exact_terms("tax", (t.value.lstrip(_LETTERS) for t in party.tax_ids))
    return terms


@dataclass(frozen=True, slots=True)
class PartyCodec:
    """Encodes parties for the store with one cipher."""

    cipher: FieldCipher

    def hashed(self, terms: Iterable[str]) -> list[str]:
        """The blind-index hashes of ``terms``."""
        index = self.cipher.blind_indexer(TABLE, SEARCH_COLUMN)
        return [index(t) for t in terms]

    def encode(self, party: Party, party_id: int, at: datetime) -> tuple[PartyRow, list[str]]:
        """The row for ``party`` stored as ``party_id`` and its hashed search terms."""
        sealed = self.cipher.encrypt(
            json.dumps(_personal(party), ensure_ascii=False, separators=(",", ":")),
            FieldContext(TABLE, "personal", str(party_id)),
        )
        person = party.is_person
        limit = party.credit_limit
        row = PartyRow(
            id=party_id,
            kind=party.kind.value,
            name=None if person else party.display_name,
            legal_name=None if person else (party.legal_name or None),
            personal_enc=sealed,
            website=party.website,
            tax_ids=json.dumps([[t.country, t.scheme, t.value] for t in party.tax_ids]),
            owner_id=party.owner_id,
            lifecycle=party.lifecycle.value,
            source=party.source,
            segment=party.segment,
            currency=party.currency,
            language=party.language,
            payment_terms_days=party.payment_terms_days,
            credit_limit_minor=None
            if limit is None
            else to_minor(limit, _scale(party.currency), party.currency or "?"),
            version=party.version,
            created_at=party.created_at or at,
            updated_at=at,
            tags=party.tags,
            external_ids=tuple((e.system, e.id) for e in party.external_ids),
        )
        return row, self.hashed(search_terms(party))

    def decode(self, row: PartyRow) -> Party:
        """The party stored in ``row`` (decrypting its personal fields)."""
        doc = json.loads(self.cipher.decrypt(row.personal_enc, self.context(row.id)))
        person = row.kind == PartyKind.PERSON.value
        return Party(
            id=row.id,
            kind=PartyKind(row.kind),
            display_name=doc["display_name"] if person else (row.name or ""),
            legal_name=doc["legal_name"] if person else (row.legal_name or ""),
            given_name=doc.get("given_name", ""),
            family_name=doc.get("family_name", ""),
            emails=tuple(Email(a, lb) for a, lb in doc["emails"]),
            phones=tuple(Phone(n, lb) for n, lb in doc["phones"]),
            addresses=tuple(
                Address(c, s, s2, pc, city, rg, lb)
                for c, s, s2, pc, city, rg, lb in doc["addresses"]
            ),
            website=row.website,
            tax_ids=tuple(TaxNumber(c, s, v) for c, s, v in json.loads(row.tax_ids)),
            bank_accounts=tuple(BankAccount(i, b, h) for i, b, h in doc["bank_accounts"]),
            tags=row.tags,
            owner_id=row.owner_id,
            lifecycle=Lifecycle(row.lifecycle),
            source=row.source,
            segment=row.segment,
            currency=row.currency,
            language=row.language,
            payment_terms_days=row.payment_terms_days,
            credit_limit=None
            if row.credit_limit_minor is None
            else from_minor(row.credit_limit_minor, _scale(row.currency)),
            external_ids=tuple(ExternalId(s, e) for s, e in row.external_ids),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def context(self, party_id: int) -> FieldContext:
        """Where a party's personal fields are bound."""
        return FieldContext(TABLE, "personal", str(party_id))
