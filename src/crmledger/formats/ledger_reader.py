"""Reading ledger-cli / hledger journals: one pass over the lines, every problem reported.

What maps to what, and what is refused, is the format's description in
:mod:`crmledger.formats.ledger_journal`; this module is how it is read. The reader walks the
text once. An unindented line opens something (a transaction header, an ``account`` or
``commodity`` directive, a ``comment`` block), the indented lines after it belong to it, and
a blank or the next unindented line closes it. The pieces of each line are parsed by the pure
functions of :mod:`~crmledger.formats.ledger_syntax`. A refused line becomes a
:class:`Problem` and the reader goes on, so one run lists every problem of a file::

    >>> parsed = read_ledger('''
    ... 2024-01-02 Lunch
    ...     Expenses:Food    3,50 EUR
    ...     Assets:Cash
    ...
    ... 2024-01-03 Bread
    ...     Expenses:Food    2.00 EUR
    ...     Assets:Cash
    ... ''', "lunch.journal")
    >>> [(p.line, p.field) for p in parsed.problems], len(parsed.entries)
    ([(3, 'amount')], 1)

Three things are only known after the last line, so they are settled then: a commodity's
scale (a later amount may carry more places), the rounding of amounts filled in for omitted
ones (to that scale), and, with ``strict=True``, whether every account and commodity was
declared (a declaration may follow its first use).

Journals run to millions of postings, so the common one (``Assets:Bank  -123.45 USD``) is
matched by one regular expression inside the loop, and the cycle collector is paused while
the values are built.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import cast

from crmledger.core.accounts import Account, account_type
from crmledger.core.entries import Conversion, JournalEntry, Posting, residuals
from crmledger.core.errors import LedgerError
from crmledger.core.imports import BalanceAssertion, ParsedFile, Problem, SourceEntry
from crmledger.core.money import quantize
from crmledger.formats.ledger_declarations import CommodityDecl, Declarations
from crmledger.formats.ledger_syntax import (
    Elided,
    LineError,
    Parts,
    Txn,
    add_comment,
    comment_parts,
    parse_amount,
    parse_commodity,
    parse_header,
    split_account,
    split_parts,
)

# The common posting, `    Assets:Bank  -123.45 USD`, skips the general parser. The account
# is single-space separated words; two spaces or a tab end it.
_FAST_POSTING = re.compile(
    r"[ \t]+([A-Z][^\s;]*(?: [^\s;]+)*)"  # account
    r"(?:\t|[ ]{2})[ \t]*(-?\d+(?:\.(\d+))?)[ ]([A-Z]{1,24})[ \t]*"  # amount, commodity
)
_SKIPPED_WORDS = (
    "P include alias year Y D apply end payee tag N A C bucket define def assert check expr "
    "value decimal-mark capture eval python import i o I O b h"
)
_SKIPPED = frozenset(_SKIPPED_WORDS.split())
_NONE, _TXN, _ACCOUNT, _COMMODITY, _SKIP, _COMMENT = range(6)
_ONE_DAY = timedelta(days=1)
_BARE_COST = (
    "ledger fills an omitted amount in the lot's commodity when a posting has a cost '{}' "
    "but no price '@'; write the amount out or add '@ COST'"
)


def read_ledger_file(path: Path, strict: bool = False, stream: bool = False) -> ParsedFile:
    """Read a ledger / hledger journal file (UTF-8); see :func:`read_ledger`.

    With ``stream`` the file is never held in memory: a first pass collects declarations,
    scales, balance assertions and problems, and :attr:`ParsedFile.stream` yields the
    entries from a fresh pass over the file each time it is called (not with ``strict``).
    """
    if not stream:
        return read_ledger(path.read_text(encoding="utf-8-sig"), str(path), strict=strict)
    if strict:
        raise ValueError(
            "a streamed read cannot drop undeclared names afterwards; use strict=False"
        )
    with _gc_paused():
        header = _Reader(str(path), strict=False, sink=lambda entry: None).run_lines(_lines(path))
    scales = {c.code: c.scale for c in [*header.commodities, *header.inferred_commodities]}

    def entries() -> Iterator[SourceEntry]:
        out: list[SourceEntry] = []
        reader = _Reader(str(path), strict=False, sink=out.append, scales=scales)
        for _ in reader.iter_lines(_lines(path)):
            yield from out
            out.clear()
        yield from out

    header.stream = entries
    return header


def _lines(path: Path) -> Iterator[str]:
    """The file's lines without line ends; trailing blank lines dropped (like ``rstrip``)."""
    pending: list[str] = []
    with path.open(encoding="utf-8-sig") as handle:
        for raw in handle:
            line = raw.rstrip("\n")
            if line.strip():
                yield from pending
                pending.clear()
                yield line
            else:
                pending.append(line)


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


