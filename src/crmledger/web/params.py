"""Reading what a browser typed: dates, cursors and filters, with a message per bad field.

Query strings are read by hand rather than by FastAPI's validation, so a bad value comes
back as an inline error next to its field instead of a JSON error::

    errors: dict[str, str] = {}
    start = parse_date(query.get("from"), "from", errors)   # None, and errors["from"] set
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from crmledger.core.entries import JournalEntry

JOURNAL_CODE = re.compile(r"^[A-Za-z0-9]{1,16}$")
_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(\d{1,18})$")
MAX_TEXT = 400


def text(query: Mapping[str, str], name: str) -> str:
    """A trimmed text parameter ('' when absent)."""
    return query.get(name, "").strip()[:MAX_TEXT]


def parse_date(value: str | None, name: str, errors: dict[str, str]) -> date | None:
    """An ISO date, or None (blank); a malformed one sets ``errors[name]``."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = f"{value!r} is not a date; use YYYY-MM-DD."
        return None


def encode_cursor(entry: JournalEntry) -> str:
    """The keyset of the last entry on a page: ``2026-01-05.42``."""
    return f"{entry.date.isoformat()}.{entry.id}"


def decode_cursor(value: str) -> tuple[date, int] | None:
    """The keyset of :func:`encode_cursor`, or None when ``value`` is not one."""
    found = _CURSOR.match(value.strip())
    if found is None:
        return None
    try:
        return date.fromisoformat(found.group(1)), int(found.group(2))
    except ValueError:
        return None


def with_query(path: str, values: Mapping[str, str | int | None]) -> str:
    """``path`` with the non-empty ``values`` as its query string."""
    kept = {k: str(v) for k, v in values.items() if v not in (None, "")}
    return path + (f"?{urlencode(kept)}" if kept else "")


def account_known(names: list[str], account: str) -> bool:
    """Whether ``account`` names an account of ``names`` or a parent of some."""
    return any(n == account or n.startswith(account + ":") for n in names)


def sentence(message: object) -> str:
    """A domain error's message as a sentence: ``Unknown account 'X'.``"""
    text = str(message).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def entry_ref(entry: JournalEntry) -> str:
    """``GJ/2026/7`` for a posted entry, ``Draft #12`` for a draft."""
    if entry.number is None:
        return f"Draft #{entry.id}"
    return f"{entry.journal}/{entry.fiscal_year}/{entry.number}"


def debit_totals(entry: JournalEntry) -> list[tuple[Decimal, str]]:
    """What an entry moves: the sum of its debits per commodity."""
    sums: dict[str, Decimal] = {}
    for posting in entry.postings:
        if posting.amount > 0:
            sums[posting.commodity] = sums.get(posting.commodity, Decimal(0)) + posting.amount
    return [(sums[commodity], commodity) for commodity in sorted(sums)]
