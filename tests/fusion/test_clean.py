"""Cleaning makes each value canonical and keeps every change as a fix or a problem."""

from __future__ import annotations

from datetime import date

import pytest

from crmledger.fusion.clean import clean_record, company_name, company_parts, given_key, tidy
from crmledger.fusion.match import name_key, street_key
from crmledger.fusion.records import FusedRecord


@pytest.mark.parametrize(
    ("typed", "core", "form", "clean"),
    [
        ("ACME HOLDING GMBH", "acme holding", "GmbH", "Acme Holding GmbH"),
        ("Müller G.m.b.H.", "muller", "GmbH", "Müller GmbH"),
        ("Acme GmbH & Co. KG", "acme", "GmbH & Co. KG", "Acme GmbH & Co. KG"),
        ("Globex inc.", "globex", "Inc", "Globex Inc"),
        ("Globex Incorporated", "globex", "Inc", "Globex Inc"),
        ("Initech, LLC", "initech", "LLC", "Initech LLC"),
        ("Pearce Limited", "pearce", "Ltd", "Pearce Ltd"),
        ("Colas Salmon S.A.", "colas salmon", "S.A.", "Colas Salmon S.A."),
        ("Dupont S.à r.l.", "dupont", "SARL", "Dupont SARL"),
        ("Dekker bv", "dekker", "B.V.", "Dekker B.V."),
        ("Pircher Aktiengesellschaft", "pircher", "AG", "Pircher AG"),
        ("Nokia Oyj", "nokia oyj", "", "Nokia Oyj"),
        ("AG", "ag", "", "AG"),
    ],
)
def test_company_legal_forms(typed: str, core: str, form: str, clean: str) -> None:
    assert company_parts(typed) == (core, form)
    assert company_name(typed) == clean


def test_names_keys_and_streets() -> None:
    assert given_key("Bob") == given_key("Robert") == "robert"
    assert tidy("  A\u0308nne\t\x07  Lee ") == "Änne Lee"
    assert street_key("Hauptstr. 5") == street_key("Hauptstraße 5") == "haupt strasse 5"
    assert street_key("1 High St") == "1 high street"


def _record(**values: object) -> FusedRecord:
    return FusedRecord("crm", 7, "crm", "C7", dict(values))  # type: ignore[arg-type]


def test_a_person_record_is_parsed_and_normalised() -> None:
    cleaned, issues = clean_record(
        _record(
            full_name="  SMITH, JOHN ",
            email=" John.Smith@EXAMPLE.com ",
            phone="030 1234567",
            country="germany",
            postcode="10115",
            birth_date=date(1970, 3, 12),
        ),
        region="GB",
    )
    v = cleaned.values
    assert v["kind"] == "person"
    assert (v["given_name"], v["family_name"], v["display_name"]) == ("John", "Smith", "John Smith")
    assert v["email"] == "John.Smith@example.com"
    assert v["phone"] == "+49301234567"  # read in the record's own country, not the region
    assert v["country"] == "DE"
    assert "full_name" not in v
    assert name_key(cleaned) == "john smith"
    fixes = {(i.field, i.reason) for i in issues if i.kind == "fix"}
    assert ("phone", "phone as E.164") in fixes
    assert ("given_name", "given name parsed from the full name") in fixes
    assert ("given_name", "name title-cased") in fixes
    assert all(i.kind == "fix" for i in issues)


def test_refused_values_are_dropped_as_problems_without_their_value() -> None:
    cleaned, issues = clean_record(
        _record(
            display_name="Acme GmbH",
            email="not-an-email",
            phone="12",
            country="Atlantis",
            tax_id="DE123456789",
            birth_date=date(1850, 1, 1),
        ),
        region="DE",
    )
    assert cleaned.values["kind"] == "organisation"
    assert set(cleaned.values) == {"display_name", "kind"}
    problems = {i.field: i.reason for i in issues if i.kind == "problem"}
    assert set(problems) == {"email", "phone", "country", "tax_id", "birth_date"}
    assert problems["country"] == "unknown country 'Atlantis'"
    assert "not-an-email" not in problems["email"]
    assert all(i.row == 7 and i.source == "crm" for i in issues)


def test_a_company_found_by_its_legal_form_in_a_full_name() -> None:
    cleaned, _ = clean_record(_record(full_name="BETA HANDEL GMBH", tax_id="DE 136 695 976"))
    assert cleaned.values["kind"] == "organisation"
    assert cleaned.values["display_name"] == "Beta Handel GmbH"
    assert cleaned.values["tax_id"] == "DE136695976"
    assert name_key(cleaned) == "beta handel"
