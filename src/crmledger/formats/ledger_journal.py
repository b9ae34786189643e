"""ledger-cli / hledger plain-text journals in and out, as pure functions over text.

A journal is a list of transactions: a dated header line and indented postings, one of which
may leave its amount out for the reader to fill in::

    >>> parsed = read_ledger('''
    ... 2024-01-02 * (R7) Bakery | Bread  ; food:
    ...     Expenses:Food    3.50 USD
    ...     Assets:Cash
    ... ''', "example.journal")
    >>> entry = parsed.entries[0].entry
    >>> entry.payee, entry.narration, entry.reference, entry.tags, entry.meta
    ('Bakery', 'Bread', 'R7', ('food',), (('status', '*'),))
    >>> [(p.account, p.amount, p.commodity) for p in entry.postings]
    [('Expenses:Food', Decimal('3.50'), 'USD'), ('Assets:Cash', Decimal('-3.50'), 'USD')]

What maps to what when reading:

- ``account NAME`` → :class:`Account` (an indented ``note`` becomes its description; other
  sub-directives are ignored). ``commodity`` with a ``format`` (``commodity USD`` +
  ``format 1,000.00 USD``, ``commodity 1,000.00 USD``, ``commodity $1000.``) →
  :class:`Commodity` whose scale is the format's decimal places; ISO currencies keep their
  ISO scale unless the format says more; without a format the scale is the most decimal
  places any *written* posting amount of it carries (prices and costs do not count).
  Commodities used but never declared follow the declared ones in ``ParsedFile.commodities``.
- Header ``DATE[=AUX] [*|!] [(CODE)] PAYEE | NARRATION  ; comment``: the mark becomes meta
  ``("status", mark)``, the auxiliary date meta ``("aux_date", ISO date)``, CODE the
  reference; without ``|`` the whole description is the narration (hledger's convention).
- Comments of the transaction (on its header or on indented ``;`` lines before the first
  posting): ``tag:`` and ``:tag1:tag2:`` become tags, ``key: value`` meta pairs (several
  hledger tags may share a line, separated by commas), anything else ``("comment", text)``.
  Meta keeps the order status, aux_date, then comments as they appear.
- Postings ``ACCOUNT  AMOUNT [{COST} | {{TOTAL}}] [@ PRICE | @@ TOTAL] [= ASSERTION]  ; memo``:
  ``@``/``{}`` are per unit, ``@@``/``{{}}`` totals (kept as absolute values); a price equal
  to the cost is dropped (the writer adds it, see below). A comment after a posting, inline
  or on following ``;`` lines, is its memo (lines joined by newlines).
- One posting may omit its amount: it gets the negated sum of the other weights, one posting
  per weight commodity, rounded half-even to that commodity's scale (as ledger displays it).
- ``ACCOUNT  AMOUNT = BALANCE`` → :class:`BalanceAssertion` dated the day *after* the
  transaction: ledger checks the balance right after the posting, the book at the start of a
  day, so other transactions of the same day must not move the account for both to agree.

Refused, each as a :class:`Problem` naming its line (the reader then goes on, so one run lists
every problem of a file): malformed or impossible dates, unparseable amounts, decimal commas,
amounts without a commodity, virtual postings ``(A)`` / ``[A]``, balance assignments, lot
dates and notes, fixated lot prices ``{=...}``, two postings without an amount, an omitted
amount beside a cost without a price (ledger would fill it in the lot's commodity, not at
its cost), transactions with fewer than two postings.
With ``strict=True`` also a commodity that is neither declared nor ISO 4217 and an account
without an ``account`` directive (declarations may appear anywhere in the file). Other
directives (``P``, ``include``, ``alias``, ``year``, ``D``, ``apply``, periodic ``~`` and
automated ``=`` transactions ...) land in ``ParsedFile.skipped``.

Writing emits ``commodity`` directives with a ``format`` that both ledger 3.3 and hledger 1.25
accept, ``account`` directives, then each entry with suffix amounts at the commodity's scale.
A scale-0 format is written prefix (``format JPY 1000.``): hledger refuses a format without a
decimal mark (``1000 JPY``) and ledger one with a bare trailing mark (``1000. JPY``).
A cost without a price is written ``{C} @ C``: ledger weighs a bare ``{C}`` only when the
transaction has exactly two commodities, and hledger ignores braces. The journal carries no
state, journal code, party or links: posted and reversed entries are written ``*`` (like a
``("status", "*")`` meta), drafts without a mark.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO, cast

from crmledger.core.accounts import Account, account_type
from crmledger.core.currencies import iso_codes, iso_currency
from crmledger.core.entries import Conversion, EntryState, JournalEntry, Posting, residuals
from crmledger.core.errors import LedgerError
from crmledger.core.imports import BalanceAssertion, ParsedFile, Problem, SourceEntry
from crmledger.core.money import (
    MAX_SCALE,
    Commodity,
    format_number,
    quantize,
    validate_commodity_code,
)

# The common posting, `    Assets:Bank  -123.45 USD`, skips the general parser. The account
# is single-space separated words; two spaces or a tab end it.
_FAST_POSTING = re.compile(
    r"[ \t]+([A-Z][^\s;]*(?: [^\s;]+)*)"  # account
    r"(?:\t|[ ]{2})[ \t]*(-?\d+(?:\.(\d+))?)[ ]([A-Z]{1,24})[ \t]*"  # amount, commodity
)
_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_ACCOUNT_END = re.compile(r"\t|[ ]{2}")
_COMMODITY_CHARS = r"""(?:"[^"]*"|[^\s\d"+\-.,@=;{}()\[\]*/]+)"""
_AMOUNT = re.compile(
    rf"""(?P<sign1>[-+]?)[ ]*(?:(?P<prefix>{_COMMODITY_CHARS})[ ]*)?(?P<sign2>[-+]?)[ ]*
    (?P<number>(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d*)?|\.\d+)
    (?:[ ]*(?P<suffix>{_COMMODITY_CHARS}))?""",
    re.VERBOSE,
)
_QUOTED = re.compile(r'"[^"]*"')
_LEDGER_TAGS = re.compile(r"(?::[^\s:]+)+:")
_TAG = re.compile(r"[^\s:,;]+:(?:\s|$)")
_TAG_SEPARATOR = re.compile(r",\s*(?=[^\s:,;]+:(?:\s|$))")
_TAG_NAME = re.compile(r"[^\s:,;]+")
_SKIPPED_WORDS = (
    "P include alias year Y D apply end payee tag N A C bucket define def assert check expr "
    "value decimal-mark capture eval python import i o I O b h"
)
_SKIPPED = frozenset(_SKIPPED_WORDS.split())
_ISO = frozenset(iso_codes())
_SYMBOLS = frozenset("$€£¥")
_NONE, _TXN, _ACCOUNT, _COMMODITY, _SKIP, _COMMENT = range(6)
_ONE_DAY = timedelta(days=1)
_BARE_COST = (
    "ledger fills an omitted amount in the lot's commodity when a posting has a cost '{}' "
    "but no price '@'; write the amount out or add '@ COST'"
)


def read_ledger_file(path: Path, strict: bool = False) -> ParsedFile:
    """Read a ledger / hledger journal file (UTF-8); see :func:`read_ledger`."""
    return read_ledger(path.read_text(encoding="utf-8-sig"), str(path), strict=strict)


def read_ledger(text: str, source: str, strict: bool = False) -> ParsedFile:
    """Parse journal ``text``; every problem is reported with ``source`` and its line.

    ``strict`` refuses commodities that are neither declared nor ISO 4217 and accounts
    without an ``account`` directive; the entries using them are not returned.
    """
    with _gc_paused():
        return _Reader(source, strict).run(text)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while millions of acyclic values are built.

    Every posting is a container the collector would otherwise keep re-scanning as the
    entry list grows (about a quarter of the parse time); nothing built here forms a cycle,
    and reference counting frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _LineError(Exception):
    """A line the reader refuses: the :class:`Problem` field and reason."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.field = kind
        self.reason = reason


