"""Deals added and moved many at a time (a pipeline review, the demo's months), on SQLite and
PostgreSQL: each deal gets exactly what :meth:`add` and :meth:`move` give one, in one
transaction, and a refusal anywhere in the batch leaves no trace of any of it."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.services.crm_ports import DealQuery
from crmledger.services.deals import DealMove
from crmledger.services.errors import VersionConflictError


@pytest.fixture
def parties(app: App) -> list[int]:
    stored = app.parties.add_many(
        [Party(kind=PartyKind.ORGANISATION, display_name=f"Customer {n}") for n in range(3)]
    )
    return [p.id for p in stored if p.id is not None]


def _deal(party: int, title: str, amount: str = "1000.00", stage: str = "lead") -> Deal:
    return Deal(
        pipeline="sales",
        stage=stage,
        title=title,
        party_id=party,
        amount=Decimal(amount),
        currency="EUR",
    )


def _book(app: App) -> tuple[Counter[str], Counter[str], int]:
    """The audit actions, the outbox event types and the stage-history rows of the book."""
    actions = Counter(r.action for r in app.audit.log(limit=1000))
    with app.engine.connect() as conn:
        events = Counter(
            str(t) for (t,) in conn.execute(text("SELECT type FROM outbox_events")).all()
        )
        steps = int(conn.execute(text("SELECT COUNT(*) FROM deal_stage_changes")).scalar_one())
    return actions, events, steps


def test_add_many_stores_each_deal_as_add_does(app: App, parties: list[int]) -> None:
    drafts = [
        _deal(parties[0], " Fleet renewal "),
        _deal(parties[1], "Sensors", "250.50", stage=""),
        _deal(parties[2], "Workshop", stage="proposal"),
    ]
    stored = app.deals.add_many(drafts)
    assert [(d.title, d.stage, d.version, d.amount) for d in stored] == [
        ("Fleet renewal", "lead", 1, Decimal("1000.00")),
        ("Sensors", "lead", 1, Decimal("250.50")),
        ("Workshop", "proposal", 1, Decimal("1000.00")),
    ]
    assert len({d.id for d in stored}) == 3
    for deal in stored:
        assert deal.id is not None
        assert app.deals.get(deal.id) == deal
        assert [(s.from_stage, s.to_stage) for s in app.deals.history(deal.id)] == [
            (None, deal.stage)
        ]
    actions, _, steps = _book(app)
    assert actions["deal.create"] == 3
    assert steps == 3
    assert app.audit.verify().ok


def test_a_refused_deal_in_add_many_stores_none_and_is_named(app: App, parties: list[int]) -> None:
    before = _book(app)
    drafts = [_deal(parties[0], "Fine"), _deal(parties[1], "Closed already", stage="won")]
    with pytest.raises(InvalidFieldError) as refused:
        app.deals.add_many(drafts)
    assert refused.value.field == "[1].stage"
    assert app.deals.list(DealQuery()) == []
    assert _book(app) == before


def test_move_many_moves_in_order_with_history_audit_and_events(
    app: App, parties: list[int]
) -> None:
    a, b, c = app.deals.add_many([_deal(p, f"Deal {p}") for p in parties])
    assert a.id is not None
    assert b.id is not None
    assert c.id is not None
    _, events_before, steps_before = _book(app)
    moved = app.deals.move_many(
        [
            DealMove(a.id, "qualified", a.version),
            DealMove(b.id, "lost", b.version, "no budget"),
            DealMove(a.id, "proposal", a.version + 1),
            DealMove(c.id, "won"),
        ]
    )
    assert [(d.id, d.stage, d.version) for d in moved] == [
        (a.id, "qualified", 2),
        (b.id, "lost", 2),
        (a.id, "proposal", 3),
        (c.id, "won", 2),
    ]
    assert moved[1].lost_reason == "no budget"
    assert moved[3].won_at is not None
    assert app.deals.get(a.id) == moved[2]
    assert [(s.from_stage, s.to_stage) for s in app.deals.history(a.id)] == [
        (None, "lead"),
        ("lead", "qualified"),
        ("qualified", "proposal"),
    ]
    actions, events, steps = _book(app)
    assert actions["deal.stage"] == 4
    assert events["deal.stage_changed"] - events_before["deal.stage_changed"] == 4
    assert steps - steps_before == 4
    assert app.audit.verify().ok


@pytest.mark.parametrize(
    ("bad", "error", "field"),
    [
        (DealMove(0, "lost", None, ""), InvalidFieldError, "[1].lost_reason"),
        (DealMove(0, "nowhere"), InvalidFieldError, "[1].stage"),
        (DealMove(0, "qualified", 7), VersionConflictError, None),
    ],
)
def test_a_refused_move_in_move_many_moves_nothing(
    app: App,
    parties: list[int],
    bad: DealMove,
    error: type[Exception],
    field: str | None,
) -> None:
    first, second = app.deals.add_many([_deal(parties[0], "One"), _deal(parties[1], "Two")])
    assert first.id is not None
    assert second.id is not None
    before = _book(app)
    with pytest.raises(error) as refused:
        app.deals.move_many(
            [DealMove(first.id, "qualified", 1), DealMove(second.id, bad.to_stage, bad.if_version)]
        )
    if field is not None:
        assert isinstance(refused.value, InvalidFieldError)
        assert refused.value.field == field
    assert (app.deals.get(first.id), app.deals.get(second.id)) == (first, second)
    assert _book(app) == before
