"""Parties and contacts: add, read, change, list and search, each in one transaction.

Every value is normalised (``fusion.party_values``) and checked (``core.crm.parties``)
before anything is stored; the audit log records what changed with personal values
redacted::

    parties = PartyService(uow, clock, cipher).acting_as(actor)
    acme = parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Acme GmbH"))
    parties.update(acme.id, {"lifecycle": Lifecycle.CUSTOMER}, if_version=acme.version)
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from crmledger.core.crm.parties import Contact, Party, PartyKind, validate_contact, validate_party
from crmledger.core.errors import InvalidFieldError
from crmledger.fusion.party_values import normalise_country, normalise_party
from crmledger.services.billing_common import emit
from crmledger.services.crm_ports import ContactRow, PartyQuery
from crmledger.services.errors import ConflictError, NotFoundError, VersionConflictError
from crmledger.services.party_codec import PartyCodec
from crmledger.services.party_guard import refuse_merged
from crmledger.services.party_import import external_id_problems, normalise_rows
from crmledger.services.party_search import SearchHit, find_parties
from crmledger.services.ports import (
    Clock,
    FieldCipher,
    UnitOfWork,
    UnitOfWorkFactory,
)
from crmledger.services.record_import import ImportReport
from crmledger.services.trail import OPERATOR, Actor, Change, record, record_many

REGION_SETTING = "phone_region"
_READ_ONLY = frozenset({"id", "kind", "version", "created_at", "updated_at"})


def audit_view(party: Party) -> dict[str, Any]:
    """The party as the audit log sees it (``core.audit_log`` redacts the personal keys)."""
    return {
        "kind": party.kind.value,
        "display_name": party.display_name,
        "legal_name": party.legal_name,
        "given_name": party.given_name,
        "family_name": party.family_name,
        "emails": [e.address for e in party.emails],
        "phones": [p.number for p in party.phones],
        "addresses": len(party.addresses),
        "bank_accounts": [b.iban for b in party.bank_accounts],
        "website": party.website,
        "tax_ids": [t.value for t in party.tax_ids],
        "tags": list(party.tags),
        "owner_id": party.owner_id,
        "lifecycle": party.lifecycle.value,
        "source": party.source,
        "segment": party.segment,
        "currency": party.currency,
        "language": party.language,
        "payment_terms_days": party.payment_terms_days,
        "credit_limit": None if party.credit_limit is None else str(party.credit_limit),
        "external_ids": [[e.system, e.id] for e in party.external_ids],
    }


def _contact(row: ContactRow) -> Contact:
    return Contact(
        organisation_id=row.organisation_id,
        person_id=row.person_id,
        role=row.role,
        primary=row.primary,
        id=row.id,
        version=row.version,
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class ContactView:
    """A contact link with both of its parties."""

    contact: Contact
    organisation: Party
    person: Party


class PartyService:
    """The use cases on parties and contacts."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cipher = cipher
        self._codec = PartyCodec(cipher)
        self._actor = actor

    def acting_as(self, actor: Actor) -> PartyService:
        """The same service for another actor."""
        return PartyService(self._uow, self._clock, self._cipher, actor)

    # -- helpers ---------------------------------------------------------------------------

    def _region(self, uow: UnitOfWork) -> str | None:
        return uow.ledger.get_setting(REGION_SETTING)

    def _prepare(self, party: Party, region: str | None) -> Party:
        return validate_party(normalise_party(party, region))

    def _check_links(self, uow: UnitOfWork, parties: Sequence[Party], ids: Sequence[int]) -> None:
        pairs = [(e.system, e.id) for p in parties for e in p.external_ids]
        owners = uow.parties.external_owners(pairs)
        for (system, ext), owner in owners.items():
            if owner not in ids:
                raise ConflictError(f"external id {system}:{ext} belongs to party {owner}")
        users = {p.owner_id for p in parties if p.owner_id is not None}
        for user_id in users:
            if uow.access.user(user_id) is None:
                raise InvalidFieldError("owner_id", f"no user {user_id}")

    def _load(self, uow: UnitOfWork, party_id: int) -> Party:
        row = uow.parties.get(party_id)
        if row is None:
            raise NotFoundError(f"no party {party_id}")
        return self._codec.decode(row)

    # -- parties ---------------------------------------------------------------------------

    def set_region(self, region: str) -> str:
        """Set the book's default phone region (ISO alpha-2): numbers typed without a
        country code, for parties without an address, are read as numbers of it."""
        self._actor.require("parties", "write")
        code = normalise_country("region", region)
        at = self._clock.now()
        with self._uow() as uow:
            before = {"phone_region": self._region(uow)}
            uow.ledger.set_setting(REGION_SETTING, code)
            record(
                uow,
                self._actor,
                at,
                "book.region",
                "book",
                "phone_region",
                before,
                {"phone_region": code},
            )
            uow.commit()
        return code

    def region(self) -> str | None:
        """The book's default phone region, if set."""
        with self._uow(readonly=True) as uow:
            return self._region(uow)

    def add(self, party: Party) -> Party:
        """Normalise, check and store one party; returns it as stored."""
        return self.add_many([party])[0]

    def add_many(self, parties: Sequence[Party]) -> list[Party]:
        """Store ``parties`` in one transaction (all or none)."""
        self._actor.require("parties", "write")
        at = self._clock.now()
        with self._uow() as uow:
            region = self._region(uow)
            ready = [self._prepare(p, region) for p in parties]
            self._check_links(uow, ready, [])
            stored = self._store(uow, ready, at)
            for party in stored:
                view = audit_view(party)
                record(uow, self._actor, at, "party.create", "party", party.id, None, view)
                emit(uow, "party", party.id or 0, "party.created", at, kind=party.kind.value)
            uow.commit()
        return stored

    def _store(self, uow: UnitOfWork, ready: Sequence[Party], at: datetime) -> list[Party]:
        """Insert prepared parties (normalised and checked by :meth:`_prepare`, their links
        by :meth:`_check_links` or the import's up-front check; the store's keys back both)."""
        ids = uow.parties.reserve_ids(len(ready))
        stored: list[Party] = []
        rows = []
        terms: list[tuple[int, str]] = []
        for draft, party_id in zip(ready, ids, strict=True):
            party = replace(draft, id=party_id, version=1, created_at=at, updated_at=at)
            row, hashes = self._codec.encode(party, party_id, at)
            rows.append(row)
            terms.extend((party_id, h) for h in set(hashes))
            stored.append(party)
        uow.parties.insert(rows, terms)
        return stored

    def import_parties(
        self,
        items: Sequence[tuple[int, Party]],
        report: ImportReport,
        dry_run: bool = False,
        batch_size: int = 2000,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Normalise, check and store every ``(line, party)`` in one transaction: all of
        them, or (when a problem turns up or it is a dry run) none. Every problem goes into
        ``report`` with its line.

        Batches of ``batch_size`` are normalised, checked and written one after the other;
        a problem anywhere rolls the whole transaction back. The write lock is held from the
        first batch to the commit.
        """
        self._actor.require("parties", "write")
        at = self._clock.now()
        seen: dict[tuple[str, str], int] = {}
        with self._uow() as uow:
            region = self._region(uow)
            # Once, before anything is written: the rows of this import are not the
            # book's yet, and a duplicate within the file is caught by ``seen``.
            external_id_problems(uow, items, seen, report)
            for start in range(0, len(items), batch_size):
                chunk = items[start : start + batch_size]
                ready, problems = normalise_rows(chunk, report.source, region)
                for problem in problems:
                    report.add(problem)
                if report.ok and not dry_run:
                    self._store_batch(uow, ready, at, report)
                if progress is not None:
                    progress(len(chunk))
            if report.ok and not dry_run:
                uow.commit()
        return report

    def _store_batch(
        self, uow: UnitOfWork, ready: Sequence[Party], at: datetime, report: ImportReport
    ) -> None:
        stored = self._store(uow, ready, at)
        span = {
            "source": report.source,
            "parties": len(stored),
            "first_id": stored[0].id,
            "last_id": stored[-1].id,
        }
        record(uow, self._actor, at, "party.import", "party", stored[0].id, None, span)
        ids = [p.id for p in stored]
        emit(uow, "party_import", stored[0].id or 0, "party.imported", at, party_ids=ids)
        report.written += len(stored)

    def get(self, party_id: int) -> Party:
        """One party; :class:`NotFoundError` when there is none."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return self._load(uow, party_id)

    def find_external(self, system: str, external_id: str) -> int | None:
        """The id of the party holding ``(system, external_id)``, if any."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return uow.parties.external_owners([(system, external_id)]).get((system, external_id))

    def find_reference(self, ref: str, system: str = "import") -> int | None:
        """The party an imported row (an invoice, a payment, an interaction) names by
        ``ref``: the holder of ``(system, ref)``; else of ``SYSTEM:ID`` written out; else
        the one party holding ``ref`` in any system (a fusion run attaches the ids of
        every source to the golden party, so a finance customer number finds it)."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            store = uow.parties
            wanted = [(system, ref)]
            head, sep, tail = ref.partition(":")
            if sep:
                wanted.append((head, tail))
            owners = store.external_owners(wanted)
            for key in wanted:
                if key in owners:
                    return owners[key]
            holders = store.external_holders(ref)
            return holders[0] if len(holders) == 1 else None

    def many(self, ids: Iterable[int]) -> dict[int, Party]:
        """The parties of ``ids`` that exist, by id."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return {r.id: self._codec.decode(r) for r in uow.parties.many(list(ids))}

    def update(self, party_id: int, changes: Mapping[str, Any], if_version: int | None) -> Party:
        """Change the named fields of a party; ``if_version`` (when given) must be current."""
        self._actor.require("parties", "write")
        bad = sorted(set(changes) & _READ_ONLY) or sorted(set(changes) - set(Party.__slots__))
        if bad:
            raise InvalidFieldError(bad[0], "cannot be changed")
        at = self._clock.now()
        with self._uow() as uow:
            before = self._load(uow, party_id)
            refuse_merged(uow.parties, [party_id])
            if if_version is not None and before.version != if_version:
                raise VersionConflictError(f"party {party_id}", if_version, before.version)
            after = self._prepare(replace(before, **changes), self._region(uow))
            after = replace(after, version=before.version + 1, updated_at=at)
            self._check_links(uow, [after], [party_id])
            row, hashes = self._codec.encode(after, party_id, at)
            if not uow.parties.update(row, before.version, hashes):
                raise VersionConflictError(f"party {party_id}", before.version, before.version + 1)
            view_before, view_after = audit_view(before), audit_view(after)
            record(uow, self._actor, at, "party.update", "party", party_id, view_before, view_after)
            emit(uow, "party", party_id, "party.updated", at, version=after.version)
            uow.commit()
        return after

    def list(self, query: PartyQuery) -> builtins.list[Party]:
        """A page of parties (see :class:`PartyQuery`)."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return [self._codec.decode(r) for r in uow.parties.page(query)]

    def count(self) -> int:
        """How many parties the book holds."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return uow.parties.count()

    def search(self, text: str, limit: int = 20) -> builtins.list[SearchHit]:
        """Parties by name fragment, email, phone in any format or tax id, best first."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return find_parties(uow.parties, self._codec, text, self._region(uow), limit)

    # -- contacts --------------------------------------------------------------------------

    def add_contact(self, contact: Contact) -> Contact:
        """Link a person to an organisation with a role."""
        return self.add_contacts([contact])[0]

    def add_contacts(self, contacts: Sequence[Contact]) -> builtins.list[Contact]:
        """Link people to organisations, in one transaction (all or none); a refusal names
        the link as ``contacts[i]``. The links the people have already are read once, and
        the new ones are written in one statement with their audit records."""
        self._actor.require("parties", "write")
        at = self._clock.now()
        with self._uow() as uow:
            ids = {c.organisation_id for c in contacts} | {c.person_id for c in contacts}
            kinds = {row.id: PartyKind(row.kind) for row in uow.parties.many(list(ids))}
            refuse_merged(uow.parties, kinds)
            people = sorted({c.person_id for c in contacts})
            linked = {
                (c.organisation_id, c.person_id) for c in uow.parties.contacts_of_people(people)
            }
            for index, contact in enumerate(contacts):
                try:
                    self._check_link(contact, kinds, linked)
                except InvalidFieldError as error:
                    if len(contacts) == 1:
                        raise
                    raise InvalidFieldError(
                        f"contacts[{index}].{error.field}", str(error)
                    ) from error
            new_ids = uow.parties.add_contacts(contacts, at)
            changes = [
                Change(
                    "contact.create",
                    "contact",
                    new_id,
                    None,
                    {
                        "organisation_id": c.organisation_id,
                        "person_id": c.person_id,
                        "role": c.role,
                    },
                )
                for c, new_id in zip(contacts, new_ids, strict=True)
            ]
            record_many(uow, self._actor, at, changes)
            uow.commit()
        return [
            replace(c, id=new_id, version=1, created_at=at)
            for c, new_id in zip(contacts, new_ids, strict=True)
        ]

    @staticmethod
    def _check_link(
        contact: Contact, kinds: Mapping[int, PartyKind], linked: set[tuple[int, int]]
    ) -> None:
        """Refuse a link that is malformed, joins the wrong kinds of party or exists (in
        ``linked``, which gains it)."""
        validate_contact(contact)
        org, person = contact.organisation_id, contact.person_id
        for party_id in (org, person):
            if party_id not in kinds:
                raise NotFoundError(f"no party {party_id}")
        if kinds[org] is not PartyKind.ORGANISATION:
            raise InvalidFieldError("organisation_id", f"party {org} is not an organisation")
        if kinds[person] is not PartyKind.PERSON:
            raise InvalidFieldError("person_id", f"party {person} is not a person")
        if (org, person) in linked:
            raise ConflictError(f"party {person} is already a contact of {org}")
        linked.add((org, person))

    def contacts(
        self, organisation_id: int | None = None, person_id: int | None = None
    ) -> builtins.list[ContactView]:
        """The contact links of an organisation or of a person, with both parties."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            links = uow.parties.contacts(organisation_id, person_id)
            return self._views(uow, links)

    def contacts_of_people(self, person_ids: Iterable[int]) -> builtins.list[ContactView]:
        """The contact links of several people, in one read (a search result page)."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return self._views(uow, uow.parties.contacts_of_people(sorted(set(person_ids))))

    def contact_page(self, after_id: int, limit: int) -> builtins.list[ContactView]:
        """All contact links by id."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return self._views(uow, uow.parties.contact_page(after_id, limit))

    def contact(self, contact_id: int) -> ContactView:
        """One contact link."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            row = uow.parties.contact(contact_id)
            if row is None:
                raise NotFoundError(f"no contact {contact_id}")
            return self._views(uow, [row])[0]

    def _views(self, uow: UnitOfWork, links: Sequence[ContactRow]) -> builtins.list[ContactView]:
        ids = {i for c in links for i in (c.organisation_id, c.person_id)}
        parties = {r.id: self._codec.decode(r) for r in uow.parties.many(sorted(ids))}
        return [
            ContactView(_contact(c), parties[c.organisation_id], parties[c.person_id])
            for c in links
        ]

    def update_contact(
        self, contact_id: int, role: str, primary: bool, if_version: int | None
    ) -> Contact:
        """Change a contact's role or primary flag."""
        self._actor.require("parties", "write")
        at = self._clock.now()
        with self._uow() as uow:
            row = uow.parties.contact(contact_id)
            if row is None:
                raise NotFoundError(f"no contact {contact_id}")
            refuse_merged(uow.parties, [row.organisation_id, row.person_id])
            if if_version is not None and row.version != if_version:
                raise VersionConflictError(f"contact {contact_id}", if_version, row.version)
            changed = validate_contact(replace(_contact(row), role=role, primary=primary))
            if not uow.parties.update_contact(contact_id, row.version, role, primary):
                raise VersionConflictError(f"contact {contact_id}", row.version, row.version + 1)
            before = {"role": row.role, "primary": row.primary}
            record(
                uow,
                self._actor,
                at,
                "contact.update",
                "contact",
                contact_id,
                before,
                {"role": role, "primary": primary},
            )
            uow.commit()
        return replace(changed, version=row.version + 1)

    def remove_contact(self, contact_id: int) -> None:
        """Unlink a person from an organisation (both parties stay)."""
        self._actor.require("parties", "write")
        at = self._clock.now()
        with self._uow() as uow:
            row = uow.parties.contact(contact_id)
            if row is not None:
                refuse_merged(uow.parties, [row.organisation_id, row.person_id])
            if row is None or not uow.parties.delete_contact(contact_id):
                raise NotFoundError(f"no contact {contact_id}")
            before = {"organisation_id": row.organisation_id, "person_id": row.person_id}
            record(uow, self._actor, at, "contact.delete", "contact", contact_id, before, None)
            uow.commit()
