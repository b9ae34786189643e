"""The crmledger connector between two real books: book A (the ``app`` fixture, SQLite and
PostgreSQL) syncs with book B (its own SQLite database, served by uvicorn on 127.0.0.1
through the app factory, reached with an API token of B). A customer created in B appears
in A after a run; A's changes and new customers are pushed to B with ``If-Match`` and an
``Idempotency-Key``, so a push retried after a crash makes nothing twice; runs after that
change nothing on either side. The parties API's ``updated_since`` filter, which the pull
pages by, is checked on its own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from crmledger.bootstrap import App, build, migrate
from crmledger.core.access import Role
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Address, Email, ExternalId, Party, PartyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.server import create_app
from crmledger.services.sync_config import compile_config
from crmledger.services.sync_records import CUSTOMER_FIELDS
from tests.api.live import serving
from tests.conftest import FAST_HASHER, FixedClock, settings_for
from tests.integration_sync.helpers import customer

PASSWORD = "correct horse battery"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class TickingClock:
    """A clock one second later at every reading, so each change in B has its own time."""

    def __init__(self) -> None:
        self.current = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current

    def today(self) -> date:
        return self.current.date()


@dataclass
class OtherBook:
    """Book B: its services, its base URL and an API token of its sales user."""

    book: App
    url: str
    token: str


@pytest.fixture
def other(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[OtherBook]:
    folder = tmp_path / "book-b"
    folder.mkdir()
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), folder / "b.db")
    book = build(settings_for(f"sqlite:///{folder / 'b.db'}", folder), TickingClock(), FAST_HASHER)  # type: ignore[arg-type]
    migrate(book)
    book.ledger.init_book(chart("default"), "EUR")
    book.access.add_user("sync@b.example", Role.SALES, PASSWORD)
    token = book.access.create_token("sync@b.example", "book A").secret
    with serving(create_app(book)) as url:
        yield OtherBook(book, url, token)
    book.engine.dispose()


def connect(app: App, other: OtherBook, token: str | None = None, **extra: Any) -> None:
    config = {"url": other.url, "system": "book-a", "push": True, "push_new": True, **extra}
    app.sync.add("hq", "crmledger", config, {"token": token or other.token})


def b_customer(other: OtherBook, name: str) -> int:
    party = Party(
        kind=PartyKind.ORGANISATION,
        display_name=name,
        emails=(Email("info@bolt.example"), Email("old@bolt.example", "other")),
        addresses=(Address(country="DE", city="München", street="Leopoldstr. 1"),),
        currency="EUR",
        payment_terms_days=30,
    )
    stored = other.book.parties.add(party)
    assert stored.id is not None
    return stored.id


def test_configuration_is_checked_naming_the_field() -> None:
    spec = compile_config("hq", "crmledger", {"url": "https://hq.example.com/"})
    assert (spec.options["url"], spec.options["system"]) == ("https://hq.example.com", "crmledger")
    customer_spec = spec.object("customer")
    assert (customer_spec.source, customer_spec.id, customer_spec.version) == (
        "parties",
        "id",
        "updated_at",
    )
    assert "credit_limit" in customer_spec.fields
    narrowed = compile_config("hq", "crmledger", {"url": "https://x.example", "fields": ["name"]})
    assert dict(narrowed.object("customer").fields) == {"name": "name"}
    for document, field in [
        ({}, "url"),
        ({"url": "https://x.example", "fields": ["name", "shoe_size"]}, "fields[1]"),
        ({"url": "https://x.example", "objects": {}}, "objects"),
        ({"url": "https://x.example", "system": "Book A"}, "system"),
        ({"url": "http://x.example"}, "url"),
    ]:
        with pytest.raises(InvalidFieldError) as refused:
            compile_config("hq", "crmledger", document)
        assert refused.value.field == field


def test_customers_travel_both_ways_once(app: App, other: OtherBook) -> None:
    bolt_b = b_customer(other, "Bolt AG")
    connect(app, other)
    # B's customer appears in A, linked by B's id.
    report = app.sync.run("hq")
    assert [(r.external_id, r.outcome) for r in report.results] == [(str(bolt_b), "created")]
    bolt_a = app.parties.find_external("hq", str(bolt_b))
    assert bolt_a is not None
    bolt = app.parties.get(bolt_a)
    assert (bolt.display_name, bolt.emails[0].address, bolt.currency) == (
        "Bolt AG",
        "info@bolt.example",
        "EUR",
    )
    assert (bolt.addresses[0].city, bolt.payment_terms_days) == ("München", 30)
    assert sum(app.sync.run("hq").counts.values()) == 0
    # A's change and A's new customer go to B.
    app.parties.update(bolt_a, {"emails": (Email("ap@bolt.example"),)}, None)
    acme_a = customer(app, "Acme GmbH", addresses=(Address(country="AT", city="Wien"),))
    pushed = app.sync.push("hq")
    acme_b = other.book.parties.find_external("book-a", str(acme_a))
    assert acme_b is not None
    assert sorted((r.external_id, r.outcome, r.fields) for r in pushed.results) == sorted(
        [(str(bolt_b), "updated", ("email",)), (str(acme_b), "created", CUSTOMER_FIELDS)]
    )
    bolt_there = other.book.parties.get(bolt_b)
    assert [e.address for e in bolt_there.emails] == ["ap@bolt.example", "old@bolt.example"]
    assert bolt_there.version == 2
    acme = other.book.parties.get(acme_b)
    assert (acme.display_name, acme.addresses[0].city, acme.addresses[0].country) == (
        "Acme GmbH",
        "Wien",
        "AT",
    )
    assert acme.external_ids == (ExternalId("book-a", str(acme_a)),)
    # What went out comes back as it left: nothing changes on either side.
    echo = app.sync.run("hq")
    assert sorted((r.external_id, r.outcome) for r in echo.results) == sorted(
        [(str(bolt_b), "unchanged"), (str(acme_b), "unchanged")]
    )
    assert sum(app.sync.push("hq").counts.values()) == 0
    assert sum(app.sync.run("hq").counts.values()) == 0
    assert (app.parties.count(), other.book.parties.count()) == (2, 2)
    assert other.book.parties.get(bolt_b).version == 2
    # A push retried after a crash (its link lost) gets the party the first one made.
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM sync_links WHERE local_id = :p"), {"p": acme_a})
    again = app.sync.push("hq")
    assert [(r.external_id, r.outcome) for r in again.results] == [(str(acme_b), "created")]
    assert other.book.parties.count() == 2
    # ... and when the party changed before the retry (another body, another key): found
    # by its external id there, never made twice.
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM sync_links WHERE local_id = :p"), {"p": acme_a})
    app.parties.update(acme_a, {"display_name": "Acme Austria GmbH"}, None)
    found = app.sync.push("hq")
    assert [(r.external_id, r.outcome) for r in found.results] == [(str(acme_b), "created")]
    assert other.book.parties.count() == 2
    app.parties.update(acme_a, {"website": "https://acme.example"}, None)
    assert sum(app.sync.push("hq").counts.values()) >= 1  # linked again: updates go there
    assert other.book.parties.get(acme_b).display_name == "Acme Austria GmbH"
    # B changes a customer: the next run takes it.
    other.book.parties.update(bolt_b, {"display_name": "Bolt Europe AG"}, None)
    changed = app.sync.run("hq")
    assert sorted((r.external_id, r.outcome, r.fields) for r in changed.results) == sorted(
        [(str(bolt_b), "updated", ("name",)), (str(acme_b), "unchanged", ())]  # acme: an echo
    )
    assert app.parties.get(bolt_a).display_name == "Bolt Europe AG"


@SQLITE_ONLY
def test_pages_of_the_other_book_are_followed_without_repeats(app: App, other: OtherBook) -> None:
    made = [b_customer(other, f"Customer {n}") for n in range(5)]
    connect(app, other, fields=["name"])
    first = app.sync.run("hq", limit=2)
    assert [r.external_id for r in first.results] == [str(i) for i in made]
    assert sum(app.sync.run("hq", limit=2).counts.values()) == 0
    other.book.parties.update(made[1], {"display_name": "Customer one"}, None)
    later = app.sync.run("hq", limit=2)
    assert [(r.external_id, r.outcome) for r in later.results] == [(str(made[1]), "updated")]


@SQLITE_ONLY
def test_a_wrong_token_is_named_and_a_refused_party_is_one_error(
    app: App, other: OtherBook
) -> None:
    connect(app, other, token="clt_not-a-token")
    with pytest.raises(InvalidFieldError, match="refused the token") as refused:
        app.sync.run("hq")
    assert refused.value.field == "token"
    assert app.sync.runs("hq")[0].status == "failed"
    app.sync.update("hq", None, secrets={"token": other.token})
    bolt_b = b_customer(other, "Bolt AG")
    assert app.sync.run("hq").counts["created"] == 1
    bolt_a = app.parties.find_external("hq", str(bolt_b))
    assert bolt_a is not None
    with app.engine.begin() as conn:  # the link now names a party B does not have
        conn.execute(text("UPDATE sync_links SET external_id = '999999'"))
    app.parties.update(bolt_a, {"emails": (Email("ap@bolt.example"),)}, None)
    good = customer(app, "Good Ltd")
    pushed = app.sync.push("hq")
    assert [(r.external_id, r.outcome, r.reason) for r in pushed.results] == [
        ("999999", "error", "no such party in the other book"),
        (str(other.book.parties.find_external("book-a", str(good))), "created", ""),
    ]
    assert other.book.parties.count() == 2


def test_parties_can_be_listed_by_change_time(app: App, clock: FixedClock) -> None:
    ids = []
    for n, hour in enumerate((8, 9, 10)):
        clock.current = datetime(2026, 6, 30, hour, 0, tzinfo=UTC)
        ids.append(customer(app, f"Customer {n}"))
    token = _token(app)
    with TestClient(create_app(app)) as client:
        found = client.get(
            "/api/v1/parties",
            params={"sort": "updated", "updated_since": "2026-06-30T11:00:00+02:00"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert found.status_code == 200, found.text
        assert [p["id"] for p in found.json()["items"]] == ids[1:]
        page = client.get(
            "/api/v1/parties",
            params={"sort": "updated", "updated_since": "2026-06-30T08:00:00Z", "limit": 1},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        following = client.get(
            "/api/v1/parties",
            params={"sort": "updated", "limit": 5, "cursor": page["next_cursor"]},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert [p["id"] for p in page["items"] + following["items"]] == ids
        app.parties.update(ids[1], {"external_ids": (ExternalId("shop", "C:42"),)}, None)
        held = client.get(
            "/api/v1/parties",
            params={"external": "shop:C:42"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert [p["id"] for p in held.json()["items"]] == [ids[1]]
        none = client.get(
            "/api/v1/parties",
            params={"external": "shop:C:43"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert none.json()["items"] == []
        bad = client.get(
            "/api/v1/parties",
            params={"external": "no-colon"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert bad.status_code == 422


def _token(app: App) -> str:
    app.access.add_user("reader@a.example", Role.SALES, PASSWORD)
    return app.access.create_token("reader@a.example", "tests").secret
