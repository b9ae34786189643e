"""Beancount files in and out: beancount parses and books, this module maps.

Reading hands the file to beancount's own loader (parser, booking, plugins, validation), so
the entries imported are the booked entries ``bean-check`` sees; this module only maps them
to core values and reports what it could not map. Writing emits plain directives that
``bean-check`` accepts::

    >>> parsed = read_beancount_string('''
    ... 2024-01-01 open Assets:Cash USD
    ... 2024-01-01 open Expenses:Food
    ... 2024-01-02 * "Bakery" "Bread" #food
    ...   Expenses:Food   3.5 USD
    ...   Assets:Cash
    ... ''', "example.beancount")
    >>> [(p.account, p.amount, p.commodity) for p in parsed.entries[0].entry.postings]
    [('Expenses:Food', Decimal('3.5'), 'USD'), ('Assets:Cash', Decimal('-3.50'), 'USD')]
    >>> import io
    >>> out = io.StringIO()
    >>> write_beancount(out, parsed.commodities, parsed.accounts,
    ...                 [s.entry for s in parsed.entries])
    >>> print(out.getvalue().split("\\n\\n")[-1].strip())
    2024-01-02 * "Bakery" "Bread" #food
      Expenses:Food   3.50 USD
      Assets:Cash    -3.50 USD

What maps to what when reading:

- ``open`` / ``close`` → one :class:`Account` (allowed currencies, open and close dates;
  metadata ``code`` and ``description`` fill those fields). The booking method is not kept.
- ``transaction`` → :class:`SourceEntry` with a draft :class:`JournalEntry`: tags and links
  sorted, user metadata as ``(key, str(value))``, a flag other than ``*`` as
  ``("flag", flag)`` (``P`` marks the entry beancount generated for a ``pad``). Entry
  metadata ``journal``, ``reference`` and ``party`` and posting metadata ``party`` and
  ``memo`` fill those fields. A booked cost becomes ``Posting.cost`` (per unit), a price
  ``Posting.price`` (per unit: beancount turns ``@@`` into ``@``); the lot's date and label
  are kept in the memo as ``cost-date=2020-01-01 label="x"`` for the writer to restore.
- ``balance`` → :class:`BalanceAssertion` (at the start of its date, as in beancount).
- ``pad``, ``price``, ``event``, ``note``, ``document``, ``query``, ``custom`` and posting
  flags or other posting metadata → ``ParsedFile.skipped``, each with its line.
- A transaction whose postings are all zero (or that has none) moves nothing and core
  refuses it (:func:`check_shape`): it goes to ``skipped`` as well.
- Loader errors → ``ParsedFile.problems``; the directive an error names is not imported.
  Entries that break a core rule (:func:`check_shape`, :func:`check_balanced`, amounts that
  do not fit their scale, account names core refuses) become problems too.

Scales: beancount declares no precision, so a commodity's scale is the most decimal places
any *written* amount of it carries (posting units and ``balance`` amounts, as written, so
``10.50`` counts 2), raised to the ISO 4217 scale for ISO currencies and to an
``option "display_precision"`` if the file sets one. Costs and prices do not widen a scale
(a unit price of ``1.2345 USD`` says nothing about how USD amounts are counted); a commodity
that only appears in costs, prices or declarations takes beancount's display context maximum.
Amounts beancount *interpolated* for postings written without one are rounded half-even to
that scale (``{{1000 USD}}`` for 3 shares would otherwise leave ``-999.99...9 USD``); the
entry must then still balance within core's tolerance or it is reported.

Names when writing: beancount currencies cannot be ``$ € £ ¥``; they are written as
:data:`BEANCOUNT_NAMES` (``$`` → ``USD`` ...) unless the book already uses that code, then as
:data:`FALLBACK_NAMES` (``$`` → ``DOLLAR``). Core allows spaces and punctuation inside account
segments and an account that is only a root (``Income``); beancount allows letters, digits and
``-`` only, and at least two segments. The writer replaces every other character by ``-``
(runs collapsed) and writes a root-only account as ``Income:Root``
(:func:`beancount_account_name`); two accounts that would get one name raise
:class:`BeancountExportError`. Core in turn refuses segments that start with a non-ASCII
capital (``Assets:Épargne``) and roots renamed by beancount options; those are reported.
Tags and links keep ``A-Z a-z 0-9 - _ / .`` only; metadata keys become ``[a-z][a-zA-Z0-9_-]+``.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

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
from crmledger.core.money import MAX_SCALE, Commodity, format_number, quantize

__all__ = [
    "BEANCOUNT_NAMES",
    "FALLBACK_NAMES",
    "ROOT_LEAF",
    "BeancountExportError",
    "beancount_account_name",
    "beancount_currency_names",
    "read_beancount",
    "read_beancount_string",
    "write_beancount",
]

BEANCOUNT_NAMES: dict[str, str] = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
"""Beancount names of the currency symbols core accepts, used when the code is still free."""

FALLBACK_NAMES: dict[str, str] = {"$": "DOLLAR", "€": "EURO", "£": "POUND", "¥": "YEN"}
"""Names used instead when the book already has a commodity named as in BEANCOUNT_NAMES."""

ROOT_LEAF = "Root"
"""Segment appended to a root-only account (``Income`` → ``Income:Root``)."""

_ENTRY_FIELDS = ("journal", "reference", "party")
_POSTING_FIELDS = ("party", "memo")
_FLAGS = frozenset("*!&#?%" + string.ascii_uppercase)
_INTERNAL_META = ("filename", "lineno")
_COST_MEMO = re.compile(
    r'^(?:cost-date=(?P<date>\d{4}-\d{2}-\d{2}))?\s*(?:label=(?P<label>"(?:[^"\\]|\\.)*"))?'
    r"\s*(?P<rest>.*)$",
    re.DOTALL,
)


class BeancountExportError(ValueError):
    """The book holds names that cannot be written to beancount without a clash."""


# --------------------------------------------------------------------------- reading


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
        self.parsed.commodities = self._commodities(entries, options)
        self.scales = {c.code: c.scale for c in self.parsed.commodities}
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


def _conversion(value: Any) -> Conversion | None:
    """A booked ``Cost`` or a price ``Amount``: both carry a per-unit number and currency."""
    if value is None:
        return None
    return Conversion(value.number, value.currency)


def _memo(cost: Any, memo: Any) -> str:
    parts = []
    if cost is not None and cost.date is not None:
        parts.append(f"cost-date={cost.date.isoformat()}")
    if cost is not None and cost.label:
        parts.append(f"label={json.dumps(cost.label, ensure_ascii=False)}")
    if memo:
        parts.append(str(memo))
    return " ".join(parts)


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


# --------------------------------------------------------------------------- writing


def write_beancount(
    out: TextIO,
    commodities: Iterable[Commodity],
    accounts: Iterable[Account],
    entries: Iterable[JournalEntry],
    assertions: Iterable[BalanceAssertion] = (),
) -> None:
    """Write a book as beancount directives that ``bean-check`` accepts.

    Amounts are written at exactly their commodity's scale, and each scale is kept in an
    ``option "display_precision"`` line so reading the file back gives the same scales.
    Accounts used but not declared are opened on the first date they are used.
    """
    book = _Book.collect(list(commodities), list(accounts), list(entries), list(assertions))
    blocks = [book.options(), *book.commodity_blocks(), book.opens()]
    blocks += book.dated_blocks()
    blocks.append(book.closes())
    out.write("\n\n".join("\n".join(block) for block in blocks if block) + "\n")


def beancount_currency_names(codes: Iterable[str]) -> dict[str, str]:
    """Beancount name of each commodity code (see :data:`BEANCOUNT_NAMES`)."""
    wanted = sorted(set(codes))
    taken = {code for code in wanted if code not in BEANCOUNT_NAMES}
    names: dict[str, str] = {}
    for code in wanted:
        if code not in BEANCOUNT_NAMES:
            names[code] = code
            continue
        free = [n for n in (BEANCOUNT_NAMES[code], FALLBACK_NAMES[code]) if n not in taken]
        if not free:
            raise BeancountExportError(f"no free beancount name for {code!r}")
        names[code] = free[0]
        taken.add(free[0])
    return names


def beancount_account_name(name: str) -> str:
    """A name beancount accepts for the core account ``name`` (see the module docstring)."""
    account_type(name)
    root, *segments = name.split(":")
    return ":".join([root, *(_segment(s) for s in segments or [ROOT_LEAF])])


def _segment(segment: str) -> str:
    cleaned = "".join(c if c.isalpha() or c.isdecimal() or c == "-" else "-" for c in segment)
    return re.sub("-{2,}", "-", cleaned)


def _account_names(names: Iterable[str]) -> dict[str, str]:
    mapped: dict[str, str] = {}
    owners: dict[str, str] = {}
    for name in sorted(set(names)):
        target = beancount_account_name(name)
        owner = owners.setdefault(target, name)
        if owner != name:
            raise BeancountExportError(
                f"accounts {owner!r} and {name!r} would both be written as {target!r}"
            )
        mapped[name] = target
    return mapped


@dataclass(frozen=True)
class _Book:
    """The book to write, with every name and scale resolved once."""

    commodities: list[Commodity]
    accounts: list[Account]
    entries: list[JournalEntry]
    assertions: list[BalanceAssertion]
    currencies: dict[str, str]
    account_names: dict[str, str]
    scales: dict[str, int]
    first: date

    @classmethod
    def collect(
        cls,
        commodities: list[Commodity],
        accounts: list[Account],
        entries: list[JournalEntry],
        assertions: list[BalanceAssertion],
    ) -> _Book:
        declared = {a.name for a in accounts}
        used = _accounts_used(entries, assertions)
        accounts = accounts + [Account(n) for n in sorted(used.keys() - declared)]
        codes = _codes_used(commodities, accounts, entries, assertions)
        scales = {code: iso.scale for code in codes if (iso := iso_currency(code))}
        scales.update({c.code: c.scale for c in commodities})
        dates = [e.date for e in entries] + [a.date for a in assertions]
        dates += [a.open_date for a in accounts if a.open_date]
        return cls(
            commodities,
            accounts,
            entries,
            assertions,
            currencies=beancount_currency_names(codes),
            account_names=_account_names([a.name for a in accounts]),
            scales=scales,
            first=min(dates, default=date(1970, 1, 1)),
        )

    def amount(self, number: Decimal, code: str) -> str:
        scale = self.scales.get(code)
        text = format(number, "f") if scale is None else format_number(number, scale)
        return f"{text} {self.currencies[code]}"

    def options(self) -> list[str]:
        return [
            f'option "display_precision" "{self.currencies[c.code]}:'
            f'{format(Decimal(1).scaleb(-c.scale), "f")}"'
            for c in self.commodities
        ]

    def commodity_blocks(self) -> list[list[str]]:
        return [
            [f"{self.first} commodity {self.currencies[c.code]}", *_meta_lines([("name", c.name)])]
            for c in self.commodities
        ]

    def opens(self) -> list[str]:
        touched = _accounts_used(self.entries, self.assertions)
        blocks: list[tuple[date, int, list[str]]] = []
        for index, account in enumerate(self.accounts):
            when = account.open_date or touched.get(account.name) or self.first
            name = self.account_names[account.name]
            allowed = ",".join(self.currencies[c] for c in account.commodities)
            head = f"{when} open {name} {allowed}".rstrip()
            meta = [("code", account.code or ""), ("description", account.description)]
            blocks.append((when, index, [head, *_meta_lines(meta)]))
        return [line for *_, block in sorted(blocks, key=lambda b: b[:2]) for line in block]

    def closes(self) -> list[str]:
        closed = sorted((a.close_date, a.name) for a in self.accounts if a.close_date)
        return [f"{when} close {self.account_names[name]}" for when, name in closed]

    def dated_blocks(self) -> list[list[str]]:
        """Balance assertions first on their date: they hold at the start of the day."""
        dated: list[tuple[date, int, int, list[str]]] = [
            (a.date, 0, i, [self.balance(a)]) for i, a in enumerate(self.assertions)
        ]
        dated += [(e.date, 1, i, self.transaction(e)) for i, e in enumerate(self.entries)]
        return [block for *_, block in sorted(dated, key=lambda d: d[:3])]

    def balance(self, assertion: BalanceAssertion) -> str:
        name = self.account_names[assertion.account]
        amount = self.amount(assertion.amount, assertion.commodity)
        return f"{assertion.date} balance {name}  {amount}"

    def transaction(self, entry: JournalEntry) -> list[str]:
        flag, meta = _flag_and_meta(entry.meta)
        head = [entry.date.isoformat(), flag]
        if entry.payee is not None:
            head.append(_quote(entry.payee))
        head.append(_quote(entry.narration))
        head += [f"#{_tag(t)}" for t in entry.tags] + [f"^{_tag(t)}" for t in entry.links]
        fields = [("journal", entry.journal if entry.journal != "GJ" else "")]
        fields += [("reference", entry.reference or ""), ("party", entry.party or "")]
        lines = [" ".join(head), *_meta_lines(fields + list(meta))]
        width = max((len(self.account_names[p.account]) for p in entry.postings), default=0)
        numbers = [self.amount(p.amount, p.commodity) for p in entry.postings]
        digits = max((len(n.partition(" ")[0]) for n in numbers), default=0)
        for posting, amount in zip(entry.postings, numbers, strict=True):
            number, _, code = amount.partition(" ")
            lines += self.posting(
                posting,
                f"{self.account_names[posting.account]:<{width}}  {number:>{digits}} {code}",
            )
        return lines

    def posting(self, posting: Posting, head: str) -> list[str]:
        parts = [f"  {head}"]
        memo = posting.memo
        if posting.cost is not None:
            cost_text, memo = self.cost(posting.cost, memo)
            parts.append(cost_text)
        if posting.price is not None:
            price = posting.price
            marker = "@@" if price.total else "@"
            parts.append(f"{marker} {format(price.number, 'f')} {self.currencies[price.commodity]}")
        meta = [("party", posting.party or ""), ("memo", memo)]
        return [" ".join(parts), *_meta_lines(meta, indent="    ")]

    def cost(self, cost: Conversion, memo: str) -> tuple[str, str]:
        """``{n CUR, date, "label"}`` with the lot date and label taken from the memo."""
        match = _COST_MEMO.match(memo)
        assert match is not None  # every group is optional
        parts = [f"{format(cost.number, 'f')} {self.currencies[cost.commodity]}"]
        if match["date"]:
            parts.append(match["date"])
        if match["label"]:
            parts.append(_quote(json.loads(match["label"])))
        opening, closing = ("{{", "}}") if cost.total else ("{", "}")
        return f"{opening}{', '.join(parts)}{closing}", match["rest"]


def _accounts_used(
    entries: Iterable[JournalEntry], assertions: Iterable[BalanceAssertion]
) -> dict[str, date]:
    """First date each account is used on."""
    first: dict[str, date] = {}
    uses = [(p.account, e.date) for e in entries for p in e.postings]
    for name, when in uses + [(a.account, a.date) for a in assertions]:
        first[name] = min(when, first.get(name, when))
    return first


def _codes_used(
    commodities: Iterable[Commodity],
    accounts: Iterable[Account],
    entries: Iterable[JournalEntry],
    assertions: Iterable[BalanceAssertion],
) -> set[str]:
    codes = {c.code for c in commodities} | {a.commodity for a in assertions}
    codes.update(code for account in accounts for code in account.commodities)
    for posting in (p for e in entries for p in e.postings):
        codes.add(posting.commodity)
        codes.update(c.commodity for c in (posting.cost, posting.price) if c is not None)
    return codes


def _flag_and_meta(meta: Meta) -> tuple[str, Meta]:
    for index, (key, value) in enumerate(meta):
        if key == "flag" and value in _FLAGS:
            return value, meta[:index] + meta[index + 1 :]
    return "*", meta


def _meta_lines(meta: Iterable[tuple[str, str]], indent: str = "  ") -> list[str]:
    """``key: "value"`` lines; empty values are left out, keys made valid and unique."""
    lines: list[str] = []
    seen: set[str] = set()
    for key, value in meta:
        if not value:
            continue
        name = _meta_key(key)
        unique, counter = name, 1
        while unique in seen:
            counter += 1
            unique = f"{name}-{counter}"
        seen.add(unique)
        lines.append(f"{indent}{unique}: {_quote(value)}")
    return lines


def _meta_key(key: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    if cleaned[:1] in string.ascii_uppercase:
        cleaned = cleaned[0].lower() + cleaned[1:]
    if not cleaned[:1] or cleaned[0] not in string.ascii_lowercase:
        cleaned = f"x-{cleaned}"
    return cleaned if len(cleaned) > 1 else f"{cleaned}_"


def _tag(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9\-_/.]", "-", tag) or "-"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'
