"""Parties and contacts on both databases: normalised on the way in, bad values refused
with the field named and nothing stored, personal fields encrypted yet found by search."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.access import Principal, Role
from crmledger.core.crm.parties import (
    Address,
    BankAccount,
    Contact,
    Email,
    ExternalId,
    Lifecycle,
    Party,
    PartyKind,
    Phone,
    TaxNumber,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.errors import ConflictError, NotFoundError, VersionConflictError
from crmledger.services.trail import Actor
from tests.db.test_encryption import _raw_bytes


def ada(**changes: object) -> Party:
    party = Party(
        kind=PartyKind.PERSON,
        display_name="",
        given_name="Ada",
        family_name="Lovelace",
        emails=(Email("Ada.Lovelace@Example.ORG"),),
        phones=(Phone("030 1234567", "mobile"),),
        addresses=(
            Address("Germany", street="Unter den Linden 1", postcode="10117", city="Berlin"),
        ),
        tax_ids=(TaxNumber("", "", "DE 136 695 976"),),
        bank_accounts=(BankAccount("de89 3704 0044 0532 0130 00", "cobadeffxxx"),),
        tags=("vip",),
        currency="eur",
        language="English",
        credit_limit=Decimal("5000.00"),
    )
    return replace(party, **changes)


def org(name: str = "Acme GmbH", **changes: object) -> Party:
    return replace(Party(kind=PartyKind.ORGANISATION, display_name=name), **changes)


def test_values_are_normalised_on_the_way_in(app: App) -> None:
    stored = app.parties.add(ada())
    again = app.parties.get(stored.id)
    assert again == stored
    assert again.display_name == "Ada Lovelace"
    assert again.emails == (Email("Ada.Lovelace@example.org"),)
    assert again.phones == (Phone("+49301234567", "mobile"),)
    assert again.addresses[0].country == "DE"
    assert again.tax_ids == (TaxNumber("DE", "vat", "DE136695976"),)
    assert again.bank_accounts == (BankAccount("DE89370400440532013000", "COBADEFFXXX"),)
    assert (again.currency, again.language) == ("EUR", "en")
    assert again.credit_limit == Decimal("5000.00")
    assert again.version == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"emails": (Email("not-an-email"),)}, "emails[0].address"),
        ({"phones": (Phone("+49 30"),)}, "phones[0].number"),
        ({"phones": (Phone("+49 30 1234567"), Phone("12"))}, "phones[1].number"),
        ({"addresses": (Address("Atlantis"),)}, "addresses[0].country"),
        ({"tax_ids": (TaxNumber("", "", "DE 136 695 977"),)}, "tax_ids[0].value"),
        ({"bank_accounts": (BankAccount("DE89 3704 0044 0532 0130 01"),)}, "bank_accounts[0].iban"),
        ({"currency": "EUX"}, "currency"),
        ({"credit_limit": Decimal("-1")}, "credit_limit"),
        ({"credit_limit": Decimal("1.001")}, "credit_limit"),
        ({"tags": ("vip", "vip")}, "tags"),
        ({"given_name": "", "family_name": ""}, "display_name"),
        ({"website": "ftp://example.com"}, "website"),
        ({"payment_terms_days": 400}, "payment_terms_days"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_stored(
    app: App, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        app.parties.add(ada(**change))
    assert getattr(caught.value, "field", None) == field, caught.value
    assert app.parties.count() == 0
    assert all(r.action != "party.create" for r in app.audit.log(limit=5))


def test_a_batch_with_one_bad_party_stores_none(app: App) -> None:
    with pytest.raises(InvalidFieldError):
        app.parties.add_many([org("One"), org("Two", website="not a site"), org("Three")])
    assert app.parties.count() == 0


def test_search_finds_encrypted_names_emails_phones_and_tax_ids(app: App) -> None:
    assert app.parties.set_region("Germany") == "DE"
    assert app.parties.region() == "DE"
    person = app.parties.add(ada())
    company = app.parties.add(org("Müller Maschinenbau GmbH"))
    app.parties.add(org("Lovell Logistics"))

    def found(query: str) -> list[int]:
        return [h.party.id for h in app.parties.search(query)]

    assert found("lovel")[0] == company.id + 1  # "Lovell" starts a word; "Lovelace" too
    assert set(found("lovel")) == {person.id, company.id + 1}
    assert found("ada lov") == [person.id]
    assert found("MULLER") == [company.id]
    assert found("maschinen") == [company.id]
    assert found("ada.lovelace@EXAMPLE.org") == [person.id]
    assert found("+49 (30) 123-4567") == [person.id]
    assert found("DE136695976") == [person.id]
    assert found("de 136 695 976") == [person.id]
    assert found("136695976") == [person.id]
    assert found("030 1234567") == [person.id]  # read in the book's region
    assert found("zebra") == []
    assert found("") == []


def test_search_ranks_whole_and_prefix_matches_first(app: App) -> None:
    inside = app.parties.add(org("Megaacme Trading"))
    prefix = app.parties.add(org("Acme Industries"))
    exact = app.parties.add(org("Acme"))
    word = app.parties.add(org("The Acme Company"))
    hits = app.parties.search("acme")
    assert [h.party.id for h in hits] == [exact.id, prefix.id, word.id, inside.id]
    assert [h.rank for h in hits] == [0, 1, 2, 3]


def test_no_personal_plaintext_in_the_database_files(app: App) -> None:
    canary = ada(
        given_name="Zyxwvuta",
        family_name="Qpqpqpqp",
        emails=(Email("canary-party-9f3k@example.net"),),
        phones=(Phone("+44 20 7946 0958"),),
        addresses=(Address("GB", street="Canarywharf Lane 77", city="London"),),
    )
    app.parties.add(canary)
    raw = _raw_bytes(app)
    for needle in (b"Zyxwvuta", b"Qpqpqpqp", b"canary-party-9f3k", b"442079460958", b"Canarywharf"):
        assert needle not in raw
    assert b"DE89370400440532013000" not in raw
    assert app.parties.search("zyxwv")[0].party.given_name == "Zyxwvuta"


def test_updates_are_versioned_and_stale_versions_refused(app: App) -> None:
    stored = app.parties.add(org("Acme GmbH", tags=("lead-form",)))
    updated = app.parties.update(
        stored.id, {"lifecycle": Lifecycle.CUSTOMER, "tags": ("vip",)}, if_version=1
    )
    assert (updated.version, updated.lifecycle, updated.tags) == (2, Lifecycle.CUSTOMER, ("vip",))
    with pytest.raises(VersionConflictError):
        app.parties.update(stored.id, {"segment": "smb"}, if_version=1)
    assert app.parties.get(stored.id).segment == ""
    with pytest.raises(InvalidFieldError) as caught:
        app.parties.update(stored.id, {"kind": PartyKind.PERSON}, if_version=2)
    assert caught.value.field == "kind"
    with pytest.raises(NotFoundError):
        app.parties.update(999, {"segment": "x"}, if_version=None)


def test_renaming_moves_the_search_terms(app: App) -> None:
    stored = app.parties.add(org("Oldname Ltd"))
    app.parties.update(stored.id, {"display_name": "Newname Ltd"}, if_version=1)
    assert app.parties.search("oldname") == []
    assert [h.party.id for h in app.parties.search("newname")] == [stored.id]


def test_external_ids_are_unique_per_system(app: App) -> None:
    first = app.parties.add(org("A", external_ids=(ExternalId("hubspot", "123"),)))
    with pytest.raises(ConflictError):
        app.parties.add(org("B", external_ids=(ExternalId("hubspot", "123"),)))
    app.parties.add(org("C", external_ids=(ExternalId("xero", "123"),)))
    same = app.parties.update(first.id, {"display_name": "A2"}, if_version=1)
    assert same.external_ids == (ExternalId("hubspot", "123"),)


def test_lists_filter_and_page_with_a_keyset(app: App) -> None:
    for i in range(7):
        app.parties.add(org(f"Org {i}", tags=("vip",) if i % 2 else (), segment="smb"))
    app.parties.add(ada(tags=()))
    vip = app.parties.list(PartyQuery(tag="vip"))
    assert [p.display_name for p in vip] == ["Org 5", "Org 3", "Org 1"]
    people = app.parties.list(PartyQuery(kind=PartyKind.PERSON))
    assert [p.display_name for p in people] == ["Ada Lovelace"]
    seen: list[int] = []
    after = None
    while True:
        page = app.parties.list(PartyQuery(limit=3, sort="id", after=after))
        seen += [p.id for p in page]
        if len(page) < 3:
            break
        after = (str(page[-1].id), page[-1].id)
    assert seen == sorted(seen)
    assert len(seen) == 8


def test_contacts_link_people_to_organisations(app: App) -> None:
    company = app.parties.add(org())
    person = app.parties.add(ada())
    link = app.parties.add_contact(Contact(company.id, person.id, "CTO", primary=True))
    with pytest.raises(ConflictError):
        app.parties.add_contact(Contact(company.id, person.id, "Again"))
    with pytest.raises(InvalidFieldError) as caught:
        app.parties.add_contact(Contact(person.id, company.id, "Backwards"))
    assert caught.value.field == "organisation_id"
    views = app.parties.contacts(organisation_id=company.id)
    assert [(v.person.display_name, v.contact.role) for v in views] == [("Ada Lovelace", "CTO")]
    app.parties.update_contact(link.id, "CEO", True, if_version=1)
    with pytest.raises(VersionConflictError):
        app.parties.update_contact(link.id, "CFO", True, if_version=1)
    assert app.parties.contact(link.id).contact.role == "CEO"
    app.parties.remove_contact(link.id)
    assert app.parties.contacts(person_id=person.id) == []


def test_audit_log_records_changes_without_personal_values(app: App) -> None:
    stored = app.parties.add(ada())
    app.parties.update(stored.id, {"phones": (Phone("+49 30 7654321"),)}, if_version=1)
    records = [r for r in app.audit.log(limit=10) if r.resource == "party"]
    assert {r.action for r in records} == {"party.create", "party.update"}
    text = str([r.changes for r in records])
    assert "Lovelace" not in text
    assert "4930" not in text
    update = next(r for r in records if r.action == "party.update")
    assert set(update.changes["after"]) == {"phones"}


def test_roles_without_the_permission_are_refused(app: App) -> None:
    viewer = app.acting_as(Actor(Principal(user_id=None, label="v", role=Role.VIEWER)))
    viewer.parties.list(PartyQuery())
    with pytest.raises(PermissionError):
        viewer.parties.add(org())
    assert app.parties.count() == 0
