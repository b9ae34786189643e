"""Reconciliation's verdict: the streamed remote side gives what a plain, pairwise reading
of both sides gives (Hypothesis), numbers compare by value, a key met twice counts once,
and the report keeps at most its cap of differences while the counts cover them all."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.integration import reconcile as module
from crmledger.core.integration.reconcile import Record, reconcile, reconcile_stream

FIELDS = ("name", "total")
keys = st.sampled_from([f"K{n}" for n in range(12)])
texts = st.sampled_from(["", "a", "b", "10", "10.0", "10.00", "7.5", "x y"])
records = st.fixed_dictionaries({"name": texts, "total": texts, "currency": st.sampled_from("EU")})
sides = st.dictionaries(keys, records, max_size=12)


def _naive(
    local: Mapping[str, Record], remote: Mapping[str, Record]
) -> tuple[int, int, int, int, dict[str, tuple[Decimal, Decimal]]]:
    """Every key against every key: what the verdict must say."""

    def same(a: str, b: str) -> bool:
        try:
            return bool(a) and bool(b) and Decimal(a) == Decimal(b)
        except ArithmeticError:
            return a == b

    matched = differing = 0
    for key, theirs in remote.items():
        for other, ours in local.items():
            if other == key:
                ok = all(same(ours[f], theirs[f]) or ours[f] == theirs[f] for f in FIELDS)
                matched, differing = matched + ok, differing + (not ok)
    totals: dict[str, list[Decimal]] = {}
    for side, found in enumerate((local, remote)):
        for record in found.values():
            pair = totals.setdefault(record["currency"], [Decimal(0), Decimal(0)])
            with contextlib.suppress(ArithmeticError):  # not a number: counts as nothing
                pair[side] += Decimal(record["total"] or "0")
    missing_local = sum(1 for k in remote if k not in local)
    missing_remote = sum(1 for k in local if k not in remote)
    return (
        matched,
        differing,
        missing_local,
        missing_remote,
        {k: (v[0], v[1]) for k, v in sorted(totals.items())},
    )


@given(sides, sides)
def test_the_streamed_verdict_is_the_pairwise_one(
    local: dict[str, Record], remote: dict[str, Record]
) -> None:
    verdict = reconcile_stream("invoice", local, iter(remote.items()), ("name",), amount="total")
    found = (
        verdict.matched,
        verdict.differing,
        verdict.missing_local,
        verdict.missing_remote,
        dict(verdict.totals),
    )
    assert found == _naive(local, remote)
    assert verdict == reconcile("invoice", local, remote, ("name",), amount="total")
    assert verdict.agree == (
        verdict.differing + verdict.missing_local + verdict.missing_remote == 0
        and all(a == b for a, b in verdict.totals.values())
    )


def test_numbers_compare_by_value_and_a_missing_field_as_empty() -> None:
    local = {"A": {"name": "Acme", "total": "10.0"}, "B": {"name": "Bolt"}}
    remote = {"A": {"name": "Acme", "total": "10.00"}, "B": {"name": "Bolt", "total": ""}}
    verdict = reconcile("customer", local, remote, FIELDS)
    assert (verdict.matched, verdict.differing, verdict.agree) == (2, 0, True)
    changed = reconcile("customer", local, {"A": {"name": "ACME", "total": "10"}}, FIELDS)
    assert [(d.key, d.field, d.local, d.remote) for d in changed.differences] == [
        ("A", "name", "Acme", "ACME"),
        ("B", "", "", ""),
    ]
    assert [d.kind for d in changed.differences] == ["field", "missing_remote"]


def test_a_key_met_twice_in_the_stream_counts_once() -> None:
    local = {"A": {"name": "Acme"}}
    stream = iter([("A", {"name": "Acme"}), ("A", {"name": "Other"}), ("C", {"name": "C"})])
    verdict = reconcile_stream("customer", local, stream, ("name",))
    assert (verdict.remote_count, verdict.matched, verdict.missing_local) == (2, 1, 1)


def test_the_report_keeps_its_cap_of_differences_and_counts_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(module, "KEEP", 3)
    local = {f"L{n}": {"name": "x"} for n in range(5)}
    remote = {f"R{n}": {"name": "x"} for n in range(4)}
    verdict = reconcile("customer", local, remote, ("name",))
    assert (verdict.missing_local, verdict.missing_remote) == (4, 5)
    assert [d.key for d in verdict.differences] == ["R0", "R1", "R2"]
