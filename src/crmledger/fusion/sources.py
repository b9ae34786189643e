"""Where fusion records come from: files, databases and the book's own parties.

Every source reads in chunks into :class:`~crmledger.fusion.records.SourceRecord` values
(source name, the row number a person finds the record under, the cells as text), so the
stages after it never care where a record came from::

    source = CsvSource("crm", Path("crm.csv"))
    for chunk in source.chunks(5000):
        for record in chunk:
            print(record.row, record.raw["Company"])

Files: CSV (delimiter sniffed unless given, ``utf-8-sig`` unless told), XLSX (openpyxl in
read-only mode, the first row holds the headers), JSON (an array of objects, or an object
holding one under ``records``) and JSON Lines; nested objects are flattened to dotted
names (``address.city``). Cells become text: numbers without a spurious ``.0``, dates and
times in ISO form, blank text and nulls ``None``. SQL databases are read by an adapter
(``persistence.fusion_sql``) that has the same shape; the book's parties are read through
a port, a function returning a page of parties after an id.

:func:`open_source` builds a source from a run configuration's ``sources`` item, with the
openers for each ``kind`` (the entry points add ``sql``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, TextIO

from openpyxl import load_workbook

from crmledger.core.crm.parties import Party
from crmledger.fusion.records import BOOK_SOURCE, Cell, SourceRecord

DEFAULT_CHUNK = 5000
_SNIFF_BYTES = 64 * 1024


class SourceError(ValueError):
    """A source cannot be opened or read: ``str(exc)`` names the source and the reason."""


class Source(Protocol):
    """Anything that yields records in chunks."""

    @property
    def name(self) -> str: ...

    def columns(self) -> list[str]:
        """The column names, in source order."""

    def chunks(self, size: int = DEFAULT_CHUNK) -> Iterator[list[SourceRecord]]:
        """The records, ``size`` at a time, in source order."""


def cell(value: object) -> Cell:
    """A cell as text: ``None`` for nothing or blank text, ISO for dates, integral floats
    without ``.0``::

        >>> cell(12.0), cell(date(2026, 5, 1)), cell("  "), cell(Decimal("1.50"))
        ('12', '2026-05-01', None, '1.50')
    """
    if value is None or isinstance(value, str):
        return value if value and value.strip() else None
    for kind, text in _CELL_TEXT:
        if isinstance(value, kind):
            return text(value)
    return str(value)


def _moment(value: Any) -> str:
    if isinstance(value, datetime) and value.time() == time(0) and value.tzinfo is None:
        return value.date().isoformat()
    return str(value.isoformat())


#: How non-text cells become text, by type (bool before int: a bool is an int).
_CELL_TEXT: tuple[tuple[type, Callable[[Any], str]], ...] = (
    (bool, lambda v: "true" if v else "false"),
    (float, lambda v: str(int(v)) if v.is_integer() else repr(v)),
    (datetime, _moment),
    (date, _moment),
    (time, _moment),
    (bytes, lambda v: v.decode("utf-8", errors="replace")),
)


def _chunked(records: Iterable[SourceRecord], size: int) -> Iterator[list[SourceRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def read_all(source: Source, size: int = DEFAULT_CHUNK) -> list[SourceRecord]:
    """Every record of ``source`` in one list."""
    return [record for chunk in source.chunks(size) for record in chunk]


# ---------------------------------------------------------------------------------- CSV


@dataclass(frozen=True, slots=True)
class CsvSource:
    """A CSV file; the first line holds the headers, the row number is the file's line
    (a quoted cell spanning lines counts as the line the record starts on)."""

    name: str
    path: Path
    delimiter: str | None = None
    encoding: str = "utf-8-sig"
    text: str | None = None

    def _open(self) -> TextIO:
        """The file, or the ``text`` given in its place (an upload)."""
        if self.text is not None:
            return io.StringIO(self.text.removeprefix("\ufeff"), newline="")
        return self.path.open(encoding=self.encoding, newline="")

    def _dialect(self) -> str:
        if self.delimiter is not None:
            return self.delimiter
        with self._open() as handle:
            sample = handle.read(_SNIFF_BYTES)
        try:
            return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            return ","

    def columns(self) -> list[str]:
        with self._open() as handle:
            return next(csv.reader(handle, delimiter=self._dialect()), [])

    def _records(self) -> Iterator[SourceRecord]:
        try:
            handle = self._open()
        except OSError as exc:
            raise SourceError(f"{self.name}: cannot open {self.path}: {exc.strerror}") from None
        with handle:
            reader = csv.reader(handle, delimiter=self._dialect())
            headers = next(reader, [])
            start = reader.line_num + 1
            for cells in reader:
                if any(c.strip() for c in cells):
                    raw = {h: cell(v) for h, v in zip(headers, cells, strict=False)}
                    yield SourceRecord(self.name, start, raw)
                start = reader.line_num + 1

    def chunks(self, size: int = DEFAULT_CHUNK) -> Iterator[list[SourceRecord]]:
        try:
            yield from _chunked(self._records(), size)
        except UnicodeDecodeError as exc:
            raise SourceError(f"{self.name}: not {self.encoding} text: {exc.reason}") from None


# --------------------------------------------------------------------------------- XLSX


@dataclass(frozen=True, slots=True)
class XlsxSource:
    """A sheet of an XLSX workbook (the first unless named); row 1 holds the headers."""

    name: str
    path: Path
    sheet: str | None = None

    def _rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise SourceError(f"{self.name}: cannot read workbook {self.path}: {exc}") from None
        try:
            if self.sheet is not None and self.sheet not in book.sheetnames:
                raise SourceError(f"{self.name}: the workbook has no sheet {self.sheet!r}")
            ws = book[self.sheet] if self.sheet is not None else book.worksheets[0]
            yield from enumerate(ws.iter_rows(values_only=True), start=1)
        finally:
            book.close()

    def columns(self) -> list[str]:
        for _, values in self._rows():
            return [str(v) if v is not None else "" for v in values]
        return []

    def _records(self) -> Iterator[SourceRecord]:
        headers: list[str] = []
        for number, values in self._rows():
            if number == 1:
                headers = [str(v) if v is not None else "" for v in values]
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            raw = {h: cell(v) for h, v in zip(headers, values, strict=False) if h}
            yield SourceRecord(self.name, number, raw)

    def chunks(self, size: int = DEFAULT_CHUNK) -> Iterator[list[SourceRecord]]:
        yield from _chunked(self._records(), size)


# --------------------------------------------------------------------------------- JSON


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Cell]:
    """Nested objects as dotted names; lists of scalars joined with ``;``::

    >>> flatten({"name": "Acme", "address": {"city": "Berlin"}, "tags": ["a", "b"]})
    {'name': 'Acme', 'address.city': 'Berlin', 'tags': 'a;b'}
    """
    out: dict[str, Cell] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= flatten(value, f"{name}.")
        elif isinstance(value, list):
            scalars = [cell(v) for v in value if not isinstance(v, Mapping | list)]
            out[name] = ";".join(s for s in scalars if s) or None
        else:
            out[name] = cell(value)
    return out


@dataclass(frozen=True, slots=True)
class JsonSource:
    """A JSON array of objects (or an object with the array under ``records``), or JSON
    Lines (one object a line) when ``lines`` is true or the file ends in ``.jsonl``."""

    name: str
    path: Path
    lines: bool | None = None
    records_key: str = "records"
    text: str | None = None

    @property
    def is_lines(self) -> bool:
        return self.lines if self.lines is not None else self.path.suffix in (".jsonl", ".ndjson")

    def _objects(self) -> Iterator[tuple[int, object]]:
        text = self.text
        if text is None:
            try:
                text = self.path.read_text(encoding="utf-8-sig")
            except OSError as exc:
                raise SourceError(f"{self.name}: cannot open {self.path}: {exc.strerror}") from None
        if self.is_lines:
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    yield number, self._load(line, number)
            return
        data = self._load(text, 1)
        if isinstance(data, dict) and isinstance(data.get(self.records_key), list):
            data = data[self.records_key]
        if not isinstance(data, list):
            raise SourceError(f"{self.name}: expected a JSON array of objects")
        yield from enumerate(data, start=1)

    def _load(self, text: str, line: int) -> object:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            at = line if self.is_lines else exc.lineno
            raise SourceError(f"{self.name}:{at}: not valid JSON: {exc.msg}") from None

    def _records(self) -> Iterator[SourceRecord]:
        for number, obj in self._objects():
            if not isinstance(obj, dict):
                raise SourceError(f"{self.name}:{number}: expected an object")
            yield SourceRecord(self.name, number, flatten(obj))

    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for record in islice(self._records(), 100):
            seen |= dict.fromkeys(record.raw)
        return list(seen)

    def chunks(self, size: int = DEFAULT_CHUNK) -> Iterator[list[SourceRecord]]:
        yield from _chunked(self._records(), size)


# ----------------------------------------------------------------------- book's parties

#: The port to the book: parties with an id above ``after_id``, at most ``limit``, by id.
PartyPages = Callable[[int, int], Sequence[Party]]

PARTY_COLUMNS = [
    "party_id",
    "kind",
    "display_name",
    "legal_name",
    "given_name",
    "family_name",
    "email",
    "phone",
    "mobile",
    "street",
    "postcode",
    "city",
    "region",
    "country",
    "tax_id",
    "iban",
    "website",
    "currency",
    "language",
    "payment_terms_days",
    "segment",
    "updated_at",
]


def party_cells(party: Party) -> dict[str, Cell]:
    """A party as a record with canonical column names (its first email, phone, mobile,
    address, tax id and bank account)."""
    address = party.addresses[0] if party.addresses else None
    phones = [p.number for p in party.phones if p.label != "mobile"]
    mobiles = [p.number for p in party.phones if p.label == "mobile"]
    values: dict[str, object] = {
        "party_id": party.id,
        "kind": party.kind.value,
        "display_name": party.display_name,
        "legal_name": party.legal_name,
        "given_name": party.given_name,
        "family_name": party.family_name,
        "email": party.emails[0].address if party.emails else None,
        "phone": phones[0] if phones else None,
        "mobile": mobiles[0] if mobiles else None,
        "street": address.street if address else None,
        "postcode": address.postcode if address else None,
        "city": address.city if address else None,
        "region": address.region if address else None,
        "country": address.country if address else None,
        "tax_id": party.tax_ids[0].value if party.tax_ids else None,
        "iban": party.bank_accounts[0].iban if party.bank_accounts else None,
        "website": party.website,
        "currency": party.currency,
        "language": party.language,
        "payment_terms_days": party.payment_terms_days,
        "segment": party.segment,
        "updated_at": party.updated_at,
    }
    return {k: cell(v) for k, v in values.items()}


@dataclass(frozen=True, slots=True)
class PartySource:
    """The book's own parties, read through ``pages`` (the row number is the party id)."""

    pages: PartyPages
    name: str = BOOK_SOURCE
    page_size: int = 1000

    def columns(self) -> list[str]:
        return list(PARTY_COLUMNS)

    def _records(self) -> Iterator[SourceRecord]:
        after = 0
        while page := self.pages(after, self.page_size):
            for party in page:
                assert party.id is not None
                yield SourceRecord(self.name, party.id, party_cells(party))
            after = max(p.id or 0 for p in page)

    def chunks(self, size: int = DEFAULT_CHUNK) -> Iterator[list[SourceRecord]]:
        yield from _chunked(self._records(), size)


