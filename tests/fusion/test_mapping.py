"""Mappings turn source columns into canonical fields; a bad mapping is refused before
anything runs, each problem naming its YAML line; bad cells become located problems."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from crmledger.fusion.config import ConfigError, load_config, prepare
from crmledger.fusion.mapping import MappingError, load_mapping
from crmledger.fusion.records import SourceRecord
from crmledger.fusion.sources import FILE_OPENERS, CsvSource
from crmledger.fusion.suggest import suggest

COLUMNS = ["KUNDENNR", "NAME1", "STRASSE", "HAUSNR", "LAND", "LIMIT", "ZIEL", "GEBDAT", "TYP"]


def test_rules_join_split_map_and_cast() -> None:
    mapping = load_mapping(
        """\
fields:
  external_id: {from: KUNDENNR, transforms: [trim, {strip: "0"}]}
  kind: {from: TYP, map: {F: organisation, P: person}, default: organisation}
  display_name: {from: NAME1, transforms: [collapse, title]}
  given_name: {from: NAME1, split: " ", part: 0}
  street: {from: [STRASSE, HAUSNR], join: " "}
  country: {from: LAND, map: {Deutschland: DE, Schweiz: CH}}
  credit_limit: {from: LIMIT, number: de_DE}
  payment_terms_days: {from: ZIEL, map: {"14 Tage netto": 14, sofort: 0}}
  birth_date: {from: GEBDAT, date: "%d.%m.%Y"}
""",
        "erp.yml",
        COLUMNS,
    )
    raw = {
        "KUNDENNR": " 000123 ",
        "NAME1": "ACME   handel",
        "STRASSE": "Hauptstraße",
        "HAUSNR": "5a",
        "LAND": "deutschland",
        "LIMIT": "1.234,50",
        "ZIEL": "14 Tage Netto",
        "GEBDAT": "01.02.1970",
        "TYP": None,
    }
    fused, issues = mapping.apply(SourceRecord("erp", 2, raw), "erp", priority=2)
    assert issues == []
    assert fused is not None
    assert (fused.system, fused.external_id, fused.priority) == ("erp", "123", 2)
    assert fused.values == {
        "kind": "organisation",
        "display_name": "Acme Handel",
        "given_name": "ACME",
        "street": "Hauptstraße 5a",
        "country": "DE",
        "credit_limit": Decimal("1234.50"),
        "payment_terms_days": 14,
        "birth_date": date(1970, 2, 1),
    }


def test_bad_cells_are_located_problems_and_rows_without_id_or_name_are_refused() -> None:
    mapping = load_mapping(
        "fields:\n  external_id: ID\n  full_name: NAME\n"
        "  birth_date: {from: DOB, date: '%d.%m.%Y'}\n  payment_terms_days: TERMS\n",
        "m.yml",
    )
    fused, issues = mapping.apply(
        SourceRecord(
            "crm", 7, {"ID": "A1", "NAME": "Ann Lee", "DOB": "31.02.1980", "TERMS": "30.5"}
        ),
        "crm",
    )
    assert fused is not None
    assert "birth_date" not in fused.values
    assert [str(i) for i in issues] == [
        "crm:7: birth_date: is not a date in the format %d.%m.%Y",
        "crm:7: payment_terms_days: is not a whole number",
    ]
    none, issues = mapping.apply(SourceRecord("crm", 8, {"ID": None, "NAME": "X"}), "crm")
    assert none is None
    assert [(i.row, i.field) for i in issues] == [(8, "external_id")]
    none, issues = mapping.apply(SourceRecord("crm", 9, {"ID": "A9", "NAME": "  "}), "crm")
    assert none is None
    assert "no name" in issues[0].reason


def test_every_mapping_error_names_its_line() -> None:
    text = """\
fields:
  external_id: KUNDENNR
  dispaly_name: NAME1
  email: {from: MAIL, date: "%d.%m.%Y"}
  street: {from: [STRASSE, HAUSNUMMER]}
  country: {from: LAND, transforms: [trim, shout]}
  payment_terms_days: {from: ZIEL, map: {"net 30": thirty}}
  credit_limit: {from: LIMIT, number: xx_XX, colour: red}
