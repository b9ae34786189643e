"""A party merged into another is read-only until the merge is undone, on SQLite and
PostgreSQL: every kind of write naming it is refused with the party to write to (and
changes nothing), reads by id go on, and the undo makes it writable again. A merge moves
the absorbed party's sync links (folding a second link of one connector into the
survivor's), the next sync run of that outside record updates the survivor and creates no
party, and the undo puts every link back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.crm.contracts import Contract, Frequency, PriceChange
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.parties import Address, Contact, Email, ExternalId
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.persistence.sync_store import SqlSyncStore
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.party_guard import MergedPartyError
from crmledger.services.sales import DraftLine
from crmledger.services.settling import NewPayment
from tests.db.test_billing import customer, pay
from tests.db.test_interactions import note
from tests.db.test_party_merge import person, snapshot
from tests.db.test_recurring_bills import rent
from tests.integration_sync.test_sync_folder import config, drop, parties_with

D = Decimal
JUNE_1 = date(2026, 6, 1)
AT = datetime(2026, 6, 2, 9, tzinfo=UTC)
DESK = DraftLine(description="Desk", unit_price=D("80.00"))
WORK = DocumentLine(description="Consulting", unit_price=D("100.00"))
PAPER = DocumentLine(description="Paper", unit_price=D("40.00"), account="Expenses:Office")


@dataclass(frozen=True)
class Pair:
    """``copy`` merged into ``acme`` by ``merge``; Bob is the CFO of both (his link to the
    copy stays with it), ``draft`` is a draft invoice of Acme."""

    acme: int
    copy: int
    ann: int
    contact: int
    draft: int
    merge: int


def merged_pair(app: App) -> Pair:
    acme = customer(app, "Acme GmbH", tags=("key-account",))
    copy = customer(app, "ACME G.m.b.H.")
    ann, bob = person(app, "Ann", "Lee"), person(app, "Bob", "Stone")
    _, stays = app.parties.add_contacts([Contact(acme, bob, "CFO"), Contact(copy, bob, "CFO")])
    draft = app.invoices.create(NewDocument(party_id=acme, currency="EUR", lines=[WORK]))
    done = app.party_merges.merge(acme, copy)
    return Pair(acme, copy, ann, int(stays.id or 0), draft.id, done.id)


def owned(table: str, kind: str | None = None) -> Callable[[App, Pair], int]:
    """How many rows of ``table`` (of a document ``kind``) the copy owns."""

    def read(app: App, p: Pair) -> int:
        sql = f"SELECT COUNT(*) FROM {table} WHERE party_id = :p"
        sql += " AND kind = :k" if kind is not None else ""
        with app.engine.connect() as conn:
            return int(conn.execute(text(sql), {"p": p.copy, "k": kind}).scalar_one())

    return read


def people(app: App, p: Pair) -> list[str]:
    return sorted(c.person.display_name for c in app.parties.contacts(organisation_id=p.copy))


def contract(party: int) -> Contract:
    return Contract(
        party_id=party,
        description="Support",
        currency="EUR",
        frequency=Frequency.MONTHLY,
        start=JUNE_1,
        next_billing=JUNE_1,
        prices=(PriceChange(JUNE_1, D("99.00")),),
    )


def new_deal(party: int) -> Deal:
    return Deal(
        pipeline="sales",
        stage="lead",
        title="Fleet",
        party_id=party,
        amount=D("1200.00"),
        currency="EUR",
    )


Write = Callable[[App, Pair], object]
Read = Callable[[App, Pair], object]
#: Each kind of write naming the copy: the write, what it changes, and to what.
WRITES: dict[str, tuple[Write, Read, object]] = {
    "party": (
        lambda a, p: a.parties.update(p.copy, {"segment": "SMB"}, None),
        lambda a, p: a.parties.get(p.copy).segment,
        "SMB",
    ),
    "tags": (
        lambda a, p: a.parties.update(p.copy, {"tags": ("vip",)}, None),
        lambda a, p: a.parties.get(p.copy).tags,
        ("vip",),
    ),
    "external ids": (
        lambda a, p: a.parties.update(p.copy, {"external_ids": (ExternalId("crm", "C9"),)}, None),
        lambda a, p: a.parties.get(p.copy).external_ids,
        (ExternalId("crm", "C9"),),
    ),
    "new contact": (
        lambda a, p: a.parties.add_contact(Contact(p.copy, p.ann, "Buyer")),
        people,
        ["Ann Lee", "Bob Stone"],
    ),
    "contact change": (
        lambda a, p: a.parties.update_contact(p.contact, "Owner", True, None),
        lambda a, p: a.parties.contact(p.contact).contact.role,
        "Owner",
    ),
    "contact removal": (lambda a, p: a.parties.remove_contact(p.contact), people, []),
    "interaction": (
        lambda a, p: a.interactions.add(note(p.copy, AT)),
        owned("interactions"),
        1,
    ),
    "deal": (lambda a, p: a.deals.add(new_deal(p.copy)), owned("deals"), 1),
    "quote": (lambda a, p: a.sales.create_quote(p.copy, "EUR", [DESK]), owned("quotes"), 1),
    "order": (
        lambda a, p: a.sales.create_order(p.copy, "EUR", [DESK]),
        owned("sales_orders"),
        1,
    ),
    "contract": (lambda a, p: a.contracts.create(contract(p.copy)), owned("contracts"), 1),
    "invoice": (
        lambda a, p: a.invoices.create(NewDocument(party_id=p.copy, currency="EUR", lines=[WORK])),
        owned("billing_documents", "invoice"),
        1,
    ),
    "invoice batch": (
        lambda a, p: a.invoices.issue_batch(
            [NewDocument(party_id=p.copy, currency="EUR", lines=[WORK])]
        ),
        owned("billing_documents", "invoice"),
        1,
    ),
    "draft given to it": (
        lambda a, p: a.invoices.update(p.draft, {"party_id": p.copy}, None),
        lambda a, p: a.invoices.get(p.draft).party_id == p.copy,
        True,
    ),
    "bill": (
        lambda a, p: a.invoices.create(
            NewDocument(kind="bill", party_id=p.copy, currency="EUR", lines=[PAPER])
        ),
        owned("billing_documents", "bill"),
        1,
    ),
    "recurring bill": (
        lambda a, p: a.recurring_bills.create(rent(p.copy)),
        owned("recurring_bills"),
        1,
    ),
    "payment": (lambda a, p: pay(a, p.copy, "10.00"), owned("payments"), 1),
    "payment batch": (
        lambda a, p: a.payments.record_batch(
            [NewPayment(party_id=p.copy, amount=D("10.00"), currency="EUR")]
        ),
        owned("payments"),
        1,
    ),
    "satisfaction": (
        lambda a, p: a.satisfaction.record(
            Response(kind=SurveyKind.NPS, score=9, party_id=p.copy, answered_on=JUNE_1)
        ),
        owned("satisfaction_responses"),
        1,
    ),
}


def refusal(p: Pair, live: int | None = None) -> str:
    return (
        f"party {p.copy} was merged into party {p.acme} (merge {p.merge}): "
        f"write to party {live or p.acme}, or undo the merge"
    )


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_a_write_to_a_merged_party_is_refused_until_the_undo(app: App, kind: str) -> None:
    write, read, expected = WRITES[kind]
    p = merged_pair(app)
    before = snapshot(app)
    with pytest.raises(MergedPartyError) as refused:
        write(app, p)
    assert str(refused.value) == refusal(p)
    assert (refused.value.survivor_id, refused.value.merge_id) == (p.acme, p.merge)
    assert snapshot(app) == before
    assert read(app, p) != expected
    app.party_merges.unmerge(p.merge)
    write(app, p)
    assert read(app, p) == expected


def test_a_merged_party_is_still_read_by_id_and_the_refusal_names_where_it_lives(
    app: App,
) -> None:
    p = merged_pair(app)
    copy = app.parties.get(p.copy)
    assert (copy.id, copy.display_name) == (p.copy, "ACME G.m.b.H.")
    assert set(app.parties.many([p.copy, p.acme])) == {p.copy, p.acme}
    assert people(app, p) == ["Bob Stone"]
    assert app.interactions.timeline(p.copy, None, 10) == []
    assert app.payments.balance(p.copy).due_base == D("0.00")
    # The survivor is merged on: a write to the copy names the party both live on in.
    holding = customer(app, "Acme Holding")
    second = app.party_merges.merge(holding, p.acme)
    with pytest.raises(MergedPartyError) as refused:
        app.parties.update(p.copy, {"segment": "SMB"}, None)
    assert str(refused.value) == refusal(p, live=holding)
    with pytest.raises(MergedPartyError, match=f"party {p.acme} was merged into party {holding}"):
        app.deals.add(new_deal(p.acme))
    app.party_merges.unmerge(second.id)
    assert app.deals.add(new_deal(p.acme)).party_id == p.acme


# -- sync links --------------------------------------------------------------------------

FIRST = [
    ["C-1", "Acme GmbH", "ap@acme.example", "DE", "2026-06-01T10:00:00+00:00"],
    ["C-2", "ACME G.m.b.H.", "ap@acme.example", "DE", "2026-06-01T10:00:00+00:00"],
    ["C-3", "Crane Ltd", "info@crane.example", "GB", "2026-06-01T10:00:00+00:00"],
]
LATER = [
    ["C-2", "ACME G.m.b.H.", "billing@acme.example", "DE", "2026-06-02T09:00:00+00:00"],
    ["C-3", "Crane Ltd", "hello@crane.example", "GB", "2026-06-02T09:00:00+00:00"],
]


@dataclass(frozen=True)
class Synced:
    """Acme (C-1) and its copy (C-2) from the shop; Crane from the shop (C-3) and a copy
    of Crane typed in by hand (``local``, no link)."""

    connector: int
    acme: int
    copy: int
    crane: int
    local: int


def synced(app: App, folder: Path) -> Synced:
    drop(folder, "customers-1.csv", FIRST, mtime=1_000)
    app.sync.add("shop", "folder", config(folder))
    assert app.sync.run("shop").counts["created"] == 3
    owners = parties_with(app, "shop")
    local = customer(
        app,
        "Crane Ltd",
        emails=(Email("info@crane.example"),),
        addresses=(Address(country="GB"),),
    )
    connector = app.sync.get("shop").id
    return Synced(connector, owners["C-1"], owners["C-2"], owners["C-3"], local)


def links(app: App) -> dict[str, tuple[int, int | None]]:
    sql = "SELECT external_id, local_id, merge_id FROM sync_links"
    with app.engine.connect() as conn:
        return {e: (int(p), m) for e, p, m in conn.execute(text(sql))}


def account_links(app: App, s: Synced, ids: list[int]) -> dict[int, str]:
    with app.engine.connect() as conn:
        found = SqlSyncStore(conn).links_of_local(s.connector, "customer", ids)
    return {i: link.external_id for i, link in found.items()}


def test_a_merge_moves_sync_links_and_the_undo_puts_them_back(app: App, tmp_path: Path) -> None:
    s = synced(app, tmp_path)
    before = snapshot(app)
    assert links(app) == {"C-1": (s.acme, None), "C-2": (s.copy, None), "C-3": (s.crane, None)}
    folded = app.party_merges.merge(s.acme, s.copy)
    moved = app.party_merges.merge(s.local, s.crane)
    assert folded.moved == {"party_external_ids.party_id": 1, "sync_links.local_id": 1}
    assert moved.moved == {"party_external_ids.party_id": 1, "sync_links.local_id": 1}
    # Acme keeps C-1 as its account link; C-2 is folded into it. Crane's link becomes the
    # account link of the party it was merged into, which had none.
    assert links(app) == {
        "C-1": (s.acme, None),
        "C-2": (s.acme, folded.id),
        "C-3": (s.local, None),
    }
    assert account_links(app, s, [s.acme, s.copy, s.local, s.crane]) == {
        s.acme: "C-1",
        s.local: "C-3",
    }
    app.party_merges.unmerge(moved.id)
    app.party_merges.unmerge(folded.id)
    assert snapshot(app) == before


def test_a_sync_run_after_a_merge_updates_the_survivor_and_creates_no_party(
    app: App, tmp_path: Path
) -> None:
    s = synced(app, tmp_path)
    kept = [r for r in snapshot(app)["sync_links"] if '"C-2"' in r]
    folded = app.party_merges.merge(s.acme, s.copy)
    app.party_merges.merge(s.local, s.crane)
    parties = app.parties.count()
    drop(tmp_path, "customers-2.csv", LATER, mtime=2_000)
    report = app.sync.run("shop")
    assert [(r.external_id, r.local_id, r.outcome, r.fields) for r in report.results] == [
        ("C-2", s.acme, "updated", ("email",)),
        ("C-3", s.local, "updated", ("email",)),
    ]
    assert report.counts["created"] == 0
    assert app.parties.count() == parties
    assert app.parties.get(s.acme).emails[0].address == "billing@acme.example"
    assert app.parties.get(s.local).emails[0].address == "hello@crane.example"
    assert app.parties.get(s.copy).emails[0].address == "ap@acme.example"
    assert links(app) == {
        "C-1": (s.acme, None),
        "C-2": (s.acme, folded.id),
        "C-3": (s.local, None),
    }
    # The undo gives the copy its record back as it was before the merge (what both sides
    # last agreed on), so the record's next change is taken, not held against the copy.
    app.party_merges.unmerge(folded.id)
    assert [r for r in snapshot(app)["sync_links"] if '"C-2"' in r] == kept
    drop(
        tmp_path,
        "customers-3.csv",
        [["C-2", "ACME G.m.b.H.", "ar@acme.example", "DE", "2026-06-03T09:00:00+00:00"]],
        mtime=3_000,
    )
    [result] = app.sync.run("shop").results
    assert (result.local_id, result.outcome, result.fields) == (s.copy, "updated", ("email",))
    assert app.parties.get(s.copy).emails[0].address == "ar@acme.example"
    assert app.parties.get(s.acme).emails[0].address == "billing@acme.example"


def test_a_link_to_a_merged_party_is_refused_a_write(app: App, tmp_path: Path) -> None:
    """Without the links moving, the copy's record would be routed to the copy: the
    guard turns that into a logged error, never a write to the merged party."""
    s = synced(app, tmp_path)
    done = app.party_merges.merge(s.acme, s.copy)
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE sync_links SET local_id = :c, merge_id = NULL WHERE external_id = 'C-2'"),
            {"c": s.copy},
        )
        conn.execute(
            text("UPDATE party_external_ids SET party_id = :c WHERE external_id = 'C-2'"),
            {"c": s.copy},
        )
    drop(tmp_path, "customers-2.csv", LATER[:1], mtime=2_000)
    [result] = app.sync.run("shop").results
    assert (result.local_id, result.outcome) == (s.copy, "error")
    assert result.reason.endswith(
        f"party {s.copy} was merged into party {s.acme} (merge {done.id}): "
        f"write to party {s.acme}, or undo the merge"
    )
    assert app.parties.get(s.copy).emails[0].address == "ap@acme.example"