@dataclass(slots=True)
class _Elided:
    account: str
    memo: str
    line: int


@dataclass(slots=True)
class _Txn:
    line: int
    day: date = date.min
    payee: str | None = None
    narration: str = ""
    reference: str | None = None
    tags: list[str] = field(default_factory=list)
    meta: list[tuple[str, str]] = field(default_factory=list)
    postings: list[Posting | _Elided] = field(default_factory=list)
    elided: int = -1
    bare_cost: bool = False
    assertions: list[BalanceAssertion] = field(default_factory=list)
    bad: bool = False


@dataclass(slots=True)
class _CommodityDecl:
    line: int
    scale: int | None = None
    name: str = ""


@dataclass(slots=True)
class _AccountDecl:
    line: int
    name: str
    description: str = ""


@dataclass(slots=True)
class _Parts:
    """A posting's text after the account, split at ``{}``, ``@`` and ``=``."""

    amount: str
    cost: str | None = None
    cost_total: bool = False
    price: str | None = None
    price_total: bool = False
    assertion: str | None = None


class _Reader:
    """One pass over the lines; ``block`` says what indented lines belong to."""

    def __init__(self, source: str, strict: bool) -> None:
        self.source = source
        self.strict = strict
        self.parsed = ParsedFile(source)
        self.block = _NONE
        self.txn: _Txn | None = None
        self.account_decl: _AccountDecl | None = None
        self.commodity_decl: tuple[str, _CommodityDecl] | None = None
        self.declared: dict[str, _CommodityDecl] = {}
        self.declared_accounts: set[str] = set()
        self.valid_accounts: set[str] = set()
        self.account_reasons: dict[str, str] = {}
        self.places: dict[str, int] = {}
        self.conversion_places: dict[str, int] = {}
        self.first_use: dict[str, int] = {}
        self.filled: list[tuple[int, int, int]] = []
        self.undeclared: list[tuple[int, int, str, str]] = []
        self.assertion_headers: list[int] = []
        self.dates: dict[str, date] = {}

    # -- the line loop ------------------------------------------------------------------

    def run(self, text: str) -> ParsedFile:
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = text.rstrip()  # so that a header on the last line is seen as truncated
        fast, strict = _FAST_POSTING.fullmatch, self.strict
        valid, places = self.valid_accounts, self.places
        for lineno, line in enumerate(text.split("\n"), 1):
            if not line:
                self._end_block()
            elif line[0] not in " \t":
                self._top_level(lineno, line)
            elif (txn := self.txn) is None:
                self._indented_outside(lineno, line)
            elif (match := fast(line)) is None or strict:
                self._indented_in_txn(txn, lineno, line)
            else:
                # The common posting, inline as it runs millions of times; a new account or
                # more decimal places than seen so far take the general path once.
                account, number, decimals, code = match.groups()
                if account not in valid or len(decimals or "") > places.get(code, -1):
                    self._indented_in_txn(txn, lineno, line)
                else:
                    txn.postings.append(Posting(account, Decimal(number), code))
        self._end_block(eof=True)
        return self._finish()

    def _top_level(self, lineno: int, line: str) -> None:
        if self.block == _COMMENT:
            if line.startswith(("end comment", "end test")):
                self.block = _NONE
            return
        self._end_block()
        first = line[0]
        if first.isdigit():
            self._header(lineno, line)
        elif first in ";#%|*":
            return
        elif first in "~=":
            kind = "periodic" if first == "~" else "automated"
            self._skip(lineno, "directive", f"{kind} transaction not imported")
        else:
            word, *rest = line.split(None, 1)
            self._directive(lineno, word, rest[0].strip() if rest else "")

    def _directive(self, lineno: int, word: str, rest: str) -> None:
        if word == "account":
            self._account_directive(lineno, rest)
        elif word == "commodity":
            self._commodity_directive(lineno, rest)
        elif word in ("comment", "test"):
            self.block = _COMMENT
        elif word in _SKIPPED:
            self._skip(lineno, "directive", f"{word!r} directive not imported")
        else:
            self._problem(lineno, "entry", f"unrecognised line starting with {word[:40]!r}")
            self.block = _SKIP

    def _indented_outside(self, lineno: int, line: str) -> None:
        body = line.strip()
        if not body:
            self._end_block()
        elif self.block == _ACCOUNT and self.account_decl is not None:
            keyword, *value = body.split(None, 1)
            if keyword == "note" and value:
                self.account_decl.description = value[0].strip()
        elif self.block == _COMMODITY and self.commodity_decl is not None:
            self._commodity_subdirective(lineno, body)
        elif self.block in (_SKIP, _COMMENT) or body[0] == ";":
            return
        else:
            self._problem(lineno, "posting", "indented line outside a transaction")
            self.block = _SKIP

    def _end_block(self, eof: bool = False) -> None:
        if self.block == _COMMENT:
            return
        if self.txn is not None:
            self._end_txn(self.txn, eof)
        elif self.account_decl is not None:
            self._end_account(self.account_decl)
        self.commodity_decl = None
        self.block = _NONE

    def _skip(self, lineno: int, field: str, reason: str) -> None:
        self.parsed.skipped.append(Problem(self.source, lineno, field, reason))
        self.block = _SKIP

    def _problem(self, lineno: int, field: str, reason: str) -> None:
        self.parsed.problems.append(Problem(self.source, lineno, field, reason))

    def _refuse(self, txn: _Txn, lineno: int, field: str, reason: str) -> None:
        self._problem(lineno, field, reason)
        txn.bad = True

    # -- directives ---------------------------------------------------------------------

    def _account_directive(self, lineno: int, rest: str) -> None:
        name = _ACCOUNT_END.split(rest.partition(";")[0], maxsplit=1)[0].strip()
        reason = self._account_reason(name)
        if reason:
            self._problem(lineno, "account", reason)
            self.block = _SKIP
            return
        self.account_decl = _AccountDecl(lineno, name)
        self.block = _ACCOUNT

    def _end_account(self, decl: _AccountDecl) -> None:
        self.account_decl = None
        if decl.name not in self.declared_accounts:
            self.declared_accounts.add(decl.name)
            self.parsed.accounts.append(Account(decl.name, description=decl.description))

    def _commodity_directive(self, lineno: int, rest: str) -> None:
        text, _, comment = rest.partition(";")
        text = text.strip()
        try:
            if any(char.isdigit() for char in _QUOTED.sub("", text)):
                _, code, places = _parse_amount(text)
                scale: int | None = places
            else:
                code, scale = _commodity_code(text), None
        except _LineError as bad:
            self._problem(lineno, "commodity", bad.reason)
            self.block = _SKIP
            return
        decl = self.declared.setdefault(code, _CommodityDecl(lineno))
        if scale is not None:
            decl.scale = scale
        name = dict(_comment_parts(comment)[1]).get("name")
        if name:
            decl.name = name
        self.commodity_decl = (code, decl)
        self.block = _COMMODITY

    def _commodity_subdirective(self, lineno: int, body: str) -> None:
        assert self.commodity_decl is not None
        code, decl = self.commodity_decl
        keyword, _, value = body.replace("\t", " ").partition(" ")
        if keyword == "note":
            decl.name = value.strip()
        elif keyword == "format":
            try:
                _, format_code, places = _parse_amount(value.partition(";")[0].strip())
            except _LineError as bad:
                self._problem(lineno, "commodity", f"format: {bad.reason}")
                return
            if format_code != code:
                reason = f"format is for {format_code!r}, not for {code!r}"
                self._problem(lineno, "commodity", reason)
                return
            decl.scale = places

    # -- transactions -------------------------------------------------------------------

    def _header(self, lineno: int, line: str) -> None:
        txn = _Txn(lineno)
        self.txn = txn
        self.block = _TXN
        try:
            _parse_header(line, txn, self.dates)
        except _LineError as bad:
            self._refuse(txn, lineno, bad.field, bad.reason)

    def _indented_in_txn(self, txn: _Txn, lineno: int, line: str) -> None:
        body = line.strip()
        if not body:
            self._end_block()
        elif body[0] == ";":
            _add_comment(txn, body[1:].strip())
        else:
            try:
                self._posting(txn, lineno, body)
            except _LineError as bad:
                self._refuse(txn, lineno, bad.field, bad.reason)

    def _posting(self, txn: _Txn, lineno: int, body: str) -> None:
        if body[0] in "*!" and body[1:2] in (" ", "\t"):
            body = body[1:].lstrip()
        if body[0] in "([":
            raise _LineError("account", "virtual postings are not supported")
        body, _, memo = body.partition(";")
        account, rest = _split_account(body)
        if account not in self.valid_accounts:
            reason = self._account_reason(account)
            if reason:
                raise _LineError("account", reason)
        parts = _split_parts(rest)
        if not parts.amount:
            self._elided(txn, lineno, account, memo.strip(), parts)
            return
        number, code = self._amount(parts.amount, lineno, "amount", self.places)
        cost = self._conversion(parts.cost, parts.cost_total, lineno)
        price = self._conversion(parts.price, parts.price_total, lineno)
        if cost is not None and price is None:
            txn.bare_cost = True
        elif price == cost:
            price = None  # `{C} @ C`: the price only makes ledger and hledger weigh by the cost
        if self.strict:
            codes = [code] + [c.commodity for c in (cost, price) if c is not None]
            self._check_declared(txn, lineno, account, codes)
        if parts.assertion is not None:
            self._assertion(txn, lineno, account, parts.assertion)
        txn.postings.append(Posting(account, number, code, cost, price, memo=memo.strip()))

    def _elided(self, txn: _Txn, lineno: int, account: str, memo: str, parts: _Parts) -> None:
        if parts.cost is not None or parts.price is not None:
            raise _LineError("amount", "a posting without an amount cannot carry a cost or price")
        if parts.assertion is not None:
            raise _LineError("amount", "balance assignments (only '= AMOUNT') are not supported")
        if txn.elided >= 0:
            raise _LineError("posting", "only one posting per transaction may omit its amount")
        if self.strict:
            self._check_declared(txn, lineno, account, ())
        txn.elided = len(txn.postings)
        txn.postings.append(_Elided(account, memo, lineno))

    def _amount(
        self, text: str, lineno: int, kind: str, places_seen: dict[str, int]
    ) -> tuple[Decimal, str]:
        try:
            number, code, places = _parse_amount(text)
        except _LineError as bad:
            raise _LineError(kind if bad.field == "amount" else bad.field, bad.reason) from None
        if places > places_seen.get(code, -1):
            places_seen[code] = places
        self.first_use.setdefault(code, lineno)
        return number, code

    def _conversion(self, text: str | None, total: bool, lineno: int) -> Conversion | None:
        if text is None:
            return None
        number, code = self._amount(text, lineno, "price", self.conversion_places)
        return Conversion(abs(number) if total else number, code, total)

    def _assertion(self, txn: _Txn, lineno: int, account: str, text: str) -> None:
        number, code = self._amount(text, lineno, "amount", self.places)
        try:
            day = txn.day + _ONE_DAY
        except OverflowError:
            raise _LineError("date", "a balance assertion needs a date before 9999-12-31") from None
        txn.assertions.append(BalanceAssertion(lineno, day, account, number, code))

    def _end_txn(self, txn: _Txn, eof: bool) -> None:
        self.txn = None
        if txn.bad:
            return
        if len(txn.postings) < 2:
            reason = "a transaction needs at least two postings"
            if eof and not txn.postings:
                reason = "transaction at the end of the file has no postings (truncated file?)"
            self._problem(txn.line, "entry", reason)
            return
        postings = self._fill(txn) if txn.elided >= 0 else cast("list[Posting]", txn.postings)
        if postings is None:
            return
        entry = JournalEntry(
            date=txn.day,
            narration=txn.narration,
            postings=tuple(postings),
            payee=txn.payee,
            reference=txn.reference,
            tags=tuple(dict.fromkeys(txn.tags)) if txn.tags else (),
            meta=tuple(txn.meta),
        )
        self.parsed.entries.append(SourceEntry(txn.line, entry))
        if txn.assertions:
            self.parsed.assertions.extend(txn.assertions)
            self.assertion_headers.extend([txn.line] * len(txn.assertions))

    def _fill(self, txn: _Txn) -> list[Posting] | None:
        """The postings with the omitted amount filled in, or ``None`` (a problem) if unsafe."""
        known = [p for p in txn.postings if isinstance(p, Posting)]
        elided = txn.postings[txn.elided]
        assert isinstance(elided, _Elided)
        if txn.bare_cost:
            self._problem(elided.line, "posting", _BARE_COST)
            return None
        sums = residuals(tuple(known))
        open_sums = [(code, total) for code, total in sums.items() if total]
        open_sums = open_sums or list(sums.items())[:1]
        fills = [
            Posting(elided.account, -total, code, memo="" if i else elided.memo)
            for i, (code, total) in enumerate(open_sums)
        ]
        self.filled.append((len(self.parsed.entries), txn.elided, len(fills)))
        return known[: txn.elided] + fills + known[txn.elided :]

    # -- names ----------------------------------------------------------------------------

    def _account_reason(self, name: str) -> str:
        """Why ``name`` is not a valid account name, or ``""``; remembered either way."""
        reason = self.account_reasons.get(name)
        if reason is None:
            try:
                account_type(name)
                reason = ""
                self.valid_accounts.add(name)
            except LedgerError as err:
                reason = str(err)
            self.account_reasons[name] = reason
        return reason

    def _check_declared(self, txn: _Txn, lineno: int, account: str, codes: Iterable[str]) -> None:
        if account not in self.declared_accounts:
            self.undeclared.append((txn.line, lineno, "account", account))
        for code in codes:
            if code not in self.declared and code not in _ISO:
                self.undeclared.append((txn.line, lineno, "commodity", code))

    # -- after the last line ------------------------------------------------------------

    def _finish(self) -> ParsedFile:
        scales = self._commodities()
        self._round_filled(scales)
        if self.strict:
            self._drop_undeclared()
        self.parsed.problems.sort(key=lambda problem: problem.line)
        return self.parsed

    def _commodities(self) -> dict[str, int]:
        scales: dict[str, int] = {}
        for code, decl in self.declared.items():
            self._add_commodity(code, decl.line, decl.scale, decl.name, scales)
        for code, line in self.first_use.items():
            if code in self.declared or (self.strict and code not in _ISO):
                continue
            self._add_commodity(code, line, None, "", scales)
        return scales

    def _add_commodity(
        self, code: str, line: int, scale: int | None, name: str, scales: dict[str, int]
    ) -> None:
        iso = iso_currency(code)
        if iso is not None:
            scale = iso.scale if scale is None else max(scale, iso.scale)
            name = name or iso.name
        elif scale is None:
            scale = self.places.get(code, self.conversion_places.get(code, 0))
        if scale > MAX_SCALE:
            reason = f"{code} has {scale} decimal places; at most {MAX_SCALE} are supported"
            self._problem(line, "commodity", reason)
            return
        self.parsed.commodities.append(Commodity(code, scale, name))
        scales[code] = scale

    def _round_filled(self, scales: dict[str, int]) -> None:
        entries = self.parsed.entries
        for index, start, count in self.filled:
            source = entries[index]
            postings = list(source.entry.postings)
            for i in range(start, start + count):
                posting = postings[i]
                scale = scales.get(posting.commodity)
                if scale is None:
                    continue
                try:
                    postings[i] = replace(posting, amount=quantize(posting.amount, scale))
                except InvalidOperation:
                    continue
            entry = replace(source.entry, postings=tuple(postings))
            entries[index] = SourceEntry(source.line, entry)

    def _drop_undeclared(self) -> None:
        dropped: set[int] = set()
        seen: set[tuple[int, str, str]] = set()
        for header, lineno, kind, name in self.undeclared:
            declared = self.declared if kind == "commodity" else self.declared_accounts
            if name in declared or (lineno, kind, name) in seen:
                continue
            seen.add((lineno, kind, name))
            dropped.add(header)
            self._problem(lineno, kind, _undeclared_reason(kind, name))
        if not dropped:
            return
        parsed = self.parsed
        parsed.entries = [s for s in parsed.entries if s.line not in dropped]
        kept = [h not in dropped for h in self.assertion_headers]
        parsed.assertions = [a for a, keep in zip(parsed.assertions, kept, strict=True) if keep]


