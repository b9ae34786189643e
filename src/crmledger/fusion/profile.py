"""Profiles: what a source's columns hold, before anyone maps them.

One pass over the source's chunks gives, per column: the inferred type, the share of empty
cells, the number of distinct values, the most common values, the format patterns (every
capital ``A``, small letter ``a``, digit ``9``, other characters as they are:
``"Acme 2000"`` -> ``"Aaaa 9999"``), and the values that fail the check their column
calls for (emails, phones, dates, tax ids, judged by :mod:`crmledger.fusion.normalise`
from the column's name or its values); and for the source, the rows that repeat an
earlier row exactly::

    report = profile_source(CsvSource("crm", Path("crm.csv")))
    report.columns[0].name, report.columns[0].inferred, report.columns[0].null_share
    json.dumps(report.as_dict())
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from crmledger.fusion import normalise
from crmledger.fusion.normalise import InvalidValueError
from crmledger.fusion.records import Cell, SourceRecord
from crmledger.fusion.sources import DEFAULT_CHUNK, Source

TOP = 5
SAMPLES = 5
#: Distinct values counted exactly up to this many per column (then "at least").
MAX_DISTINCT = 200_000
MAX_PATTERNS = 1000
_PHONE_LIKE = re.compile(r"^\s*(?:\+|00)?[\d\s().\-/]{6,}$")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", "%d-%m-%Y")
_HINTS = (
    ("email", re.compile(r"mail", re.IGNORECASE)),
    ("phone", re.compile(r"phone|tel|fax|mobil|handy", re.IGNORECASE)),
    ("date", re.compile(r"date|datum|birth|born|dob|geb|updated|changed|aenderung", re.I)),
    ("tax_id", re.compile(r"vat|tax|ustid|ust_id|steuer", re.IGNORECASE)),
)


def pattern(text: str) -> str:
    """The shape of a value::

    >>> pattern("Acme 2000"), pattern("SW1A 1AA")
    ('Aaaa 9999', 'AA9A 9AA')
    """
    out = []
    for char in text[:40]:
        if char.isdigit():
            out.append("9")
        elif char.isalpha():
            out.append("A" if char.isupper() else "a")
        else:
            out.append(char)
    return "".join(out) + ("…" if len(text) > 40 else "")


def _is_date(text: str) -> bool:
    for fmt in _DATE_FORMATS:
        try:
            datetime.strptime(text[:10], fmt)  # noqa: DTZ007 (shape only)
        except ValueError:
            continue
        return True
    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def _is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", "."))
    except InvalidOperation:
        return False
    return True


def kind_of(text: str) -> str:
    """The type a single value looks like."""
    stripped = text.strip()
    for kind, test in _KINDS:
        if test(stripped):
            return kind
    return "text"


#: Value types, most specific first.
_KINDS: tuple[tuple[str, Callable[[str], object]], ...] = (
    ("boolean", lambda s: s.lower() in ("true", "false", "yes", "no")),
    ("integer", lambda s: re.fullmatch(r"[+-]?\d{1,18}", s)),
    ("decimal", lambda s: _is_number(s) and any(c.isdigit() for c in s)),
    ("date", _is_date),
    ("email", lambda s: "@" in s and " " not in s),
    ("phone", _PHONE_LIKE.match),
)


def _validator(check: str, region: str | None) -> Any:
    """The check of a column; phones without a country code are only checked when the
    default ``region`` says which country they belong to."""
    if check == "email":
        return normalise.email
    if check == "phone":
        return lambda v: (
            normalise.phone(v, region) if region or v.strip().startswith(("+", "00")) else v
        )
    if check == "tax_id":
        return normalise.tax_id

    def parse_date(value: str) -> str:
        if not _is_date(value.strip()):
            raise InvalidValueError("not a date in a known format")
        return value

    return parse_date


@dataclass
class ColumnProfile:
    """What one column holds."""

    name: str
    values: int = 0
    nulls: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    patterns: Counter[str] = field(default_factory=Counter)
    distinct_capped: bool = False
    padded: int = 0
    check: str = ""
    invalid: int = 0
    invalid_samples: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, cell: Cell) -> None:
        self.values += 1
        if cell is None:
            self.nulls += 1
            return
        if cell != cell.strip():
            self.padded += 1
        self.kinds[kind_of(cell)] += 1
        if cell in self.counts or len(self.counts) < MAX_DISTINCT:
            self.counts[cell] += 1
        else:
            self.distinct_capped = True
        shape = pattern(cell)
        if shape in self.patterns or len(self.patterns) < MAX_PATTERNS:
            self.patterns[shape] += 1

    @property
    def inferred(self) -> str:
        filled = self.values - self.nulls
        if not filled:
            return "empty"
        kind, count = self.kinds.most_common(1)[0]
        if count / filled >= 0.9:
            return kind
        numeric = self.kinds["integer"] + self.kinds["decimal"]
        return "decimal" if numeric / filled >= 0.9 else "text"

    @property
    def null_share(self) -> float:
        return self.nulls / self.values if self.values else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inferred_type": self.inferred,
            "values": self.values,
            "null_share": round(self.null_share, 4),
            "distinct": len(self.counts),
            "distinct_at_least": self.distinct_capped,
            "padded": self.padded,
            "top_values": [[v, n] for v, n in self.counts.most_common(TOP)],
            "patterns": [[p, n] for p, n in self.patterns.most_common(TOP)],
            "check": self.check,
            "invalid": self.invalid,
            "invalid_samples": [
                {"row": r, "value": v, "reason": why} for r, v, why in self.invalid_samples
            ],
        }


@dataclass
class SourceProfile:
    """The profile of one source."""

    source: str
    rows: int = 0
    columns: list[ColumnProfile] = field(default_factory=list)
    duplicate_rows: int = 0
    duplicate_samples: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "duplicate_rows": self.duplicate_rows,
            "duplicate_samples": [{"row": r, "same_as": s} for r, s in self.duplicate_samples],
            "columns": [c.as_dict() for c in self.columns],
        }


def _check_for(column: ColumnProfile) -> str:
    for check, hint in _HINTS:
        if hint.search(column.name):
            return check
    inferred = column.inferred
    return inferred if inferred in ("email", "phone", "date") else ""


class _Profiler:
    def __init__(self, source: str, columns: list[str]) -> None:
        self.report = SourceProfile(source, columns=[ColumnProfile(c) for c in columns])
        self.by_name = {c.name: c for c in self.report.columns}
        self.seen_rows: dict[int, int] = {}

    def add(self, record: SourceRecord) -> None:
        self.report.rows += 1
        for name, value in record.raw.items():
            column = self.by_name.get(name)
            if column is None:
                column = self.by_name[name] = ColumnProfile(name)
                self.report.columns.append(column)
            column.add(value)
        digest = hash(tuple(sorted((k, v or "") for k, v in record.raw.items())))
        first = self.seen_rows.setdefault(digest, record.row)
        if first != record.row:
            self.report.duplicate_rows += 1
            if len(self.report.duplicate_samples) < SAMPLES:
                self.report.duplicate_samples.append((record.row, first))

    def validate(self, records: Iterable[SourceRecord], region: str | None) -> None:
        """Second look at the columns that call for a check."""
        checks = {c.name: (c, _validator(c.check, region)) for c in self.report.columns if c.check}
        for record in records:
            for name, (column, validate) in checks.items():
                value = record.raw.get(name)
                if value is None:
                    continue
                try:
                    validate(value)
                except InvalidValueError as exc:
                    column.invalid += 1
                    if len(column.invalid_samples) < SAMPLES:
                        column.invalid_samples.append((record.row, value, str(exc)))


def profile_source(
    source: Source, region: str | None = None, chunk: int = DEFAULT_CHUNK
) -> SourceProfile:
    """Profile every row of ``source`` (two passes: statistics, then value checks)."""
    profiler = _Profiler(source.name, source.columns())
    for records in source.chunks(chunk):
        for record in records:
            profiler.add(record)
    for column in profiler.report.columns:
        column.check = _check_for(column)
    if any(c.check for c in profiler.report.columns):
        profiler.validate((r for records in source.chunks(chunk) for r in records), region)
    return profiler.report


def profile_records(
    name: str, records: Iterable[SourceRecord], columns: list[str], region: str | None = None
) -> SourceProfile:
    """Profile records already read (one pass for statistics, one for checks)."""
    kept = list(records)
    profiler = _Profiler(name, columns)
    for record in kept:
        profiler.add(record)
    for column in profiler.report.columns:
        column.check = _check_for(column)
    profiler.validate(kept, region)
    return profiler.report
