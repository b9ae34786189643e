"""The pieces of one journal line, parsed by pure functions the reader calls.

Each function takes text and gives values, or raises :class:`LineError` naming the
:class:`~crmledger.core.imports.Problem` field and the reason; none of them knows about the
file around the line. A posting line splits in three steps::

    >>> account, rest = split_account("Assets:Broker  1.5 ABC {{20 USD}} @@ 20 USD  ")
    >>> account
    'Assets:Broker'
    >>> parts = split_parts(rest)
    >>> parts.amount, parts.cost, parts.cost_total, parts.price, parts.price_total
    ('1.5 ABC', '20 USD', True, '20 USD', True)
    >>> parse_amount("-$1,000.50")
    (Decimal('-1000.50'), '$', 2)

A header fills a :class:`Txn`, the transaction as read so far; the comments under it go
through :func:`add_comment` (tags and meta before the first posting, a memo after it)::

    >>> txn = Txn(line=1)
    >>> parse_header("2024/01/02=2024/01/05 * (#12) Shop | Lunch  ; trip:", txn, {})
    >>> txn.day, txn.reference, txn.payee, txn.narration, txn.tags
    (datetime.date(2024, 1, 2), '#12', 'Shop', 'Lunch', ['trip'])
    >>> txn.meta
    [('status', '*'), ('aux_date', '2024-01-05')]
    >>> comment_parts("billable: yes, project: apollo")
    ([], [('billable', 'yes'), ('project', 'apollo')])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from crmledger.core.entries import Posting
from crmledger.core.errors import LedgerError
from crmledger.core.imports import BalanceAssertion
from crmledger.core.money import validate_commodity_code

_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_ACCOUNT_END = re.compile(r"\t|[ ]{2}")
_COMMODITY_CHARS = r"""(?:"[^"]*"|[^\s\d"+\-.,@=;{}()\[\]*/]+)"""
_AMOUNT = re.compile(
    rf"""(?P<sign1>[-+]?)[ ]*(?:(?P<prefix>{_COMMODITY_CHARS})[ ]*)?(?P<sign2>[-+]?)[ ]*
    (?P<number>(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d*)?|\.\d+)
    (?:[ ]*(?P<suffix>{_COMMODITY_CHARS}))?""",
    re.VERBOSE,
)
_LEDGER_TAGS = re.compile(r"(?::[^\s:]+)+:")
_TAG = re.compile(r"[^\s:,;]+:(?:\s|$)")
_TAG_SEPARATOR = re.compile(r",\s*(?=[^\s:,;]+:(?:\s|$))")
_QUOTED = re.compile(r'"[^"]*"')


class LineError(Exception):
    """A line the reader refuses: the :class:`Problem` field and reason."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.field = kind
        self.reason = reason


@dataclass(slots=True)
class Elided:
    """A posting written without an amount; the reader fills it in when the transaction ends."""

    account: str
    memo: str
    line: int


@dataclass(slots=True)
class Txn:
    """A transaction as read so far.

    ``elided`` is the index in ``postings`` of the one without an amount (``-1``: none),
    ``bare_cost`` says a posting has a cost but no price, ``bad`` that a line was refused.
    """

    line: int
    day: date = date.min
    payee: str | None = None
    narration: str = ""
    reference: str | None = None
    tags: list[str] = field(default_factory=list)
    meta: list[tuple[str, str]] = field(default_factory=list)
    postings: list[Posting | Elided] = field(default_factory=list)
    elided: int = -1
    bare_cost: bool = False
    assertions: list[BalanceAssertion] = field(default_factory=list)
    bad: bool = False


@dataclass(slots=True)
class Parts:
    """A posting's text after the account, split at ``{}``, ``@`` and ``=``."""

    amount: str
    cost: str | None = None
    cost_total: bool = False
    price: str | None = None
    price_total: bool = False
    assertion: str | None = None