"""
    with pytest.raises(MappingError) as caught:
        load_mapping(text, "erp.yml", COLUMNS)
    assert caught.value.errors == [
        (
            1,
            "no name is mapped: map one of display_name, legal_name, full_name, given_name, "
            "family_name",
        ),
        (3, "unknown field 'dispaly_name' (did you mean 'display_name'?)"),
        (4, "email: a text field cannot be read as a date"),
        (4, "email: the source has no column 'MAIL'"),
        (5, "street: the source has no column 'HAUSNUMMER' (did you mean 'HAUSNR'?)"),
        (
            6,
            "country: unknown transform 'shout' (known: trim, collapse, lower, upper, title, "
            "digits, nfkc, replace, prefix, strip, regex)",
        ),
        (7, "payment_terms_days: cannot cast 'thirty' to int: is not a number"),
        (
            8,
            "credit_limit: unknown key 'colour' (known: date, default, from, join, map, "
            "map_default, number, part, split, transforms, value)",
        ),
        (8, "credit_limit: unknown locale 'xx_XX'"),
    ]
    assert str(caught.value).splitlines()[1].startswith("erp.yml:3: unknown field")


def test_yaml_syntax_and_missing_required_fields() -> None:
    with pytest.raises(MappingError, match=r"m.yml:3: not valid YAML"):
        load_mapping("fields:\n  a: b\n  c: d: e\n", "m.yml")
    with pytest.raises(MappingError) as caught:
        load_mapping("fields:\n  display_name: NAME\n", "m.yml")
    assert caught.value.errors == [(1, "required field 'external_id' is not mapped")]


def test_run_configuration_errors_name_their_lines(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text("ID,NAME\n1,Acme\n", encoding="utf-8")
    (tmp_path / "crm.yml").write_text(
        "fields:\n  external_id: ID\n  display_name: NAMEN\n", encoding="utf-8"
    )
    config = tmp_path / "run.yml"
    config.write_text(
        "name: test\nmatch: {accept: 1.5, review: 0.7}\nsurvivorship: {default: [loudest]}\n"
        "colour: blue\nsources:\n  - {name: crm, kind: csv, path: crm.csv, mapping: crm.yml}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert [line for line, _ in caught.value.errors] == [2, 3, 4]
    assert "accept must be a number from 0.5 to 1.0" in caught.value.errors[0][1]
    config.write_text(
        "sources:\n  - {name: crm, kind: csv, path: crm.csv, mapping: crm.yml}\n", encoding="utf-8"
    )
    with pytest.raises(MappingError) as caught:
        prepare(load_config(config), FILE_OPENERS)
    assert str(caught.value) == (
        f"{tmp_path / 'crm.yml'}:3: display_name: the source has no column 'NAMEN' "
        "(did you mean 'NAME'?)"
    )


def test_suggest_drafts_a_mapping_that_compiles(tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text(
        "KUNDENNR;ANREDE;NAME1;E-Mail;Telefon;PLZ;LAND;GEBDAT;Kreditlimit;notes\n"
        "K1;Firma;Acme GmbH;info@acme.de;030 1234567;10115;Deutschland;;1.500,00;x\n"
        "K2;Herr;Lee, Ann;ann@lee.de;089 7654321;80331;Österreich;24.12.1970;0,00;y\n",
        encoding="utf-8",
    )
    source = CsvSource("erp", path)
    draft = suggest(source)
    assert draft.fields["external_id"] == {"from": "KUNDENNR"}
    assert draft.fields["full_name"] == {"from": "NAME1"}
    assert draft.fields["email"] == {"from": "E-Mail"}
    assert draft.fields["phone"] == {"from": "Telefon"}
    assert draft.fields["birth_date"] == {"from": "GEBDAT", "date": "%d.%m.%Y"}
    assert draft.fields["credit_limit"] == {"from": "Kreditlimit", "number": "de_DE"}
    assert "map these values: Deutschland, Österreich" in draft.notes["country"]
    assert draft.unmapped == ["notes"]
    mapping = load_mapping(draft.yaml(), "draft.yml", source.columns())
    assert "birth_date" in mapping.fields