def _undeclared_reason(kind: str, name: str) -> str:
    if kind == "commodity":
        return f"unknown commodity {name!r}; declare it with a commodity directive"
    return f"undeclared account {name!r}; declare it with an account directive"


# -- pure line parsers ------------------------------------------------------------------


def _parse_header(line: str, txn: _Txn, dates: dict[str, date]) -> None:
    """Fill ``txn`` from ``DATE[=AUX] [*|!] [(CODE)] DESCRIPTION [; comment]``."""
    token, _, rest = line.partition(" ")
    if "\t" in token:
        token, _, more = token.partition("\t")
        rest = f"{more} {rest}"
    day, _, aux = token.partition("=")
    parsed = dates.get(day)
    if parsed is None:
        parsed = dates[day] = _parse_date(day)
    txn.day = parsed
    description, _, comment = rest.partition(";")
    description = description.strip()
    if description[:1] in ("*", "!"):
        txn.meta.append(("status", description[0]))
        description = description[1:].lstrip()
    if aux:
        txn.meta.append(("aux_date", _parse_date(aux).isoformat()))
    if description.startswith("("):
        code, found, after = description[1:].partition(")")
        if found:
            txn.reference = code.strip() or None
            description = after.strip()
    if "|" in description:
        payee, _, narration = description.partition("|")
        txn.payee = payee.rstrip() or None
        description = narration.lstrip()
    txn.narration = description
    if comment:
        _add_comment(txn, comment.strip())


