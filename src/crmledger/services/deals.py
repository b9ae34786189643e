"""Deals and pipelines: add, change, move through stages, list, board and forecast.

The rules are ``core.crm.deals``'s; this module checks what needs the book (the party and
the owner exist, the currency's scale, stages that still hold deals) and stores each use
case in one transaction with its audit record. Every move leaves a stage-history row::

    deals = DealService(uow, clock).acting_as(actor)
    deal = deals.add(Deal(pipeline="sales", stage="lead", title="Fleet renewal",
                          party_id=7, amount=Decimal("12000.00"), currency="EUR"))
    deal = deals.move(deal.id, "proposal", if_version=deal.version)
    [step.to_stage for step in deals.history(deal.id)]     # ['lead', 'proposal']

Another room that wins a deal as a side effect (an accepted quote) calls :func:`win_deal`
inside its own unit of work, so the quote and the deal commit together.

Probabilities are kept in basis points, so an override or a stage probability has at most
four decimal places (``0.125`` is fine, ``0.12345`` is refused).
"""

from __future__ import annotations

import builtins
from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmledger.core.crm.deals import (
    Deal,
    ForecastRow,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
    move,
    validate_deal,
    weighted_forecast,
)
from crmledger.core.currencies import iso_currency
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import decimal_places, from_minor, to_minor
from crmledger.services.billing_common import emit
from crmledger.services.crm_ports import (
    DealQuery,
    DealRow,
    PipelineRow,
    StageChangeRow,
    StageRow,
)
from crmledger.services.errors import ConflictError, NotFoundError, VersionConflictError
from crmledger.services.party_guard import refuse_merged
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.trail import OPERATOR, Actor, record

#: Decimal places a probability may have (it is stored in basis points).
PROBABILITY_PLACES = 4
#: Longest lost reason accepted, in characters.
REASON_MAX = 500
#: Deals shown per stage on a board (the totals count them all).
BOARD_DEALS = 50
_MAX_MINOR = 2**63 - 1
_MAX_HISTORY = 10_000
_CHANGEABLE = frozenset(
    {"title", "amount", "currency", "expected_close", "owner_id", "probability"}
)


class StageInUseError(ConflictError):
    """A pipeline change would remove a stage that still holds deals, or change its kind
    (open, won, lost) under them; move the deals first."""

    field = "stages"


class PipelineExistsError(ConflictError):
    """A pipeline with that key exists already; change it with its version instead."""

    field = "key"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDeal(Deal):
    """A deal as stored: a :class:`Deal` with the times it was created and last changed."""

    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredPipeline(Pipeline):
    """A pipeline with the version an update must name."""

    version: int = 1


@dataclass(frozen=True, slots=True)
class BoardColumn:
    """One stage of a board: its newest deals, how many it holds, totals per currency."""

    stage: Stage
    deals: tuple[StoredDeal, ...]
    count: int
    totals: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class Board:
    """A pipeline's deals grouped by stage, in stage order."""

    pipeline: StoredPipeline
    columns: tuple[BoardColumn, ...]


# -- conversions between values and rows -----------------------------------------------------


def probability_bp(value: Decimal, field: str) -> int:
    """``value`` (0..1) in basis points; refuse more than four decimal places."""
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise InvalidFieldError(field, "the probability must be within 0..1")
    if decimal_places(value) > PROBABILITY_PLACES:
        raise InvalidFieldError(field, f"use at most {PROBABILITY_PLACES} decimal places")
    return int(value.scaleb(PROBABILITY_PLACES))


def from_bp(bp: int) -> Decimal:
    """Basis points as a probability with two to four places (``5000`` → ``0.50``)."""
    value = Decimal(bp).scaleb(-PROBABILITY_PLACES)
    return value.quantize(Decimal(1).scaleb(-max(2, decimal_places(value))))


def currency_scale(currency: str, scales: Mapping[str, int]) -> int:
    """Decimal places of ``currency``: the book's commodity, else ISO 4217."""
    if currency in scales:
        return scales[currency]
    found = iso_currency(currency)
    if found is None:
        raise InvalidFieldError("currency", f"unknown currency {currency!r}")
    return found.scale


def _pipeline(row: PipelineRow) -> StoredPipeline:
    stages = tuple(
        Stage(s.key, s.name, from_bp(s.probability_bp), StageKind(s.kind)) for s in row.stages
    )
    return StoredPipeline(row.key, row.name, stages, row.version)


