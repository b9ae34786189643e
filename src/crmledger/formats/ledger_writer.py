"""Writing ledger-cli / hledger journals that both tools, and our reader, read the same way.

:func:`write_ledger` emits ``commodity`` directives, ``account`` directives, then the entries,
each block separated by a blank line::

    >>> import io
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> from crmledger.core.entries import Conversion, JournalEntry, Posting
    >>> from crmledger.core.money import Commodity
    >>> out = io.StringIO()
    >>> shares = Posting("Assets:Broker", Decimal(2), "VBM-X", cost=Conversion(Decimal(10), "$"))
    >>> cash = Posting("Assets:Cash", Decimal(-20), "$", memo="paid in cash")
    >>> write_ledger(out, [Commodity("$", 2), Commodity("VBM-X", 3)], [],
    ...              [JournalEntry(date(2024, 1, 2), "Shares", (shares, cash))])
    >>> print(out.getvalue(), end="")
    commodity $
        format $1000.00
    commodity "VBM-X"
        format 1000.000 "VBM-X"
    <BLANKLINE>
    2024-01-02 Shares
        Assets:Broker                      2.000 "VBM-X" {$10.00} @ $10.00
        Assets:Cash                      $-20.00  ; paid in cash

Why it looks like that (the format's description is in
:mod:`crmledger.formats.ledger_journal`): amounts are written at their commodity's scale,
``$ € £ ¥`` before the number, other codes after it and quoted unless they are letters only.
A scale-0 format is written prefix (``format JPY 1000.``): hledger refuses a format without a
decimal mark (``1000 JPY``) and ledger one with a bare trailing mark (``1000. JPY``). A cost
without a price gets the price ``@ C``: ledger weighs a bare ``{C}`` only when the
transaction has exactly two commodities, and hledger ignores braces. The first word of each
amount ends in one column wherever the account name leaves room, so a journal reads as a table.

Text the format cannot carry raises :class:`ValueError` (see :func:`write_ledger`) rather than
being written in a way that would read back as something else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import TextIO

from crmledger.core.accounts import Account
from crmledger.core.currencies import iso_currency
from crmledger.core.entries import EntryState, JournalEntry, Posting
from crmledger.core.money import Commodity, format_number

_TAG_NAME = re.compile(r"[^\s:,;]+")
_SYMBOLS = frozenset("$€£¥")


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
    for key, value in _fields_as_meta(entry):
        lines.append(f"    ; {key}: {_one_line(value, key)}")
    for key, value in entry.meta:
        if key == "status" and value in ("*", "!"):
            continue
        text = _one_line(value, f"meta {key!r}")
        lines.append(f"    ; {text}" if key == "comment" else f"    ; {_tag_name(key)}: {text}")
    lines.extend(_posting_text(posting, scales) for posting in entry.postings)
    return "\n".join(lines) + "\n"


def _fields_as_meta(entry: JournalEntry) -> list[tuple[str, str]]:
    """Entry fields a journal has no syntax for, written as metadata the reader maps back."""
    fields = []
    if entry.journal != "GJ":
        fields.append(("journal", entry.journal))
    if entry.party is not None:
        fields.append(("party", entry.party))
    if entry.links:
        fields.append(("links", " ".join(entry.links)))
    return fields


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
