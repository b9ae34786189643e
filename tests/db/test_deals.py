"""Deals on a real book (SQLite and PostgreSQL): a deal walks the pipeline, refused moves
leave no trace, the history keeps every step with its time, pipelines are reconfigured
without stranding deals, and the weighted forecast adds up to figures worked out by hand."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.deals import DEFAULT_PIPELINE, Deal, Pipeline, Stage, StageKind
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.crm_ports import DealQuery
from crmledger.services.deals import (
    PipelineExistsError,
    StageInUseError,
    StoredDeal,
    move_deal,
    win_deal,
)
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.trail import OPERATOR, Actor
from tests.conftest import FixedClock

PASSWORD = "correct horse battery"


@pytest.fixture
def party(app: App) -> int:
    found = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Acme GmbH"))
    assert found.id is not None
    return found.id


def _deal(party: int, **values: object) -> Deal:
    fields: dict[str, object] = {
        "pipeline": "sales",
        "stage": "lead",
        "title": "Fleet renewal",
        "party_id": party,
        "amount": Decimal("12000.00"),
        "currency": "EUR",
    }
    return Deal(**(fields | values))  # type: ignore[arg-type]


def _trail(app: App, deal_id: int) -> tuple[StoredDeal, list[tuple[str | None, str]], int]:
    """The deal, its history steps and how many audit records the book holds."""
    steps = [(s.from_stage, s.to_stage) for s in app.deals.history(deal_id)]
    return app.deals.get(deal_id), steps, len(app.audit.log(limit=1000))


def test_a_fresh_book_has_the_default_pipeline_and_an_empty_board(app: App) -> None:
    [sales] = app.deals.pipelines()
    assert (sales.key, sales.name, sales.stages, sales.version) == (
        "sales",
        "Sales",
        DEFAULT_PIPELINE.stages,
        1,
    )
    board = app.deals.board("sales")
    assert [c.stage.key for c in board.columns] == [s.key for s in DEFAULT_PIPELINE.stages]
    assert all(c.count == 0 and not c.deals for c in board.columns)


def test_add_stores_the_deal_and_starts_its_history(
    app: App, party: int, clock: FixedClock
) -> None:
    owner = app.access.add_user("sam@example.com", Role.SALES, PASSWORD)
    deal = app.deals.add(
        _deal(party, title="  Fleet renewal ", expected_close=date(2026, 9, 30), owner_id=owner.id)
    )
    assert deal.id is not None
    assert app.deals.get(deal.id) == deal
    assert (deal.title, deal.amount, deal.version) == ("Fleet renewal", Decimal("12000.00"), 1)
    assert deal.created_at == deal.updated_at == clock.current
    [step] = app.deals.history(deal.id)
    assert (step.from_stage, step.to_stage, step.at, step.by) == (
        None,
        "lead",
        clock.current,
        "operator",
    )
    [created] = app.audit.log(filters={"action": "deal.create"})
    assert created.changes["after"]["amount"] == "12000.00"
    first = app.deals.add(_deal(party, stage=""))
    assert first.stage == "lead"  # no stage: the pipeline's first open one


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"party_id": 999}, "party_id"),
        ({"owner_id": 999}, "owner_id"),
        ({"amount": Decimal("10.001")}, "amount"),
        ({"amount": Decimal("10.5"), "currency": "JPY"}, "amount"),
        ({"amount": Decimal("-1.00")}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"stage": "won"}, "stage"),
        ({"stage": "nowhere"}, "stage"),
        ({"pipeline": "nowhere"}, "pipeline"),
        ({"probability": Decimal("1.5")}, "probability"),
        ({"probability": Decimal("0.12345")}, "probability"),
        ({"title": "   "}, "title"),
        ({"lost_reason": "no budget"}, "lost_reason"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    app: App, party: int, values: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        app.deals.add(_deal(party, **values))
    assert refused.value.field == field
    assert app.deals.list(DealQuery()) == []
    assert app.audit.log(filters={"action": "deal.create"}) == []


def test_a_deal_walks_every_stage_to_won_and_history_keeps_the_times(
    app: App, party: int, clock: FixedClock
) -> None:
    deal = app.deals.add(_deal(party))
    assert deal.id is not None
    start = clock.current
    for day, stage in enumerate(("qualified", "proposal", "negotiation", "won"), start=1):
        clock.current = start + timedelta(days=day)
        deal = app.deals.move(deal.id, stage, if_version=deal.version)
    assert (deal.stage, deal.version) == ("won", 5)
    assert deal.won_at == deal.closed_at == start + timedelta(days=4)
    assert deal.updated_at == start + timedelta(days=4)
    steps = app.deals.history(deal.id)
    assert [(s.from_stage, s.to_stage) for s in steps] == [
        (None, "lead"),
        ("lead", "qualified"),
        ("qualified", "proposal"),
        ("proposal", "negotiation"),
        ("negotiation", "won"),
    ]
    assert [s.at for s in steps] == [start + timedelta(days=n) for n in range(5)]
    assert len(app.audit.log(filters={"action": "deal.stage"})) == 4
    assert app.deals.get(deal.id) == deal


def test_losing_needs_a_reason_which_is_kept_until_the_deal_is_reopened(
    app: App, party: int, clock: FixedClock
) -> None:
    deal = app.deals.add(_deal(party))
    assert deal.id is not None
    before = _trail(app, deal.id)
    with pytest.raises(InvalidFieldError) as refused:
        app.deals.move(deal.id, "lost", if_version=deal.version)
    assert refused.value.field == "lost_reason"
    assert _trail(app, deal.id) == before
    lost = app.deals.move(deal.id, "lost", if_version=1, reason="  went with a competitor ")
    assert (lost.lost_reason, lost.closed_at, lost.won_at) == (
        "went with a competitor",
        clock.current,
        None,
    )
    assert app.deals.history(deal.id)[-1].reason == "went with a competitor"
    clock.current += timedelta(days=1)
    reopened = app.deals.move(deal.id, "proposal", if_version=lost.version)
    assert (reopened.lost_reason, reopened.closed_at) == ("", None)


def test_refused_moves_change_nothing_and_write_no_history(app: App, party: int) -> None:
    deal = app.deals.add(_deal(party))
    assert deal.id is not None
    won = app.deals.move(deal.id, "won", if_version=1)
    before = _trail(app, deal.id)
    refusals: list[tuple[type[Exception], str, int | None, str]] = [
        (TransitionError, "won", won.version, ""),  # already there
        (TransitionError, "lost", won.version, "price"),  # won → lost: reopen first
        (VersionConflictError, "proposal", 1, ""),  # stale version
        (InvalidFieldError, "nowhere", won.version, ""),  # no such stage
        (InvalidFieldError, "proposal", won.version, "x" * 501),  # reason too long
    ]
    for error, stage, version, reason in refusals:
        with pytest.raises(error):
            app.deals.move(deal.id, stage, if_version=version, reason=reason)
        assert _trail(app, deal.id) == before
    with pytest.raises(NotFoundError):
        app.deals.move(999, "won", if_version=None)


def test_update_changes_fields_but_not_the_stage(app: App, party: int) -> None:
    owner = app.access.add_user("kim@example.com", Role.SALES, PASSWORD)
    deal = app.deals.add(_deal(party))
    assert deal.id is not None
    changed = app.deals.update(
        deal.id,
        {"amount": Decimal("9500.50"), "owner_id": owner.id, "probability": Decimal("0.3")},
        if_version=1,
    )
    assert (changed.amount, changed.owner_id, changed.probability, changed.version) == (
        Decimal("9500.50"),
        owner.id,
        Decimal("0.30"),
        2,
    )
    assert app.deals.get(deal.id) == changed
    for changes, field in (({"stage": "won"}, "stage"), ({"currency": "JPY"}, "amount")):
        with pytest.raises(InvalidFieldError) as refused:
            app.deals.update(deal.id, changes, if_version=2)
        assert refused.value.field == field
    with pytest.raises(VersionConflictError):
        app.deals.update(deal.id, {"title": "Other"}, if_version=1)
    moved = app.deals.move(deal.id, "proposal", if_version=2)
    assert moved.probability is None  # a move clears the override
    won = app.deals.move(deal.id, "won", if_version=moved.version)
    with pytest.raises(InvalidFieldError) as refused:
        app.deals.update(deal.id, {"probability": Decimal("0.5")}, if_version=won.version)
    assert refused.value.field == "probability"
    assert app.deals.get(deal.id) == won


def test_forecast_figures_worked_out_by_hand(app: App, party: int) -> None:
    sam = app.access.add_user("sam@example.com", Role.SALES, PASSWORD).id
    july, august = date(2026, 7, 15), date(2026, 8, 10)
    crafted = [
        # (stage, amount, currency, close, owner, override) -> weighted amount
        ("proposal", "1000.00", "EUR", july, sam, None),  # 0.50 -> 500.00
        ("qualified", "333.33", "EUR", july, sam, None),  # 0.25 -> 83.3325 -> 83.33
        ("proposal", "1000", "JPY", july, sam, None),  # 0.50 -> 500
        ("lead", "200.00", "EUR", august, None, "0.3"),  # override 0.3 -> 60.00
        ("negotiation", "10.05", "EUR", august, None, None),  # 0.75 -> 7.5375 -> 7.54
        ("lead", "100.00", "EUR", None, None, None),  # 0.10 -> 10.00
        ("lead", "0.05", "EUR", None, None, None),  # 0.10 -> 0.005 -> 0.00 (half-even)
    ]
    for stage, amount, currency, close, owner, override in crafted:
        app.deals.add(
            _deal(
                party,
                stage=stage,
                amount=Decimal(amount),
                currency=currency,
                expected_close=close,
                owner_id=owner,
                probability=None if override is None else Decimal(override),
            )
        )
    won = app.deals.add(_deal(party, amount=Decimal("5000.00"), expected_close=july))
    assert won.id is not None
    app.deals.move(won.id, "won", if_version=1)  # closed deals are not forecast
    rows = [
        (r.month, r.owner_id, r.currency, r.open_amount, r.weighted_amount, r.deals)
        for r in app.deals.forecast()
    ]
    assert rows == [
        ("2026-07", sam, "EUR", Decimal("1333.33"), Decimal("583.33"), 2),
        ("2026-07", sam, "JPY", Decimal("1000"), Decimal("500"), 1),
        ("2026-08", None, "EUR", Decimal("210.05"), Decimal("67.54"), 2),
        ("none", None, "EUR", Decimal("100.05"), Decimal("10.00"), 2),
    ]
    [august_only] = app.deals.forecast(from_month="2026-08", to_month="2026-08")
    assert (august_only.month, august_only.weighted_amount) == ("2026-08", Decimal("67.54"))
    assert app.deals.forecast(from_month="2026-09") == []
    for bad, field in (({"from_month": "2026-13"}, "from_month"), ({"pipeline": "x"}, "pipeline")):
        with pytest.raises(InvalidFieldError) as refused:
            app.deals.forecast(**bad)
        assert refused.value.field == field


def _renewals(probability: str = "0.40") -> Pipeline:
    return Pipeline(
        "renewals",
        "Renewals",
        (
            Stage("due", "Due", Decimal(probability)),
            Stage("renewed", "Renewed", Decimal(1), StageKind.WON),
            Stage("churned", "Churned", Decimal(0), StageKind.LOST),
        ),
    )


def test_pipelines_are_created_and_reconfigured_without_stranding_deals(
    app: App, party: int
) -> None:
    created = app.deals.save_pipeline(_renewals(), if_version=None)
    assert created.version == 1
    assert app.deals.pipeline("renewals") == created
    with pytest.raises(PipelineExistsError):
        app.deals.save_pipeline(_renewals(), if_version=None)
    deal = app.deals.add(_deal(party, pipeline="renewals", stage=""))
    assert deal.stage == "due"
    # Re-weigh the occupied stage, add one, rename: fine; the forecast follows.
    stages = (
        Stage("due", "Due soon", Decimal("0.6")),
        Stage("talking", "In talks", Decimal("0.8")),
        *_renewals().stages[1:],
    )
    saved = app.deals.save_pipeline(Pipeline("renewals", "Renewals", stages), if_version=1)
    assert saved.version == 2
    assert app.deals.pipeline("renewals").stages[0] == Stage("due", "Due soon", Decimal("0.60"))
    [row] = app.deals.forecast(pipeline="renewals")
    assert row.weighted_amount == Decimal("7200.00")
    occupied = [
        (Pipeline("renewals", "R", stages[1:]), StageInUseError),  # removes "due"
        (
            Pipeline(
                "renewals",
                "R",
                (replace(stages[0], kind=StageKind.LOST, probability=Decimal(0)), *stages[1:]),
            ),
            StageInUseError,
        ),
    ]
    for pipeline, error in occupied:
        with pytest.raises(error):
            app.deals.save_pipeline(pipeline, if_version=2)
    with pytest.raises(VersionConflictError):
        app.deals.save_pipeline(_renewals(), if_version=1)
    with pytest.raises(InvalidFieldError) as refused:
        app.deals.save_pipeline(_renewals("0.12345"), if_version=2)
    assert refused.value.field == "stages[0].probability"
    assert app.deals.pipeline("renewals") == saved
    # An empty stage can go.
    final = app.deals.save_pipeline(Pipeline("renewals", "Renewals", (stages[0], *stages[2:])), 2)
    assert [s.key for s in final.stages] == ["due", "renewed", "churned"]
    assert [p.key for p in app.deals.pipelines()] == ["renewals", "sales"]


def test_lists_filter_and_page_by_keyset(app: App, party: int, clock: FixedClock) -> None:
    other = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Other AG")).id
    sam = app.access.add_user("sam@example.com", Role.SALES, PASSWORD).id
    ids = []
    for n in range(7):
        deal = app.deals.add(
            _deal(
                party if n % 2 else other,
                title=f"Deal {n}",
                expected_close=date(2026, 7, 1 + n),
                owner_id=sam if n < 3 else None,
            )
        )
        ids.append(deal.id)
    app.deals.move(ids[0], "won", if_version=1)
    app.deals.move(ids[1], "lost", if_version=1, reason="budget")

    def listed(**filters: object) -> list[int | None]:
        return [d.id for d in app.deals.list(DealQuery(**filters))]  # type: ignore[arg-type]

    assert listed() == ids[::-1]
    assert listed(owner_id=sam) == ids[2::-1]
    assert listed(party_id=other) == [ids[6], ids[4], ids[2], ids[0]]
    assert listed(status="open") == ids[:1:-1]
    assert listed(status="won") == [ids[0]]
    assert listed(status="lost", stage="lost") == [ids[1]]
    assert (
        listed(close_from=date(2026, 7, 3), close_to=date(2026, 7, 4), ascending=True) == ids[2:4]
    )
    pages, after = [], None
    while True:
        page = listed(limit=3, after=after)
        pages.append(page)
        if len(page) < 3:
            break
        after = page[-1]
    assert pages == [ids[6:3:-1], ids[3:0:-1], ids[:1]]


def test_search_finds_title_fragments_ignoring_case(app: App, party: int) -> None:
    fleet = app.deals.add(_deal(party, title="Flottenerneuerung München"))
    app.deals.add(_deal(party, title="100% uptime support"))
    app.deals.add(_deal(party, title="Office chairs"))
    assert [d.id for d in app.deals.search("FLOTTEN")] == [fleet.id]
    assert [d.id for d in app.deals.search("münchen")] == [fleet.id]
    assert [d.title for d in app.deals.search("%")] == ["100% uptime support"]
    assert app.deals.search("   ") == []


def test_board_groups_deals_by_stage_with_totals_per_currency(app: App, party: int) -> None:
    app.deals.add(_deal(party, amount=Decimal("100.00")))
    app.deals.add(_deal(party, amount=Decimal("250.50")))
    app.deals.add(_deal(party, amount=Decimal("7"), currency="JPY"))
    app.deals.add(_deal(party, stage="proposal", amount=Decimal("1.00")))
    columns = {c.stage.key: c for c in app.deals.board("sales").columns}
    assert columns["lead"].count == 3
    assert columns["lead"].totals == {"EUR": Decimal("350.50"), "JPY": Decimal("7")}
    assert [d.stage for d in columns["proposal"].deals] == ["proposal"]
    assert columns["won"].count == 0
    with pytest.raises(NotFoundError):
        app.deals.board("nowhere")


def test_win_deal_works_inside_the_callers_transaction(
    app: App, party: int, clock: FixedClock
) -> None:
    deal = app.deals.add(_deal(party))
    assert deal.id is not None
    uow = SqlUnitOfWorkFactory(app.engine)
    with uow() as tx:
        win_deal(tx, OPERATOR, deal.id, clock.current)  # the caller does not commit
    assert app.deals.get(deal.id) == deal
    with uow() as tx:
        won = win_deal(tx, OPERATOR, deal.id, clock.current)
        tx.commit()
    assert (won.stage, won.won_at) == ("won", clock.current)
    assert app.deals.get(deal.id) == won
    before = _trail(app, deal.id)
    assert app.deals.mark_won_for(deal.id) == won  # already won: nothing written
    assert _trail(app, deal.id) == before
    lost = app.deals.add(_deal(party))
    assert lost.id is not None
    app.deals.move(lost.id, "lost", if_version=1, reason="price")
    with pytest.raises(TransitionError):
        app.deals.mark_won_for(lost.id)


def test_roles_decide_who_reads_writes_and_configures(app: App, party: int) -> None:
    def acting(role: Role) -> tuple[App, int]:
        user = app.access.add_user(f"{role.value}@example.com", role, PASSWORD)
        return app.acting_as(Actor(Principal(user.id, "", role, "token"))), user.id

    deal = app.deals.add(_deal(party))
    assert deal.id is not None
    (viewer, _), (sales, sales_id) = acting(Role.VIEWER), acting(Role.SALES)
    assert viewer.deals.get(deal.id) == deal
    with pytest.raises(PermissionDeniedError):
        viewer.deals.add(_deal(party))
    with pytest.raises(PermissionDeniedError):
        viewer.deals.move(deal.id, "qualified", if_version=1)
    sales.deals.move(deal.id, "qualified", if_version=1)
    assert app.deals.history(deal.id)[-1].by == f"user:{sales_id}"
    with pytest.raises(PermissionDeniedError):
        sales.deals.save_pipeline(_renewals(), if_version=None)
    assert [p.key for p in app.deals.pipelines()] == ["sales"]


def test_times_read_back_in_utc(app: App, party: int, clock: FixedClock) -> None:
    clock.current = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    deal = app.deals.add(_deal(party))
    assert deal.id is not None
    won = app.deals.move(deal.id, "won", if_version=1)
    stored = app.deals.get(deal.id)
    assert stored.won_at == won.won_at == clock.current
    assert stored.created_at.utcoffset() == timedelta(0)
    assert app.deals.history(deal.id)[-1].at.tzinfo is not None


def test_a_stage_cannot_be_removed_while_a_deal_moves_into_it(app: App, party: int) -> None:
    """The pipeline change waits for the move's transaction, then sees the deal in the
    stage and refuses: no deal is ever left pointing at a removed stage."""
    deal = app.deals.add(_deal(party))
    assert deal.id is not None
    without_proposal = Pipeline(
        "sales", "Sales", tuple(s for s in DEFAULT_PIPELINE.stages if s.key != "proposal")
    )
    outcome: list[BaseException | None] = []

    def change_pipeline() -> None:
        try:
            app.deals.save_pipeline(without_proposal, if_version=1)
            outcome.append(None)
        except Exception as error:  # handed over to the test thread
            outcome.append(error)

    with SqlUnitOfWorkFactory(app.engine)() as tx:
        move_deal(tx, OPERATOR, deal.id, "proposal", datetime.now(UTC))
        worker = threading.Thread(target=change_pipeline)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # queued behind the move
        tx.commit()
    worker.join(30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], StageInUseError)
    assert app.deals.get(deal.id).stage == "proposal"
    assert app.deals.pipeline("sales").version == 1
