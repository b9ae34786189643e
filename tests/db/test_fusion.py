"""Fusion runs against the book, on SQLite and PostgreSQL: golden parties with lineage and
external ids, existing parties updated rather than duplicated, dry runs that write nothing,
re-runs that change nothing, review decisions respected, bad rows located."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Email, ExternalId, Party, PartyKind, Phone
from crmledger.fusion.config import load_config
from crmledger.services.crm_ports import PartyQuery

CRM = """\
Customer ID,Type,Company,First Name,Last Name,E-Mail,Phone,Street,ZIP,City,Country,VAT ID,Birthday,Updated
C1,Company,Acme GmbH,,,info@acme.de,030 1234567,Hauptstraße 5,10115,Berlin,DE,,,2026-01-10
C2,Person,,Ann,Lee,ann.lee@example.com,+44 20 7946 0958,1 High Street,SW1A 1AA,London,GB,,1980-04-01,2026-02-01
C3,Company,Beta Handel AG,,,info@beta-handel.de,089 5550123,Ringweg 2,80331,München,DE,,,2026-01-01
C4,Person,,Carl,Brandt,carl@brandt-one.example,030 7654321,,,,DE,,,2026-01-01
C5,Person,,Carl,Brandt,brandt@other.example,040 1111111,,,,DE,,,2026-01-01
"""  # noqa: E501
FINANCE = """\
KUNDENNR;ANREDE;NAME1;STRASSE;PLZ;LAND;TEL;MAIL;USTID;GEBDAT;AENDERUNG
F1;Firma;ACME G.m.b.H.;Hauptstr. 5;10115;Deutschland;+49 30 1234567;INFO@ACME.DE;DE 136 695 976;;01.03.2026
F2;Herr/Frau;Lee, Anne;1 High St;SW1A1AA;Vereinigtes Königreich;0044 20 7946 0958;ann.lee@example.com;;01.04.1980;01.03.2026
F3;Firma;Gamma Ltd;5 Low Road;EC1A 1BB;Vereinigtes Königreich;;accounts@gamma.example;;;01.03.2026
;Firma;Nameless Id GmbH;;;Deutschland;;;;;01.03.2026
F5;Firma;Delta KG;Weg 1;1234;Deutschland;12;delta@delta.example;;;31.02.2026
"""  # noqa: E501
FINANCE_MAPPING = """\
fields:
  external_id: KUNDENNR
  kind: {from: ANREDE, map: {firma: organisation, herr/frau: person}}
  full_name: NAME1
  street: STRASSE
  postcode: PLZ
  city: ORT
  country: {from: LAND, map: {Deutschland: DE, Vereinigtes Königreich: GB}}
  phone: TEL
  email: MAIL
  tax_id: USTID
  birth_date: {from: GEBDAT, date: "%d.%m.%Y"}
  updated_at: {from: AENDERUNG, date: "%d.%m.%Y"}
