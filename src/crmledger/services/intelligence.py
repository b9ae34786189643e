"""Customer intelligence: the customer 360, profitability, RFM, cohorts and receivables KPIs.

Every use case reads in one read-only transaction and needs ``reports:read`` and
``parties:read``. The models are pure and explained in :mod:`crmledger.core.intelligence`
and :mod:`crmledger.core.profitability`; the cost to serve is the book's setting
``cost_to_serve`` (flat ``key = value`` JSON in the settings table, defaults in code),
changed with :meth:`CustomerIntelligenceService.set_cost_to_serve`::

    insight = CustomerIntelligenceService(uow, clock, cipher).acting_as(actor)
    view = insight.customer_360(7)
    view.churn.score, [d.name for d in view.churn.drivers]
    insight.profitability("customer", date(2026, 1, 1), date(2026, 6, 30)).totals.net
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta

from crmledger.core.churn import ChurnModel
from crmledger.core.errors import InvalidFieldError
from crmledger.core.intelligence import month_label
from crmledger.core.profitability import (
    DEFAULT_COST_TO_SERVE,
    CostToServe,
    ProfitLine,
    cost_settings,
    flat,
)
from crmledger.services.customer_360 import Customer360, Reading, customer_360
from crmledger.services.intelligence_figures import money_of
from crmledger.services.intelligence_ports import (
    IntelligenceUnitOfWork,
    IntelligenceUnitOfWorkFactory,
    Scope,
)
from crmledger.services.intelligence_reports import (
    BY,
    NO_PRODUCT,
    NO_SALES,
    CohortReport,
    KeyOf,
    ProfitabilityReport,
    ReceivablesReport,
    RfmReport,
    all_scores,
    book_sales,
    check_choice,
    check_segment,
    cohort_report,
    grouped,
    parse_month,
    product_lines,
    profit_cells,
    receivables,
    segment_of,
    sort_lines,
    summary,
    total_line,
)
from crmledger.services.intelligence_snapshot import BookSnapshot, SnapshotCache, take
from crmledger.services.party_codec import PartyCodec
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.trail import OPERATOR, Actor, record

COST_SETTING = "cost_to_serve"
#: Most lines or scores one call returns.
PAGE_MAX = 100_000
TOP_MAX = 100
DEFAULT_KPI_DAYS = 90
PARTY_LABEL = "(no customer)"


class CustomerIntelligenceService:
    """The customer 360 and the customer-intelligence reports."""

    def __init__(
        self,
        uow: IntelligenceUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        actor: Actor = OPERATOR,
        snapshots: SnapshotCache | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cipher = cipher
        self._codec = PartyCodec(cipher)
        self._actor = actor
        self._snapshots = snapshots or SnapshotCache()

    def acting_as(self, actor: Actor) -> CustomerIntelligenceService:
        """The same service (and snapshot cache) for another actor."""
        return CustomerIntelligenceService(
            self._uow, self._clock, self._cipher, actor, self._snapshots
        )

    def _require(self) -> None:
        self._actor.require("reports", "read")
        self._actor.require("parties", "read")

    # -- settings --------------------------------------------------------------------------

    def _config(self, uow: IntelligenceUnitOfWork) -> CostToServe:
        stored = uow.ledger.get_setting(COST_SETTING)
        if not stored:
            return DEFAULT_COST_TO_SERVE
        return cost_settings(json.loads(stored), money_of(uow).base_scale)

    def cost_to_serve(self) -> CostToServe:
        """The cost-to-serve configuration in force (the defaults until changed)."""
        self._require()
        with self._uow(readonly=True) as uow:
            return self._config(uow)

    def set_cost_to_serve(self, changes: Mapping[str, str], reset: bool = False) -> CostToServe:
        """Change the named settings (``interaction.call``, ``complaint``, ``credit_note``,
        ``dunning_step``, ``credit_rate``) of the configuration in force, or of the defaults
        when ``reset``; a bad key or value is refused naming it and changes nothing."""
        self._actor.require("billing", "write")
        with self._uow() as uow:
            before = self._config(uow)
            start = DEFAULT_COST_TO_SERVE if reset else before
            after = cost_settings(changes, money_of(uow).base_scale, start)
            uow.ledger.set_setting(COST_SETTING, json.dumps(flat(after), sort_keys=True))
            at = self._clock.now()
            record(
                uow,
                self._actor,
                at,
                "cost_to_serve.set",
                "settings",
                COST_SETTING,
                flat(before),
                flat(after),
            )
            uow.commit()
        return after

    # -- names -----------------------------------------------------------------------------

    def _names(self, uow: IntelligenceUnitOfWork, ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(ids))
        return {r.id: self._codec.decode(r).display_name for r in uow.parties.many(wanted)}

    # -- the 360 ---------------------------------------------------------------------------

    def _snapshot(self, uow: IntelligenceUnitOfWork, today: date) -> BookSnapshot:
        now = self._clock.now()
        token = uow.intelligence.change_token()
        return self._snapshots.get(token, now, today, lambda: take(uow, token, today, now))

    def customer_360(self, party_id: int) -> Customer360:
        """Everything about one customer (:class:`NotFoundError` for no such party)."""
        self._require()
        today, now = self._clock.today(), self._clock.now()
        with self._uow(readonly=True) as uow:
            reading = Reading(
                today, now, self._config(uow), self._snapshot(uow, today), ChurnModel()
            )
            return customer_360(uow, self._codec, party_id, reading)

    # -- profitability ---------------------------------------------------------------------

    def profitability(
        self,
        by: str = "customer",
        start: date | None = None,
        end: date | None = None,
        *,
        sort: str = "-revenue",
        offset: int = 0,
        limit: int = PAGE_MAX,
    ) -> ProfitabilityReport:
        """Revenue, cost of goods, gross margin, cost to serve and net profitability per
        ``by`` (customer, product, owner, segment, rfm_segment, month) of documents and
        events dated ``start..end`` (inclusive); ``offset`` and ``limit`` page the sorted
        lines."""
        self._require()
        check_choice("by", by, BY)
        _range(start, end)
        today = self._clock.today()
        with self._uow(readonly=True) as uow:
            config = self._config(uow)
            scope = Scope(start=start, end=end)
            money, found = profit_cells(uow, scope, today)
            if by == "product":
                lines = product_lines(uow, scope, found, money, config)
            else:
                lines = grouped(found, self._key_of(uow, by, today), config, money.base_scale)
            ordered = sort_lines(lines, sort)
            page = self._labelled(uow, by, ordered[offset : offset + limit])
            return ProfitabilityReport(
                by,
                start,
                end,
                today,
                money.base,
                tuple(page),
                len(ordered),
                total_line(ordered, money.zero),
                config,
            )

    def _key_of(self, uow: IntelligenceUnitOfWork, by: str, today: date) -> KeyOf:
        if by == "customer":
            return lambda party, _: (str(party), "")
        if by == "month":
            return lambda _, month: (_month_text(month), _month_text(month))
        if by == "rfm_segment":
            money, sales = book_sales(uow)
            segments = segment_of(all_scores(money, sales, today)[1])
            return lambda party, _: _labelled_key(segments.get(party, ""), "(no purchases)")
        dims = {d.party_id: d for d in uow.intelligence.dimensions()}
        if by == "owner":
            owners = {p: d.owner_id for p, d in dims.items()}
            return lambda party, _: _owner(owners.get(party))
        segment = {p: d.segment for p, d in dims.items()}
        return lambda party, _: _labelled_key(segment.get(party, ""), "(no segment)")

    def _labelled(
        self, uow: IntelligenceUnitOfWork, by: str, lines: list[ProfitLine]
    ) -> list[ProfitLine]:
        if by == "customer":
            names = self._names(uow, (int(line.key) for line in lines))
            return [replace(line, label=names.get(int(line.key), PARTY_LABEL)) for line in lines]
        if by != "product":
            return lines
        ids = [int(line.key) for line in lines if line.key.isdigit()]
        products = {p.id: f"{p.sku} {p.name}" for p in uow.commerce.products(ids)}
        labels = {NO_PRODUCT: "(no product)", NO_SALES: "(cost to serve without sales)"}
        return [
            replace(
                line,
                label=products.get(int(line.key), line.key)
                if line.key.isdigit()
                else labels[line.key],
            )
            for line in lines
        ]

    # -- RFM and cohorts -------------------------------------------------------------------

    def rfm(
        self, segment: str | None = None, *, offset: int = 0, limit: int = PAGE_MAX
    ) -> RfmReport:
        """Every customer's RFM scores and segment (only ``segment``'s when given), by party
        id, with the quintile boundaries and a summary of every segment."""
        self._require()
        check_segment(segment)
        today = self._clock.today()
        with self._uow(readonly=True) as uow:
            money, sales = book_sales(uow)
            breaks, scores = all_scores(money, sales, today)
            chosen = [s for s in scores if segment is None or s.segment == segment]
            page = tuple(chosen[offset : offset + limit])
            names = self._names(uow, (s.party_id for s in page))
            return RfmReport(today, breaks, summary(scores), page, len(chosen), names)

    def cohorts(self, start: str | None = None, end: str | None = None) -> CohortReport:
        """Retention of customers by the month of their first invoice (``YYYY-MM``; the
        cohorts from ``start`` to ``end``, all by default) up to this month."""
        self._require()
        first, last = parse_month("from", start), parse_month("to", end)
        today = self._clock.today()
        with self._uow(readonly=True) as uow:
            _, sales = book_sales(uow)
            return cohort_report(sales, today, first, last)

    # -- receivables -----------------------------------------------------------------------

    def receivables_kpis(
        self,
        start: date | None = None,
        end: date | None = None,
        top: int = 10,
    ) -> ReceivablesReport:
        """DSO, CEI and revenue concentration over ``start..end`` (the last 90 days by
        default) and the ``top`` debtors now."""
        self._require()
        if not 1 <= top <= TOP_MAX:
            raise InvalidFieldError("top", f"is 1..{TOP_MAX}")
        today = self._clock.today()
        _range(start, end)
        end = end or today
        start = start or end - timedelta(days=DEFAULT_KPI_DAYS - 1)
        _range(start, end)
        with self._uow(readonly=True) as uow:
            report, ids = receivables(uow, start, end, today, top)
            names = self._names(uow, ids)
        debtors = tuple(replace(d, name=names.get(d.party_id, "")) for d in report.top_debtors)
        return replace(report, top_debtors=debtors)

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        """Display names of the parties ``ids`` that exist."""
        self._require()
        with self._uow(readonly=True) as uow:
            return self._names(uow, ids)


#: The days a report may name (beyond them a date is a typo, and date arithmetic ends).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def _range(start: date | None, end: date | None) -> None:
    for field, day in (("from", start), ("to", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidFieldError(field, "must lie in the years 1900 to 2999")
    if start is not None and end is not None and end < start:
        raise InvalidFieldError("to", "the range ends before it starts")


def _month_text(key: int) -> str:
    return month_label((key // 100) * 12 + key % 100 - 1)


def _labelled_key(value: str, empty: str) -> tuple[str, str]:
    return value, value or empty


def _owner(owner_id: int | None) -> tuple[str, str]:
    if owner_id is None:
        return "", "(no owner)"
    return str(owner_id), f"user {owner_id}"
