"""Merging two parties on SQLite and PostgreSQL: everything of the absorbed party moves to
the survivor (contacts, timeline, deals, sales and billing documents, payments, dunning,
tags, external ids), the survivor's balance, aging, statement and 360 take in what moved,
postings are never rewritten, and an undo restores every row exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.contracts import Contract, Frequency, PriceChange
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.parties import Contact, ExternalId, Party, PartyKind
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.persistence.party_merge_store import MOVES, STAYING, UNKEYED
from crmledger.persistence.tables import metadata
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    VersionConflictError,
)
from crmledger.services.sales import DraftLine
from crmledger.services.trail import Actor
from tests.conftest import FixedClock
from tests.db.test_billing import customer, invoice, pay
from tests.db.test_interactions import note

D = Decimal
JUNE_1 = date(2026, 6, 1)
#: Tables whose rows a merge and its undo add to rather than change.
LOGS = {"audit_log", "audit_state", "outbox_events", "party_merges", "party_merge_rows"}


@dataclass(frozen=True)
class World:
    """Two copies of one customer (``acme`` survives, ``copy`` is absorbed) and a person
    who is a contact of both."""

    acme: int
    copy: int
    ann: int
    bob: int
    overdue: int


def person(app: App, given: str, family: str) -> int:
    party = Party(PartyKind.PERSON, f"{given} {family}", given_name=given, family_name=family)
    return int(app.parties.add(party).id or 0)


def world(app: App, clock: FixedClock) -> World:
    acme = customer(
        app, "Acme GmbH", tags=("key-account",), external_ids=(ExternalId("crm", "C1"),)
    )
    copy = customer(
        app,
        "ACME G.m.b.H.",
        payment_terms_days=14,
        tags=("key-account", "legacy"),
        external_ids=(ExternalId("finance", "F1"), ExternalId("shop", "S9")),
    )
    ann, bob = person(app, "Ann", "Lee"), person(app, "Bob", "Stone")
    links = app.parties.add_contacts(
        [Contact(copy, ann, "Buyer"), Contact(copy, bob, "CFO"), Contact(acme, bob, "CFO")]
    )
    at = datetime(2026, 5, 4, 9, tzinfo=UTC)
    app.interactions.add(note(copy, at, "Called about the order", contact_id=links[0].id))
    app.deals.add(
        Deal(
            pipeline="sales",
            stage="lead",
            title="Fleet",
            party_id=copy,
            amount=D("1200.00"),
            currency="EUR",
        )
    )
    line = DraftLine(description="Desk", unit_price=D("80.00"))
    quote = app.sales.create_quote(copy, "EUR", [line])
    app.sales.accept_quote(quote.id, quote.version)
    app.contracts.create(
        Contract(
            party_id=copy,
            description="Support",
            currency="EUR",
            frequency=Frequency.MONTHLY,
            start=JUNE_1,
            next_billing=JUNE_1,
            prices=(PriceChange(JUNE_1, D("99.00")),),
        )
    )
    app.satisfaction.record(
        Response(kind=SurveyKind.NPS, score=9, party_id=copy, answered_on=JUNE_1)
    )
    invoice(app, acme, "100.00", on=JUNE_1)  # 119.00, due 1 July
    overdue = invoice(app, copy, "200.00", on=JUNE_1)  # 238.00, due 15 June
    pay(app, copy, "38.00", paid_on=date(2026, 6, 20))  # 200.00 left
    [notice] = app.dunning.run()  # 30 June: 15 days overdue
    assert notice.invoice_id == overdue.id
    return World(acme, copy, ann, bob, overdue.id)


def snapshot(app: App) -> dict[str, list[str]]:
    """Every row of every table but the logs; a party's version and update time aside."""
    found: dict[str, list[str]] = {}
    with app.engine.connect() as conn:
        for name in sorted(set(inspect(conn).get_table_names()) - LOGS):
            rows = [dict(r) for r in conn.execute(text(f'SELECT * FROM "{name}"')).mappings()]
            if name == "parties":
                rows = [r | {"version": None, "updated_at": None} for r in rows]
            found[name] = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
    return found


def events(app: App, kind: str) -> list[dict[str, Any]]:
    sql = "SELECT payload FROM outbox_events WHERE type = :t ORDER BY id"
    with app.engine.connect() as conn:
        return [json.loads(p) for p in conn.execute(text(sql), {"t": kind}).scalars()]


