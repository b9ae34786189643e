"""Request and response bodies: ``XCreate`` / ``XUpdate`` in, ``XPublic`` out.

Inputs forbid unknown fields (no mass assignment: ``id``, ``version``, ``hash`` or
``state`` cannot be sent) and bound every string and list. Money travels as decimal
strings, never as JSON numbers, so no client float can round it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Generic, Literal, TypeVar

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)
from pydantic.config import JsonDict

from crmledger.core.access import Role

T = TypeVar("T")

# Whitespace as ``str.isspace`` knows it, and the controls: spelled out, since ``\s`` means
# another set in each regex dialect (Python, Rust for pydantic, ECMA-262 for JSON Schema).
_SPACE = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A segment starts with a capital letter or digit and has no ':', ';', control characters
# or runs of spaces (the rule of ``core.accounts``, stated here so clients can see it).
_SEGMENT = rf"[A-Z0-9][^{_SPACE}:;]*( [^{_SPACE}:;]+)*"
ACCOUNT_NAME = rf"^(Assets|Liabilities|Equity|Income|Expenses)(:{_SEGMENT}){{0,9}}$"
AMOUNT = r"^-?[0-9]{1,15}(\.[0-9]{1,12})?$"
COMMODITY = r"^[A-Za-z]([A-Za-z0-9_.'-]{0,22}[A-Za-z0-9])?$"
# What an entry's texts may not hold (tab and line breaks may stay).
_NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
#: No NUL: PostgreSQL's text cannot hold one, not even in a query.
NO_NUL = r"^[^\x00]*$"

Text = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=2000)]
Short = Annotated[str, StringConstraints(pattern=rf"^[^\x00]*[^{_SPACE}][^\x00]*$", max_length=200)]
# 200, not the 400 the chart holds: the audit log's resource_id (VARCHAR(200)) names it.
ACCOUNT_NAME_MAX = 200
AccountName = Annotated[str, StringConstraints(pattern=ACCOUNT_NAME, max_length=ACCOUNT_NAME_MAX)]
Amount = Annotated[str, StringConstraints(pattern=AMOUNT)]
CommodityCode = Annotated[str, StringConstraints(pattern=COMMODITY)]
Email = Annotated[
    str,
    StringConstraints(
        pattern=rf"^[^@{_SPACE}]+@[^@.{_SPACE}][^@{_SPACE}]*\.[^@{_SPACE}]+$", max_length=320
    ),
]
Tag = Annotated[str, StringConstraints(pattern=rf"^[^{_SPACE}]{{1,64}}$")]
Narration = Annotated[str, StringConstraints(pattern=_NO_CONTROL, min_length=1, max_length=2000)]


_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_day(value: object) -> object:
    # pydantic alone would also read a number (or a string of digits) as a Unix timestamp.
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DAY.match(value)):
        return value
    raise ValueError("not a date as YYYY-MM-DD")


#: A calendar day, only ever written ``YYYY-MM-DD``.
Day = Annotated[dt.date, BeforeValidator(_iso_day)]

_ISO_MOMENT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _iso_moment(value: object) -> object:
    # As for days: never a number read as a Unix timestamp.
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_MOMENT.match(value)):
        return value
    raise ValueError("not a date and time as ISO 8601, like 2026-06-30T12:00:00Z")


#: A moment, only ever written as ISO 8601 (``2026-06-30T12:00:00+02:00``).
Moment = Annotated[dt.datetime, BeforeValidator(_iso_moment)]


def json_number(value: object) -> object:
    """Refuse what pydantic would coerce into a number: a JSON Schema ``integer`` is ``7``
    or ``7.0``, never ``"7"`` or ``true`` (a validator to put after the constraints)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a number")
    return value


#: A row id: a JSON Schema integer (``7`` or ``7.0``, never ``"7"``) in 1..2**31-1.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(json_number)]


class In(BaseModel):
    """Base of request bodies: unknown or read-only fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` for the next (null: no more)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(key: list[object]) -> str:
    """An opaque cursor for the keyset ``key``."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[object] | None:
    """The keyset of a cursor, or None when it is not one of ours."""
    try:
        value = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, list) else None


# -- accounts ---------------------------------------------------------------------------


class AccountCreate(In):
    """A new account; its type comes from the root segment of its name."""

    name: AccountName
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,32}$")] | None = None
    commodities: list[CommodityCode] = Field(default_factory=list, max_length=50)
    open_date: Day | None = None
    description: Text = ""


class AccountUpdate(In):
    """What may change on an account: closing it as of a date."""

    close_date: Day


class AccountPublic(BaseModel):
    """An account of the chart."""

    name: str
    type: str
    code: str | None
    commodities: list[str]
    open_date: dt.date | None
    close_date: dt.date | None
    description: str
    version: int


# -- journal entries --------------------------------------------------------------------