def _parse_date(text: str) -> date:
    match = _DATE.fullmatch(text)
    if match is None:
        raise _LineError(
            "date", f"malformed date {text!r}; use YYYY-MM-DD, YYYY/MM/DD or YYYY.MM.DD"
        )
    try:
        return date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError as err:
        raise _LineError("date", f"invalid date {text!r}: {err}") from None


def _add_comment(txn: _Txn, text: str) -> None:
    """A comment before the first posting is the entry's; after it, the last posting's memo."""
    if not text and not txn.postings:
        return
    if txn.postings:
        last = txn.postings[-1]
        memo = f"{last.memo}\n{text}" if last.memo else text
        if isinstance(last, _Elided):
            last.memo = memo
        else:
            txn.postings[-1] = replace(last, memo=memo)
        return
    tags, meta = _comment_parts(text)
    txn.tags.extend(tags)
    txn.meta.extend(meta)


def _comment_parts(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Split a comment into bare tags and ``(key, value)`` pairs (``("comment", text)``)."""
    text = text.strip()
    if not text:
        return [], []
    if _LEDGER_TAGS.fullmatch(text):
        return text.strip(":").split(":"), []
    if not _TAG.match(text):
        return [], [("comment", text)]
    tags: list[str] = []
    meta: list[tuple[str, str]] = []
    for part in _TAG_SEPARATOR.split(text):
        key, _, value = part.partition(":")
        value = value.strip()
        if value:
            meta.append((key, value))
        else:
            tags.append(key)
    return tags, meta


def _split_account(body: str) -> tuple[str, str]:
    """Split a posting at the two spaces or tab that end its account name."""
    end = _ACCOUNT_END.search(body)
    if end is None:
        return body.strip(), ""
    return body[: end.start()].strip(), body[end.end() :].strip()


def _split_parts(text: str) -> _Parts:
    """Split ``AMOUNT {COST} @ PRICE = ASSERTION`` into its pieces (any may be absent)."""
    parts = _Parts("")
    close = text.rfind("}")
    equals = text.find("=", close + 1)
    if equals >= 0:
        assertion = text[equals + 1 :].removeprefix("=")
        if assertion.startswith("*"):
            raise _LineError("amount", "sub-account-inclusive balance assertions are not supported")
        parts.assertion = assertion.strip()
        text = text[:equals]
    at = text.find("@", close + 1)
    if at >= 0:
        parts.price_total = text.startswith("@", at + 1)
        parts.price = text[at + 1 + parts.price_total :].strip()
        text = text[:at]
    brace = text.find("{")
    if brace >= 0:
        parts.cost_total = text.startswith("{{", brace)
        opening, closing = ("{{", "}}") if parts.cost_total else ("{", "}")
        end = text.find(closing, brace)
        if end < 0 or text[end + len(closing) :].strip():
            raise _LineError(
                "amount",
                f"cannot parse cost in {text.strip()!r} (lot dates and notes are not supported)",
            )
        parts.cost = text[brace + len(opening) : end].strip()
        if parts.cost.startswith("="):
            raise _LineError("price", "fixated lot prices '{=...}' are not supported")
        text = text[:brace]
    parts.amount = text.strip()
    return parts


def _parse_amount(text: str) -> tuple[Decimal, str, int]:
    """``-$1,000.50`` / ``10 EUR`` / ``3 "VBM-X"`` → number, commodity, decimal places."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise _LineError(
            "amount", f"cannot parse amount {text!r} (decimal point '.', thousands ',')"
        )
    sign1, prefix, sign2, digits, suffix = match.groups()
    if prefix is None and suffix is None:
        raise _LineError("commodity", f"amount {text!r} has no commodity")
    if prefix is not None and suffix is not None:
        raise _LineError("amount", f"amount {text!r} has two commodities")
    if sign1 and sign2:
        raise _LineError("amount", f"amount {text!r} has two signs")
    code = _commodity_code(prefix or suffix)
    digits = digits.replace(",", "")
    number = Decimal(digits)
    if "-" in (sign1, sign2):
        number = -number
    dot = digits.find(".")
    return number, code, (len(digits) - dot - 1 if dot >= 0 else 0)


