"""The statements of :mod:`.intelligence_reads`, built once per database and scope shape.

A statement takes its values as bound parameters (``:party``, ``:start``, ``:end``,
``:start_at``, ``:end_at``, ``:since``, ``:today``, ``:limit``), so a customer 360 executes
statements that were composed once, not rebuilt on every call. Months are ``yyyymm`` numbers
computed by the database (``EXTRACT``; on PostgreSQL from the UTC time of a timestamp); no
bound parameter appears in a grouped expression, so PostgreSQL sees the grouped and the
selected expression as the same.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
)

from crmledger.persistence.billing_tables import allocations, billing_documents, billing_lines
from crmledger.persistence.deal_tables import deals, pipeline_stages
from crmledger.persistence.dunning_tables import dunning_notices
from crmledger.persistence.interaction_tables import interactions
from crmledger.persistence.satisfaction_tables import satisfaction_responses

#: Which of party, start and end a scope names.
Shape = tuple[bool, bool, bool]

_d = billing_documents.c
_l = billing_lines.c
_i = interactions.c
OPEN = ("issued", "partially_paid")
SALES = ("invoice", "credit_note")
OPEN_COMPLAINT = ("open", "in_progress")
_STAMP = DateTime(timezone=True)
PARTY = bindparam("party", type_=Integer)
LIMIT = bindparam("limit", type_=Integer)


def month(column: Any, postgres: bool, stamp: bool = False) -> ColumnElement[int]:
    """``yyyymm`` of a date (or of a timestamp's UTC time)."""
    value = func.timezone("UTC", column) if stamp and postgres else column
    year, month_ = extract("year", value), extract("month", value)
    return cast(year * literal_column("100") + month_, Integer)


def _days(shape: Shape, party: Any, day: Any) -> list[Any]:
    has_party, has_start, has_end = shape
    where = [party == PARTY] if has_party else []
    if has_start:
        where.append(day >= bindparam("start", type_=Date))
    if has_end:
        where.append(day <= bindparam("end", type_=Date))
    return where


def _stamps(shape: Shape, party: Any, at: Any) -> list[Any]:
    has_party, has_start, has_end = shape
    where = [party == PARTY] if has_party else []
    if has_start:
        where.append(at >= bindparam("start_at", type_=_STAMP))
    if has_end:
        where.append(at < bindparam("end_at", type_=_STAMP))
    return where


@cache
def sales(postgres: bool, shape: Shape) -> Select[Any]:
    """Issued invoices and credit notes per party, kind, month, currency and rate."""
    m = month(_d.issued_on, postgres)
    return (
        select(
            _d.party_id,
            _d.kind,
            m,
            _d.currency,
            _d.rate,
            func.count(),
            func.sum(_d.net_minor),
            func.sum(_d.gross_minor),
            func.min(_d.issued_on),
            func.max(_d.issued_on),
        )
        .where(_d.kind.in_(SALES), _d.status != "draft", *_days(shape, _d.party_id, _d.issued_on))
        .group_by(_d.party_id, _d.kind, m, _d.currency, _d.rate)
    )


@cache
def costs(postgres: bool, shape: Shape) -> Select[Any]:
    """The cost of goods of issued invoices per party, month and cost currency."""
    m = month(_d.issued_on, postgres)
    return (
        select(_d.party_id, m, _l.cost_currency, func.sum(_l.cost_minor))
        .select_from(billing_documents.join(billing_lines, _l.document_id == _d.id))
        .where(
            _d.kind == "invoice",
            _d.status != "draft",
            _l.cost_minor.is_not(None),
            *_days(shape, _d.party_id, _d.issued_on),
        )
        .group_by(_d.party_id, m, _l.cost_currency)
    )


@cache
def product_sales(postgres: bool, shape: Shape) -> Select[Any]:
    """Issued lines per party, product, kind, month, currency, rate and cost currency."""
    keys = (
        _d.party_id,
        _l.product_id,
        _d.kind,
        month(_d.issued_on, postgres),
        _d.currency,
        _d.rate,
    )
    return (
        select(
            *keys,
            func.sum(_l.net_minor),
            _l.cost_currency,
            func.sum(func.coalesce(_l.cost_minor, 0)),
        )
        .select_from(billing_documents.join(billing_lines, _l.document_id == _d.id))
        .where(_d.kind.in_(SALES), _d.status != "draft", *_days(shape, _d.party_id, _d.issued_on))
        .group_by(*keys, _l.cost_currency)
    )


@cache
def touches(postgres: bool, shape: Shape) -> Select[Any]:
    """Interactions per party, month and kind, dunning letters left out."""
    letters = select(dunning_notices.c.interaction_id)
    if shape[0]:
        letters = letters.where(dunning_notices.c.party_id == PARTY)
    m = month(_i.occurred_at, postgres, stamp=True)
    return (
        select(_i.party_id, m, _i.kind, func.count())
        .where(_i.id.not_in(letters), *_stamps(shape, _i.party_id, _i.occurred_at))
        .group_by(_i.party_id, m, _i.kind)
    )


@cache
def dunning(postgres: bool, shape: Shape) -> Select[Any]:
    """Dunning letters per party and month."""
    n = dunning_notices.c
    sent = month(n.sent_on, postgres)
    return (
        select(n.party_id, sent, literal("dunning"), func.count())
        .where(*_days(shape, n.party_id, n.sent_on))
        .group_by(n.party_id, sent)
    )


def _invoices(shape: Shape) -> list[Any]:
    return [_d.kind == "invoice", _d.status != "draft", *_days(shape, _d.party_id, _d.issued_on)]


_CREDIT_KEYS = (_d.party_id, _d.currency, _d.rate, _d.issued_on)


@cache
def settled(shape: Shape) -> Select[Any]:
    """What was allocated to invoices, per invoice day and allocation day."""
    a = allocations.c
    return (
        select(*_CREDIT_KEYS, a.allocated_on, func.sum(a.amount_minor))
        .select_from(billing_documents.join(allocations, a.invoice_id == _d.id))
        .where(*_invoices(shape))
        .group_by(*_CREDIT_KEYS, a.allocated_on)
    )


@cache
def still_open(shape: Shape) -> Select[Any]:
    """What invoices still have open, per invoice day."""
    return (
        select(*_CREDIT_KEYS, func.sum(_d.open_minor))
        .where(*_invoices(shape), _d.status.in_(OPEN), _d.open_minor > 0)
        .group_by(*_CREDIT_KEYS)
    )


@cache
def open_deals() -> Select[Any]:
    """A party's open deals with their stage and effective probability, newest first."""
    s = pipeline_stages.c
    return (
        select(
            deals.c.id,
            deals.c.title,
            s.name,
            deals.c.amount_minor,
            deals.c.currency,
            func.coalesce(deals.c.probability_bp, s.probability_bp),
            deals.c.expected_close,
        )
        .select_from(
            deals.join(
                pipeline_stages, and_(s.pipeline == deals.c.pipeline, s.key == deals.c.stage)
            )
        )
        .where(deals.c.party_id == PARTY, s.kind == "open")
        .order_by(deals.c.id.desc())
        .limit(LIMIT)
    )


@cache
def open_complaints() -> Select[Any]:
    """A party's open complaints, latest first."""
    return (
        select(_i.id, _i.subject, _i.priority, _i.status, _i.occurred_at, _i.sla_resolution_due)
        .where(_i.party_id == PARTY, _i.kind == "complaint", _i.status.in_(OPEN_COMPLAINT))
        .order_by(_i.occurred_at.desc(), _i.id.desc())
        .limit(LIMIT)
    )


@cache
def complaint_counts() -> Select[Any]:
    """A party's complaints since ``:since`` and those open.

    Filtered on ``party_id`` alone, so the party's timeline index is the one read (a
    condition on ``kind`` would let the planner pick the book-wide complaint queue)."""
    complaint = _i.kind == "complaint"
    since = bindparam("since", type_=_STAMP)
    recent = case((and_(complaint, _i.occurred_at >= since), 1), else_=0)
    still = case((and_(complaint, _i.status.in_(OPEN_COMPLAINT)), 1), else_=0)
    return select(func.sum(recent), func.sum(still)).where(_i.party_id == PARTY)


@cache
def nps_answers() -> Select[Any]:
    """A party's NPS answers, oldest first."""
    r = satisfaction_responses.c
    return (
        select(r.answered_on, r.score)
        .where(r.party_id == PARTY, r.kind == "nps")
        .order_by(r.answered_on, r.id)
    )


@cache
def oldest_overdue() -> Select[Any]:
    """The earliest due day before ``:today`` of a party's open invoices.

    Equality conditions only, so the party's index is read, not the book-wide one by due
    date; the due-date test is in the aggregate."""
    today = bindparam("today", type_=Date)
    return select(func.min(case((_d.due_on < today, _d.due_on), else_=None))).where(
        _d.party_id == PARTY, _d.kind == "invoice", _d.status.in_(OPEN), _d.open_minor > 0
    )
