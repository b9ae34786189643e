"""Writing beancount files: plain directives that ``bean-check`` accepts.

:func:`write_beancount` first resolves the whole book once (:class:`_Book`): the beancount name
of every commodity and account, each commodity's scale, the date accounts are opened on (their
own, else their first use), the first date of the book. Then it writes, block by block::

    option "display_precision" ...     one per commodity, so the scales read back the same
    DATE commodity ...                 on the book's first date, with the name as metadata
    DATE open ...                      in date order
    DATE balance ... / DATE * ...      by date, balance assertions first on a date (they hold
                                       at its start), then entries in their given order
    DATE close ...

For example::

    >>> import io
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> from crmledger.core.entries import JournalEntry, Posting
    >>> from crmledger.core.money import Commodity
    >>> out = io.StringIO()
    >>> entry = JournalEntry(date(2024, 1, 2), "Bread", (
    ...     Posting("Expenses:Food", Decimal("3.5"), "$", memo="bakery"),
    ...     Posting("Assets:Cash", Decimal("-3.5"), "$")), reference="R7")
    >>> write_beancount(out, [Commodity("$", 2)], [], [entry])
    >>> print(out.getvalue(), end="")
    option "display_precision" "USD:0.01"
    <BLANKLINE>
    2024-01-02 commodity USD
    <BLANKLINE>
    2024-01-02 open Assets:Cash
    2024-01-02 open Expenses:Food
    <BLANKLINE>
    2024-01-02 * "Bread"
      reference: "R7"
      Expenses:Food   3.50 USD
        memo: "bakery"
      Assets:Cash    -3.50 USD

Names beancount refuses are mapped (``$`` → ``USD`` above); the rules, and what the other
fields become, are the format's description in :mod:`crmledger.formats.beancount_format`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TextIO

from crmledger.core.accounts import Account, account_type
from crmledger.core.currencies import iso_currency
from crmledger.core.entries import Conversion, JournalEntry, Meta, Posting
from crmledger.core.imports import BalanceAssertion
from crmledger.core.money import Commodity, format_number
from crmledger.formats.beancount_lots import split_lot_memo

BEANCOUNT_NAMES: dict[str, str] = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
"""Beancount names of the currency symbols core accepts, used when the code is still free."""

FALLBACK_NAMES: dict[str, str] = {"$": "DOLLAR", "€": "EURO", "£": "POUND", "¥": "YEN"}
"""Names used instead when the book already has a commodity named as in BEANCOUNT_NAMES."""

ROOT_LEAF = "Root"
"""Segment appended to a root-only account (``Income`` → ``Income:Root``)."""

_FLAGS = frozenset("*!&#?%" + string.ascii_uppercase)


class BeancountExportError(ValueError):
    """The book holds names that cannot be written to beancount without a clash."""


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
    """A name beancount accepts for the core account ``name``.

    The rules are under *Names when writing* in :mod:`crmledger.formats.beancount_format`.
    """
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
        lot_date, label, rest = split_lot_memo(memo)
        parts = [f"{format(cost.number, 'f')} {self.currencies[cost.commodity]}"]
        if lot_date:
            parts.append(lot_date)
        if label is not None:
            parts.append(_quote(label))
        opening, closing = ("{{", "}}") if cost.total else ("{", "}")
        return f"{opening}{', '.join(parts)}{closing}", rest


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
