"""Applying outside changes to parties, record by record, inside the caller's transaction.

One external customer is one party: the link (``sync_links``) names it, else the party's
external id in the connector's system, else (a record a push of this book made there) the
party it was made from; without any the customer is created with that external id, so
running the same page again finds it instead of creating it twice. Each record's fields
are merged with :func:`crmledger.core.integration.sync_rules.merge`, and its outcome
(created, updated, unchanged, conflict, error) is returned with the reason::

    applier = Applier(uow, clock, cipher, actor, spec, connector_id)
    results = applier.apply("customer", page.changes)

A record that breaks a rule of the book (an unknown country, a malformed email) is an
error; nothing of it is written, and the other records go on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from crmledger.core.crm.parties import ExternalId, Party, PartyKind
from crmledger.core.errors import LedgerError
from crmledger.core.integration.sync_rules import Merge, merge
from crmledger.services.integration_ports import IntegrationUnitOfWork
from crmledger.services.joined import JoinedUnitOfWork
from crmledger.services.parties import REGION_SETTING, PartyService
from crmledger.services.ports import Clock, FieldCipher, FieldContext
from crmledger.services.sync_config import ConnectorSpec, coded
from crmledger.services.sync_ports import ConflictRow, LinkRow, RemoteChange
from crmledger.services.sync_records import changes_of, normalised, party_record, with_record
from crmledger.services.trail import Actor

CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What became of one record; ``diff`` (field -> (local, outside)) is shown, never
    stored."""

    external_id: str
    local_id: int | None
    outcome: str
    reason: str = ""
    fields: tuple[str, ...] = ()
    diff: Mapping[str, tuple[str, str]] = field(default_factory=dict)


def newer(version: str, than: datetime | None) -> bool:
    """Whether an outside version (an ISO timestamp) is later than ``than``; a version
    that is no timestamp counts as newer (it changed, which is why it is here)."""
    try:
        stamp = datetime.fromisoformat(version)
    except ValueError:
        return True
    if than is None:
        return True
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=than.tzinfo)
    return stamp > than


def _comparable(version: str) -> datetime | int | None:
    if version.isdigit():
        return int(version)
    try:
        stamp = datetime.fromisoformat(version)
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def older(version: str, than: str) -> bool:
    """Whether ``version`` is before ``than`` (both timestamps or both counters); versions
    that cannot be compared are not older."""
    a, b = _comparable(version), _comparable(than)
    if isinstance(a, int) and isinstance(b, int):
        return a < b
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a < b
    return False


def conflict_context(conflict_id: int) -> FieldContext:
    """Where a held outside value is encrypted."""
    return FieldContext("sync_conflicts", "remote", str(conflict_id))


class FieldDigest:
    """The keyed hash a link keeps of a field's value (one HMAC key per field)."""

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher
        self._indexes: dict[str, Callable[[str], str]] = {}

    def __call__(self, name: str, value: str) -> str:
        index = self._indexes.get(name)
        if index is None:
            index = self._indexes[name] = self._cipher.blind_indexer("sync_links", name)
        return index(value)


