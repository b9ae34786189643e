"""The financial statements, the entries behind each figure, and what configures them.

Each statement reads the book once (one read-only unit of work, a few grouped reads for all
its columns; see :mod:`crmledger.services.statement_values`) and builds the rows in the
core::

    statements = StatementService(uow, clock)
    year = Period(date(2026, 1, 1), date(2026, 12, 31))
    income = statements.income_statement(year, compare="previous,last-year")
    income.amount("net_result", 1)                     # the year before
    sheet = statements.balance_sheet(date(2026, 12, 31), compare="last-year")
    flow = statements.cash_flow(year)
    rent = income.row("operating_expenses:Expenses:Rent")
    statements.drilldown(rent.drill.accounts, *income.columns[0].window(rent.drill.span))

Reading needs ``reports:read``; overriding an account's cash-flow class or saving a layout
needs ``accounts:write``; closing and reopening a year need ``journal:post``
(:mod:`crmledger.services.year_close`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from crmledger.core.accounts import Account
from crmledger.core.cash_flow import (
    NON_CASH_JOURNALS,
    FlowBalances,
    FlowClass,
    cash_flow,
    classify,
    default_class,
)
from crmledger.core.errors import InvalidFieldError, UnknownAccountError
from crmledger.core.money import from_minor
from crmledger.core.statement_layout import DEFAULT_LAYOUT, Layout, parse_layout
from crmledger.core.statement_periods import Period, comparisons, year_start
from crmledger.core.statements import (
    CLOSING_JOURNAL,
    Column,
    Statement,
    balance_sheet,
    income_statement,
)
from crmledger.services.billing_common import base_currency
from crmledger.services.errors import NotFoundError
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.statement_ports import CloseRow, DrillQuery, DrillRow
from crmledger.services.statement_values import LedgerValues
from crmledger.services.trail import OPERATOR, Actor, record
from crmledger.services.year_close import YearClose, close_year, reopen_year

MAX_DRILL = 500


@dataclass(frozen=True, slots=True)
class DrillPosting:
    """A posting behind a figure; ``base`` is its value in the base currency (``None``
    when it has none)."""

    entry_id: int
    date: date
    reference: str
    narration: str
    journal: str
    account: str
    commodity: str
    amount: Decimal
    base: Decimal | None


@dataclass(frozen=True, slots=True)
class DrillPage:
    """A page of entries (by date) and their postings to the accounts asked for;
    ``next_after`` continues after the last entry (``None``: no more)."""

    accounts: tuple[str, ...]
    start: date | None
    end: date | None
    currency: str
    postings: tuple[DrillPosting, ...]
    next_after: tuple[date, int] | None

    @property
    def total(self) -> Decimal:
        """The base value of this page's postings."""
        return sum((p.base for p in self.postings if p.base is not None), Decimal(0))


@dataclass(frozen=True, slots=True)
class LedgerSection:
    """One account in the general ledger: its balance before the period, its postings
    in the period and its balance at the end, in the base currency."""

    account: str
    opening: Decimal
    postings: tuple[DrillPosting, ...]
    closing: Decimal


@dataclass(frozen=True, slots=True)
class FlowClassView:
    """An account's cash-flow class, and whether an accountant chose it."""

    account: str
    flow_class: FlowClass
    overridden: bool


def _columns(main: Period, compare: str | None, as_of: bool) -> tuple[Column, ...]:
    periods = (main, *comparisons(main, compare))
    return tuple(Column(p.end.isoformat() if as_of else p.label, p.start, p.end) for p in periods)


def _notes(per_column: Sequence[set[str]], columns: Sequence[Column], base: str) -> list[str]:
    return [
        f"{column.label}: amounts in {', '.join(sorted(codes))} have no value in {base} "
        f"(no rate on or before {column.end.isoformat()}) and are left out."
        for codes, column in zip(per_column, columns, strict=True)
        if codes
    ]