def acting(app: App, role: Role) -> App:
    return app.acting_as(Actor(Principal(user_id=9, label="x@example.com", role=role)))


def test_every_column_pointing_at_a_party_moves_or_is_known_to_stay() -> None:
    pointing = {
        f"{t.name}.{c.name}"
        for t in metadata.sorted_tables
        for c in t.columns
        if any(f.column.table.name == "parties" for f in c.foreign_keys)
    }
    assert pointing | UNKEYED == {m.name for m in MOVES} | STAYING


def test_a_merge_moves_everything_and_an_undo_restores_every_row(
    app: App, clock: FixedClock
) -> None:
    w = world(app, clock)
    before = snapshot(app)
    versions = {p: app.parties.get(p).version for p in (w.acme, w.copy)}

    done = app.party_merges.merge(w.acme, w.copy, if_version=versions[w.acme])
    assert done.active
    assert done.moved == {
        "billing_documents.party_id": 1,
        "contacts.organisation_id": 1,  # Bob is Acme's contact already: his link stays
        "contracts.party_id": 1,
        "deals.party_id": 1,
        "dunning_notices.party_id": 1,
        "interactions.party_id": 2,  # the call and the dunning note
        "party_external_ids.party_id": 2,
        "party_tags.party_id": 1,  # "legacy"; Acme is a key account already
        "payments.party_id": 1,
        "quotes.party_id": 1,
        "sales_orders.party_id": 1,
        "satisfaction_responses.party_id": 1,
    }
    acme = app.parties.get(w.acme)
    assert acme.tags == ("key-account", "legacy")
    assert set(acme.external_ids) == {
        ExternalId("crm", "C1"),
        ExternalId("finance", "F1"),
        ExternalId("shop", "S9"),
    }
    assert acme.version == versions[w.acme] + 1 == done.versions[w.acme]
    assert [c.person.display_name for c in app.parties.contacts(organisation_id=w.acme)] == [
        "Ann Lee",
        "Bob Stone",
    ]
    assert app.parties.find_external("finance", "F1") == w.acme
    assert app.invoices.get(w.overdue).party_id == w.acme
    # The absorbed party stays, out of lists and searches.
    assert app.parties.get(w.copy).tags == ("key-account",)
    listed = [p.id for p in app.parties.list(PartyQuery(limit=50))]
    assert w.copy not in listed
    assert w.acme in listed
    assert app.parties.count() == 3
    assert [h.party.id for h in app.parties.search("acme")] == [w.acme]
    assert app.party_merges.merged_into(w.copy) == replace(done, versions={})
    assert app.party_merges.survivor_of(w.copy) == w.acme

    undone = app.party_merges.unmerge(done.id)
    assert (undone.status, undone.undone_by) == ("undone", "operator")
    assert snapshot(app) == before
    assert {p: app.parties.get(p).version for p in (w.acme, w.copy)} == {
        w.acme: versions[w.acme] + 2,
        w.copy: versions[w.copy] + 2,
    }
    assert app.party_merges.merged_into(w.copy) is None
    assert app.parties.count() == 4
    assert events(app, "party.merged") == [
        {"absorbed_id": w.copy, "id": w.acme, "merge_id": done.id, "type": "party.merged"}
    ]
    assert [e["merge_id"] for e in events(app, "party.unmerged")] == [done.id]
    actions = [r.action for r in app.audit.log(limit=2)]
    assert actions == ["party.unmerge", "party.merge"]
    assert app.audit.verify().ok


def _figures(app: App, party: int) -> tuple[Decimal, Decimal, Decimal, int, int]:
    """Due (settling), aging total and its difference from the control account, the
    statement's documents and the 360's invoices."""
    due = app.payments.balance(party).due_base
    aging = app.aging.report("receivable", party_id=party)
    statement = app.party_statements.statement(party, kind="customer")
    lines = sum(len(s.lines) for s in statement.sections)
    view = app.intelligence.customer_360(party)
    return due, aging.total, aging.difference, lines, len(view.invoices)