def parse_header(line: str, txn: Txn, dates: dict[str, date]) -> None:
    """Fill ``txn`` from ``DATE[=AUX] [*|!] [(CODE)] DESCRIPTION [; comment]``."""
    token, _, rest = line.partition(" ")
    if "\t" in token:
        token, _, more = token.partition("\t")
        rest = f"{more} {rest}"
    day, _, aux = token.partition("=")
    parsed = dates.get(day)
    if parsed is None:
        parsed = dates[day] = parse_date(day)
    txn.day = parsed
    description, _, comment = rest.partition(";")
    description = description.strip()
    if description[:1] in ("*", "!"):
        txn.meta.append(("status", description[0]))
        description = description[1:].lstrip()
    if aux:
        txn.meta.append(("aux_date", parse_date(aux).isoformat()))
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
        add_comment(txn, comment.strip())


def parse_date(text: str) -> date:
    match = _DATE.fullmatch(text)
    if match is None:
        raise LineError(
            "date", f"malformed date {text!r}; use YYYY-MM-DD, YYYY/MM/DD or YYYY.MM.DD"
        )
    try:
        return date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError as err:
        raise LineError("date", f"invalid date {text!r}: {err}") from None


def add_comment(txn: Txn, text: str) -> None:
    """A comment before the first posting is the entry's; after it, the last posting's memo."""
    if not text and not txn.postings:
        return
    if txn.postings:
        last = txn.postings[-1]
        memo = f"{last.memo}\n{text}" if last.memo else text
        if isinstance(last, Elided):
            last.memo = memo
        else:
            txn.postings[-1] = replace(last, memo=memo)
        return
    tags, meta = comment_parts(text)
    txn.tags.extend(tags)
    txn.meta.extend(meta)


def comment_parts(text: str) -> tuple[list[str], list[tuple[str, str]]]:
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


def split_account(body: str) -> tuple[str, str]:
    """Split a posting at the two spaces or tab that end its account name."""
    end = _ACCOUNT_END.search(body)
    if end is None:
        return body.strip(), ""
    return body[: end.start()].strip(), body[end.end() :].strip()


def split_parts(text: str) -> Parts:
    """Split ``AMOUNT {COST} @ PRICE = ASSERTION`` into its pieces (any may be absent)."""
    parts = Parts("")
    close = text.rfind("}")
    equals = text.find("=", close + 1)
    if equals >= 0:
        assertion = text[equals + 1 :].removeprefix("=")
        if assertion.startswith("*"):
            raise LineError("amount", "sub-account-inclusive balance assertions are not supported")
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
            raise LineError(
                "amount",
                f"cannot parse cost in {text.strip()!r} (lot dates and notes are not supported)",
            )
        parts.cost = text[brace + len(opening) : end].strip()
        if parts.cost.startswith("="):
            raise LineError("price", "fixated lot prices '{=...}' are not supported")
        text = text[:brace]
    parts.amount = text.strip()
    return parts


def parse_commodity(text: str) -> tuple[str, int | None]:
    """A ``commodity`` directive's subject: ``USD`` / ``"VBM-X"`` → code and no scale;
    ``1,000.00 USD`` / ``$1000.`` (a digit outside quotes) → code and the format's places."""
    if any(char.isdigit() for char in _QUOTED.sub("", text)):
        _, code, places = parse_amount(text)
        return code, places
    return commodity_code(text), None


def parse_amount(text: str) -> tuple[Decimal, str, int]:
    """``-$1,000.50`` / ``10 EUR`` / ``3 "VBM-X"`` → number, commodity, decimal places."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise LineError(
            "amount", f"cannot parse amount {text!r} (decimal point '.', thousands ',')"
        )
    sign1, prefix, sign2, digits, suffix = match.groups()
    if prefix is None and suffix is None:
        raise LineError("commodity", f"amount {text!r} has no commodity")
    if prefix is not None and suffix is not None:
        raise LineError("amount", f"amount {text!r} has two commodities")
    if sign1 and sign2:
        raise LineError("amount", f"amount {text!r} has two signs")
    code = commodity_code(prefix or suffix)
    digits = digits.replace(",", "")
    number = Decimal(digits)
    if "-" in (sign1, sign2):
        number = -number
    dot = digits.find(".")
    return number, code, (len(digits) - dot - 1 if dot >= 0 else 0)


def commodity_code(text: str) -> str:
    code = text[1:-1] if len(text) > 1 and text[0] == text[-1] == '"' else text
    try:
        return validate_commodity_code(code)
    except LedgerError as err:
        raise LineError("commodity", str(err)) from None
