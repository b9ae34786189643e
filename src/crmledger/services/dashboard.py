"""The home dashboard: the book's key figures for a period beside a comparison period, and
the series its charts draw, read in one read-only transaction from a few aggregates.

The period is the year to date unless given, compared with the same days of the year
before (``compare="previous"``: the period of the same length just before it). Needs
``reports:read``::

    board = DashboardService(uow, clock, cipher).acting_as(actor).dashboard()
    board.kpi("revenue").value, board.kpi("revenue").change
    [m.revenue for m in board.months]            # adds up to the revenue figure
    [c.name for c in board.top_customers]        # the ten largest gross margins

Where each figure comes from:

==============  ==========================================================================
revenue,        the income statement (default layout) of the period and of each month:
gross margin    the ledger's monthly running balances, plus the cut days at the edges
cash            balances of the accounts the cash-flow statement counts as cash, at the end
receivables     balance of the receivables control account at the end
overdue         open invoices past their due day today (documents; no comparison)
DSO             receivables / what was charged to the control account in the period
                (its debits: invoices at their gross) * days of the period
pipeline        open deals weighted by probability, in the base currency (no comparison)
NPS             the period's NPS answers
==============  ==========================================================================

The charts: revenue and margin by month, open invoices by days overdue, open deals by
stage, NPS by month, the ten customers with the largest gross margin in the period (the
profitability report's figures), and the cash-flow statement as a waterfall.

The ledger's figures are read from sums whose size does not grow with the book (monthly
running balances and the days a period's edges cut), deals by stage, answers by day. The
top customers are ranked by the database over the period's document lines and, with the
open invoices by due day, kept (:class:`BillingCache`) until billing changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Generic, TypeVar

from crmledger.core.dashboard import (
    AgingBucket,
    CustomerMargin,
    FlowStep,
    Kpi,
    MonthFigures,
    NpsMonth,
    StageFigures,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.core.intelligence import dso
from crmledger.core.statement_periods import Period, comparison
from crmledger.services.dashboard_figures import (
    aging_buckets,
    nps_months,
    nps_total,
    pipeline_stages,
    top_customers,
)
from crmledger.services.dashboard_ledger import LedgerFigures, ledger_figures
from crmledger.services.dashboard_ports import (
    DashboardUnitOfWork,
    DashboardUnitOfWorkFactory,
    DueRow,
)
from crmledger.services.intelligence_figures import money_of
from crmledger.services.party_codec import PartyCodec
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.trail import OPERATOR, Actor

TOP_CUSTOMERS = 10
#: How many periods' top customers :class:`BillingCache` keeps.
RANKINGS_KEPT = 8
#: The comparisons a dashboard offers.
COMPARISONS = ("last-year", "previous")
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Key figures and chart series of ``period`` (compared with ``comparison``), in
    ``currency``, seen on ``as_of``."""

    period: Period
    comparison: Period
    as_of: date
    currency: str
    kpis: tuple[Kpi, ...]
    months: tuple[MonthFigures, ...]
    aging: tuple[AgingBucket, ...]
    pipeline: tuple[StageFigures, ...]
    nps: tuple[NpsMonth, ...]
    top_customers: tuple[CustomerMargin, ...]
    cash_flow: tuple[FlowStep, ...]
    notes: tuple[str, ...] = ()

    def kpi(self, key: str) -> Kpi:
        """The key figure called ``key``; ``KeyError`` when there is none."""
        for kpi in self.kpis:
            if kpi.key == key:
                return kpi
        raise KeyError(key)


def _period(start: date | None, end: date | None, today: date, compare: str) -> Period:
    if compare not in COMPARISONS:
        raise InvalidFieldError("compare", f"one of {', '.join(COMPARISONS)}")
    end = end or today
    return Period(start or date(end.year, 1, 1), end)


def _kpis(ledger: LedgerFigures, days: tuple[int, int]) -> list[Kpi]:
    owed, sales = ledger.receivables, ledger.charged
    return [
        Kpi("revenue", "Revenue", *ledger.revenue),
        Kpi("gross_margin", "Gross margin", *ledger.gross_margin),
        Kpi("cash", "Cash", *ledger.cash),
        Kpi("receivables", "Receivables", *owed),
        Kpi(
            "dso",
            "Days sales outstanding",
            dso(owed[0], sales[0], days[0]),
            dso(owed[1], sales[1], days[1]),
            unit="days",
        ),
    ]