def test_the_survivor_reads_what_moved_and_not_after_the_undo_and_merges_chain(
    app: App, clock: FixedClock
) -> None:
    w = world(app, clock)
    alone = _figures(app, w.acme)
    assert alone[:3] == (D("119.00"), D("119.00"), D("0.00"))
    done = app.party_merges.merge(w.acme, w.copy)
    due, total, difference, lines, invoices = _figures(app, w.acme)
    # The copy's 238.00 less its 38.00 payment: the control account agrees, although the
    # copy's postings still name the copy.
    assert (due, total, difference) == (D("319.00"), D("319.00"), D("0.00"))
    assert lines > alone[3]
    assert invoices == alone[4] + 1
    app.party_merges.unmerge(done.id)
    assert _figures(app, w.acme) == alone
    assert app.payments.balance(w.copy).due_base == D("200.00")
    assert app.aging.report("receivable", party_id=w.copy).difference == D("0.00")
    # Merges chain: the copy into Acme, Acme into its holding; undone in reverse.
    holding = customer(app, "Acme Holding")
    first = app.party_merges.merge(w.acme, w.copy)
    second = app.party_merges.merge(holding, w.acme)
    # The copy's postings name the copy, the survivor's postings Acme: both are Holding's.
    aging = app.aging.report("receivable", party_id=holding)
    assert (aging.total, aging.difference) == (D("319.00"), D("0.00"))
    assert app.party_merges.survivor_of(w.copy) == holding
    with pytest.raises(ConflictError, match=f"undo merge {second.id} first"):
        app.party_merges.unmerge(first.id)
    app.party_merges.unmerge(second.id)
    app.party_merges.unmerge(first.id)
    assert app.aging.report("receivable", party_id=w.copy).total == D("200.00")
    assert [m.id for m in app.party_merges.list(party_id=w.acme)] == [second.id, first.id, done.id]
    assert [m.id for m in app.party_merges.list(party_id=w.acme, status="active")] == []


def test_an_open_dunning_goes_on_with_the_survivor(app: App, clock: FixedClock) -> None:
    w = world(app, clock)
    done = app.party_merges.merge(w.acme, w.copy)
    clock.current = datetime(2026, 7, 6, 9, tzinfo=UTC)  # 21 days late: the next level
    [second] = app.dunning.run()
    assert (second.invoice_id, second.level, second.party_id) == (w.overdue, 2, w.acme)
    # A payment of the survivor settles the moved invoice: undoing would split them.
    pay(app, w.acme, "319.00", paid_on=date(2026, 7, 6))  # both invoices
    assert app.invoices.get(w.overdue).open == D("0.00")
    with pytest.raises(ConflictError, match="allocation"):
        app.party_merges.unmerge(done.id)
    assert app.party_merges.get(done.id).active


def test_refusals_change_nothing(app: App, clock: FixedClock) -> None:
    w = world(app, clock)
    third = customer(app, "Acme Three")
    with pytest.raises(InvalidInputError, match="itself"):
        app.party_merges.merge(w.acme, w.acme)
    with pytest.raises(NotFoundError):
        app.party_merges.merge(w.acme, 999)
    with pytest.raises(InvalidInputError, match="one kind"):
        app.party_merges.merge(w.acme, w.ann)
    with pytest.raises(VersionConflictError):
        app.party_merges.merge(w.acme, w.copy, if_version=99)
    with pytest.raises(PermissionDeniedError):  # finance rows move: billing:write
        acting(app, Role.SALES).party_merges.merge(w.acme, w.copy)
    with pytest.raises(PermissionDeniedError):
        acting(app, Role.VIEWER).party_merges.merge(w.acme, third)
    before = snapshot(app)
    assert app.party_merges.list() == []
    done = app.party_merges.merge(w.acme, w.copy)
    merged = snapshot(app)
    with pytest.raises(ConflictError, match="merged into party"):
        app.party_merges.merge(third, w.copy)  # absorbed already
    with pytest.raises(ConflictError, match="merged into party"):
        app.party_merges.merge(w.copy, third)  # into a merged party
    assert snapshot(app) == merged
    acting(app, Role.SALES).party_merges.merge(w.acme, third)  # no finance rows: allowed
    app.party_merges.unmerge(app.party_merges.list(status="active")[0].id)
    app.party_merges.unmerge(done.id)
    with pytest.raises(ConflictError, match="undone already"):
        app.party_merges.unmerge(done.id)
    assert snapshot(app) == before
