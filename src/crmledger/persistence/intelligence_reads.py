"""``IntelligenceReads`` on SQLAlchemy Core: aggregates for customer intelligence.

Each read is one ``GROUP BY`` query (statements in :mod:`.intelligence_sql`). Scoped to one
party, each filters on ``party_id`` first, so it runs on that party's rows of an index whose
key starts with ``party_id`` (SQLite's ``EXPLAIN QUERY PLAN`` of every statement of a 360 is
printed by ``python -m benchmarks.intelligence --plans``):

==============================  ===================================================
read                            index
==============================  ===================================================
sales, costs, credit days,      ``ix_billing_documents_party`` (+ the lines' and
oldest overdue                  allocations' keys by document)
service counts, complaints      ``ix_interactions_timeline``, ``ix_dunning_notices_party``
answers                         ``ix_satisfaction_responses_party``
open deals                      ``ix_deals_party``
==============================  ===================================================
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from crmledger.persistence import intelligence_sql as sql
from crmledger.persistence.billing_tables import allocations, billing_documents, outbox_events
from crmledger.persistence.crm_tables import parties
from crmledger.persistence.intelligence_sql import OPEN, Shape
from crmledger.services.intelligence_ports import (
    ComplaintCounts,
    ComplaintRow,
    CostRow,
    CreditDaysRow,
    DebtorRow,
    OpenDealRow,
    PartyDimension,
    ProductSalesRow,
    ReceivableRow,
    SalesRow,
    Scope,
    ServiceCountRow,
)

_d = billing_documents.c


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _shape(scope: Scope) -> Shape:
    return (scope.party_id is not None, scope.start is not None, scope.end is not None)


def _params(scope: Scope) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if scope.party_id is not None:
        values["party"] = scope.party_id
    if scope.start is not None:
        values["start"] = scope.start
        values["start_at"] = _start_of(scope.start)
    if scope.end is not None:
        values["end"] = scope.end
        values["end_at"] = _start_of(scope.end + timedelta(days=1))
    return values


class SqlIntelligenceReads:
    """The intelligence reads in one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    def _rows(self, stmt: Any, values: dict[str, Any]) -> list[Any]:
        return list(self._conn.execute(stmt, values))

    # -- sales and costs -------------------------------------------------------------------

    def sales(self, scope: Scope) -> list[SalesRow]:
        stmt = sql.sales(self._postgres, _shape(scope))
        return [
            SalesRow(int(p), k, int(m), c, r, int(n), int(net), int(gross), first, last)
            for p, k, m, c, r, n, net, gross, first, last in self._rows(stmt, _params(scope))
        ]

    def costs(self, scope: Scope) -> list[CostRow]:
        stmt = sql.costs(self._postgres, _shape(scope))
        return [
            CostRow(int(p), int(m), c, int(cost))
            for p, m, c, cost in self._rows(stmt, _params(scope))
            if c is not None
        ]

    def product_sales(self, scope: Scope) -> list[ProductSalesRow]:
        stmt = sql.product_sales(self._postgres, _shape(scope))
        return [
            ProductSalesRow(
                int(p), None if pid is None else int(pid), k, int(m), c, r, int(net), cc, int(cost)
            )
            for p, pid, k, m, c, r, net, cc, cost in self._rows(stmt, _params(scope))
        ]

    # -- cost to serve ---------------------------------------------------------------------

    def service_counts(self, scope: Scope) -> list[ServiceCountRow]:
        shape, values = _shape(scope), _params(scope)
        statements = (sql.touches(self._postgres, shape), sql.dunning(self._postgres, shape))
        return [
            ServiceCountRow(int(p), int(m), str(k), int(c))
            for stmt in statements
            for p, m, k, c in self._rows(stmt, values)
        ]

    def credit_days(self, scope: Scope) -> list[CreditDaysRow]:
        shape, values = _shape(scope), _params(scope)
        rows = [
            CreditDaysRow(int(p), c, r, issued, settled_on, int(m))
            for p, c, r, issued, settled_on, m in self._rows(sql.settled(shape), values)
        ]
        rows += [
            CreditDaysRow(int(p), c, r, issued, None, int(m))
            for p, c, r, issued, m in self._rows(sql.still_open(shape), values)
        ]
        return rows

    # -- one customer ----------------------------------------------------------------------

    def open_deals(self, party_id: int, limit: int) -> list[OpenDealRow]:
        return [
            OpenDealRow(int(i), t, st, int(a), c, int(bp), close)
            for i, t, st, a, c, bp, close in self._rows(
                sql.open_deals(), {"party": party_id, "limit": limit}
            )
        ]

    def open_complaints(self, party_id: int, limit: int) -> list[ComplaintRow]:
        return [
            ComplaintRow(int(i), subj, prio, st, _aware(at), None if due is None else _aware(due))
            for i, subj, prio, st, at, due in self._rows(
                sql.open_complaints(), {"party": party_id, "limit": limit}
            )
        ]

    def complaint_counts(self, party_id: int, since: datetime) -> ComplaintCounts:
        values = {"party": party_id, "since": since.astimezone(UTC)}
        recent, still = self._conn.execute(sql.complaint_counts(), values).one()
        return ComplaintCounts(int(recent or 0), int(still or 0))

    def nps_answers(self, party_id: int) -> list[tuple[date, int]]:
        rows = self._rows(sql.nps_answers(), {"party": party_id})
        return [(day, int(score)) for day, score in rows]

    def oldest_overdue(self, party_id: int, today: date) -> date | None:
        values = {"party": party_id, "today": today}
        found: date | None = self._conn.execute(sql.oldest_overdue(), values).scalar_one()
        return found

    # -- the whole book --------------------------------------------------------------------

    def debtors(self, today: date, limit: int) -> list[DebtorRow]:
        owed = func.sum(_d.open_base_minor)
        overdue = func.sum(case((_d.due_on < today, _d.open_base_minor), else_=0))
        stmt = (
            select(_d.party_id, owed, overdue, func.min(_d.due_on))
            .where(_d.kind == "invoice", _d.status.in_(OPEN), _d.open_minor > 0)
            .group_by(_d.party_id)
            .order_by(owed.desc(), _d.party_id)
            .limit(limit)
        )
        return [
            DebtorRow(int(p), int(o), int(v or 0), due) for p, o, v, due in self._conn.execute(stmt)
        ]

    def receivables_at(self, day: date) -> list[ReceivableRow]:
        a = allocations.c
        keys = (_d.currency, _d.rate, _d.due_on)
        issued = [_d.kind == "invoice", _d.status != "draft", _d.issued_on <= day]
        billed = select(*keys, func.sum(_d.gross_minor)).where(*issued).group_by(*keys)
        settled = (
            select(*keys, func.sum(a.amount_minor))
            .select_from(billing_documents.join(allocations, a.invoice_id == _d.id))
            .where(*issued, a.allocated_on <= day)
            .group_by(*keys)
        )
        sums: dict[tuple[str, str | None, bool], int] = defaultdict(int)
        for stmt, sign in ((billed, 1), (settled, -1)):
            for currency, rate, due, minor in self._conn.execute(stmt):
                sums[(currency, rate, due is None or due >= day)] += sign * int(minor)
        return [ReceivableRow(c, r, cur, m) for (c, r, cur), m in sorted(sums.items(), key=str)]

    def open_receivables(self, today: date) -> tuple[int, int]:
        overdue = case((_d.due_on < today, _d.open_base_minor), else_=0)
        stmt = select(func.sum(_d.open_base_minor), func.sum(overdue)).where(
            _d.kind == "invoice", _d.status.in_(OPEN), _d.open_minor > 0
        )
        owed, late = self._conn.execute(stmt).one()
        return int(owed or 0), int(late or 0)

    def dimensions(self) -> list[PartyDimension]:
        p = parties.c
        stmt = select(p.id, p.owner_id, p.segment)
        return [
            PartyDimension(int(i), None if o is None else int(o), s)
            for i, o, s in self._conn.execute(stmt)
        ]

    def change_token(self) -> int:
        found = self._conn.execute(select(func.max(outbox_events.c.id))).scalar_one()
        return int(found or 0)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
