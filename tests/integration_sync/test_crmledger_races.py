"""The crmledger connector when the two books race and the network between them fails:
book A (the ``app`` fixture, SQLite and PostgreSQL) and book B (served by uvicorn through
:class:`~tests.integration_sync.flaky_book.FlakyAsgi`, which fails the requests a test
queues).

- A push does not overwrite a party changed in B since the last sync: it waits, and the
  next pull merges both sides field by field (B's rename and A's new email both survive).
- A create whose answer is lost (replaced by a 502, or the connection cut) is found at once
  and linked; the changes after it in the same push still go, and a refused lookup fails
  that one change only.
- A pull that comes before a push's answer (the worker killed after B made the party)
  links B's party to the party it was made from, never copies it into A; a party made in B
  and changed there since is not overwritten by the push that finds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Email, Party, PartyKind
from crmledger.server import create_app
from tests.api.live import serving
from tests.integration_sync.flaky_book import CUT, REFUSED, REPLACED, FlakyAsgi, other_book
from tests.integration_sync.helpers import customer

MOVED = "changed in the other book since the last sync: the next pull merges both sides first"


@dataclass
class BookB:
    """Book B and the failures its network makes."""

    book: App
    flaky: FlakyAsgi

    def add(self, name: str, email: str) -> int:
        party = self.book.parties.add(
            Party(kind=PartyKind.ORGANISATION, display_name=name, emails=(Email(email),))
        )
        assert party.id is not None
        return party.id

    def card(self, party_id: int) -> tuple[str, str, int]:
        party = self.book.parties.get(party_id)
        return party.display_name, party.emails[0].address, party.version


@pytest.fixture
def b(app: App, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BookB]:
    book, token = other_book(tmp_path / "book-b", request.getfixturevalue("_sqlite_template"))
    flaky = FlakyAsgi(create_app(book), 0.0, 1)  # type: ignore[arg-type]
    with serving(flaky) as url:  # type: ignore[arg-type]
        config = {"url": url, "system": "book-a", "fields": ["name", "email"]}
        app.sync.add("hq", "crmledger", config | {"push": True, "push_new": True}, {"token": token})
        yield BookB(book, flaky)
    book.engine.dispose()


def card(app: App, party_id: int) -> tuple[str, str]:
    party = app.parties.get(party_id)
    return party.display_name, party.emails[0].address


def made_in_b(b: BookB, a_id: int) -> int:
    found = b.book.parties.find_external("book-a", str(a_id))
    assert found is not None
    return found


def forget_links(app: App) -> None:
    """As if the worker was killed after B made the parties, before A recorded them."""
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM sync_links"))


def outcomes(report: object) -> list[tuple[str, str]]:
    return [(r.external_id, r.outcome) for r in report.results]  # type: ignore[attr-defined]


def test_a_push_waits_for_a_change_made_there_and_the_pull_merges_both(app: App, b: BookB) -> None:
    bolt_b = b.add("Bolt AG", "info@bolt.example")
    assert outcomes(app.sync.run("hq")) == [(str(bolt_b), "created")]
    bolt_a = app.parties.find_external("hq", str(bolt_b))
    assert bolt_a is not None
    # A changes the email, B renames (after the pull): the push must not undo the rename.
    app.parties.update(bolt_a, {"emails": (Email("ap@bolt.example"),)}, None)
    b.book.parties.update(bolt_b, {"display_name": "Bolt Europe AG"}, None)
    refused = app.sync.push("hq")
    assert [(r.external_id, r.outcome, r.reason) for r in refused.results] == [
        (str(bolt_b), "error", MOVED)
    ]
    assert b.card(bolt_b) == ("Bolt Europe AG", "info@bolt.example", 2)
    # The pull takes B's rename; A's email goes out with the next push.
    pulled = app.sync.run("hq")
    assert [(r.outcome, r.fields) for r in pulled.results] == [("updated", ("name",))]
    pushed = app.sync.push("hq")
    assert [(r.outcome, r.fields) for r in pushed.results] == [("updated", ("email",))]
    assert card(app, bolt_a) == b.card(bolt_b)[:2] == ("Bolt Europe AG", "ap@bolt.example")
    # Both rename it: B's rename is the later one (B's clock is now, A's stands still).
    app.parties.update(bolt_a, {"display_name": "Bolt A"}, None)
    b.book.parties.update(bolt_b, {"display_name": "Bolt B"}, None)
    assert outcomes(app.sync.push("hq")) == [(str(bolt_b), "error")]
    assert outcomes(app.sync.run("hq")) == [(str(bolt_b), "updated")]
    assert sum(app.sync.push("hq").counts.values()) == 0
    assert card(app, bolt_a) == b.card(bolt_b)[:2] == ("Bolt B", "ap@bolt.example")
    # Nothing changed there since: the push goes through.
    app.parties.update(bolt_a, {"display_name": "Bolt SE"}, None)
    assert outcomes(app.sync.push("hq")) == [(str(bolt_b), "updated")]
    assert b.card(bolt_b)[0] == "Bolt SE"


def test_a_create_whose_answer_is_lost_is_linked_at_once_and_the_push_goes_on(
    app: App, b: BookB
) -> None:
    ids = [customer(app, f"Customer {n}", emails=(Email(f"c{n}@a.example"),)) for n in range(4)]
    b.flaky.planned += [("POST", REPLACED), ("POST", CUT)]
    pushed = app.sync.push("hq")
    made = [made_in_b(b, i) for i in ids]
    assert outcomes(pushed) == [(str(m), "created") for m in made]
    assert (b.flaky.lost, b.book.parties.count()) == (2, 4)
    assert sum(app.sync.push("hq").counts.values()) == 0  # linked: nothing left to send
    # A refused lookup fails its change only.
    late = customer(app, "Customer 4")
    b.flaky.planned.append(("GET", REFUSED))
    assert outcomes(app.sync.push("hq")) == [(f"CL-{late}", "error")]
    assert outcomes(app.sync.push("hq")) == [(str(made_in_b(b, late)), "created")]
    assert (app.parties.count(), b.book.parties.count()) == (5, 5)
    assert sum(app.sync.run("hq").counts.values()) == 5  # each seen once, as it left
    assert app.parties.count() == 5


def test_a_pull_before_the_answer_links_what_the_push_made(app: App, b: BookB) -> None:
    acme_a = customer(app, "Acme GmbH", emails=(Email("info@acme.example"),))
    bolt_a = customer(app, "Bolt AG", emails=(Email("info@bolt.example"),))
    app.sync.push("hq")
    acme_b, bolt_b = made_in_b(b, acme_a), made_in_b(b, bolt_a)
    forget_links(app)
    # B changes Bolt's email before A knows Bolt's id there; A renames Acme.
    b.book.parties.update(bolt_b, {"emails": (Email("ap@bolt.example"),)}, None)
    app.parties.update(acme_a, {"display_name": "Acme Austria GmbH"}, None)
    # The push that finds Bolt changed there leaves it alone; Acme is brought up to date.
    found = app.sync.push("hq")
    assert sorted((r.external_id, r.outcome, r.reason) for r in found.results) == sorted(
        [(str(acme_b), "created", ""), (f"CL-{bolt_a}", "error", MOVED)]
    )
    assert b.card(bolt_b) == ("Bolt AG", "ap@bolt.example", 2)
    assert b.card(acme_b)[:2] == ("Acme Austria GmbH", "info@acme.example")
    # The pull links Bolt to the party it was made from: no copy in A.
    pulled = app.sync.run("hq")
    assert sorted((r.external_id, r.local_id, r.outcome) for r in pulled.results) == sorted(
        [(str(acme_b), acme_a, "unchanged"), (str(bolt_b), bolt_a, "updated")]
    )
    assert (app.parties.count(), b.book.parties.count()) == (2, 2)
    assert card(app, bolt_a) == ("Bolt AG", "ap@bolt.example")
    assert sum(app.sync.push("hq").counts.values()) == 0
    assert app.sync.reconcile("hq").agree