# Metadata keys that carry entry fields a journal has no syntax for (see the writer).
_FIELD_KEYS = frozenset({"journal", "party", "links"})


@dataclass(slots=True)
class _AccountDecl:
    line: int
    name: str
    description: str = ""


class _Reader:
    """One pass over the lines; ``block`` says what indented lines belong to."""

    def __init__(
        self,
        source: str,
        strict: bool,
        sink: Callable[[SourceEntry], None] | None = None,
        scales: dict[str, int] | None = None,
    ) -> None:
        self.source = source
        self.strict = strict
        self.parsed = ParsedFile(source)
        # Streaming: entries go to ``sink`` instead of the list, and omitted amounts are
        # rounded at once to ``scales`` (known from a first pass) instead of at the end.
        self.keeps_entries = sink is None
        self.sink = sink or self.parsed.entries.append
        self.scales = scales
        self.block = _NONE
        self.txn: Txn | None = None
        self.account_decl: _AccountDecl | None = None
        self.commodity_decl: tuple[str, CommodityDecl] | None = None
        self.declarations = Declarations()
        self.valid_accounts: set[str] = set()
        self.account_reasons: dict[str, str] = {}
        self.filled: list[tuple[int, int, int]] = []
        self.assertion_headers: list[int] = []
        self.dates: dict[str, date] = {}

    # -- the line loop ------------------------------------------------------------------

    def run(self, text: str) -> ParsedFile:
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = text.rstrip()  # so that a header on the last line is seen as truncated
        return self.run_lines(text.split("\n"))

    def run_lines(self, lines: Iterable[str]) -> ParsedFile:
        """Read every line, then settle what only the end of the file decides."""
        for _ in self.iter_lines(lines):
            pass
        return self._finish()

    def iter_lines(self, lines: Iterable[str]) -> Iterator[None]:
        """Read the lines, pausing every few thousand (so a stream can hand entries on)."""
        fast, strict = _FAST_POSTING.fullmatch, self.strict
        valid, places = self.valid_accounts, self.declarations.places
        for lineno, line in enumerate(lines, 1):
            if not lineno & 0xFFF:
                yield
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

    def _refuse(self, txn: Txn, lineno: int, field: str, reason: str) -> None:
        self._problem(lineno, field, reason)
        txn.bad = True

    # -- directives ---------------------------------------------------------------------

    def _account_directive(self, lineno: int, rest: str) -> None:
        name = split_account(rest.partition(";")[0])[0]
        reason = self._account_reason(name)
        if reason:
            self._problem(lineno, "account", reason)
            self.block = _SKIP
            return
        self.account_decl = _AccountDecl(lineno, name)
        self.block = _ACCOUNT

    def _end_account(self, decl: _AccountDecl) -> None:
        self.account_decl = None
        if decl.name not in self.declarations.accounts:
            self.declarations.accounts.add(decl.name)
            self.parsed.accounts.append(Account(decl.name, description=decl.description))

    def _commodity_directive(self, lineno: int, rest: str) -> None:
        text, _, comment = rest.partition(";")
        try:
            code, scale = parse_commodity(text.strip())
        except LineError as bad:
            self._problem(lineno, "commodity", bad.reason)
            self.block = _SKIP
            return
        decl = self.declarations.declare_commodity(code, lineno)
        if scale is not None:
            decl.scale = scale
        name = dict(comment_parts(comment)[1]).get("name")
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
                _, format_code, places = parse_amount(value.partition(";")[0].strip())
            except LineError as bad:
                self._problem(lineno, "commodity", f"format: {bad.reason}")
                return
            if format_code != code:
                reason = f"format is for {format_code!r}, not for {code!r}"
                self._problem(lineno, "commodity", reason)
                return
            decl.scale = places

    # -- transactions -------------------------------------------------------------------

    def _header(self, lineno: int, line: str) -> None:
        txn = Txn(lineno)
        self.txn = txn
        self.block = _TXN
        try:
            parse_header(line, txn, self.dates)
        except LineError as bad:
            self._refuse(txn, lineno, bad.field, bad.reason)

    def _indented_in_txn(self, txn: Txn, lineno: int, line: str) -> None:
        body = line.strip()
        if not body:
            self._end_block()
        elif body[0] == ";":
            add_comment(txn, body[1:].strip())
        else:
            try:
                self._posting(txn, lineno, body)
            except LineError as bad:
                self._refuse(txn, lineno, bad.field, bad.reason)

    def _posting(self, txn: Txn, lineno: int, body: str) -> None:
        if body[0] in "*!" and body[1:2] in (" ", "\t"):
            body = body[1:].lstrip()
        if body[0] in "([":
            raise LineError("account", "virtual postings are not supported")
        body, _, memo = body.partition(";")
        account, rest = split_account(body)
        if account not in self.valid_accounts:
            reason = self._account_reason(account)
            if reason:
                raise LineError("account", reason)
        parts = split_parts(rest)
        if not parts.amount:
            self._elided(txn, lineno, account, memo.strip(), parts)
            return
        number, code = self._amount(parts.amount, lineno, "amount", self.declarations.places)
        cost = self._conversion(parts.cost, parts.cost_total, lineno)
        price = self._conversion(parts.price, parts.price_total, lineno)
        if cost is not None and price is None:
            txn.bare_cost = True
        elif price == cost:
            price = None  # `{C} @ C`: the price only makes ledger and hledger weigh by the cost
        if self.strict:
            codes = [code] + [c.commodity for c in (cost, price) if c is not None]
            self.declarations.check(txn.line, lineno, account, codes)
        if parts.assertion is not None:
            self._assertion(txn, lineno, account, parts.assertion)
        txn.postings.append(Posting(account, number, code, cost, price, memo=memo.strip()))

    def _elided(self, txn: Txn, lineno: int, account: str, memo: str, parts: Parts) -> None:
        if parts.cost is not None or parts.price is not None:
            raise LineError("amount", "a posting without an amount cannot carry a cost or price")
        if parts.assertion is not None:
            raise LineError("amount", "balance assignments (only '= AMOUNT') are not supported")
        if txn.elided >= 0:
            raise LineError("posting", "only one posting per transaction may omit its amount")
        if self.strict:
            self.declarations.check(txn.line, lineno, account, ())
        txn.elided = len(txn.postings)
        txn.postings.append(Elided(account, memo, lineno))

    def _amount(
        self, text: str, lineno: int, kind: str, places_seen: dict[str, int]
    ) -> tuple[Decimal, str]:
        try:
            number, code, places = parse_amount(text)
        except LineError as bad:
            raise LineError(kind if bad.field == "amount" else bad.field, bad.reason) from None
        if places > places_seen.get(code, -1):
            places_seen[code] = places
        self.declarations.first_use.setdefault(code, lineno)
        return number, code

    def _conversion(self, text: str | None, total: bool, lineno: int) -> Conversion | None:
        if text is None:
            return None
        number, code = self._amount(text, lineno, "price", self.declarations.conversion_places)
        return Conversion(abs(number) if total else number, code, total)

    def _assertion(self, txn: Txn, lineno: int, account: str, text: str) -> None:
        number, code = self._amount(text, lineno, "amount", self.declarations.places)
        try:
            day = txn.day + _ONE_DAY
        except OverflowError:
            raise LineError("date", "a balance assertion needs a date before 9999-12-31") from None
        txn.assertions.append(BalanceAssertion(lineno, day, account, number, code))

    def _end_txn(self, txn: Txn, eof: bool) -> None:
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
        fields = {k: v for k, v in txn.meta if k in _FIELD_KEYS}
        entry = JournalEntry(
            date=txn.day,
            narration=txn.narration,
            postings=tuple(postings),
            payee=txn.payee,
            reference=txn.reference,
            tags=tuple(dict.fromkeys(txn.tags)) if txn.tags else (),
            meta=tuple(kv for kv in txn.meta if kv[0] not in _FIELD_KEYS)
            if fields
            else (tuple(txn.meta)),
            journal=fields.get("journal", "GJ"),
            party=fields.get("party"),
            links=tuple(fields["links"].split()) if "links" in fields else (),
        )
        self.sink(SourceEntry(txn.line, entry))
        if txn.assertions:
            self.parsed.assertions.extend(txn.assertions)
            self.assertion_headers.extend([txn.line] * len(txn.assertions))

    def _fill(self, txn: Txn) -> list[Posting] | None:
        """The postings with the omitted amount filled in, or ``None`` (a problem) if unsafe."""
        known = [p for p in txn.postings if isinstance(p, Posting)]
        elided = txn.postings[txn.elided]
        assert isinstance(elided, Elided)
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
        if self.scales is not None:
            fills = [_rounded(p, self.scales) for p in fills]
        elif self.keeps_entries:
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

    # -- after the last line ------------------------------------------------------------

    def _finish(self) -> ParsedFile:
        commodities, refused = self.declarations.settle_commodities(self.strict)
        for line, reason in refused:
            self._problem(line, "commodity", reason)
        declared = self.declarations.commodities
        self.parsed.commodities.extend(c for c in commodities if c.code in declared)
        self.parsed.inferred_commodities.extend(c for c in commodities if c.code not in declared)
        self._round_filled({c.code: c.scale for c in commodities})
        if self.strict:
            self._drop_undeclared()
        self.parsed.problems.sort(key=lambda problem: problem.line)
        return self.parsed

    def _round_filled(self, scales: dict[str, int]) -> None:
        entries = self.parsed.entries
        for index, start, count in self.filled:
            source = entries[index]
            postings = list(source.entry.postings)
            for i in range(start, start + count):
                postings[i] = _rounded(postings[i], scales)
            entry = replace(source.entry, postings=tuple(postings))
            entries[index] = SourceEntry(source.line, entry)

    def _drop_undeclared(self) -> None:
        dropped, problems = self.declarations.undeclared_problems()
        for line, kind, reason in problems:
            self._problem(line, kind, reason)
        if not dropped:
            return
        parsed = self.parsed
        parsed.entries = [s for s in parsed.entries if s.line not in dropped]
        kept = [h not in dropped for h in self.assertion_headers]
        parsed.assertions = [a for a, keep in zip(parsed.assertions, kept, strict=True) if keep]


def _rounded(posting: Posting, scales: dict[str, int]) -> Posting:
    """A filled-in amount rounded half-even to its commodity's scale (if known)."""
    scale = scales.get(posting.commodity)
    if scale is None:
        return posting
    try:
        return replace(posting, amount=quantize(posting.amount, scale))
    except InvalidOperation:
        return posting