class TokenCache(Generic[K, V]):
    """A few values by key, each kept while billing's change token (the outbox's last id:
    every invoice, credit note and payment moves it) stays what it was when the value was
    read. Thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[K, tuple[int, V]] = OrderedDict()

    def get(self, key: K, token: int, build: Callable[[], V]) -> V:
        """The value of ``key`` read at ``token``, else a new one from ``build``."""
        with self._lock:
            found = self._kept.get(key)
            if found is not None and found[0] == token:
                self._kept.move_to_end(key)
                return found[1]
        value = build()
        with self._lock:
            self._kept[key] = (token, value)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return value


class BillingCache:
    """What the dashboard reads from billing documents rather than from sums: the top
    customers of a period (ids and figures; names are read each time), which read every
    document line of the period, and the open invoices by due day. Kept until billing
    changes (an exchange rate entered afterwards for a month's cost of goods in another
    currency shows once it does); shared by every copy of the service."""

    def __init__(self, periods: int = RANKINGS_KEPT) -> None:
        self.rankings: TokenCache[Period, tuple[CustomerMargin, ...]] = TokenCache(periods)
        self.open_invoices: TokenCache[str, tuple[DueRow, ...]] = TokenCache(1)


class DashboardService:
    """The home dashboard's figures."""

    def __init__(
        self,
        uow: DashboardUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        actor: Actor = OPERATOR,
        cache: BillingCache | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cipher = cipher
        self._codec = PartyCodec(cipher)
        self.actor = actor
        self._cache = cache or BillingCache()

    def acting_as(self, actor: Actor) -> DashboardService:
        """The same service (and cache), for another actor."""
        return DashboardService(self._uow, self._clock, self._cipher, actor, self._cache)

    def _named(
        self, uow: DashboardUnitOfWork, ranked: tuple[CustomerMargin, ...]
    ) -> tuple[CustomerMargin, ...]:
        """``ranked`` with the customers' names as they are now."""
        rows = uow.parties.many([c.party_id for c in ranked])
        names = {r.id: self._codec.decode(r).display_name for r in rows}
        return tuple(replace(c, name=names.get(c.party_id, f"Party {c.party_id}")) for c in ranked)

    def dashboard(
        self, start: date | None = None, end: date | None = None, compare: str = "last-year"
    ) -> Dashboard:
        """The figures of ``start`` (default: 1 January of ``end``'s year) to ``end``
        (default: today), compared with ``compare`` (``last-year`` or ``previous``)."""
        self.actor.require("reports", "read")
        today = self._clock.today()
        period = _period(start, end, today, compare)
        earlier = comparison(period, compare)
        with self._uow(readonly=True) as uow:
            money = money_of(uow)
            ledger = ledger_figures(uow, money.base, period, earlier)
            token = uow.intelligence.change_token()
            due = self._cache.open_invoices.get(
                "open", token, lambda: tuple(uow.dashboard.open_invoices())
            )
            aging = aging_buckets(due, money, today)
            pipeline = pipeline_stages(uow, money, today)
            nps = nps_months(uow, period)
            before = nps_total(nps_months(uow, earlier))
            ranked = self._cache.rankings.get(
                period, token, lambda: top_customers(uow, period, TOP_CUSTOMERS)
            )
            top = self._named(uow, ranked)
        days = ((period.end - period.start).days + 1, (earlier.end - earlier.start).days + 1)
        kpis = _kpis(ledger, days)
        overdue = sum((b.amount for b in aging if b.overdue), money.zero)
        weighted = sum((s.weighted for s in pipeline.stages), money.zero)
        kpis.insert(4, Kpi("overdue", "Overdue", overdue))
        kpis += [
            Kpi("pipeline", "Weighted pipeline", weighted),
            Kpi("nps", "NPS", nps_total(nps).score, before.score, unit="score"),
        ]
        notes = ledger.notes + tuple(
            f"Open deals in {code} have no exchange rate to {money.base} and are left out."
            for code in pipeline.left_out
        )
        return Dashboard(
            period=period,
            comparison=earlier,
            as_of=today,
            currency=money.base,
            kpis=tuple(kpis),
            months=ledger.months,
            aging=aging,
            pipeline=pipeline.stages,
            nps=nps,
            top_customers=top,
            cash_flow=ledger.steps,
            notes=notes,
        )