def _commodity_code(text: str) -> str:
    code = text[1:-1] if len(text) > 1 and text[0] == text[-1] == '"' else text
    try:
        return validate_commodity_code(code)
    except LedgerError as err:
        raise _LineError("commodity", str(err)) from None


# -- writing ----------------------------------------------------------------------------


def write_ledger(
    out: TextIO,
    commodities: Iterable[Commodity],
    accounts: Iterable[Account],
    entries: Iterable[JournalEntry],
) -> None:
    """Write a journal that ledger 3.3 and hledger 1.25 read, and :func:`read_ledger` reads back.

    Raises :class:`ValueError` for text the format cannot carry: a ``;`` or a line break in a
    payee or narration, ``|`` in a payee, ``)`` in a reference, a tag or meta key with
    spaces, ``:``, ``,`` or ``;``, a line break in a meta value.
    """
    scales: dict[str, int] = {}
    blocks: list[str] = []
    for commodity in commodities:
        scales[commodity.code] = commodity.scale
        blocks.append(_commodity_text(commodity))
    directives = "".join(blocks)
    accounts_text = "".join(_account_text(account) for account in accounts)
    separator = ""
    for block in (directives, accounts_text):
        if block:
            out.write(separator + block)
            separator = "\n"
    for entry in entries:
        out.write(separator + _entry_text(entry, scales))
        separator = "\n"


