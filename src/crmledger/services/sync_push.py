"""Pushing crmledger's customers out through a connector.

A party goes out when its version moved past the one its link recorded (or, for a
connector that creates records outside, when it has no link yet); only the fields that
differ from what both sides last agreed on are sent, and none whose rule makes the outside
system their source of truth. Three short steps, each safe to die after::

    read      (read-only)  the parties, their links
    push      (outside)    connector.push(...) -> one result per record
    record    (one write)  links moved to the versions sent, the queue emptied

A new outside record's id is ``<id_prefix><party id>``, so pushing it again after a crash
updates the record the first push created instead of making a second one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from crmledger.core.crm.parties import Party
from crmledger.core.integration.sync_rules import Rule
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.integration_ports import IntegrationUnitOfWorkFactory
from crmledger.services.joined import JoinedUnitOfWork
from crmledger.services.parties import PartyService
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.sync_apply import CUSTOMER, FieldDigest, RecordResult
from crmledger.services.sync_config import ConnectorSpec
from crmledger.services.sync_ports import Connector, LinkRow, OutboundChange, PushResult
from crmledger.services.sync_records import party_record

BATCH = 200


@dataclass(frozen=True, slots=True)
class Plan:
    """One party to push: what to send, and the version and link it was read at."""

    party_id: int
    version: int
    change: OutboundChange
    link: LinkRow | None


class Pusher:
    """Pushes one connector's customers (see the module)."""

    def __init__(
        self,
        uow: IntegrationUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        spec: ConnectorSpec,
        connector_id: int,
        connector: Connector,
    ) -> None:
        self._uow, self._clock, self._cipher = uow, clock, cipher
        self._spec, self._id, self._connector = spec, connector_id, connector
        self._digest = FieldDigest(cipher)
        mapped = spec.object(CUSTOMER).fields
        self._fields = tuple(f for f in mapped if spec.rules.of(f) is not Rule.REMOTE)

    def push(self, full: bool) -> list[RecordResult]:
        """Push the queued parties, and with ``full`` every party out of step."""
        with self._uow(readonly=True) as uow:
            ids = uow.sync.queued(self._id, CUSTOMER, 100_000)
        if full:
            ids = sorted(set(ids) | set(self._out_of_step()))
        results: list[RecordResult] = []
        for start in range(0, len(ids), BATCH):
            results += self._batch(ids[start : start + BATCH])
        return results

    def _out_of_step(self) -> list[int]:
        found: list[int] = []
        after: tuple[str, int] | None = None
        while True:
            with self._uow(readonly=True) as uow:
                rows = uow.parties.page(PartyQuery(limit=1000, sort="id", after=after))
                links = uow.sync.links_of_local(self._id, CUSTOMER, [r.id for r in rows])
            for row in rows:
                link = links.get(row.id)
                stale = link is not None and link.local_version != row.version
                if stale or (link is None and self._spec.push_new):
                    found.append(row.id)
            if len(rows) < 1000:
                return found
            after = (str(rows[-1].id), rows[-1].id)

    def _batch(self, ids: Sequence[int]) -> list[RecordResult]:
        plans, settled = self._plan(ids)
        answers = self._connector.push(CUSTOMER, [p.change for p in plans]) if plans else []
        if len(answers) != len(plans):
            raise RuntimeError(f"the connector answered {len(answers)} of {len(plans)} changes")
        return self._record(plans, answers, settled, ids)

    def _plan(self, ids: Sequence[int]) -> tuple[list[Plan], list[tuple[LinkRow, int]]]:
        with self._uow(readonly=True) as uow:
            parties = PartyService(JoinedUnitOfWork(uow), self._clock, self._cipher).many(ids)
            links = uow.sync.links_of_local(self._id, CUSTOMER, ids)
            absorbed = uow.parties.merged_into(ids)
        plans: list[Plan] = []
        settled: list[tuple[LinkRow, int]] = []
        for party_id in ids:
            party = parties.get(party_id)
            if party is None or party_id in absorbed:  # merged: the survivor carries it
                continue
            plan = self._one(party, links.get(party_id))
            if plan is not None:
                plans.append(plan)
            elif party_id in links:
                settled.append((links[party_id], party.version))
        return plans, settled

    def _one(self, party: Party, link: LinkRow | None) -> Plan | None:
        assert party.id is not None
        record = party_record(party)
        values = {f: record[f] for f in self._fields}
        if link is None:
            if not self._spec.push_new:
                return None
            external = f"{self._spec.id_prefix}{party.id}"
            return Plan(party.id, party.version, OutboundChange(external, values, new=True), None)
        changed = {f: v for f, v in values.items() if self._digest(f, v) != link.base.get(f)}
        if not changed:
            return None
        change = OutboundChange(link.external_id, changed, version=link.remote_version)
        return Plan(party.id, party.version, change, link)

    def _record(
        self,
        plans: Sequence[Plan],
        answers: Sequence[PushResult],
        settled: Sequence[tuple[LinkRow, int]],
        ids: Sequence[int],
    ) -> list[RecordResult]:
        at = self._clock.now()
        results: list[RecordResult] = []
        pushed: dict[int, int] = {}
        with self._uow() as uow:
            for plan, answer in zip(plans, answers, strict=True):
                if not answer.ok:
                    results.append(
                        RecordResult(plan.change.external_id, plan.party_id, "error", answer.error)
                    )
                    continue
                uow.sync.save_link(self._linked(plan, answer, at))
                pushed[plan.party_id] = plan.version
                outcome = "created" if plan.change.new else "updated"
                fields = tuple(plan.change.values)
                results.append(RecordResult(answer.external_id, plan.party_id, outcome, "", fields))
            for link, version in settled:
                uow.sync.save_link(replace(link, local_version=version, synced_at=at))
                pushed[link.local_id] = version
            current = {r.id: r.version for r in uow.parties.many(list(ids))}
            failed = {r.local_id for r in results if r.outcome == "error"}
            done = [
                i
                for i in ids
                if i not in failed and (i not in pushed or current.get(i) == pushed[i])
            ]
            uow.sync.unqueue(self._id, CUSTOMER, done)
            uow.commit()
        return results

    def _linked(self, plan: Plan, answer: PushResult, at: datetime) -> LinkRow:
        sent = {f: self._digest(f, v) for f, v in plan.change.values.items()}
        base: Mapping[str, str] = {} if plan.link is None else plan.link.base
        return LinkRow(
            connector_id=self._id,
            object_type=CUSTOMER,
            external_id=answer.external_id or plan.change.external_id,
            local_id=plan.party_id,
            remote_version=answer.version
            or ("" if plan.link is None else plan.link.remote_version),
            local_version=plan.version,
            base=dict(base) | sent,
            synced_at=at,
        )
