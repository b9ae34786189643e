"""``DashboardReads`` on SQLAlchemy Core: the dashboard's aggregates, each one statement.

The statements group in the database and return a few rows: open invoices by due day
(``ix_billing_documents_due``), open deals by stage, NPS answers by month
(``ix_satisfaction_responses_answered``, by day). The top customers by margin are ranked by the
database too: a common table of every customer's revenue and cost of goods in the period
(one pass over the period's document lines, found by ``ix_billing_documents_issued``), read
twice in the same statement: the customers with amounts in other currencies (whose figures
the service converts) and the first ``limit`` of the others by margin, whose minor units
are base units already::

    reads = SqlDashboardReads(conn)
    reads.margins(date(2026, 1, 1), date(2026, 6, 30), "EUR", 10)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    case,
    func,
    or_,
    select,
    union_all,
)

from crmledger.persistence.billing_tables import billing_documents, billing_lines
from crmledger.persistence.deal_tables import deals, pipeline_stages
from crmledger.persistence.intelligence_sql import OPEN, SALES, month
from crmledger.persistence.satisfaction_tables import satisfaction_responses
from crmledger.services.dashboard_ports import (
    DueRow,
    MarginRow,
    NpsRow,
    PartyCost,
    PartySales,
    StageRow,
)

_d = billing_documents.c
_l = billing_lines.c
#: Parties per ``IN`` list (well under every driver's limit of bound parameters).
CHUNK = 500


def _issued(start: date, end: date, *kinds: str) -> list[Any]:
    return [
        _d.kind.in_(kinds),
        _d.status != "draft",
        _d.issued_on >= start,
        _d.issued_on <= end,
    ]


def _chunks(parties: Sequence[int]) -> Iterator[list[int]]:
    ordered = sorted(set(parties))
    for first in range(0, len(ordered), CHUNK):
        yield ordered[first : first + CHUNK]


def _per_party(start: date, end: date, base: str) -> Select[Any]:
    """Per party, in one pass over the period's lines: net revenue (invoices less credit
    notes), cost of goods of the invoices, and 1 when any amount is not in ``base``."""
    invoice = _d.kind == "invoice"
    costed = and_(invoice, _l.cost_minor.is_not(None), _l.cost_currency.is_not(None))
    foreign = or_(_d.currency != base, and_(costed, _l.cost_currency != base))
    return (
        select(
            _d.party_id.label("party_id"),
            func.sum(case((invoice, _l.net_minor), else_=-_l.net_minor)).label("revenue"),
            func.sum(case((costed, _l.cost_minor), else_=0)).label("cost"),
            func.max(case((foreign, 1), else_=0)).label("fx"),
        )
        .select_from(billing_documents.join(billing_lines, _l.document_id == _d.id))
        .where(*_issued(start, end, *SALES))
        .group_by(_d.party_id)
    )


class SqlDashboardReads:
    """The dashboard's reads in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    def open_invoices(self) -> list[DueRow]:
        stmt = (
            select(_d.due_on, func.count(), func.sum(_d.open_base_minor))
            .where(_d.kind == "invoice", _d.status.in_(OPEN), _d.open_minor > 0)
            .group_by(_d.due_on)
        )
        return [DueRow(due, int(n), int(owed or 0)) for due, n, owed in self._conn.execute(stmt)]

    def pipeline(self) -> list[StageRow]:
        s = pipeline_stages.c
        probability = func.coalesce(deals.c.probability_bp, s.probability_bp)
        keys = (deals.c.pipeline, deals.c.stage, deals.c.currency)
        stmt = (
            select(
                *keys,
                func.count(),
                func.sum(deals.c.amount_minor),
                func.sum(deals.c.amount_minor * probability),
            )
            .select_from(
                deals.join(
                    pipeline_stages,
                    and_(s.pipeline == deals.c.pipeline, s.key == deals.c.stage),
                )
            )
            .where(s.kind == "open")
            .group_by(*keys)
        )
        return [
            StageRow(pipe, stage, cur, int(n), int(amount or 0), int(weighted or 0))
            for pipe, stage, cur, n, amount, weighted in self._conn.execute(stmt)
        ]

    def nps(self, start: date, end: date) -> list[NpsRow]:
        # Grouped by day, the order of the index on the answer day: no date arithmetic
        # per answer, and a row per day at most.
        r = satisfaction_responses.c
        stmt = (
            select(
                r.answered_on,
                func.count(),
                func.sum(case((r.score >= 9, 1), else_=0)),
                func.sum(case((r.score <= 6, 1), else_=0)),
            )
            .where(r.kind == "nps", r.answered_on >= start, r.answered_on <= end)
            .group_by(r.answered_on)
        )
        return [
            NpsRow(day, int(n), int(p or 0), int(d or 0))
            for day, n, p, d in self._conn.execute(stmt)
        ]

    def margins(self, start: date, end: date, base: str, limit: int) -> list[MarginRow]:
        table = _per_party(start, end, base).cte("per_party")
        t = table.c
        foreign = select(t.party_id, t.revenue, t.cost, t.fx).where(t.fx == 1)
        top = (
            select(t.party_id, t.revenue, t.cost, t.fx)
            .where(t.fx == 0)
            .order_by((t.revenue - t.cost).desc(), t.party_id)
            .limit(limit)
            .subquery("top")
        )
        stmt = union_all(foreign, select(top))
        return [
            MarginRow(int(party), int(revenue or 0), int(cost or 0), bool(fx))
            for party, revenue, cost, fx in self._conn.execute(stmt)
        ]

    def party_sales(self, start: date, end: date, parties: Sequence[int]) -> list[PartySales]:
        m = month(_d.issued_on, self._postgres)
        keys = (_d.party_id, _d.kind, m, _d.currency, _d.rate)
        found = []
        for chunk in _chunks(parties):
            stmt = (
                select(*keys, func.sum(_d.net_minor))
                .where(_d.party_id.in_(chunk), *_issued(start, end, *SALES))
                .group_by(*keys)
            )
            found += [
                PartySales(int(p), k, int(mm), c, r, int(net))
                for p, k, mm, c, r, net in self._conn.execute(stmt)
            ]
        return found

    def party_costs(self, start: date, end: date, parties: Sequence[int]) -> list[PartyCost]:
        m = month(_d.issued_on, self._postgres)
        keys = (_d.party_id, m, _l.cost_currency)
        found = []
        for chunk in _chunks(parties):
            stmt = (
                select(*keys, func.sum(_l.cost_minor))
                .select_from(billing_documents.join(billing_lines, _l.document_id == _d.id))
                .where(
                    _d.party_id.in_(chunk),
                    *_issued(start, end, "invoice"),
                    _l.cost_minor.is_not(None),
                    _l.cost_currency.is_not(None),
                )
                .group_by(*keys)
            )
            found += [
                PartyCost(int(p), int(mm), c, int(cost))
                for p, mm, c, cost in self._conn.execute(stmt)
            ]
        return found