def _commodity_text(commodity: Commodity) -> str:
    symbol = _symbol(commodity.code)
    head = f"commodity {symbol}"
    iso = iso_currency(commodity.code)
    if commodity.name and (iso is None or iso.name != commodity.name):
        head += f"  ; name: {_one_line(commodity.name, 'commodity name')}"
    sample = "1000." + "0" * commodity.scale
    if commodity.code in _SYMBOLS:
        sample = f"{symbol}{sample}"
    elif commodity.scale == 0:
        sample = f"{symbol} {sample}"
    else:
        sample = f"{sample} {symbol}"
    return f"{head}\n    format {sample}\n"


def _account_text(account: Account) -> str:
    text = f"account {account.name}\n"
    if account.description:
        text += f"    note {_one_line(account.description, 'account description')}\n"
    return text


def _entry_text(entry: JournalEntry, scales: dict[str, int]) -> str:
    lines = [_header_text(entry)]
    lines.extend(f"    ; {_tag_name(tag)}:" for tag in entry.tags)
    for key, value in entry.meta:
        if key == "status" and value in ("*", "!"):
            continue
        text = _one_line(value, f"meta {key!r}")
        lines.append(f"    ; {text}" if key == "comment" else f"    ; {_tag_name(key)}: {text}")
    lines.extend(_posting_text(posting, scales) for posting in entry.postings)
    return "\n".join(lines) + "\n"