class Applier:
    """Applies outside changes of one connector in one open unit of work."""

    def __init__(
        self,
        uow: IntegrationUnitOfWork,
        clock: Clock,
        cipher: FieldCipher,
        actor: Actor,
        spec: ConnectorSpec,
        connector_id: int,
    ) -> None:
        self._uow, self._clock, self._cipher = uow, clock, cipher
        self._spec, self._id = spec, connector_id
        self.parties = PartyService(JoinedUnitOfWork(uow), clock, cipher, actor)
        self.digest = FieldDigest(cipher)
        self._region = uow.ledger.get_setting(REGION_SETTING)

    def apply(self, object_type: str, changes: Sequence[RemoteChange]) -> list[RecordResult]:
        """Apply ``changes`` of ``object_type``; one result per change, in order."""
        if object_type != CUSTOMER:
            why = f"{object_type} records are compared by reconciliation, not written"
            return [RecordResult(c.external_id, None, "error", why) for c in changes]
        ids = [c.external_id for c in changes]
        links = self._uow.sync.links(self._id, CUSTOMER, ids)
        owners = self._uow.parties.external_owners([(self._spec.name, e) for e in ids])
        made = {int(c.made_from) for c in changes if c.made_from.isdigit()}
        ours = {str(r.id) for r in self._uow.parties.many(sorted(made))}
        results = []
        for change in changes:
            link = links.get(change.external_id)
            # The parties' external ids decide (a merge moves them to the surviving party).
            owner = owners.get((self._spec.name, change.external_id))
            owner = owner if owner is not None else (link.local_id if link else None)
            if owner is None and change.made_from in ours:
                owner = int(change.made_from)  # made there by a push whose answer is late
            try:
                result, saved = self._one(change, link, owner)
            except LedgerError as exc:
                reason = f"{getattr(exc, 'field', 'record')}: {exc}"
                result, saved = RecordResult(change.external_id, owner, "error", reason), None
            if saved is not None:
                links[change.external_id] = saved
            results.append(result)
        return results

    def _one(
        self, change: RemoteChange, link: LinkRow | None, owner: int | None
    ) -> tuple[RecordResult, LinkRow | None]:
        if not change.external_id:
            return RecordResult("", None, "error", "id: the record has no id"), None
        if link is not None and older(change.version, link.remote_version):
            why = f"older than the version applied last ({link.remote_version})"
            return RecordResult(change.external_id, owner, "unchanged", why), None
        values = coded(self._spec, change.values)
        if owner is None:
            return self._create(change, values)
        party = self.parties.get(owner)
        local = party_record(party)
        remote = normalised(party, values, self._region)
        found = merge(
            local,
            remote,
            None if link is None else link.base,
            self.digest,
            self._spec.rules,
            newer(change.version, party.updated_at),
        )
        stored = self._take(party, found) if found.take else party
        saved = self._link(change, stored, found.base)
        if found.push and self._spec.push:  # crmledger's values win these: send them
            self._uow.sync.queue_push(self._id, CUSTOMER, [owner], self._clock.now())
        held = self._hold(change, stored, found, remote)
        diff = {n: (local.get(n, ""), remote[n]) for n in (*found.take, *found.hold)}
        if held:
            reason = "held for review: " + ", ".join(held)
            return RecordResult(change.external_id, owner, "conflict", reason, held, diff), saved
        if found.take:
            names = tuple(found.take)
            return RecordResult(change.external_id, owner, "updated", "", names, diff), saved
        return RecordResult(change.external_id, owner, "unchanged"), saved

    def _create(
        self, change: RemoteChange, values: Mapping[str, str]
    ) -> tuple[RecordResult, LinkRow]:
        blank = Party(kind=PartyKind.ORGANISATION, display_name="")
        draft = replace(
            with_record(blank, values),
            external_ids=(ExternalId(self._spec.name, change.external_id),),
        )
        stored = self.parties.add(draft)
        assert stored.id is not None
        record = party_record(stored)
        base = {n: self.digest(n, record[n]) for n in values if n in record}
        diff = {n: ("", record[n]) for n in values if record.get(n)}
        saved = self._link(change, stored, base)
        return RecordResult(change.external_id, stored.id, "created", "", (), diff), saved

    def _take(self, party: Party, found: Merge) -> Party:
        assert party.id is not None
        changes = changes_of(party, found.take)
        if not changes:
            return party
        return self.parties.update(party.id, changes, party.version)

    def _link(self, change: RemoteChange, party: Party, base: Mapping[str, str]) -> LinkRow:
        assert party.id is not None
        row = LinkRow(
            connector_id=self._id,
            object_type=CUSTOMER,
            external_id=change.external_id,
            local_id=party.id,
            remote_version=change.version,
            local_version=party.version,
            base=dict(base),
            synced_at=self._clock.now(),
        )
        self._uow.sync.save_link(row)
        return row

    def _hold(
        self, change: RemoteChange, party: Party, found: Merge, remote: Mapping[str, str]
    ) -> tuple[str, ...]:
        assert party.id is not None
        at = self._clock.now()
        for name in found.hold:
            row = ConflictRow(
                id=0,
                connector_id=self._id,
                object_type=CUSTOMER,
                external_id=change.external_id,
                local_id=party.id,
                field=name,
                remote_enc="",
                remote_version=change.version,
                status="open",
                created_at=at,
                decided_at=None,
                decided_by=None,
            )
            conflict_id = self._uow.sync.open_conflict(row)
            sealed = self._cipher.encrypt(remote[name], conflict_context(conflict_id))
            self._uow.sync.set_conflict_value(conflict_id, sealed)
        return found.hold
