"""Linking transactions to customers on DuckDB: ids written every which way find their
customer, copies of a customer count once, no transaction is lost, and those without a
customer are located by line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from crmledger.fusion.join import JoinSpec, link_transactions
from crmledger.fusion.records import Issue

CRM = """\
customer_id,name,email,country
100042,Acme  GmbH,Info@Acme.example,DE
100042,Acme GmbH,info@acme.example,
100042,Acme  GmbH,Info@Acme.example,DE
C-100043,Beta AG,beta@example.com,AT
X17,Gamma Ltd,,GB
"""
FINANCE = """\
txn_id;customer_id;amount
1;100042;10.00
2; 100042;11.00
3;100042.0;12.00
4;00100042;13.00
5;c-100043;14.00
6;x17;15.00
7;;16.00
8;n/a;17.00
9;555;18.00
10;#REF!;19.00
"""


def _files(tmp_path: Path) -> JoinSpec:
    (tmp_path / "crm.csv").write_text(CRM, encoding="utf-8")
    (tmp_path / "finance.csv").write_text(FINANCE, encoding="utf-8")
    return JoinSpec(tmp_path / "crm.csv", tmp_path / "finance.csv", tmp_path / "out.csv")


def test_every_transaction_is_kept_and_linked_through_its_cleaned_id(tmp_path: Path) -> None:
    spec = _files(tmp_path)
    report = link_transactions(spec)
    assert (report.customers_in, report.customers, report.duplicates) == (5, 3, 2)
    assert (report.transactions, report.matched, report.repaired) == (10, 6, 5)
    assert (report.unknown, report.bad) == (1, 3)
    with spec.out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["txn_id"] for r in rows] == [str(n) for n in range(1, 11)]
    links = {r["txn_id"]: (r["link"], r["customer_name"]) for r in rows}
    assert links == {
        "1": ("matched", "Acme GmbH"),
        "2": ("repaired", "Acme GmbH"),
        "3": ("repaired", "Acme GmbH"),
        "4": ("repaired", "Acme GmbH"),
        "5": ("repaired", "Beta AG"),
        "6": ("repaired", "Gamma Ltd"),
        "7": ("bad", ""),
        "8": ("bad", ""),
        "9": ("unknown", ""),
        "10": ("bad", ""),
    }
    # The most complete copy survives, its text cleaned.
    acme = next(r for r in rows if r["txn_id"] == "1")
    assert (acme["customer_email"], acme["customer_country"]) == ("info@acme.example", "DE")
    assert report.problems == [
        Issue("finance", 8, "customer_id", "problem", "no customer id in ''"),
        Issue("finance", 9, "customer_id", "problem", "no customer id in 'n/a'"),
        Issue("finance", 10, "customer_id", "problem", "no customer has the id '555'"),
        Issue("finance", 11, "customer_id", "problem", "no customer id in '#REF!'"),
    ]


def test_a_missing_id_column_is_named(tmp_path: Path) -> None:
    spec = _files(tmp_path)
    bad = JoinSpec(spec.customers, spec.transactions, spec.out, transaction_key="kunde")
    with pytest.raises(ValueError, match=r"finance\.csv: no column 'kunde'"):
        link_transactions(bad)


def test_problems_are_located_by_line_in_a_file_read_in_parallel(tmp_path: Path) -> None:
    # Large enough for DuckDB to read it in blocks on two threads, with every spelling of a
    # missing id: the lines must still be those of the file.
    rows = 600_000
    spoiled = {
        n: ("UNKNOWN", "-", "?", "0", "#N/A", "n/a", "")[n % 7] for n in range(3, rows, 4999)
    }
    spoiled |= {n: "999" for n in range(1000, rows, 7919)}
    (tmp_path / "crm.csv").write_text(CRM, encoding="utf-8")
    with (tmp_path / "finance.csv").open("w", encoding="utf-8") as handle:
        handle.write("txn_id;customer_id;amount\n")
        handle.writelines(f"{n};{spoiled.get(n, '100042')};1.00\n" for n in range(1, rows + 1))
    spec = JoinSpec(tmp_path / "crm.csv", tmp_path / "finance.csv", tmp_path / "out.csv")
    report = link_transactions(spec)
    unknown = sum(1 for v in spoiled.values() if v == "999")
    assert (report.transactions, report.unknown) == (rows, unknown)
    assert report.bad == len(spoiled) - unknown
    expected = [n + 1 for n in sorted(spoiled)][: spec.keep_problems]
    assert [p.row for p in report.problems] == expected
    assert report.problems[0].reason == "no customer id in '0'"
