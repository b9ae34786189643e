"""Journal entries as CSV, one row per posting.

Columns: ``entry,date,account,amount,commodity,description`` and optionally
``payee,party,reference,journal``. Rows that share ``entry`` form one journal entry; the first row
of an entry gives its date, description, payee, party and reference::

    entry,date,account,amount,commodity,description
    1,2026-01-05,Assets:Bank:Checking,-120.00,EUR,Office chairs
    1,2026-01-05,Expenses:Office,120.00,EUR,Office chairs

The reader checks shape only (dates, numbers, names); the ledger checks balance and scale.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from crmledger.core.accounts import account_type
from crmledger.core.entries import JournalEntry, Posting
from crmledger.core.errors import LedgerError
from crmledger.core.imports import ParsedFile, Problem, SourceEntry

REQUIRED = ("entry", "date", "account", "amount", "commodity", "description")
OPTIONAL = ("payee", "party", "reference", "journal")
COLUMNS = REQUIRED + OPTIONAL


def read_entries_csv(path: Path) -> ParsedFile:
    """Stream an entries CSV file (UTF-8, optional BOM); each pass re-reads the file."""
    parsed = ParsedFile(str(path))

    def stream() -> Iterator[SourceEntry]:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield from _stream(handle, parsed)

    parsed.stream = stream
    return parsed


def read_entries(handle: TextIO, source: str) -> ParsedFile:
    """Parse entries CSV text from ``handle`` into memory."""
    parsed = ParsedFile(source)
    parsed.entries = list(_stream(handle, parsed))
    return parsed


def _stream(handle: TextIO, parsed: ParsedFile) -> Iterator[SourceEntry]:
    """Yield entries as their rows end; rows of one entry must be adjacent."""
    parsed.problems.clear()
    source = parsed.source
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        parsed.problems.append(Problem(source, 1, "header", "file is empty"))
        return
    index = _header_index(header, source, parsed)
    if index is None:
        return
    width, key_at = len(header), index["entry"]
    seen: set[str] = set()
    key, group = "", list[tuple[int, list[str]]]()
    for row in reader:
        line = reader.line_num
        if len(row) != width:
            if any(cell.strip() for cell in row):
                parsed.problems.append(
                    Problem(source, line, "row", f"has {len(row)} fields, the header has {width}")
                )
            continue
        row_key = row[key_at].strip()
        if row_key != key:
            if group:
                yield from _finish(key, group, index, parsed)
            if row_key in seen:
                parsed.problems.append(Problem(
                    source, line, "entry",
                    f"rows of entry {row_key!r} must be adjacent; it continues here",
                ))
            seen.add(row_key)
            key, group = row_key, []
        group.append((line, row))
    if group:
        yield from _finish(key, group, index, parsed)


def _finish(
    key: str, group: list[tuple[int, list[str]]], index: dict[str, int], parsed: ParsedFile
) -> Iterator[SourceEntry]:
    if not key:
        parsed.problems.append(Problem(parsed.source, group[0][0], "entry", "is empty"))
        return
    entry = _entry(key, group, index, parsed.source, parsed.problems)
    if entry is not None:
        yield SourceEntry(group[0][0], entry)


def _header_index(header: list[str], source: str, parsed: ParsedFile) -> dict[str, int] | None:
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    unknown = [h for h in names if h not in COLUMNS]
    for column in missing:
        parsed.problems.append(Problem(source, 1, column, "required column is missing"))
    for column in unknown:
        parsed.problems.append(
            Problem(source, 1, column, f"unknown column; expected {', '.join(COLUMNS)}")
        )
    return None if missing or unknown else {name: i for i, name in enumerate(names)}


def _entry(
    key: str,
    rows: list[tuple[int, list[str]]],
    index: dict[str, int],
    source: str,
    problems: list[Problem],
) -> JournalEntry | None:
    first_line, first = rows[0]

    def cell(row: list[str], name: str) -> str:
        return row[index[name]].strip() if name in index else ""

    before = len(problems)
    try:
        day = date.fromisoformat(cell(first, "date"))
    except ValueError:
        problems.append(
            Problem(source, first_line, "date", f"{cell(first, 'date')!r} is not YYYY-MM-DD")
        )
        day = date.min
    postings = []
    for line, row in rows:
        if cell(row, "date") != cell(first, "date"):
            problems.append(Problem(source, line, "date", f"differs within entry {key!r}"))
        try:
            account_type(cell(row, "account"))
        except LedgerError as error:
            problems.append(Problem(source, line, "account", str(error)))
        try:
            amount = Decimal(cell(row, "amount"))
            if not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(
                Problem(source, line, "amount", f"{cell(row, 'amount')!r} is not a number")
            )
            continue
        if not cell(row, "commodity"):
            problems.append(Problem(source, line, "commodity", "is empty"))
        postings.append(
            Posting(
                cell(row, "account"),
                amount,
                cell(row, "commodity"),
                party=cell(row, "party") or None,
            )
        )
    if len(problems) > before:
        return None
    return JournalEntry(
        date=day,
        narration=cell(first, "description"),
        postings=tuple(postings),
        payee=cell(first, "payee") or None,
        party=cell(first, "party") or None,
        reference=cell(first, "reference") or None,
        journal=cell(first, "journal") or "GJ",
    )


def write_entries(out: TextIO, entries: Iterable[JournalEntry], scales: dict[str, int]) -> None:
    """Write entries as CSV (the reader's format), keyed by ``JOURNAL/YEAR/NUMBER``."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for number, entry in enumerate(entries, start=1):
        key = f"{entry.journal}/{entry.fiscal_year}/{entry.number or number}"
        for posting in entry.postings:
            scale = scales[posting.commodity]
            writer.writerow(
                (
                    key,
                    entry.date.isoformat(),
                    posting.account,
                    format(posting.amount.quantize(Decimal(1).scaleb(-scale)), "f"),
                    posting.commodity,
                    entry.narration,
                    entry.payee or "",
                    posting.party or "",
                    entry.reference or "",
                    entry.journal,
                )
            )
