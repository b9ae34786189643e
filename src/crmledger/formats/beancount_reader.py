"""Reading beancount files: beancount's own loader parses and books, this module maps.

The file goes through :mod:`beancount.loader` (parser, booking, plugins, validation), so the
entries imported are the booked entries ``bean-check`` sees. What maps to what, how scales
are inferred and what is refused is the format's description in
:mod:`crmledger.formats.beancount_format`; this module is how. One pass over the loader's
directives calls ``_on_<directive>`` for each (``_on_transaction``, ``_on_open`` ...), after
the loader's errors have marked the directives they name as rejected; every directive not
imported becomes a :class:`Problem` (an error) or a skipped note, each with its line::

    >>> parsed = read_beancount_string('''
    ... 2024-01-01 open Assets:Cash
    ... 2024-01-01 open Expenses:Food
    ... 2024-01-02 * "Bread"
    ...   Expenses:Food   3.50 USD
    ...   Assets:Cash    -3.00 USD
    ... 2024-01-03 note Assets:Cash "counted"
    ... ''', "bad.beancount")
    >>> [(p.line, p.field) for p in parsed.problems], parsed.entries
    ([(4, 'entry')], [])
    >>> [(p.line, p.reason) for p in parsed.skipped]
    [(7, "'note' directive not imported")]

beancount is an optional extra (``crmledger[beancount]``): it is imported when a file is
read, not when this module is, and its absence is an :class:`ImportError` that says what to
install.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmledger.core.accounts import Account, account_type
from crmledger.core.currencies import iso_currency
from crmledger.core.entries import (
    Conversion,
    JournalEntry,
    Meta,
    Posting,
    check_balanced,
    check_shape,
    weights_minor,
)
from crmledger.core.errors import (
    ExcessPrecisionError,
    InvalidAccountNameError,
    InvalidEntryError,
    LedgerError,
)
from crmledger.core.imports import BalanceAssertion, ParsedFile, Problem, SourceEntry
from crmledger.core.money import MAX_SCALE, Commodity, quantize
from crmledger.formats.beancount_lots import lot_memo

_ENTRY_FIELDS = ("journal", "reference", "party")
_POSTING_FIELDS = ("party", "memo")
_INTERNAL_META = ("filename", "lineno")


def read_beancount(path: Path) -> ParsedFile:
    """Load, book and validate ``path`` with beancount and map it to core values."""
    loader = _beancount_loader()
    entries, errors, options = loader.load_file(str(path))
    return _Reader(str(path), options.get("filename")).run(entries, errors, options)


def read_beancount_string(text: str, source: str) -> ParsedFile:
    """Like :func:`read_beancount` for text; problems name ``source``."""
    loader = _beancount_loader()
    entries, errors, options = loader.load_string(text)
    return _Reader(source, options.get("filename")).run(entries, errors, options)


def _beancount_loader() -> Any:
    try:
        from beancount import loader  # noqa: PLC0415 - beancount is an optional extra
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading beancount files needs beancount: install crmledger[beancount]"
        ) from exc
    return loader


@dataclass
class _Reader:
    """One pass over the booked directives, collecting a :class:`ParsedFile`."""

    source: str
    top: str | None
    parsed: ParsedFile = field(init=False)
    accounts: dict[str, Account] = field(default_factory=dict)
    scales: dict[str, int] = field(default_factory=dict)
    rejected_ids: set[int] = field(default_factory=set)
    rejected_lines: set[tuple[str, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.parsed = ParsedFile(self.source)

    def run(self, entries: list[Any], errors: list[Any], options: Mapping[str, Any]) -> ParsedFile:
        for error in errors:
            self._on_error(error)
        commodities = self._commodities(entries, options)
        declared = {e.currency for e in entries if type(e).__name__ == "Commodity"}
        self.parsed.commodities = [c for c in commodities if c.code in declared]
        self.parsed.inferred_commodities = [c for c in commodities if c.code not in declared]
        self.scales = {c.code: c.scale for c in commodities}
        for entry in entries:
            if not self._rejected(entry):
                handler = getattr(self, f"_on_{type(entry).__name__.lower()}", self._on_other)
                handler(entry)
        self.parsed.accounts = list(self.accounts.values())
        return self.parsed

    def _where(self, meta: Mapping[str, Any] | None) -> tuple[str, int]:
        meta = meta or {}
        filename = meta.get("filename")
        line = int(meta.get("lineno") or 0)
        if filename is None or filename == self.top or str(filename).startswith("<"):
            return self.source, line
        return str(filename), line

    def _problem(self, meta: Mapping[str, Any] | None, field_name: str, reason: str) -> None:
        self.parsed.problems.append(Problem(*self._where(meta), field_name, reason))

    def _skip(self, meta: Mapping[str, Any] | None, field_name: str, reason: str) -> None:
        self.parsed.skipped.append(Problem(*self._where(meta), field_name, reason))

    def _on_error(self, error: Any) -> None:
        meta = getattr(error, "source", None) or {}
        self._problem(meta, "entry", str(error.message))
        if getattr(error, "entry", None) is not None:
            self.rejected_ids.add(id(error.entry))
        if meta.get("lineno"):
            self.rejected_lines.add((str(meta.get("filename")), int(meta["lineno"])))

    def _rejected(self, entry: Any) -> bool:
        key = (str(entry.meta.get("filename")), int(entry.meta.get("lineno") or 0))
        return id(entry) in self.rejected_ids or key in self.rejected_lines

    def _commodities(self, entries: list[Any], options: Mapping[str, Any]) -> list[Commodity]:
        declared = {e.currency: e.meta for e in entries if type(e).__name__ == "Commodity"}
        widest: dict[str, Any] = {}
        result = []
        for code, digits in sorted(_written_digits(entries, options, widest).items()):
            meta = declared.get(code)
            iso = iso_currency(code)
            scale = max(digits, iso.scale if iso else 0)
            if scale > MAX_SCALE:
                reason = f"{code} needs {scale} decimal places, more than {MAX_SCALE}"
                self._problem(widest.get(code), "commodity", f"{reason}; such amounts are refused")
                scale = MAX_SCALE
            name = str((meta or {}).get("name") or (iso.name if iso else ""))
            try:
                result.append(Commodity(code, scale, name))
            except LedgerError as exc:
                self._problem(meta, "commodity", str(exc))
        return result

    def _on_open(self, entry: Any) -> None:
        meta = entry.meta
        try:
            self.accounts[entry.account] = Account(
                entry.account,
                code=_optional_str(meta.get("code")),
                commodities=tuple(entry.currencies or ()),
                open_date=entry.date,
                description=str(meta.get("description") or ""),
            )
        except LedgerError as exc:
            self._problem(meta, "account", str(exc))

    def _on_close(self, entry: Any) -> None:
        account = self.accounts.get(entry.account)
        if account is None:
            self._problem(entry.meta, "account", f"close of {entry.account} that was not opened")
            return
        try:
            self.accounts[entry.account] = replace(account, close_date=entry.date)
        except LedgerError as exc:
            self._problem(entry.meta, "account", str(exc))

    def _on_commodity(self, entry: Any) -> None:
        """Declarations are read in :meth:`_commodities`, with every other use."""

    def _on_pad(self, entry: Any) -> None:
        self._skip(
            entry.meta, "directive", "pad: imported as the padding entry beancount generated"
        )

    def _on_other(self, entry: Any) -> None:
        kind = type(entry).__name__.lower()
        self._skip(entry.meta, "directive", f"'{kind}' directive not imported")

    def _on_balance(self, entry: Any) -> None:
        try:
            account_type(entry.account)
        except LedgerError as exc:
            self._problem(entry.meta, "account", str(exc))
            return
        line = self._where(entry.meta)[1]
        amount = entry.amount
        self.parsed.assertions.append(
            BalanceAssertion(line, entry.date, entry.account, amount.number, amount.currency)
        )
        if entry.tolerance is not None:
            self._skip(
                entry.meta,
                "tolerance",
                f"balance tolerance ~ {entry.tolerance} not imported: the exact amount is asserted",
            )

    def _on_transaction(self, txn: Any) -> None:
        if all(p.units is not None and p.units.number == 0 for p in txn.postings):
            self._skip(txn.meta, "entry", "transaction moves no amount: not imported")
            return
        try:
            entry = _journal_entry(txn, self.scales)
        except (LedgerError, ArithmeticError) as exc:  # ArithmeticError: decimal overflow
            self._problem(txn.meta, _field_of(exc), str(exc))
            return
        self.parsed.entries.append(SourceEntry(self._where(txn.meta)[1], entry))
        for posting in txn.postings:
            self._skip_posting_extras(posting)

    def _skip_posting_extras(self, posting: Any) -> None:
        meta = posting.meta or {}
        if posting.flag:
            self._skip(meta, "posting", f"posting flag {posting.flag!r} not imported")
        for key in _user_keys(meta):
            if key not in _POSTING_FIELDS:
                self._skip(meta, "posting", f"posting metadata {key!r} not imported")


def _written_digits(
    entries: Iterable[Any], options: Mapping[str, Any], widest: dict[str, Any]
) -> dict[str, int]:
    """Decimal places per currency: see the module docstring, "Scales".

    ``widest`` receives, per currency, the metadata of the entry with the most places.
    """
    written: dict[str, int] = {}
    used: set[str] = set()
    for entry in entries:
        for currency, number in _amounts(entry):
            used.add(currency)
            if number is not None and _places(number) > written.get(currency, -1):
                written[currency] = _places(number)
                widest[currency] = entry.meta
    dcontext = options["dcontext"]
    used.update(c for c in dcontext.ccontexts if c != "__default__")
    precision: Mapping[str, Decimal] = options.get("display_precision") or {}
    used.update(precision)
    digits: dict[str, int] = {}
    for currency in used:
        seen = written.get(currency)
        if seen is None:
            seen = _display_digits(dcontext, currency)
        if currency in precision:
            seen = max(seen, _places(precision[currency]))
        digits[currency] = seen
    return digits


def _amounts(entry: Any) -> Iterable[tuple[str, Decimal | None]]:
    """Currencies an entry uses, with the number if it is a written amount."""
    kind = type(entry).__name__
    if kind == "Transaction":
        for posting in entry.postings:
            if posting.units is not None:
                automatic = (posting.meta or {}).get("__automatic__")
                yield posting.units.currency, None if automatic else posting.units.number
            for conversion in (posting.cost, posting.price):
                if conversion is not None and conversion.currency:
                    yield conversion.currency, None
    elif kind == "Balance":
        yield entry.amount.currency, entry.amount.number
    elif kind == "Open":
        yield from ((currency, None) for currency in entry.currencies or ())
    elif kind in ("Commodity", "Price"):
        yield entry.currency, None


def _display_digits(dcontext: Any, currency: str) -> int:
    from beancount.core.display_context import Precision  # noqa: PLC0415 - optional extra

    context = dcontext.ccontexts.get(currency)
    digits = context.get_fractional(Precision.MAXIMUM) if context is not None else None
    return int(digits or 0)


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _journal_entry(txn: Any, scales: Mapping[str, int]) -> JournalEntry:
    meta, fields = _split_meta(txn.meta, _ENTRY_FIELDS)
    journal = fields.pop("journal", "GJ")
    if not journal.isalnum():
        meta = (*meta, ("journal", journal))
        journal = "GJ"
    flag = txn.flag or "*"
    entry = JournalEntry(
        date=txn.date,
        narration=txn.narration or "",
        postings=tuple(_posting(p, scales) for p in txn.postings),
        journal=journal,
        payee=txn.payee,
        party=fields.get("party"),
        reference=fields.get("reference"),
        tags=tuple(sorted(txn.tags or ())),
        links=tuple(sorted(txn.links or ())),
        meta=meta if flag == "*" else (("flag", flag), *meta),
    )
    check_shape(entry)
    for posting in entry.postings:
        weights_minor(posting, scales)
    check_balanced(entry.postings, scales)
    return entry


def _posting(posting: Any, scales: Mapping[str, int]) -> Posting:
    units = posting.units
    if units is None or units.number is None:
        raise InvalidEntryError(f"posting to {posting.account} has no amount after booking")
    account_type(posting.account)
    meta = posting.meta or {}
    number = units.number
    if meta.get("__automatic__") and units.currency in scales:
        number = quantize(number, scales[units.currency])
    return Posting(
        posting.account,
        number,
        units.currency,
        cost=_conversion(posting.cost),
        price=_conversion(posting.price),
        party=_optional_str(meta.get("party")),
        memo=_memo(posting.cost, meta.get("memo")),
    )


def _memo(cost: Any, memo: Any) -> str:
    """The posting memo, with the lot's date and label in front (see :mod:`.beancount_lots`)."""
    if cost is None:
        return lot_memo(None, None, memo)
    return lot_memo(cost.date, cost.label, memo)


def _conversion(value: Any) -> Conversion | None:
    """A booked ``Cost`` or a price ``Amount``: both carry a per-unit number and currency."""
    if value is None:
        return None
    return Conversion(value.number, value.currency)


def _user_keys(meta: Mapping[str, Any]) -> list[str]:
    return [k for k in meta if k not in _INTERNAL_META and not k.startswith("__")]


def _split_meta(meta: Mapping[str, Any], reserved: tuple[str, ...]) -> tuple[Meta, dict[str, str]]:
    fields: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for key in _user_keys(meta):
        value = "" if meta[key] is None else str(meta[key])
        if key in reserved:
            fields[key] = value
        else:
            rest.append((key, value))
    return tuple(rest), fields


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _field_of(exc: Exception) -> str:
    if isinstance(exc, InvalidAccountNameError):
        return "account"
    if isinstance(exc, ExcessPrecisionError):
        return "amount"
    return "entry"