"""


def write_sources(tmp_path: Path) -> Path:
    """The sources above, their mappings and a run configuration (returned)."""
    from crmledger.fusion.synth import CRM_MAPPING

    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "crm.csv").write_text(CRM, encoding="utf-8")
    (folder / "finance.csv").write_text(FINANCE.replace("ORT;", ""), encoding="utf-8")
    (folder / "crm.yml").write_text(CRM_MAPPING, encoding="utf-8")
    (folder / "finance.yml").write_text(
        FINANCE_MAPPING.replace("  city: ORT\n", ""), encoding="utf-8"
    )
    path = folder / "run.yml"
    path.write_text(
        "name: test run\nregion: DE\nsources:\n"
        "  - {name: crm, kind: csv, path: crm.csv, priority: 1, mapping: crm.yml}\n"
        "  - {name: finance, kind: csv, path: finance.csv, priority: 2, mapping: finance.yml}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_sources(tmp_path)


def _parties(app: App) -> dict[str, Party]:
    found = app.parties.list(PartyQuery(limit=100, sort="id"))
    return {p.display_name: p for p in found}


def _state(app: App) -> tuple[object, ...]:
    parties = app.parties.list(PartyQuery(limit=100, sort="id"))
    lineage = {p.id: app.fusion.lineage(p.id or 0) for p in parties}
    review = app.fusion.review.list(status=None)
    return (
        [(p.id, p.version, p.external_ids) for p in parties],
        lineage,
        [(r.id, r.status, r.version, r.probability) for r in review],
    )


def test_a_run_writes_golden_parties_with_lineage(app: App, config_path: Path) -> None:
    outcome = app.fusion.run(load_config(config_path))
    assert outcome.run_id is not None
    assert outcome.rows == {"crm": 5, "finance": 5}
    parties = _parties(app)
    assert sorted(parties) == ["Acme GmbH", "Ann Lee", "Beta Handel AG", "Delta KG", "Gamma Ltd"]
    assert (outcome.created, outcome.updated, outcome.merged) == (5, 0, 2)
    acme = parties["Acme GmbH"]
    assert acme.external_ids == (ExternalId("crm", "C1"), ExternalId("finance", "F1"))
    assert acme.emails[0].address == "info@acme.de"  # crm outranks finance
    assert acme.tax_ids[0].value == "DE136695976"  # only finance has it
    assert acme.addresses[0].street == "Hauptstraße 5"
    lineage = app.fusion.lineage(acme.id or 0)
    assert lineage["email"]["external_id"] == "C1"
    assert lineage["tax_id"] | {"run_id": 0} == {
        "system": "finance",
        "external_id": "F1",
        "source": "finance",
        "row": 2,
        "run_id": 0,
    }
    ann = parties["Ann Lee"]
    assert (ann.given_name, ann.family_name, ann.phones[0].number) == (
        "Ann",
        "Lee",
        "+442079460958",
    )
    # The two Carl Brandts share only a name: a person decides, their records wait.
    assert outcome.for_review == 1
    assert outcome.held == 2
    report = app.fusion.report(outcome.run_id)
    located = {(p["source"], p["row"], p["field"]) for p in report["problems"]}
    assert ("finance", 5, "external_id") in located
    assert ("finance", 6, "postcode") in located
    assert ("finance", 6, "phone") in located
    assert ("finance", 6, "updated_at") in located
    assert report["counts"]["problems"] == outcome.problems >= 4
    assert report["config"]["sources"][0]["options"] == {"path": "crm.csv"}
    assert set(report["timings"]) == {"prepare", "read", "match", "merge", "write"}
    run = app.fusion.runs()[0]
    assert (run.id, run.created, run.records_in) == (outcome.run_id, 5, 10)


def test_a_dry_run_writes_nothing(app: App, config_path: Path) -> None:
    before = app.audit.log(limit=500)
    outcome = app.fusion.run(load_config(config_path), dry_run=True)
    assert (outcome.run_id, outcome.created) == (None, 5)
    assert app.parties.count() == 0
    assert app.fusion.runs() == []
    assert app.fusion.review.list(status=None) == []
    assert app.audit.log(limit=500) == before


def test_a_rerun_changes_nothing(app: App, config_path: Path) -> None:
    config = load_config(config_path)
    app.fusion.run(config)
    state = _state(app)
    again = app.fusion.run(config)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert _state(app) == state
    assert len(app.fusion.runs()) == 2
    actions = [r.action for r in app.audit.log(limit=5)]
    assert actions[0] == "fusion.run"
    assert "party.update" not in actions


def test_existing_parties_are_updated_not_duplicated(app: App, config_path: Path) -> None:
    acme = app.parties.add(
        Party(
            PartyKind.ORGANISATION,
            "ACME",
            emails=(Email("old@acme.de"),),
            external_ids=(ExternalId("finance", "F1"),),
            tags=("key-account",),
        )
    )
    beta = app.parties.add(
        Party(
            PartyKind.ORGANISATION,
            "Beta Handel AG",
            emails=(Email("info@beta-handel.de"),),
            phones=(Phone("+49 89 5550123"),),
            external_ids=(ExternalId("import", "77"),),
        )
    )
    outcome = app.fusion.run(load_config(config_path))
    assert (outcome.created, outcome.updated) == (3, 2)
    assert app.parties.count() == 5
    after = app.parties.get(acme.id or 0)
    assert after.display_name == "Acme GmbH"
    assert after.tags == ("key-account",)
    assert [e.address for e in after.emails] == ["info@acme.de", "old@acme.de"]
    assert set(after.external_ids) == {ExternalId("crm", "C1"), ExternalId("finance", "F1")}
    matched = app.parties.get(beta.id or 0)
    assert set(matched.external_ids) == {ExternalId("crm", "C3"), ExternalId("import", "77")}
    assert matched.version == 2


def test_review_decisions_are_respected(app: App, config_path: Path) -> None:
    config = load_config(config_path)
    app.fusion.run(config)
    [pair] = app.fusion.review.list()
    assert {pair.left, pair.right} == {("crm", "C4"), ("crm", "C5")}
    assert 0.7 <= pair.probability < 0.95
    assert pair.explanation["fields"][0] == {
        "field": "name",
        "level": "same name",
        "weight": pytest.approx(10.23, abs=0.01),
    }
    assert pair.left_record["values"]["family_name"] == "Brandt"
    assert "Carl" not in _parties(app)
    decided = app.fusion.review.decide(pair.id, accept=False, if_version=pair.version)
    assert (decided.status, decided.version) == ("rejected", 2)
    outcome = app.fusion.run(config)
    assert (outcome.created, outcome.for_review, outcome.held) == (2, 0, 0)
    carls = [p for p in app.parties.list(PartyQuery(limit=100)) if p.display_name == "Carl Brandt"]
    assert len(carls) == 2


def test_an_accepted_pair_is_merged(app: App, config_path: Path) -> None:
    config = load_config(config_path)
    app.fusion.run(config)
    [pair] = app.fusion.review.list()
    app.fusion.review.decide(pair.id, accept=True)
    outcome = app.fusion.run(config)
    assert outcome.created == 1
    carl = _parties(app)["Carl Brandt"]
    assert {e.id for e in carl.external_ids} == {"C4", "C5"}
    assert app.fusion.review.list() == []
    assert app.fusion.review.list(status="accepted")[0].id == pair.id


def test_a_cluster_of_two_book_parties_merges_them(app: App, config_path: Path) -> None:
    from tests.db.test_billing import invoice

    acme = app.parties.add(
        Party(PartyKind.ORGANISATION, "Acme", external_ids=(ExternalId("crm", "C1"),))
    )
    copy = app.parties.add(
        Party(
            PartyKind.ORGANISATION,
            "ACME Finance",
            tags=("dunned",),
            external_ids=(ExternalId("finance", "F1"),),
        )
    )
    assert acme.id is not None
    assert copy.id is not None
    bill = invoice(app, copy.id, "10.00")
    config = load_config(config_path)
    outcome = app.fusion.run(config)
    assert outcome.absorbed == {copy.id: acme.id}
    assert outcome.run_id is not None
    [merge] = app.party_merges.list()
    assert (merge.survivor_id, merge.absorbed_id) == (acme.id, copy.id)
    assert merge.run_id == outcome.run_id
    report = app.fusion.report(outcome.run_id)
    assert report["parties_merged"] == [{"absorbed": copy.id, "survivor": acme.id}]
    assert outcome.merge_ids == [merge.id]
    assert not [p for p in report["problems"] if p["field"] == "party"]
    after = app.parties.get(acme.id)
    assert after.display_name == "Acme GmbH"
    assert after.tags == ("dunned",)
    assert set(after.external_ids) == {ExternalId("crm", "C1"), ExternalId("finance", "F1")}
    assert app.invoices.get(bill.id).party_id == acme.id
    assert app.parties.count() == 5
    # Invoices and payments naming the finance customer number land on the golden party.
    assert app.parties.find_reference("F1") == acme.id
    assert app.parties.find_reference("finance:F1") == acme.id
    assert app.parties.find_reference("F9") is None
    again = app.fusion.run(config)
    assert (again.absorbed, again.created, again.updated) == ({}, 0, 0)
    app.party_merges.unmerge(merge.id)
    assert app.invoices.get(bill.id).party_id == copy.id
    assert app.parties.find_reference("F1") == copy.id


def test_accepting_a_pair_of_two_book_parties_merges_them(app: App, config_path: Path) -> None:
    carls = [
        app.parties.add(
            Party(
                PartyKind.PERSON,
                "Carl Brandt",
                given_name="Carl",
                family_name="Brandt",
                external_ids=(ExternalId("crm", key),),
            )
        )
        for key in ("C4", "C5")
    ]
    app.fusion.run(load_config(config_path))
    [pair] = app.fusion.review.list()
    assert {pair.left, pair.right} == {("crm", "C4"), ("crm", "C5")}
    app.fusion.review.decide(pair.id, accept=True, if_version=pair.version)
    [merge] = app.party_merges.list()
    assert (merge.survivor_id, merge.absorbed_id) == (carls[0].id, carls[1].id)
    survivor = app.parties.get(carls[0].id or 0)
    assert {e.id for e in survivor.external_ids} == {"C4", "C5"}
