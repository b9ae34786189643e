"""``/search``: one box over parties, contacts, deals and interactions, ranked, paged, and
leaving out what the caller's role may not read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from crmledger.core.access import Role
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.interactions import Channel, Direction, Interaction, InteractionKind
from crmledger.core.crm.parties import Contact, Email, Party, PartyKind, Phone
from tests.api.conftest import Api


def _seed(api: Api) -> dict[str, int]:
    book = api.book
    book.parties.set_region("DE")
    acme = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Lovell Logistics"))
    ada = book.parties.add(
        Party(
            kind=PartyKind.PERSON,
            display_name="Ada Lovelace",
            emails=(Email("ada@example.org"),),
            phones=(Phone("+49 30 1234567"),),
        )
    )
    assert acme.id is not None
    assert ada.id is not None
    contact = book.parties.add_contact(Contact(acme.id, ada.id, "CTO"))
    deal = book.deals.add(
        Deal(
            pipeline="sales",
            stage="",
            title="Lovelace engines",
            party_id=acme.id,
            amount=Decimal("1000.00"),
            currency="EUR",
        )
    )
    note = book.interactions.add(
        Interaction(
            kind=InteractionKind.NOTE,
            party_id=acme.id,
            subject="Analytical engine",
            body="She asked about Bernoulli numbers",
            occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
        )
    )
    return {
        "acme": acme.id,
        "ada": ada.id,
        "contact": contact.id or 0,
        "deal": deal.id or 0,
        "note": note.id or 0,
    }


def _search(api: Api, q: str, role: Role = Role.ADMIN, **params: object) -> dict:
    answer = api.client.get("/api/v1/search", params={"q": q, **params}, headers=api.auth(role))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_one_box_finds_every_kind_ranked(api: Api) -> None:
    ids = _seed(api)
    found = [(r["type"], r["id"]) for r in _search(api, "lovel")["items"]]
    assert set(found) == {
        ("party", ids["acme"]),
        ("party", ids["ada"]),
        ("contact", ids["contact"]),
        ("deal", ids["deal"]),
    }
    # Names starting with the fragment first; "Ada Lovelace" has it at a word's start only.
    assert set(found[:2]) == {("party", ids["acme"]), ("deal", ids["deal"])}
    by_phone = _search(api, "030 1234567")["items"]
    assert {(r["type"], r["matched"]) for r in by_phone} == {
        ("party", "phone"),
        ("contact", "phone"),
    }
    by_text = _search(api, "bernoulli")["items"]
    assert [(r["type"], r["id"], r["url"]) for r in by_text] == [
        ("interaction", ids["note"], f"/api/v1/interactions/{ids['note']}")
    ]


def test_results_page_with_a_cursor(api: Api) -> None:
    _seed(api)
    first = _search(api, "lovel", limit=2)
    assert len(first["items"]) == 2
    rest = _search(api, "lovel", limit=2, cursor=first["next_cursor"])
    assert len(rest["items"]) == 2
    assert rest["next_cursor"] is None
    seen = [(r["type"], r["id"]) for r in first["items"] + rest["items"]]
    assert len(set(seen)) == 4


def test_kinds_the_role_cannot_read_are_left_out(api: Api) -> None:
    _seed(api)
    support = {r["type"] for r in _search(api, "lovel", Role.SUPPORT)["items"]}
    assert "deal" in support  # support reads deals (role table)
    assert _search(api, "bernoulli", Role.SUPPORT)["items"]
    refused = api.client.get("/api/v1/search", params={"q": "x"}, headers={})
    assert refused.status_code == 401


def test_a_bad_query_is_refused(api: Api) -> None:
    for params in ({"q": ""}, {"q": "x" * 201}, {"q": "a", "colour": "red"}):
        answer = api.client.get("/api/v1/search", params=params, headers=api.auth())
        assert answer.status_code == 422, params