def _header_text(entry: JournalEntry) -> str:
    mark = dict(entry.meta).get("status", "")
    if mark not in ("*", "!"):
        posted = entry.state in (EntryState.POSTED, EntryState.REVERSED)
        mark = "*" if posted else ""
    narration = _description_text(entry.narration, "narration")
    if entry.payee is not None:
        payee = _description_text(entry.payee, "payee")
        if "|" in payee:
            raise ValueError(f"payee {payee!r} cannot contain '|' in a ledger journal")
        description = f"{payee} | {narration}".rstrip()
    elif "|" in narration:
        description = f"| {narration}"
    else:
        description = narration
    if entry.reference is not None:
        if ")" in entry.reference or "\n" in entry.reference:
            raise ValueError(f"reference {entry.reference!r} cannot be written in a journal")
        code = f"({entry.reference})"
    else:
        code = "()" if description[:1] in ("(", "*", "!") else ""
    return " ".join(part for part in (entry.date.isoformat(), mark, code, description) if part)


def _description_text(text: str, what: str) -> str:
    if ";" in text or "\n" in text:
        raise ValueError(f"{what} {text!r} cannot contain ';' or a line break in a journal")
    return text


def _posting_text(posting: Posting, scales: dict[str, int]) -> str:
    amount = _amount_text(posting.amount, posting.commodity, scales)
    if posting.cost is not None:
        cost = _amount_text(posting.cost.number, posting.cost.commodity, scales)
        amount += f" {{{{{cost}}}}}" if posting.cost.total else f" {{{cost}}}"
    price = posting.price or posting.cost  # ledger and hledger weigh a bare `{}` differently
    if price is not None:
        price_text = _amount_text(price.number, price.commodity, scales)
        amount += f" @@ {price_text}" if price.total else f" @ {price_text}"
    gap = " " * max(2, 40 - len(posting.account) - len(amount.partition(" ")[0]))
    text = f"    {posting.account}{gap}{amount}"
    if posting.memo:
        first, *more = posting.memo.split("\n")
        text += f"  ; {first}".rstrip()
        text += "".join(f"\n    ; {line}".rstrip() for line in more)
    return text


def _amount_text(number: Decimal, code: str, scales: dict[str, int]) -> str:
    scale = scales.get(code)
    if scale is None:
        iso = iso_currency(code)
        scale = iso.scale if iso is not None else 0
    text = format_number(number, scale)
    if code in _SYMBOLS:
        return f"{code}{text}"
    return f"{text} {_symbol(code)}"


def _symbol(code: str) -> str:
    """Letters and ``$ € £ ¥`` stand bare; anything else is quoted (``"VBM-X"``)."""
    if code in _SYMBOLS or (code.isascii() and code.isalpha()):
        return code
    return f'"{code}"'


def _tag_name(name: str) -> str:
    if not _TAG_NAME.fullmatch(name):
        raise ValueError(f"tag or meta key {name!r} cannot be written as a journal tag")
    return name


def _one_line(text: str, what: str) -> str:
    if "\n" in text:
        raise ValueError(f"{what} {text!r} cannot contain a line break in a journal")
    return text
