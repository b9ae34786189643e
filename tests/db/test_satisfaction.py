"""Satisfaction responses on SQLite and PostgreSQL: recording, refusals, lists, and NPS /
CSAT summaries per month, quarter, segment and owner on a set small enough to check by hand,
through the service and through the ``crmledger survey`` command line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from crmledger.bootstrap import App
from crmledger.cli.main import app as cli
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.persistence.satisfaction_tables import satisfaction_responses
from crmledger.services.crm_ports import PartyQuery, SatisfactionQuery
from crmledger.services.errors import NotFoundError
from crmledger.services.satisfaction import SummaryRow, UnknownPartyError, period_keys
from crmledger.services.trail import Actor

NPS, CSAT = SurveyKind.NPS, SurveyKind.CSAT
PASSWORD = "correct horse battery"


def _party(app: App, name: str, segment: str = "", owner: int | None = None) -> int:
    party = app.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name=name, segment=segment, owner_id=owner)
    )
    assert party.id is not None
    return party.id


def _answer(kind: SurveyKind, score: int, party: int, day: str, **more: object) -> Response:
    return Response(
        kind=kind, score=score, party_id=party, answered_on=date.fromisoformat(day), **more
    )


def _stored(app: App) -> int:
    return len(app.satisfaction.list(SatisfactionQuery(limit=10_000)))


def _satisfaction_audits(app: App) -> list[str]:
    return [r.action for r in app.audit.log(limit=500) if r.action.startswith("satisfaction")]


# -- recording ------------------------------------------------------------------------------


def test_a_recorded_answer_reads_back_with_who_recorded_it_and_an_audit_record(app: App) -> None:
    acme = _party(app, "Acme GmbH")
    recorded = app.satisfaction.record(
        _answer(NPS, 9, acme, "2026-05-04", comment="Fast delivery", order_id=12, invoice_id=3)
    )
    again = app.satisfaction.get(recorded.id)
    assert again == recorded
    assert again.response.comment == "Fast delivery"
    assert (again.response.order_id, again.response.invoice_id) == (12, 3)
    assert again.response.interaction_id is None
    assert again.created_by == "operator"
    assert again.created_at == datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    [audit] = [r for r in app.audit.log() if r.action == "satisfaction.record"]
    assert audit.resource_id == str(recorded.id)
    after = audit.changes["after"]
    assert after["score"] == 9
    assert after["party_id"] == acme
    # The comment is free text that may name people: only its length is kept.
    assert after["comment_chars"] == len("Fast delivery")
    assert "Fast delivery" not in json.dumps(audit.changes)


@pytest.mark.parametrize(
    ("kind", "score"), [(NPS, 11), (NPS, -1), (CSAT, 0), (CSAT, 6), (CSAT, 10), (NPS, True)]
)
def test_a_score_off_its_scale_is_refused_naming_score_and_stores_nothing(
    app: App, kind: SurveyKind, score: int
) -> None:
    acme = _party(app, "Acme GmbH")
    with pytest.raises(InvalidFieldError) as refused:
        app.satisfaction.record(_answer(kind, score, acme, "2026-05-04"))
    assert refused.value.field == "score"
    assert _stored(app) == 0
    assert _satisfaction_audits(app) == []


def test_a_batch_with_one_bad_answer_stores_none_and_names_its_position(app: App) -> None:
    acme = _party(app, "Acme GmbH")
    batch = [_answer(NPS, 10, acme, "2026-05-04"), _answer(CSAT, 9, acme, "2026-05-04")]
    with pytest.raises(InvalidFieldError) as refused:
        app.satisfaction.record_many(batch)
    assert refused.value.field == "responses[1].score"
    assert _stored(app) == 0
    stored = app.satisfaction.record_many(batch[:1] * 3)
    assert len({r.id for r in stored}) == 3
    assert _stored(app) == 3
    assert _satisfaction_audits(app) == ["satisfaction.record"] * 3


def test_an_unknown_party_is_not_found_naming_party_id_and_stores_nothing(app: App) -> None:
    acme = _party(app, "Acme GmbH")
    with pytest.raises(UnknownPartyError) as refused:
        app.satisfaction.record_many(
            [_answer(NPS, 10, acme, "2026-05-04"), _answer(NPS, 10, acme + 99, "2026-05-04")]
        )
    assert refused.value.field == "party_id"
    assert isinstance(refused.value, NotFoundError)
    assert _stored(app) == 0


@pytest.mark.parametrize(
    ("more", "field"),
    [
        ({"comment": "x" * 2001}, "comment"),
        ({"comment": "nul\x00"}, "comment"),
        ({"order_id": 0}, "order_id"),
        ({"invoice_id": 2**31}, "invoice_id"),
        ({"interaction_id": -4}, "interaction_id"),
    ],
)
def test_other_bad_fields_are_refused_by_name(app: App, more: dict, field: str) -> None:
    acme = _party(app, "Acme GmbH")
    with pytest.raises(InvalidFieldError) as refused:
        app.satisfaction.record(_answer(CSAT, 4, acme, "2026-05-04", **more))
    assert refused.value.field == field
    assert _stored(app) == 0


def test_the_database_refuses_a_score_off_the_scale_written_behind_the_service(app: App) -> None:
    acme = _party(app, "Acme GmbH")
    row = {
        "kind": "csat",
        "score": 7,
        "answered_on": date(2026, 5, 4),
        "party_id": acme,
        "created_at": datetime(2026, 5, 4, tzinfo=UTC),
        "created_by": "raw-sql",
    }
    with pytest.raises(IntegrityError), app.engine.begin() as conn:
        conn.execute(insert(satisfaction_responses).values(row))
    with app.engine.begin() as conn:  # the same row on the NPS scale is fine
        conn.execute(insert(satisfaction_responses).values(row | {"kind": "nps"}))
    assert _stored(app) == 1


def test_roles_without_the_write_permission_cannot_record_but_can_read(app: App) -> None:
    acme = _party(app, "Acme GmbH")
    recorded = app.satisfaction.record(_answer(NPS, 8, acme, "2026-05-04"))
    viewer = app.acting_as(Actor(Principal(user_id=42, label="v@example.com", role=Role.VIEWER)))
    with pytest.raises(PermissionDeniedError):
        viewer.satisfaction.record(_answer(NPS, 8, acme, "2026-05-04"))
    assert viewer.satisfaction.get(recorded.id) == recorded
    support = app.acting_as(Actor(Principal(user_id=7, label="s@example.com", role=Role.SUPPORT)))
    assert support.satisfaction.record(_answer(NPS, 8, acme, "2026-05-05")).created_by == "user:7"
    with pytest.raises(NotFoundError):
        app.satisfaction.get(recorded.id + 100)


# -- lists ----------------------------------------------------------------------------------


def test_lists_filter_and_page_by_keyset_latest_answer_first(app: App) -> None:
    acme, bolt = _party(app, "Acme GmbH"), _party(app, "Bolt AG")
    days = ["2026-03-01", "2026-01-15", "2026-03-01", "2026-02-10", "2026-01-15"]
    stored = app.satisfaction.record_many(
        [_answer(NPS, 9, acme if i % 2 else bolt, d) for i, d in enumerate(days)]
        + [_answer(CSAT, 5, acme, "2026-02-01")]
    )
    expected = sorted(stored, key=lambda r: (r.response.answered_on, r.id), reverse=True)
    seen, after = [], None
    while True:
        page = app.satisfaction.list(SatisfactionQuery(limit=2, after=after))
        seen += page
        if len(page) < 2:
            break
        after = (page[-1].response.answered_on, page[-1].id)
    assert [r.id for r in seen] == [r.id for r in expected]
    only = app.satisfaction.list(
        SatisfactionQuery(
            party_id=acme,
            kind="nps",
            date_from=date(2026, 1, 15),
            date_to=date(2026, 2, 28),
        )
    )
    # Acme's NPS answers are those of 2026-01-15 and 2026-02-10; its CSAT is left out.
    assert [(r.response.party_id, str(r.response.answered_on)) for r in only] == [
        (acme, "2026-02-10"),
        (acme, "2026-01-15"),
    ]
    assert [r.response.kind for r in app.satisfaction.list(SatisfactionQuery(kind="csat"))] == [
        CSAT
    ]
    with pytest.raises(InvalidFieldError) as bad_kind:
        app.satisfaction.list(SatisfactionQuery(kind="ces"))
    assert bad_kind.value.field == "kind"
    with pytest.raises(InvalidFieldError) as bad_limit:
        app.satisfaction.list(SatisfactionQuery(limit=0))
    assert bad_limit.value.field == "limit"


# -- summaries ------------------------------------------------------------------------------


@dataclass
class Book:
    """Four parties: A (enterprise, owner 1), B (smb, owner 2), C (nothing), D (enterprise,
    owner 2), and answers in January, March and April 2026 (none in February)."""

    app: App
    owner1: int
    owner2: int


@pytest.fixture
def book(app: App) -> Book:
    owner1 = app.access.add_user("ann@example.com", Role.SALES, PASSWORD).id
    owner2 = app.access.add_user("bob@example.com", Role.SALES, PASSWORD).id
    a = _party(app, "A", "enterprise", owner1)
    b = _party(app, "B", "smb", owner2)
    c = _party(app, "C")
    d = _party(app, "D", "enterprise", owner2)
    nps = [
        (a, 10, "2026-01-03"),
        (b, 9, "2026-01-20"),
        (c, 8, "2026-01-31"),
        (d, 3, "2026-01-31"),
        (a, 6, "2026-03-01"),
        (b, 7, "2026-03-15"),
        (d, 10, "2026-03-31"),
        (c, 0, "2026-04-01"),
        (a, 5, "2026-04-30"),
    ]
    csat = [
        (a, 5, "2026-01-05"),
        (b, 4, "2026-01-06"),
        (c, 3, "2026-01-07"),
        (d, 1, "2026-03-02"),
        (a, 2, "2026-03-03"),
        (b, 4, "2026-03-04"),
        (c, 5, "2026-03-05"),
    ]
    app.satisfaction.record_many(
        [_answer(NPS, s, p, d) for p, s, d in nps] + [_answer(CSAT, s, p, d) for p, s, d in csat]
    )
    return Book(app, owner1, owner2)


def _nps(key: str, n: int, score: str | None, p: int, pas: int, d: int) -> SummaryRow:
    return SummaryRow(key, NPS, n, None if score is None else Decimal(score), p, pas, d)


def _csat(key: str, n: int, score: str | None) -> SummaryRow:
    return SummaryRow(key, CSAT, n, None if score is None else Decimal(score))


def test_nps_per_month_lists_every_month_from_first_to_last_answer(book: Book) -> None:
    # January 10 9 8 3: 2 promoters, 1 passive, 1 detractor of 4 = 25%. March 6 7 10: one
    # each = 0. April 0 5: two detractors = -100. February had no answers.
    assert book.app.satisfaction.summary(NPS, by="period", period="month") == [
        _nps("2026-01", 4, "25.0", 2, 1, 1),
        _nps("2026-02", 0, None, 0, 0, 0),
        _nps("2026-03", 3, "0.0", 1, 1, 1),
        _nps("2026-04", 2, "-100.0", 0, 0, 2),
    ]


def test_nps_per_quarter_and_year_rounds_once_half_even(book: Book) -> None:
    # Q1: 3 promoters - 2 detractors of 7 = 14.2857... %; the year: 3 - 4 of 9 = -11.11... %.
    assert book.app.satisfaction.summary(NPS, by="period", period="quarter") == [
        _nps("2026-Q1", 7, "14.3", 3, 2, 2),
        _nps("2026-Q2", 2, "-100.0", 0, 0, 2),
    ]
    assert book.app.satisfaction.summary(NPS, by="period", period="year") == [
        _nps("2026", 9, "-11.1", 3, 2, 4)
    ]


def test_summaries_count_only_the_answers_between_the_days_given(book: Book) -> None:
    rows = book.app.satisfaction.summary(
        "nps", period="month", date_from=date(2026, 1, 31), date_to=date(2026, 3, 31)
    )
    assert rows == [
        _nps("2026-01", 2, "-50.0", 0, 1, 1),  # 8 and 3, both on the 31st
        _nps("2026-02", 0, None, 0, 0, 0),
        _nps("2026-03", 3, "0.0", 1, 1, 1),
    ]
    assert book.app.satisfaction.summary("nps", date_from=date(2027, 1, 1)) == []


def test_csat_per_month(book: Book) -> None:
    # January 5 4 3: 2 of 3 satisfied = 66.7 %; March 1 2 4 5: 2 of 4 = 50 %.
    assert book.app.satisfaction.summary(CSAT, period="month") == [
        _csat("2026-01", 3, "66.7"),
        _csat("2026-02", 0, None),
        _csat("2026-03", 4, "50.0"),
    ]


def test_nps_and_csat_per_segment(book: Book) -> None:
    # enterprise (A, D): 10 3 6 10 5 = 2 promoters - 3 detractors of 5; smb (B): 9 7;
    # no segment (C): 8 0.
    assert book.app.satisfaction.summary(NPS, by="segment") == [
        _nps("", 2, "-50.0", 0, 1, 1),
        _nps("enterprise", 5, "-20.0", 2, 0, 3),
        _nps("smb", 2, "50.0", 1, 1, 0),
    ]
    # enterprise: 5 1 2 = 1 of 3; smb: 4 4; none: 3 5.
    assert book.app.satisfaction.summary(CSAT, by="segment") == [
        _csat("", 2, "50.0"),
        _csat("enterprise", 3, "33.3"),
        _csat("smb", 2, "100.0"),
    ]


def test_nps_per_owner_uses_the_parties_current_owner(book: Book) -> None:
    # Owner 1 (A): 10 6 5 = 1 - 2 of 3; owner 2 (B, D): 9 3 7 10 = 2 - 1 of 4; none (C).
    expected = [
        _nps(str(book.owner1), 3, "-33.3", 1, 0, 2),
        _nps(str(book.owner2), 4, "25.0", 2, 1, 1),
        _nps("", 2, "-50.0", 0, 1, 1),
    ]
    assert book.app.satisfaction.summary(NPS, by="owner") == expected
    [c] = [p for p in book.app.parties.list(PartyQuery()) if p.display_name == "C"]
    assert c.id is not None
    book.app.parties.update(c.id, {"owner_id": book.owner1}, if_version=c.version)
    moved = book.app.satisfaction.summary(NPS, by="owner")
    assert moved[0] == _nps(str(book.owner1), 5, "-40.0", 1, 1, 3)
    assert [r.key for r in moved] == [str(book.owner1), str(book.owner2)]


@pytest.mark.parametrize(
    ("args", "field"),
    [({"kind": "ces"}, "kind"), ({"by": "region"}, "by"), ({"period": "week"}, "period")],
)
def test_a_summary_of_an_unknown_kind_grouping_or_period_is_refused(
    book: Book, args: dict, field: str
) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        book.app.satisfaction.summary(**({"kind": "nps"} | args))
    assert refused.value.field == field


def test_period_keys_cover_every_period_between_two_days() -> None:
    assert period_keys(date(2025, 11, 30), date(2026, 2, 1), "month") == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert period_keys(date(2025, 12, 1), date(2026, 4, 1), "quarter") == [
        "2025-Q4",
        "2026-Q1",
        "2026-Q2",
    ]
    assert period_keys(date(2026, 5, 1), date(2026, 5, 31), "year") == ["2026"]


# -- command line ---------------------------------------------------------------------------

runner = CliRunner()


def _run(db: str, *args: str) -> str:
    result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def cli_book(db_url: str) -> str:
    _run(db_url, "init", "--base-currency", "EUR")
    _run(db_url, "party", "add", "Acme GmbH", "--segment", "enterprise")
    _run(db_url, "party", "add", "Bolt AG", "--segment", "smb")
    return db_url


def test_survey_add_and_summary_from_the_command_line(cli_book: str) -> None:
    db = cli_book
    assert "Response 1: NPS 9 from party 1 on 2026-05-04" in _run(
        db, "survey", "add", "1", "--nps", "9", "--comment", "Fast", "--on", "2026-05-04"
    )
    _run(db, "survey", "add", "1", "--nps", "3", "--on", "2026-05-20")
    _run(db, "survey", "add", "2", "--nps", "10", "--on", "2026-06-01")
    added = json.loads(_run(db, "survey", "add", "2", "--csat", "4", "-f", "json"))
    assert (added["kind"], added["score"], added["party_id"]) == ("csat", 4, 2)
    by_segment = json.loads(
        _run(db, "survey", "summary", "--kind", "nps", "--by", "segment", "--format", "json")
    )
    assert by_segment == {
        "kind": "nps",
        "by": "segment",
        "period": "month",
        "rows": [
            {"key": "enterprise", "responses": 2, "score": "0.0", "promoters": 1,
             "passives": 0, "detractors": 1},
            {"key": "smb", "responses": 1, "score": "100.0", "promoters": 1,
             "passives": 0, "detractors": 0},
        ],
    }  # fmt: skip
    csv = _run(db, "survey", "summary", "--kind", "csat", "--by", "period", "-f", "csv")
    assert csv.splitlines()[0] == "key,responses,score"
    table = _run(db, "survey", "summary", "--kind", "nps", "--period", "quarter")
    assert "2026-Q2" in table
    assert "33.3" in table
    listed = json.loads(_run(db, "survey", "list", "--party", "1", "-f", "json"))["items"]
    assert [i["score"] for i in listed] == [3, 9]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--csat", "7"], "score"),
        ([], "score"),
        (["--nps", "9", "--csat", "4"], "score"),
        (["--nps", "9", "--on", "4.5.2026"], "answered_on"),
    ],
)
def test_survey_add_refuses_bad_input_naming_the_field(
    cli_book: str, args: list[str], field: str
) -> None:
    result = runner.invoke(cli, ["--db", cli_book, "survey", "add", "1", *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidFieldError)
    assert result.exception.field == field
    assert json.loads(_run(cli_book, "survey", "list", "-f", "json"))["items"] == []
