"""The ports of the CRM use cases: how parties and their links are stored.

Rows here are the stored shape (personal fields already encrypted, search terms already
hashed); the services turn them into ``core.crm`` values and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PartyRow:
    """A party as stored: ``personal_enc`` holds the encrypted personal fields (JSON)."""

    id: int
    kind: str
    name: str | None
    legal_name: str | None
    personal_enc: str
    website: str
    tax_ids: str
    owner_id: int | None
    lifecycle: str
    source: str
    segment: str
    currency: str | None
    language: str | None
    payment_terms_days: int | None
    credit_limit_minor: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    tags: tuple[str, ...] = ()
    external_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PartyQuery:
    """A page of parties: filters are exact; ``sort`` is ``id`` or ``updated`` (``-`` for
    newest first); ``after`` is the last row's ``(sort value, id)`` of the previous page."""

    limit: int = 100
    sort: str = "-id"
    after: tuple[str, int] | None = None
    kind: str | None = None
    lifecycle: str | None = None
    owner_id: int | None = None
    tag: str | None = None
    segment: str | None = None
    source: str | None = None
    ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A person's link to an organisation."""

    id: int
    organisation_id: int
    person_id: int
    role: str
    primary: bool
    version: int
    created_at: datetime


class PartyStore(Protocol):
    """Parties, contacts, tags, external ids and hashed search terms."""

    def reserve_ids(self, count: int) -> list[int]:
        """Ids for ``count`` new parties (values are encrypted bound to their row id)."""

    def insert(self, rows: Sequence[PartyRow], terms: Sequence[tuple[int, str]]) -> None:
        """Insert parties with their tags, external ids and ``(party id, term)`` pairs."""

    def update(self, row: PartyRow, expected_version: int, terms: Sequence[str]) -> bool:
        """Replace a party (and its tags, external ids, terms) if still at
        ``expected_version``; False when it moved on (the row's version is the new one)."""

    def get(self, party_id: int) -> PartyRow | None: ...
    def many(self, ids: Sequence[int]) -> list[PartyRow]:
        """The parties of ``ids`` that exist, in no particular order."""

    def page(self, query: PartyQuery) -> list[PartyRow]: ...
    def count(self) -> int: ...
    def matching_all(self, terms: Sequence[str], limit: int) -> list[int]:
        """Ids of parties holding every one of ``terms`` (at most ``limit``)."""

    def matching_any(self, terms: Sequence[str], limit: int) -> list[int]:
        """Ids of parties holding at least one of ``terms``."""

    def external_owners(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Which party holds each ``(system, id)`` already."""

    def add_contact(
        self, organisation_id: int, person_id: int, role: str, primary: bool, at: datetime
    ) -> int: ...
    def contact(self, contact_id: int) -> ContactRow | None: ...
    def contacts(
        self, organisation_id: int | None = None, person_id: int | None = None
    ) -> list[ContactRow]: ...
    def contact_page(self, after_id: int, limit: int) -> list[ContactRow]: ...
    def update_contact(
        self, contact_id: int, expected_version: int, role: str, primary: bool
    ) -> bool:
        """Compare-and-set the role and primary flag."""

    def delete_contact(self, contact_id: int) -> bool: ...
