"""Fusion sources read real files (CSV, XLSX, JSON, JSON Lines) and the book's parties into
the same records, in chunks, with the row numbers a person finds them under."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from crmledger.core.crm.parties import Email, Party, PartyKind
from crmledger.fusion.sources import (
    CsvSource,
    JsonSource,
    PartySource,
    SourceError,
    XlsxSource,
    file_source,
    read_all,
)


def test_csv_sniffs_the_delimiter_and_numbers_rows_by_line(tmp_path: Path) -> None:
    path = tmp_path / "kunden.csv"
    path.write_text(
        'KUNDENNR;NAME1;PLZ\nK1;Acme GmbH;10115\n\nK2;"Zeile\nzwei";  \nK3;Beta AG;80331\n',
        encoding="utf-8",
    )
    source = CsvSource("erp", path)
    assert source.columns() == ["KUNDENNR", "NAME1", "PLZ"]
    chunks = list(source.chunks(2))
    assert [len(c) for c in chunks] == [2, 1]
    records = [r for c in chunks for r in c]
    assert [r.row for r in records] == [2, 4, 6]
    assert records[1].raw == {"KUNDENNR": "K2", "NAME1": "Zeile\nzwei", "PLZ": None}
    assert records[2].source == "erp"


def test_csv_with_bom_and_given_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("\ufeffid|name\n1|Ünal\n".encode())
    records = read_all(CsvSource("x", path, delimiter="|"))
    assert records[0].raw == {"id": "1", "name": "Ünal"}


def test_csv_not_in_its_encoding_names_the_source(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name\n1,M\xfcller\n".encode("latin-1"))
    with pytest.raises(SourceError, match="latin: not utf-8-sig text"):
        read_all(CsvSource("latin", path))
    assert read_all(CsvSource("latin", path, encoding="latin-1"))[0].raw["name"] == "Müller"


def test_xlsx_cells_become_text(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Kunden"
    sheet.append(["id", "name", "since", "limit", "terms"])
    sheet.append([1, "Acme", datetime(2024, 5, 1), 1500.5, 30.0])
    sheet.append([None, None, None, None, None])
    sheet.append([2, "  ", date(2023, 1, 2), None, 14])
    path = tmp_path / "k.xlsx"
    book.save(path)
    source = XlsxSource("shop", path, sheet="Kunden")
    assert source.columns() == ["id", "name", "since", "limit", "terms"]
    records = read_all(source)
    assert [r.row for r in records] == [2, 4]
    assert records[0].raw == {
        "id": "1",
        "name": "Acme",
        "since": "2024-05-01",
        "limit": "1500.5",
        "terms": "30",
    }
    assert records[1].raw["name"] is None
    with pytest.raises(SourceError, match="no sheet 'Other'"):
        read_all(XlsxSource("shop", path, sheet="Other"))


def test_json_array_and_json_lines_flatten_nested_objects(tmp_path: Path) -> None:
    items = [
        {
            "id": 7,
            "name": "Acme",
            "address": {"city": "Berlin", "zip": "10115"},
            "tags": ["a", "b"],
        },
        {"id": 8, "name": None, "active": True},
    ]
    array = tmp_path / "shop.json"
    array.write_text(json.dumps({"records": items}), encoding="utf-8")
    lines = tmp_path / "shop.jsonl"
    lines.write_text("\n".join(json.dumps(i) for i in items) + "\n\n", encoding="utf-8")
    for source in (JsonSource("shop", array), file_source(lines, "shop")):
        records = read_all(source)
        assert records[0].raw == {
            "id": "7",
            "name": "Acme",
            "address.city": "Berlin",
            "address.zip": "10115",
            "tags": "a;b",
        }
        assert records[1].raw == {"id": "8", "name": None, "active": "true"}
        assert [r.row for r in records] == [1, 2]
    assert "address.city" in JsonSource("shop", array).columns()


def test_bad_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1}\n{"id": 2,\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"bad:2: not valid JSON"):
        read_all(file_source(path, "bad"))


def test_unknown_file_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="unknown file type"):
        file_source(tmp_path / "x.parquet")


def test_party_source_pages_through_the_port() -> None:
    book = [
        Party(PartyKind.ORGANISATION, f"Firm {i}", id=i, emails=(Email(f"a{i}@x.de"),))
        for i in range(1, 8)
    ]
    asked: list[tuple[int, int]] = []

    def pages(after: int, limit: int) -> list[Party]:
        asked.append((after, limit))
        return [p for p in book if (p.id or 0) > after][:limit]

    records = read_all(PartySource(pages, page_size=3), size=4)
    assert [r.row for r in records] == list(range(1, 8))
    assert records[2].raw["display_name"] == "Firm 3"
    assert records[2].raw["email"] == "a3@x.de"
    assert records[2].source == "crmledger"
    assert asked == [(0, 3), (3, 3), (6, 3), (7, 3)]