# ------------------------------------------------------------------------------ opening


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A ``sources`` item of a run configuration: where to read (``kind`` plus its
    options), the external id ``system`` its records are known under in the book, its
    survivorship ``priority`` (1 wins over 2) and its ``mapping`` (a file or inline)."""

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    system: str = ""
    priority: int = 100
    mapping: Any = None
    line: int = 0


Opener = Callable[[SourceSpec, Path], Source]


def _path(spec: SourceSpec, base: Path) -> Path:
    given = spec.options.get("path")
    if not isinstance(given, str) or not given:
        raise SourceError(f"{spec.name}: a {spec.kind} source needs a 'path'")
    path = Path(given)
    return path if path.is_absolute() else base / path


def _csv(spec: SourceSpec, base: Path) -> Source:
    delimiter = spec.options.get("delimiter")
    encoding = str(spec.options.get("encoding", "utf-8-sig"))
    return CsvSource(spec.name, _path(spec, base), delimiter, encoding)


def _xlsx(spec: SourceSpec, base: Path) -> Source:
    sheet = spec.options.get("sheet")
    return XlsxSource(spec.name, _path(spec, base), None if sheet is None else str(sheet))


def _json(spec: SourceSpec, base: Path) -> Source:
    lines = True if spec.kind == "jsonl" else spec.options.get("lines")
    return JsonSource(spec.name, _path(spec, base), lines)


FILE_OPENERS: dict[str, Opener] = {
    "csv": _csv,
    "xlsx": _xlsx,
    "json": _json,
    "jsonl": _json,
}

#: File suffix -> source kind, for a bare file name (``crmledger fuse profile x.csv``).
SUFFIX_KINDS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def open_source(spec: SourceSpec, base: Path, openers: Mapping[str, Opener]) -> Source:
    """The source ``spec`` names, with file paths relative to ``base``."""
    opener = openers.get(spec.kind)
    if opener is None:
        kinds = ", ".join(sorted(openers))
        raise SourceError(f"{spec.name}: unknown source kind {spec.kind!r} (known: {kinds})")
    return opener(spec, base)


#: The kinds a text upload may have.
TEXT_KINDS = ("csv", "json", "jsonl")


def text_source(name: str, kind: str, text: str, delimiter: str | None = None) -> Source:
    """A source over uploaded text (``csv``, ``json`` or ``jsonl``)."""
    if kind == "csv":
        return CsvSource(name, Path(name), delimiter, text=text)
    if kind in ("json", "jsonl"):
        return JsonSource(name, Path(name), kind == "jsonl", text=text)
    raise SourceError(f"{name}: an upload is csv, json or jsonl, not {kind!r}")


def file_source(path: Path, name: str | None = None) -> Source:
    """A file source by its suffix (``.csv``, ``.xlsx``, ``.json``, ``.jsonl``)."""
    kind = SUFFIX_KINDS.get(path.suffix.lower())
    if kind is None:
        raise SourceError(f"{path.name}: unknown file type {path.suffix!r}")
    spec = SourceSpec(name or path.stem, kind, {"path": str(path.resolve())})
    return open_source(spec, Path.cwd(), FILE_OPENERS)