class PostingIn(In):
    """A posting: positive amounts are debits, negative ones credits."""

    account: AccountName
    amount: Amount
    commodity: CommodityCode
    memo: Text = ""


_CASH_SALE: JsonDict = {
    "date": "2026-01-05",
    "narration": "Cash sale",
    "postings": [
        {"account": "Assets:Cash", "amount": "10.00", "commodity": "EUR"},
        {"account": "Income:Sales:Products", "amount": "-10.00", "commodity": "EUR"},
    ],
}


class EntryCreate(In):
    """A journal entry to post; it must balance per commodity."""

    model_config = In.model_config | ConfigDict(json_schema_extra={"examples": [_CASH_SALE]})

    date: Day
    narration: Narration
    journal: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,16}$")] = "GJ"
    payee: Annotated[str, StringConstraints(pattern=_NO_CONTROL, max_length=2000)] | None = None
    reference: Annotated[str, StringConstraints(pattern=_NO_CONTROL, max_length=200)] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    postings: list[PostingIn] = Field(min_length=2, max_length=500)


class ReverseRequest(In):
    """The reversal's date (default: today) and narration (default: "Reversal of ...")."""

    date: Day | None = None
    narration: Narration | None = None


class PostingPublic(BaseModel):
    """A stored posting."""

    account: str
    amount: str
    commodity: str
    memo: str


class EntryPublic(BaseModel):
    """A journal entry as stored; posted ones carry their number and hash."""

    id: int
    journal: str
    fiscal_year: int
    number: int | None
    reference_number: str | None = Field(description="JOURNAL/YEAR/NUMBER once posted")
    date: dt.date
    narration: str
    payee: str | None
    reference: str | None
    tags: list[str]
    state: Literal["draft", "posted", "reversed"]
    hash: str | None
    previous_hash: str | None
    reverses: int | None
    reversed_by: int | None
    postings: list[PostingPublic]


# -- reports ----------------------------------------------------------------------------


class TrialBalanceRowPublic(BaseModel):
    """Turnover and balance of one account in one commodity."""

    account: str
    commodity: str
    debit: str
    credit: str
    balance: str


class TrialBalancePublic(BaseModel):
    """A trial balance as of a date; ``balanced`` when every commodity adds up."""

    as_of: dt.date | None
    rows: list[TrialBalanceRowPublic]
    totals: list[TrialBalanceRowPublic]
    conversions: dict[str, str]
    balanced: bool


class LedgerLinePublic(BaseModel):
    """A line of an account's activity with its running balance."""

    date: dt.date
    entry: str
    narration: str
    commodity: str
    amount: str
    balance: str


class AccountLedgerPublic(BaseModel):
    """An account's opening balance and activity, one page of lines at a time."""

    account: str
    opening: dict[str, str]
    items: list[LedgerLinePublic]
    next_cursor: str | None


class AuditFindingPublic(BaseModel):
    """Something that no longer matches."""

    journal: str
    reference: str
    reason: str


class AuditVerifyPublic(BaseModel):
    """The result of walking every hash chain and recomputing balances."""

    ok: bool
    entries_checked: int
    records_checked: int
    journals: list[str]
    findings: list[AuditFindingPublic]


class AuditRecordPublic(BaseModel):
    """One audit record (personal fields redacted)."""

    seq: int
    at: dt.datetime
    actor: str
    role: str
    via: str
    request_id: str
    action: str
    resource: str
    resource_id: str
    changes: dict[str, object]


# -- users and tokens -------------------------------------------------------------------


class LoginRequest(In):
    """Email and password."""

    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LoginResponse(BaseModel):
    """A bearer token for the signed-in user."""

    token: str
    expires_at: dt.datetime | None


class UserCreate(In):
    """A new user."""

    email: Email
    role: Role
    password: Annotated[str, StringConstraints(min_length=10, max_length=1024)]


class UserUpdate(In):
    """Role and disabled flag; send what changes."""

    role: Role | None = None
    disabled: StrictBool | None = None


class UserPublic(BaseModel):
    """A user."""

    id: int
    email: str
    role: Role
    disabled: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    version: int


class TokenCreate(In):
    """A token for a user; it acts with that user's role."""

    email: Email
    name: Short
    expires_days: Annotated[int, Field(ge=1, le=3650), BeforeValidator(json_number)] | None = None


class TokenIssued(BaseModel):
    """A new token; ``token`` is shown this once."""

    id: int
    name: str
    token: str
    expires_at: dt.datetime | None


class HealthPublic(BaseModel):
    """Liveness."""

    status: str
    version: str


class StatusPublic(BaseModel):
    """The book's settings and size."""

    base_currency: str | None
    lock_date: dt.date | None
    accounts: int
    commodities: int


def money(value: Decimal) -> str:
    """A decimal as fixed-point text."""
    return format(value, "f")
