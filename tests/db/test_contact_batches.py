"""Contact links made many at a time (an import, the demo's customers), on SQLite and
PostgreSQL: each link is stored and audited as a single one is, links that exist already
(in the book or earlier in the batch) are refused, and a refusal stores none of them."""

from __future__ import annotations

from collections import Counter

import pytest

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Contact, Party, PartyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.services.errors import ConflictError


def _org(n: int) -> Party:
    return Party(kind=PartyKind.ORGANISATION, display_name=f"Company {n}")


def _person(n: int) -> Party:
    return Party(kind=PartyKind.PERSON, display_name="", given_name="Ada", family_name=f"L{n}")


def _ids(parties: list[Party]) -> list[int]:
    return [p.id for p in parties if p.id is not None]


def _links(app: App, orgs: list[int]) -> set[tuple[int, int, str, bool]]:
    return {
        (v.contact.organisation_id, v.contact.person_id, v.contact.role, v.contact.primary)
        for org in orgs
        for v in app.parties.contacts(organisation_id=org)
    }


def _actions(app: App) -> Counter[str]:
    return Counter(r.action for r in app.audit.log(limit=1000))


def test_add_contacts_links_many_people_with_their_audit_records(app: App) -> None:
    orgs = _ids(app.parties.add_many([_org(n) for n in range(3)]))
    people = _ids(app.parties.add_many([_person(n) for n in range(5)]))
    wanted = [
        Contact(orgs[0], people[0], "CTO", primary=True),
        Contact(orgs[0], people[1], "Buyer"),
        Contact(orgs[1], people[1], "Adviser", primary=True),
        Contact(orgs[2], people[2], "Owner", primary=True),
        Contact(orgs[2], people[3], ""),
    ]
    added = app.parties.add_contacts(wanted)
    assert [(c.organisation_id, c.person_id, c.role, c.primary) for c in added] == [
        (c.organisation_id, c.person_id, c.role, c.primary) for c in wanted
    ]
    assert len({c.id for c in added}) == 5
    assert all(c.version == 1 and c.created_at is not None for c in added)
    assert _links(app, orgs) == {
        (c.organisation_id, c.person_id, c.role, c.primary) for c in wanted
    }
    for contact in added:
        assert contact.id is not None
        assert app.parties.contact(contact.id).contact.role == contact.role
    created = [r for r in app.audit.log(limit=1000) if r.action == "contact.create"]
    assert sorted(int(r.resource_id) for r in created) == sorted(
        c.id for c in added if c.id is not None
    )
    assert app.audit.verify().ok


@pytest.mark.parametrize("again", ["in the book", "in the batch"])
def test_a_link_made_twice_refuses_the_whole_batch(app: App, again: str) -> None:
    orgs = _ids(app.parties.add_many([_org(n) for n in range(2)]))
    people = _ids(app.parties.add_many([_person(n) for n in range(2)]))
    if again == "in the book":
        app.parties.add_contact(Contact(orgs[0], people[0], "CTO"))
    before = (_links(app, orgs), _actions(app))
    batch = [Contact(orgs[1], people[1], "Owner"), Contact(orgs[0], people[0], "Again")]
    if again == "in the batch":
        batch.insert(0, Contact(orgs[0], people[0], "First"))
    with pytest.raises(ConflictError):
        app.parties.add_contacts(batch)
    assert (_links(app, orgs), _actions(app)) == before


def test_a_wrong_kind_of_party_is_named_and_nothing_is_linked(app: App) -> None:
    orgs = _ids(app.parties.add_many([_org(n) for n in range(2)]))
    people = _ids(app.parties.add_many([_person(n) for n in range(2)]))
    before = (_links(app, orgs), _actions(app))
    with pytest.raises(InvalidFieldError) as refused:
        app.parties.add_contacts(
            [Contact(orgs[0], people[0], "CTO"), Contact(orgs[1], orgs[0], "Backwards")]
        )
    assert refused.value.field == "contacts[1].person_id"
    assert (_links(app, orgs), _actions(app)) == before
