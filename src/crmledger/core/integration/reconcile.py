"""Reconciliation: do both sides hold the same records, values and amounts?

Both sides are keyed by the same key (an outside id, an invoice number); one pass over
each side finds what is missing where, which compared fields differ, and the amount totals
per currency, so the work grows with the number of records, never with their square. The
remote side may stream past (:func:`reconcile_stream`): only the local side is held::

    >>> local = {"C1": {"name": "Acme", "total": "10.00", "currency": "EUR"}}
    >>> remote = {"C1": {"name": "ACME", "total": "10.00", "currency": "EUR"},
    ...           "C2": {"name": "Bolt", "total": "5.00", "currency": "EUR"}}
    >>> r = reconcile("invoice", local, remote, ("name",), amount="total")
    >>> r.agree, r.missing_local, [d.field for d in r.differences if d.kind == "field"]
    (False, 1, ['name'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter

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


def _add(sums: dict[str, list[Decimal]], side: int, record: Record, amount: str, cur: str) -> None:
    pair = sums.setdefault(record.get(cur, ""), [Decimal(0), Decimal(0)])
    pair[side] += _amount(record.get(amount, ""))


def _same(a: str, b: str) -> bool:
    """Equal texts, or two numbers of equal value (``10.0`` and ``10.00``)."""
    return a == b or (_numeric(a) and _numeric(b) and _amount(a) == _amount(b))


def _field_differences(
    key: str, ours: Record, theirs: Record, fields: Iterable[str]
) -> list[Difference]:
    found = []
    for name in fields:
        a, b = ours.get(name, ""), theirs.get(name, "")
        if not _same(a, b):
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
    return reconcile_stream(
        object_type, local, remote.items(), fields, amount=amount, currency=currency
    )


@dataclass
class _Tally:
    """What one pass over the remote side found so far."""

    kept: list[Difference] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    matched: int = 0
    differing: int = 0
    missing_local: int = 0

    def keep(self, found: Iterable[Difference]) -> None:
        room = KEEP - len(self.kept)
        if room > 0:
            self.kept.extend(list(found)[:room])


def _values(fields: tuple[str, ...]) -> Callable[[Record], object]:
    """The compared values of a record, read at C speed (``KeyError``: one is missing)."""
    if not fields:
        return lambda _record: ()
    return itemgetter(*fields)


def reconcile_stream(
    object_type: str,
    local: Mapping[str, Record],
    remote: Iterable[tuple[str, Record]],
    fields: Iterable[str],
    *,
    amount: str | None = None,
    currency: str = "currency",
) -> Reconciliation:
    """:func:`reconcile` with the remote side as a stream of ``(key, record)``, read once
    and never held (a key met again is counted once, at its first record)."""
    compared = tuple(fields) + ((amount,) if amount else ())
    values = _values(compared)
    tally = _Tally()
    sums: dict[str, list[Decimal]] = {}
    for key, theirs in remote:
        if key in tally.seen:
            continue
        tally.seen.add(key)
        if amount:
            _add(sums, 1, theirs, amount, currency)
        ours = local.get(key)
        if ours is None:
            tally.missing_local += 1
            tally.keep([Difference(key, "missing_local")])
            continue
        try:
            if values(ours) == values(theirs):  # the common case, without a loop in Python
                tally.matched += 1
                continue
        except KeyError:
            pass  # a field one side lacks: compared as empty below
        found = _field_differences(key, ours, theirs, compared)
        tally.differing += bool(found)
        tally.matched += not found
        tally.keep(found)
    only_local = sorted(local.keys() - tally.seen)
    tally.keep(Difference(key, "missing_remote") for key in only_local[:KEEP])
    if amount:
        for record in local.values():
            _add(sums, 0, record, amount, currency)
    return Reconciliation(
        object_type=object_type,
        local_count=len(local),
        remote_count=len(tally.seen),
        matched=tally.matched,
        missing_local=tally.missing_local,
        missing_remote=len(only_local),
        differing=tally.differing,
        totals={k: (pair[0], pair[1]) for k, pair in sorted(sums.items())},
        differences=tuple(tally.kept),
    )
