"""Profiles: per column type, empties, distinct and top values, patterns, invalid values;
exact duplicate rows; as JSON and as a self-contained HTML page with inline SVG charts."""

from __future__ import annotations

import json
from pathlib import Path

from crmledger.formats.fusion_report import profile_html
from crmledger.fusion.profile import pattern, profile_source
from crmledger.fusion.sources import CsvSource


def test_a_profile_of_a_dirty_file(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text(
        "id,name,email,phone,born,vat,zip\n"
        "1,Acme GmbH,info@acme.de,+49 30 1234567,1970-01-02,DE136695976,10115\n"
        "2,Beta AG,not-an-email,+49 30 12,02.01.1970,DE123456789,80331\n"
        "3,Acme GmbH,info@acme.de,+49 30 1234567,1970-01-02,DE136695976,10115\n"
        "4,,,,31.02.1970,,\n"
        "3,Acme GmbH,info@acme.de,+49 30 1234567,1970-01-02,DE136695976,10115\n",
        encoding="utf-8",
    )
    report = profile_source(CsvSource("crm", path), region="DE")
    assert report.rows == 5
    assert report.duplicate_rows == 1
    assert report.duplicate_samples == [(6, 4)]
    columns = {c.name: c for c in report.columns}
    assert columns["id"].inferred == "integer"
    assert columns["email"].kinds["email"] == 3  # 3 of 4 filled: too few to call it emails
    assert columns["born"].kinds["date"] == 4
    assert columns["name"].null_share == 0.2
    assert len(columns["name"].counts) == 2
    assert columns["name"].counts.most_common(1) == [("Acme GmbH", 3)]
    assert columns["zip"].patterns.most_common(1) == [("99999", 4)]
    assert (columns["email"].check, columns["email"].invalid) == ("email", 1)
    assert (columns["phone"].check, columns["phone"].invalid) == ("phone", 1)
    assert (columns["vat"].check, columns["vat"].invalid) == ("tax_id", 1)
    assert columns["born"].check == "date"
    assert columns["born"].invalid == 1  # 31.02.1970
    assert columns["vat"].invalid_samples[0][0] == 3
    data = json.loads(json.dumps(report.as_dict()))
    assert data["columns"][1]["top_values"][0] == ["Acme GmbH", 3]
    html = profile_html([data])
    assert "<svg" in html
    assert "<script" not in html
    assert "http" not in html.split("<body>")[1]
    assert "Profile of crm" in html
    assert "1 exact duplicate rows" in html


def test_patterns() -> None:
    assert pattern("Acme 2000") == "Aaaa 9999"
    assert pattern("+49 (30) 12-34") == "+99 (99) 99-99"
