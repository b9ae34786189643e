"""Reconciliation: do both sides hold the same records, values and amounts?

Both sides are keyed by the same key (an outside id, an invoice number); one pass over
each side finds what is missing where, which compared fields differ, and the amount totals
per currency, so the work grows with the number of records, never with their square::

    >>> local = {"C1": {"name": "Acme", "total": "10.00", "currency": "EUR"}}
    >>> remote = {"C1": {"name": "ACME", "total": "10.00", "currency": "EUR"},
    ...           "C2": {"name": "Bolt", "total": "5.00", "currency": "EUR"}}
    >>> r = reconcile("invoice", local, remote, ("name",), amount="total")
    >>> r.agree, r.missing_local, [d.field for d in r.differences if d.kind == "field"]
    (False, 1, ['name'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

Record = Mapping[str, str]
#: Differences kept for the report (the counts cover them all).
KEEP = 1000


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement: a record only one side has, or one field that differs."""

    key: str
    kind: str
    field: str = ""
    local: str = ""
    remote: str = ""


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The verdict for one object type."""

    object_type: str
    local_count: int
    remote_count: int
    matched: int
    missing_local: int
    missing_remote: int
    differing: int
    totals: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    differences: tuple[Difference, ...] = ()

    @property
    def agree(self) -> bool:
        """Same records, same compared values, same totals."""
        same_totals = all(a == b for a, b in self.totals.values())
        missing = self.missing_local + self.missing_remote
        return same_totals and missing == 0 and self.differing == 0


def _amount(value: str) -> Decimal:
    try:
        found = Decimal(value or "0")
    except InvalidOperation:
        return Decimal(0)
    return found if found.is_finite() else Decimal(0)


def _totals(
    local: Mapping[str, Record], remote: Mapping[str, Record], amount: str, currency: str
) -> dict[str, tuple[Decimal, Decimal]]:
    sums: dict[str, list[Decimal]] = {}
    for side, records in enumerate((local, remote)):
        for record in records.values():
            pair = sums.setdefault(record.get(currency, ""), [Decimal(0), Decimal(0)])
            pair[side] += _amount(record.get(amount, ""))
    return {key: (pair[0], pair[1]) for key, pair in sorted(sums.items())}


def _field_differences(
    key: str, ours: Record, theirs: Record, fields: Iterable[str]
) -> list[Difference]:
    found = []
    for name in fields:
        a, b = ours.get(name, ""), theirs.get(name, "")
        same = _amount(a) == _amount(b) if _numeric(a) and _numeric(b) else a == b
        if not same:
            found.append(Difference(key, "field", name, a, b))
    return found


def _numeric(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return bool(text)


def reconcile(
    object_type: str,
    local: Mapping[str, Record],
    remote: Mapping[str, Record],
    fields: Iterable[str],
    *,
    amount: str | None = None,
    currency: str = "currency",
) -> Reconciliation:
    """Compare ``local`` and ``remote`` (both keyed the same way) on ``fields``; with
    ``amount``, also the totals of that field per ``currency``."""
    compared = tuple(fields) + ((amount,) if amount else ())
    kept: list[Difference] = []
    missing_local = missing_remote = differing = matched = 0
    for key, theirs in remote.items():
        ours = local.get(key)
        if ours is None:
            missing_local += 1
            kept.append(Difference(key, "missing_local"))
            continue
        found = _field_differences(key, ours, theirs, compared)
        differing += bool(found)
        matched += not found
        kept.extend(found)
    for key in sorted(local.keys() - remote.keys()):
        missing_remote += 1
        kept.append(Difference(key, "missing_remote"))
    totals = _totals(local, remote, amount, currency) if amount else {}
    return Reconciliation(
        object_type=object_type,
        local_count=len(local),
        remote_count=len(remote),
        matched=matched,
        missing_local=missing_local,
        missing_remote=missing_remote,
        differing=differing,
        totals=totals,
        differences=tuple(kept[:KEEP]),
    )
