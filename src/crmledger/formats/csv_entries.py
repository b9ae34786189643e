"""Journal entries as CSV, one row per posting.

Columns: ``entry,date,account,amount,commodity,description`` and optionally
``payee,party,reference,journal,cost,price`` (a cost or price is ``1.10 USD`` per unit or
``=110.00 USD`` in total). Rows that share ``entry`` form one journal entry; the first row
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
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.errors import LedgerError
from crmledger.core.imports import ParsedFile, Problem, SourceEntry

REQUIRED = ("entry", "date", "account", "amount", "commodity", "description")
OPTIONAL = ("payee", "party", "reference", "journal", "cost", "price")
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
    rows = _Reader(index, source, parsed.problems)
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
                yield from _finish(key, group, rows)
            if row_key in seen:
                parsed.problems.append(
                    Problem(
                        source,
                        line,
                        "entry",
                        f"rows of entry {row_key!r} must be adjacent; it continues here",
                    )
                )
            seen.add(row_key)
            key, group = row_key, []
        group.append((line, row))
    if group:
        yield from _finish(key, group, rows)


def _finish(key: str, group: list[tuple[int, list[str]]], reader: _Reader) -> Iterator[SourceEntry]:
    if not key:
        reader.problems.append(Problem(reader.source, group[0][0], "entry", "is empty"))
        return
    entry = reader.entry(key, group)
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


class _Reader:
    """Column positions and the per-file caches that keep the row loop short."""

    def __init__(self, index: dict[str, int], source: str, problems: list[Problem]) -> None:
        self.source, self.problems = source, problems
        self.date, self.account = index["date"], index["account"]
        self.amount, self.commodity = index["amount"], index["commodity"]
        self.description = index["description"]
        self.optional = {name: index.get(name) for name in OPTIONAL}
        self.accounts: dict[str, str | None] = {}  # name -> why it is invalid (None: valid)

    def opt(self, row: list[str], name: str) -> str | None:
        at = self.optional[name]
        return (row[at].strip() or None) if at is not None else None

    def account_problem(self, name: str) -> str | None:
        if name not in self.accounts:
            try:
                account_type(name)
                self.accounts[name] = None
            except LedgerError as error:
                self.accounts[name] = str(error)
        return self.accounts[name]

    def entry(self, key: str, rows: list[tuple[int, list[str]]]) -> JournalEntry | None:
        first_line, first = rows[0]
        problems, before = self.problems, len(self.problems)
        day_text = first[self.date].strip()
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            problems.append(
                Problem(self.source, first_line, "date", f"{day_text!r} is not YYYY-MM-DD")
            )
            day = date.min
        postings = [p for line, row in rows if (p := self.posting(key, day_text, line, row))]
        if len(problems) > before:
            return None
        return JournalEntry(
            date=day,
            narration=first[self.description].strip(),
            postings=tuple(postings),
            payee=self.opt(first, "payee"),
            party=self.opt(first, "party"),
            reference=self.opt(first, "reference"),
            journal=self.opt(first, "journal") or "GJ",
        )

    def posting(self, key: str, day: str, line: int, row: list[str]) -> Posting | None:
        problems, source = self.problems, self.source
        if row[self.date].strip() != day:
            problems.append(Problem(source, line, "date", f"differs within entry {key!r}"))
        account = row[self.account].strip()
        if (why := self.account_problem(account)) is not None:
            problems.append(Problem(source, line, "account", why))
        text = row[self.amount].strip()
        try:
            amount = Decimal(text)
            if not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(Problem(source, line, "amount", f"{text!r} is not a number"))
            return None
        commodity = row[self.commodity].strip()
        if not commodity:
            problems.append(Problem(source, line, "commodity", "is empty"))
        cost, price = self.conversion(row, "cost", line), self.conversion(row, "price", line)
        return Posting(
            account, amount, commodity, cost=cost, price=price, party=self.opt(row, "party")
        )

    def conversion(self, row: list[str], name: str, line: int) -> Conversion | None:
        """``1.10 USD`` per unit, ``=110.00 USD`` in total; empty for none."""
        text = self.opt(row, name)
        if text is None:
            return None
        total = text.startswith("=")
        number, _, commodity = text.lstrip("=").strip().partition(" ")
        try:
            value = Decimal(number)
            if not value.is_finite() or not commodity.strip():
                raise InvalidOperation
        except InvalidOperation:
            self.problems.append(
                Problem(
                    self.source,
                    line,
                    name,
                    f"{text!r} is not 'NUMBER COMMODITY' (or '=NUMBER COMMODITY' for a total)",
                )
            )
            return None
        return Conversion(value, commodity.strip(), total)


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
                    _conversion_cell(posting.cost),
                    _conversion_cell(posting.price),
                )
            )


def _conversion_cell(conversion: Conversion | None) -> str:
    if conversion is None:
        return ""
    number = format(conversion.number, "f")
    return f"{'=' if conversion.total else ''}{number} {conversion.commodity}"