class StatementService:
    """Income statement, balance sheet, cash-flow statement, drill-down and close."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self.actor = actor

    def acting_as(self, actor: Actor) -> StatementService:
        """The same service, for another actor."""
        return StatementService(self._uow, self._clock, actor)

    # -- statements ---------------------------------------------------------------------

    def income_statement(
        self,
        period: Period,
        compare: str | None = None,
        layout: str = "default",
        depth: int | None = None,
    ) -> Statement:
        """Revenue to net result for ``period`` and its comparisons (``"previous,
        last-year,2024-01-01..2024-12-31"``), by the layout called ``layout``."""
        self.actor.require("reports", "read")
        columns = _columns(period, compare, as_of=False)
        with self._uow(readonly=True) as uow:
            base, chart, values = _open(uow, columns)
            chosen = _layout(uow, layout)
            read = [values.valued(values.span(c.start, c.end), c.end) for c in columns]
        activity = [balances for balances, _ in read]
        scale = values.scales[base]
        statement = income_statement(columns, activity, chart, base, scale, chosen, depth)
        return statement.with_notes(_notes([left for _, left in read], columns, base))

    def balance_sheet(
        self,
        as_of: date,
        compare: str | None = None,
        start: date | None = None,
        depth: int | None = None,
    ) -> Statement:
        """Assets, liabilities and equity at ``as_of``; comparisons shift the period from
        ``start`` (default: 1 January) to ``as_of`` and show its end."""
        self.actor.require("reports", "read")
        columns = _columns(Period(start or year_start(as_of), as_of), compare, as_of=True)
        with self._uow(readonly=True) as uow:
            base, chart, values = _open(uow, columns)
            to_date = [values.valued(values.span(None, c.end), c.end) for c in columns]
            ytd = [values.valued(values.span(year_start(c.end), c.end), c.end) for c in columns]
        scale = values.scales[base]
        statement = balance_sheet(
            columns, [b for b, _ in to_date], [b for b, _ in ytd], chart, base, scale, depth
        )
        return statement.with_notes(_notes([left for _, left in to_date], columns, base))

    def cash_flow(
        self, period: Period, compare: str | None = None, depth: int | None = None
    ) -> Statement:
        """Cash flows from operating, investing and financing activities in ``period``
        (and its comparisons) by the indirect method."""
        self.actor.require("reports", "read")
        columns = _columns(period, compare, as_of=False)
        with self._uow(readonly=True) as uow:
            base, chart, values = _open(uow, columns)
            overrides = {n: FlowClass(c) for n, c in uow.statements.flow_classes().items()}
            read = [_flow_column(values, c) for c in columns]
        balances = FlowBalances(*([r[i][0] for r in read] for i in range(4)))
        classes = classify(chart, overrides)
        statement = cash_flow(columns, balances, classes, chart, base, values.scales[base], depth)
        left = [set().union(*(r[i][1] for i in range(4))) for r in read]
        return statement.with_notes(_notes(left, columns, base))

    # -- the entries behind a figure ----------------------------------------------------

    def drilldown(
        self,
        accounts: Sequence[str] | None,
        start: date | None,
        end: date | None,
        *,
        journals: Sequence[str] = (),
        exclude: Sequence[str] = (CLOSING_JOURNAL,),
        after: tuple[date, int] | None = None,
        limit: int = 100,
    ) -> DrillPage:
        """Entries with postings to ``accounts`` (each with its sub-accounts; ``None``:
        every account, the journal) dated ``start`` to ``end``, by date, ``limit`` entries
        at a time after the keyset ``after``; closing entries are left out unless
        ``exclude`` is empty."""
        self.actor.require("reports", "read")
        if not 1 <= limit <= MAX_DRILL:
            raise InvalidFieldError("limit", f"a page holds 1 to {MAX_DRILL} entries")
        if start is not None and end is not None and end < start:
            raise InvalidFieldError("to", "the period ends before it starts")
        with self._uow(readonly=True) as uow:
            known = uow.ledger.accounts()
            ids = None if accounts is None else _account_ids(known, accounts)
            base = base_currency(uow)
            scales = uow.ledger.scales()
            query = DrillQuery(ids, start, end, tuple(journals), tuple(exclude), after, limit)
            rows = uow.statements.drill(base, query)
        names = {i: name for name, (i, _) in known.items()}
        postings = tuple(_postings(rows, names, scales, base))
        entries = list(dict.fromkeys((p.date, p.entry_id) for p in postings))
        more = len(entries) == limit
        shown = tuple(sorted(set(accounts))) if accounts is not None else ()
        return DrillPage(shown, start, end, base, postings, entries[-1] if more else None)

    def general_ledger(
        self, period: Period, accounts: Sequence[str] | None = None
    ) -> list[LedgerSection]:
        """Every account (or those of ``accounts``, with their sub-accounts) with a balance
        or postings: opening balance, the postings of ``period`` by date, closing balance;
        closing entries left out, as in the statements."""
        self.actor.require("reports", "read")
        before = period.start - timedelta(days=1)
        with self._uow(readonly=True) as uow:
            known = uow.ledger.accounts()
            ids = None if accounts is None else _account_ids(known, accounts)
            base = base_currency(uow)
            values = LedgerValues(uow, base, period.end)
            opening, _ = values.valued(values.span(None, before), before)
            closing, _ = values.valued(values.span(None, period.end), period.end)
            query = DrillQuery(ids, period.start, period.end, (), (CLOSING_JOURNAL,))
            rows = _all_rows(uow, base, replace(query, limit=MAX_DRILL))
        names = {i: name for name, (i, _) in known.items()}
        wanted = set(names.values()) if ids is None else {names[i] for i in ids}
        zero = from_minor(0, values.scales[base])
        lines: dict[str, list[DrillPosting]] = {}
        for posting in _postings(rows, names, values.scales, base):
            lines.setdefault(posting.account, []).append(posting)
        shown = sorted(n for n in wanted if opening.get(n) or closing.get(n) or n in lines)
        return [
            LedgerSection(n, opening.get(n, zero), tuple(lines.get(n, ())), closing.get(n, zero))
            for n in shown
        ]

    # -- cash-flow classes and layouts --------------------------------------------------

    def flow_classes(self) -> list[FlowClassView]:
        """Every balance-sheet account's cash-flow class."""
        self.actor.require("reports", "read")
        with self._uow(readonly=True) as uow:
            names = sorted(uow.ledger.accounts())
            overrides = {n: FlowClass(c) for n, c in uow.statements.flow_classes().items()}
        classes = classify(names, overrides)
        return [FlowClassView(n, c, n in overrides) for n, c in sorted(classes.items())]

    def set_flow_class(self, account: str, flow_class: FlowClass | None) -> None:
        """Override ``account``'s cash-flow class (and its sub-accounts'); ``None`` goes
        back to the default rule."""
        self.actor.require("accounts", "write")
        if default_class(account) is None:
            raise InvalidFieldError("account", f"{account} is an income or expense account")
        with self._uow() as uow:
            known = uow.ledger.accounts()
            if account not in known:
                raise UnknownAccountError(account)
            before = uow.statements.flow_classes().get(account)
            uow.statements.set_flow_class(known[account][0], flow_class and flow_class.value)
            after = {"flow_class": flow_class.value if flow_class else None}
            record(
                uow,
                self.actor,
                self._clock.now(),
                "statement.flow-class",
                "account",
                account,
                before={"flow_class": before},
                after=after,
            )
            uow.commit()

    def layouts(self) -> list[Layout]:
        """The default layout and the stored ones, by name."""
        self.actor.require("reports", "read")
        with self._uow(readonly=True) as uow:
            stored = uow.statements.layouts()
        found = [parse_layout(name, json.loads(rules)) for name, rules in sorted(stored.items())]
        return [DEFAULT_LAYOUT, *(lay for lay in found if lay.name != DEFAULT_LAYOUT.name)]

    def save_layout(self, name: str, rules: Sequence[dict[str, object]]) -> Layout:
        """Store the layout ``name`` (replacing one of that name); the rules are checked
        first and a bad one is refused naming it."""
        self.actor.require("accounts", "write")
        layout = parse_layout(name, rules)
        if layout.name == DEFAULT_LAYOUT.name:
            raise InvalidFieldError("name", "the default layout cannot be replaced")
        with self._uow() as uow:
            uow.statements.save_layout(layout.name, json.dumps(layout.document()))
            record(
                uow,
                self.actor,
                self._clock.now(),
                "statement.layout",
                "layout",
                layout.name,
                after={"rules": len(layout.rules)},
            )
            uow.commit()
        return layout

    # -- year-end close -----------------------------------------------------------------

    def close_year(self, year: int) -> YearClose:
        """Post the closing entry of ``year``, record the close and lock the year."""
        self.actor.require("journal", "post")
        with self._uow() as uow:
            done = close_year(uow, self.actor, self._clock, year)
            uow.commit()
        return done

    def reopen_year(self, year: int) -> YearClose:
        """Reverse the closing entry of ``year`` and unlock the year."""
        self.actor.require("journal", "post")
        with self._uow() as uow:
            done = reopen_year(uow, self.actor, self._clock, year)
            uow.commit()
        return done

    def closes(self) -> list[CloseRow]:
        """Every year-end close, reopened ones included."""
        self.actor.require("reports", "read")
        with self._uow(readonly=True) as uow:
            return uow.statements.closes()


def _open(
    uow: UnitOfWork, columns: Sequence[Column]
) -> tuple[str, dict[str, Account], LedgerValues]:
    base = base_currency(uow)
    chart = {name: account for name, (_, account) in uow.ledger.accounts().items()}
    return base, chart, LedgerValues(uow, base, max(c.end for c in columns))


def _layout(uow: UnitOfWork, name: str) -> Layout:
    if name == DEFAULT_LAYOUT.name:
        return DEFAULT_LAYOUT
    stored = uow.statements.layouts().get(name)
    if stored is None:
        raise NotFoundError(f"no statement layout {name!r}")
    return parse_layout(name, json.loads(stored))


def _flow_column(values: LedgerValues, column: Column) -> list[tuple[dict[str, Decimal], set[str]]]:
    before = column.start - timedelta(days=1)
    return [
        values.valued(values.span(None, before), before),
        values.valued(values.span(column.start, column.end), column.end),
        values.valued(values.span(None, column.end), column.end),
        values.valued(values.journal_span(NON_CASH_JOURNALS, column.start, column.end), column.end),
    ]


def _account_ids(known: dict[str, tuple[int, Account]], accounts: Sequence[str]) -> tuple[int, ...]:
    ids = []
    for wanted in accounts:
        found = [i for n, (i, _) in known.items() if n == wanted or n.startswith(wanted + ":")]
        if not found:
            raise UnknownAccountError(wanted)
        ids += found
    return tuple(sorted(set(ids)))


def _postings(
    rows: Sequence[DrillRow], names: dict[int, str], scales: dict[str, int], base: str
) -> list[DrillPosting]:
    return [
        DrillPosting(
            r.entry_id,
            r.date,
            r.reference,
            r.narration,
            r.journal,
            names[r.account_id],
            r.commodity,
            from_minor(r.amount_minor, scales[r.commodity]),
            None if r.base_minor is None else from_minor(r.base_minor, scales[base]),
        )
        for r in rows
    ]


def _all_rows(uow: UnitOfWork, base: str, query: DrillQuery) -> list[DrillRow]:
    """Every page of ``query``."""
    rows: list[DrillRow] = []
    while True:
        page = uow.statements.drill(base, query)
        rows += page
        entries = list(dict.fromkeys((r.date, r.entry_id) for r in page))
        if len(entries) < query.limit:
            return rows
        query = replace(query, after=entries[-1])