def _stage_rows(pipeline: Pipeline) -> tuple[StageRow, ...]:
    return tuple(
        StageRow(
            s.key, s.name, i, probability_bp(s.probability, f"stages[{i}].probability"), s.kind
        )
        for i, s in enumerate(pipeline.stages)
    )


def _deal(row: DealRow, scales: Mapping[str, int]) -> StoredDeal:
    return StoredDeal(
        id=row.id,
        pipeline=row.pipeline,
        stage=row.stage,
        title=row.title,
        party_id=row.party_id,
        amount=from_minor(row.amount_minor, currency_scale(row.currency, scales)),
        currency=row.currency,
        expected_close=row.expected_close,
        owner_id=row.owner_id,
        probability=None if row.probability_bp is None else from_bp(row.probability_bp),
        lost_reason=row.lost_reason,
        won_at=row.won_at,
        closed_at=row.closed_at,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _deal_row(deal: StoredDeal, scales: Mapping[str, int]) -> DealRow:
    minor = to_minor(deal.amount, currency_scale(deal.currency, scales), deal.currency)
    if minor > _MAX_MINOR:
        raise InvalidFieldError("amount", "the amount is too large")
    override = deal.probability
    return DealRow(
        id=deal.id or 0,
        pipeline=deal.pipeline,
        stage=deal.stage,
        title=deal.title,
        title_fold=deal.title.casefold(),
        party_id=deal.party_id,
        amount_minor=minor,
        currency=deal.currency,
        expected_close=deal.expected_close,
        owner_id=deal.owner_id,
        probability_bp=None if override is None else probability_bp(override, "probability"),
        lost_reason=deal.lost_reason,
        won_at=deal.won_at,
        closed_at=deal.closed_at,
        version=deal.version,
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


def audit_view(deal: Deal) -> dict[str, Any]:
    """The deal as the audit log keeps it (plain JSON values)."""
    return {
        "pipeline": deal.pipeline,
        "stage": deal.stage,
        "title": deal.title,
        "party_id": deal.party_id,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "expected_close": None if deal.expected_close is None else deal.expected_close.isoformat(),
        "owner_id": deal.owner_id,
        "probability": None if deal.probability is None else str(deal.probability),
    }


def _pipeline_view(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "name": pipeline.name,
        "stages": [[s.key, s.name, str(s.probability), s.kind.value] for s in pipeline.stages],
    }


# -- steps inside a caller's unit of work ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealMove:
    """One move of :meth:`DealService.move_many`: a deal, the stage it goes to, the version
    it must still have (None: any) and, to lose it, the reason."""

    deal_id: int
    to_stage: str
    if_version: int | None = None
    reason: str = ""


def _indexed(error: InvalidFieldError, index: int | None) -> InvalidFieldError:
    if index is None:
        return error
    return InvalidFieldError(f"[{index}].{error.field}", str(error))


def load_deal(uow: UnitOfWork, deal_id: int) -> StoredDeal:
    """The deal ``deal_id``; :class:`NotFoundError` when there is none."""
    row = uow.deals.deal(deal_id)
    if row is None:
        raise NotFoundError(f"no deal {deal_id}")
    return _deal(row, uow.ledger.scales())


def _serialise(uow: UnitOfWork) -> None:
    # Writers queue on the audit log's head (a row lock on PostgreSQL; SQLite's BEGIN
    # IMMEDIATE already serialises). Taken before the checks, so they read what the last
    # writer committed: a stage emptied for removal cannot fill up meanwhile. A caller
    # holding it already (a quote being accepted) takes it again for free.
    uow.audit.head()


def _deal_pipeline(uow: UnitOfWork, key: str) -> StoredPipeline:
    row = uow.deals.pipeline(key)
    if row is None:
        raise InvalidFieldError("pipeline", f"no pipeline {key!r}")
    return _pipeline(row)


def _move(
    uow: UnitOfWork,
    actor: Actor,
    deal: StoredDeal,
    pipeline: Pipeline,
    to_stage: str,
    at: datetime,
    reason: str = "",
) -> StoredDeal:
    if len(reason) > REASON_MAX or "\x00" in reason:
        raise InvalidFieldError("reason", f"the reason must be at most {REASON_MAX} characters")
    moved, change = move(deal, pipeline, to_stage, at, reason, actor.audit_id)
    assert isinstance(moved, StoredDeal)
    assert deal.id is not None
    moved = replace(moved, version=deal.version + 1, updated_at=at)
    if not uow.deals.update_deal(_deal_row(moved, uow.ledger.scales()), deal.version):
        raise VersionConflictError(f"deal {deal.id}", deal.version, deal.version + 1)
    uow.deals.add_change(
        StageChangeRow(0, deal.id, change.from_stage, change.to_stage, at, change.by, change.reason)
    )
    before = {"stage": deal.stage, "lost_reason": deal.lost_reason}
    after = {"stage": moved.stage, "lost_reason": moved.lost_reason}
    record(uow, actor, at, "deal.stage", "deal", deal.id, before, after)
    emit(uow, "deal", deal.id, "deal.stage_changed", at, stage=moved.stage, previous=deal.stage)
    return moved


def move_deal(
    uow: UnitOfWork,
    actor: Actor,
    deal_id: int,
    to_stage: str,
    at: datetime,
    reason: str = "",
    if_version: int | None = None,
) -> StoredDeal:
    """Move a deal in ``uow`` (core's :func:`~crmledger.core.crm.deals.move`), write its
    history row and the audit record ``deal.stage``. The caller checks permissions and
    commits."""
    _serialise(uow)
    deal = load_deal(uow, deal_id)
    if if_version is not None and deal.version != if_version:
        raise VersionConflictError(f"deal {deal_id}", if_version, deal.version)
    return _move(uow, actor, deal, _deal_pipeline(uow, deal.pipeline), to_stage, at, reason)


def win_deal(uow: UnitOfWork, actor: Actor, deal_id: int, at: datetime) -> StoredDeal:
    """Move a deal to its pipeline's won stage inside the caller's unit of work (an
    accepted quote wins its deal in the quote's transaction). A deal already won is
    returned as it is; a lost one must be reopened first (:class:`TransitionError`)."""
    _serialise(uow)
    deal = load_deal(uow, deal_id)
    pipeline = _deal_pipeline(uow, deal.pipeline)
    won = next(s for s in pipeline.stages if s.kind is StageKind.WON)
    if deal.stage == won.key:
        return deal
    return _move(uow, actor, deal, pipeline, won.key, at)


def win_open_deal(uow: UnitOfWork, actor: Actor, deal_id: int, at: datetime) -> bool:
    """Win the deal if it is still open (a paid invoice closes its order's deal); a deal
    already won or lost is left as it is. Returns whether it moved."""
    deal = load_deal(uow, deal_id)
    pipeline = _deal_pipeline(uow, deal.pipeline)
    if pipeline.stage(deal.stage).kind is not StageKind.OPEN:
        return False
    win_deal(uow, actor, deal_id, at)
    return True


def _month(text: str | None, field: str) -> tuple[date, date] | None:
    if text is None:
        return None
    try:
        if len(text) != 7:
            raise ValueError(text)
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise InvalidFieldError(field, f"{text!r} is not a month as YYYY-MM") from None
    return first, first.replace(day=monthrange(first.year, first.month)[1])


def _check_stages(before: Pipeline, after: Pipeline, counts: Mapping[str, int]) -> None:
    kept = {s.key: s for s in after.stages}
    for stage in before.stages:
        held = counts.get(stage.key, 0)
        if not held:
            continue
        if stage.key not in kept:
            raise StageInUseError(
                f"stage {stage.key!r} still holds {held} deal(s); move them first"
            )
        if kept[stage.key].kind is not stage.kind:
            raise StageInUseError(
                f"stage {stage.key!r} holds {held} deal(s); its kind cannot change under them"
            )


class DealService:
    """The use cases on pipelines and deals."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> DealService:
        """The same service for another actor."""
        return DealService(self._uow, self._clock, actor)

    # -- pipelines ---------------------------------------------------------------------------

    def pipelines(self) -> list[StoredPipeline]:
        """Every pipeline, by key."""
        self._actor.require("deals", "read")
        with self._uow(readonly=True) as uow:
            return [_pipeline(r) for r in uow.deals.pipelines()]

    def pipeline(self, key: str) -> StoredPipeline:
        """One pipeline; :class:`NotFoundError` when there is none."""
        self._actor.require("deals", "read")
        with self._uow(readonly=True) as uow:
            row = uow.deals.pipeline(key)
        if row is None:
            raise NotFoundError(f"no pipeline {key!r}")
        return _pipeline(row)

    def save_pipeline(self, pipeline: Pipeline, if_version: int | None) -> StoredPipeline:
        """Create a pipeline (``if_version`` None; refused when the key exists) or replace
        the name and stage list of the one at ``if_version``. A stage that holds deals can
        be renamed, moved and re-weighted, but not removed or given another kind."""
        self._actor.require("pipelines", "write")
        stages = _stage_rows(pipeline)
        at = self._clock.now()
        with self._uow() as uow:
            _serialise(uow)
            current = uow.deals.pipeline(pipeline.key)
            if if_version is None:
                if current is not None:
                    raise PipelineExistsError(f"pipeline {pipeline.key!r} exists already")
                uow.deals.insert_pipeline(
                    PipelineRow(pipeline.key, pipeline.name, 1, stages, at, at)
                )
                record(
                    uow,
                    self._actor,
                    at,
                    "pipeline.create",
                    "pipeline",
                    pipeline.key,
                    None,
                    _pipeline_view(pipeline),
                )
                version = 1
            else:
                version = self._replace(uow, current, pipeline, stages, if_version)
            uow.commit()
        # Read back as stored: probabilities in their canonical form (0.6 → 0.60).
        return _pipeline(PipelineRow(pipeline.key, pipeline.name, version, stages, at, at))

    def _replace(
        self,
        uow: UnitOfWork,
        current: PipelineRow | None,
        pipeline: Pipeline,
        stages: tuple[StageRow, ...],
        if_version: int,
    ) -> int:
        if current is None:
            raise NotFoundError(f"no pipeline {pipeline.key!r}")
        if current.version != if_version:
            raise VersionConflictError(f"pipeline {pipeline.key!r}", if_version, current.version)
        before = _pipeline(current)
        _check_stages(before, pipeline, uow.deals.deals_per_stage(pipeline.key))
        at = self._clock.now()
        row = PipelineRow(
            pipeline.key, pipeline.name, current.version + 1, stages, current.created_at, at
        )
        if not uow.deals.update_pipeline(row, current.version):
            raise VersionConflictError(f"pipeline {pipeline.key!r}", current.version, row.version)
        record(
            uow,
            self._actor,
            at,
            "pipeline.update",
            "pipeline",
            pipeline.key,
            _pipeline_view(before),
            _pipeline_view(pipeline),
        )
        return row.version

    # -- deals -------------------------------------------------------------------------------

    def _checked(self, uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> Deal:
        scales = uow.ledger.scales()
        deal = validate_deal(replace(deal, title=deal.title.strip()), pipeline, scales)
        if "\x00" in deal.title:
            raise InvalidFieldError("title", "the title cannot hold a NUL character")
        if deal.probability is not None:
            probability_bp(deal.probability, "probability")
            if pipeline.stage(deal.stage).kind is not StageKind.OPEN:
                raise InvalidFieldError("probability", "a closed deal's chance is its stage's")
        if uow.parties.get(deal.party_id) is None:
            raise InvalidFieldError("party_id", f"no party {deal.party_id}")
        refuse_merged(uow.parties, [deal.party_id])
        if deal.owner_id is not None and uow.access.user(deal.owner_id) is None:
            raise InvalidFieldError("owner_id", f"no user {deal.owner_id}")
        return deal

    def add(self, deal: Deal) -> StoredDeal:
        """Store a new deal in an open stage (``stage=""``: the pipeline's first open
        one); its history starts with that stage."""
        return self._add_all([deal], indexed=False)[0]

    def add_many(self, deals: Sequence[Deal]) -> builtins.list[StoredDeal]:
        """Store ``deals`` as :meth:`add` does each, in one transaction (all or none); a
        refusal names the deal as ``[i].field``."""
        return self._add_all(deals, indexed=True)

    def _add_all(self, deals: Sequence[Deal], indexed: bool) -> builtins.list[StoredDeal]:
        self._actor.require("deals", "write")
        at = self._clock.now()
        added = []
        with self._uow() as uow:
            _serialise(uow)
            pipelines: dict[str, StoredPipeline] = {}
            for index, deal in enumerate(deals):
                try:
                    added.append(self._insert(uow, deal, pipelines, at))
                except InvalidFieldError as error:
                    raise _indexed(error, index if indexed else None) from error
            uow.commit()
        return added

    def _insert(
        self, uow: UnitOfWork, deal: Deal, pipelines: dict[str, StoredPipeline], at: datetime
    ) -> StoredDeal:
        if deal.pipeline not in pipelines:
            pipelines[deal.pipeline] = _deal_pipeline(uow, deal.pipeline)
        pipeline = pipelines[deal.pipeline]
        if not deal.stage:
            first = next(s for s in pipeline.stages if s.kind is StageKind.OPEN)
            deal = replace(deal, stage=first.key)
        if pipeline.stage(deal.stage).kind is not StageKind.OPEN:
            raise InvalidFieldError("stage", "a new deal starts in an open stage")
        if deal.lost_reason:
            raise InvalidFieldError("lost_reason", "only a lost deal has a reason")
        ready = self._checked(uow, deal, pipeline)
        fields = {n: getattr(ready, n) for n in Deal.__dataclass_fields__}
        stored = StoredDeal(**fields | {"id": None, "version": 1}, created_at=at, updated_at=at)
        deal_id = uow.deals.insert_deal(_deal_row(stored, uow.ledger.scales()))
        stored = replace(stored, id=deal_id)
        uow.deals.add_change(
            StageChangeRow(0, deal_id, None, stored.stage, at, self._actor.audit_id, "")
        )
        record(uow, self._actor, at, "deal.create", "deal", deal_id, None, audit_view(stored))
        return stored

    def get(self, deal_id: int) -> StoredDeal:
        """One deal; :class:`NotFoundError` when there is none."""
        self._actor.require("deals", "read")
        with self._uow(readonly=True) as uow:
            return load_deal(uow, deal_id)

    def update(
        self, deal_id: int, changes: Mapping[str, Any], if_version: int | None
    ) -> StoredDeal:
        """Change the title, amount, currency, expected close, owner or probability
        override; the stage changes only by :meth:`move`."""
        self._actor.require("deals", "write")
        bad = sorted(set(changes) - _CHANGEABLE)
        if bad:
            raise InvalidFieldError(bad[0], "cannot be changed here (a stage changes by a move)")
        at = self._clock.now()
        with self._uow() as uow:
            _serialise(uow)
            before = load_deal(uow, deal_id)
            if if_version is not None and before.version != if_version:
                raise VersionConflictError(f"deal {deal_id}", if_version, before.version)
            pipeline = _deal_pipeline(uow, before.pipeline)
            after = self._checked(uow, replace(before, **changes), pipeline)
            assert isinstance(after, StoredDeal)
            after = replace(after, version=before.version + 1, updated_at=at)
            if not uow.deals.update_deal(_deal_row(after, uow.ledger.scales()), before.version):
                raise VersionConflictError(f"deal {deal_id}", before.version, after.version)
            record(
                uow,
                self._actor,
                at,
                "deal.update",
                "deal",
                deal_id,
                audit_view(before),
                audit_view(after),
            )
            uow.commit()
        return after

    def move(
        self, deal_id: int, to_stage: str, if_version: int | None, reason: str = ""
    ) -> StoredDeal:
        """Move a deal to another stage (losing needs a reason; winning sets ``won_at``)."""
        self._actor.require("deals", "write")
        with self._uow() as uow:
            moved = move_deal(
                uow, self._actor, deal_id, to_stage, self._clock.now(), reason, if_version
            )
            uow.commit()
        return moved

    def move_many(self, moves: Sequence[DealMove]) -> builtins.list[StoredDeal]:
        """Make ``moves`` as :meth:`move` makes each, in order and in one transaction (all
        or none): a pipeline review that moves many deals at once. A refusal names the
        move as ``[i].field``."""
        self._actor.require("deals", "write")
        at = self._clock.now()
        moved = []
        with self._uow() as uow:
            _serialise(uow)
            pipelines: dict[str, StoredPipeline] = {}
            for index, step in enumerate(moves):
                try:
                    moved.append(self._move_one(uow, step, pipelines, at))
                except InvalidFieldError as error:
                    raise _indexed(error, index) from error
            uow.commit()
        return moved

    def _move_one(
        self, uow: UnitOfWork, step: DealMove, pipelines: dict[str, StoredPipeline], at: datetime
    ) -> StoredDeal:
        """One move of :meth:`move_many` (as :func:`move_deal`, each pipeline read once)."""
        deal = load_deal(uow, step.deal_id)
        if step.if_version is not None and deal.version != step.if_version:
            raise VersionConflictError(f"deal {step.deal_id}", step.if_version, deal.version)
        if deal.pipeline not in pipelines:
            pipelines[deal.pipeline] = _deal_pipeline(uow, deal.pipeline)
        pipeline = pipelines[deal.pipeline]
        return _move(uow, self._actor, deal, pipeline, step.to_stage, at, step.reason)

    def mark_won_for(self, deal_id: int, at: datetime | None = None) -> StoredDeal:
        """Win a deal (see :func:`win_deal`) in a transaction of its own."""
        self._actor.require("deals", "write")
        with self._uow() as uow:
            won = win_deal(uow, self._actor, deal_id, at or self._clock.now())
            uow.commit()
        return won

    def history(self, deal_id: int) -> list[StageChange]:
        """The stages a deal went through, oldest first (the first step is its creation)."""
        self._actor.require("deals", "read")
        with self._uow(readonly=True) as uow:
            load_deal(uow, deal_id)
            rows = uow.deals.changes(deal_id, 0, _MAX_HISTORY)
        return [
            StageChange(r.deal_id, r.from_stage, r.to_stage, r.at, r.by, r.reason) for r in rows
        ]

    def search(self, text: str, limit: int = 20) -> list[StoredDeal]:
        """Deals whose title contains ``text``, ignoring case, newest first."""
        self._actor.require("deals", "read")
        fragment = text.strip().casefold()
        if not fragment:
            return []
        with self._uow(readonly=True) as uow:
            scales = uow.ledger.scales()
            return [_deal(r, scales) for r in uow.deals.search(fragment, max(1, limit))]

    def board(self, pipeline: str) -> Board:
        """The pipeline's stages with their newest deals and totals per currency."""
        self._actor.require("deals", "read")
        with self._uow(readonly=True) as uow:
            row = uow.deals.pipeline(pipeline)
            if row is None:
                raise NotFoundError(f"no pipeline {pipeline!r}")
            scales = uow.ledger.scales()
            totals = uow.deals.stage_totals(pipeline)
            columns = []
            for stage in _pipeline(row).stages:
                mine = [t for t in totals if t.stage == stage.key]
                found = uow.deals.stage_deals(pipeline, stage.key, BOARD_DEALS)
                sums = {
                    t.currency: from_minor(t.amount_minor, currency_scale(t.currency, scales))
                    for t in mine
                }
                deals = tuple(_deal(r, scales) for r in found)
                columns.append(BoardColumn(stage, deals, sum(t.deals for t in mine), sums))
        return Board(_pipeline(row), tuple(columns))

    def forecast(
        self,
        pipeline: str | None = None,
        from_month: str | None = None,
        to_month: str | None = None,
    ) -> list[ForecastRow]:
        """Open deals by expected-close month (``YYYY-MM``), owner and currency, weighted by
        probability (core's ``weighted_forecast``). With a month bound, deals without an
        expected close date are left out."""
        self._actor.require("deals", "read")
        start, end = _month(from_month, "from_month"), _month(to_month, "to_month")
        if start and end and end[1] < start[0]:
            raise InvalidFieldError("to_month", "the range ends before it starts")
        with self._uow(readonly=True) as uow:
            pipes = {r.key: _pipeline(r) for r in uow.deals.pipelines()}
            if pipeline is not None and pipeline not in pipes:
                raise InvalidFieldError("pipeline", f"no pipeline {pipeline!r}")
            scales = uow.ledger.scales()
            rows = uow.deals.open_deals(pipeline, start and start[0], end and end[1])
            return weighted_forecast([_deal(r, scales) for r in rows], pipes, scales)

    def list(self, query: DealQuery) -> list[StoredDeal]:
        """A page of deals (see :class:`DealQuery`)."""
        self._actor.require("deals", "read")
        with self._uow(readonly=True) as uow:
            scales = uow.ledger.scales()
            return [_deal(r, scales) for r in uow.deals.deal_page(query)]
