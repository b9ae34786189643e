"""Deals move through a pipeline of stages; open deals make the weighted forecast.

A pipeline is an ordered list of stages. Open stages carry the chance that a deal there is
won; exactly one stage means won (probability 1) and at least one means lost (probability
0)::

    >>> deal = Deal(pipeline="sales", stage="proposal", title="Fleet renewal", party_id=7,
    ...     amount=Decimal("12000.00"), currency="EUR", expected_close=date(2026, 6, 30))
    >>> effective_probability(deal, DEFAULT_PIPELINE)
    Decimal('0.50')
    >>> row, = weighted_forecast([deal], {"sales": DEFAULT_PIPELINE})
    >>> row.month, row.open_amount, row.weighted_amount
    ('2026-06', Decimal('12000.00'), Decimal('6000.00'))
    >>> from datetime import UTC
    >>> won, change = move(deal, DEFAULT_PIPELINE, "won", datetime(2026, 6, 2, tzinfo=UTC))
    >>> won.stage, change.from_stage, won.won_at == won.closed_at
    ('won', 'proposal', True)

Moves: an open deal may move to any other stage (forwards, backwards, won or lost). A won
or lost deal is closed; the only move out of it is *reopening* to an open stage, which clears
``won_at``, ``closed_at`` and the lost reason. Won → lost and lost → won are refused: reopen
first, so the history shows both steps. Losing needs a reason. Every move clears the
deal's probability override, because the override was a judgement about the stage the deal
has just left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from crmledger.core.currencies import iso_currency
from crmledger.core.errors import ExcessPrecisionError, InvalidFieldError, TransitionError
from crmledger.core.money import quantize, to_minor

#: Longest deal title accepted, in characters.
TITLE_MAX = 200

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ZERO, _ONE = Decimal(0), Decimal(1)


class StageKind(StrEnum):
    """Whether a deal in the stage is still open, won or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Stage:
    """A step of a pipeline; ``probability`` (0..1) is the chance a deal here is won."""

    key: str
    name: str
    probability: Decimal
    kind: StageKind = StageKind.OPEN


def _check_stage(index: int, stage: Stage, seen: set[str]) -> None:
    where = f"stages[{index}]"
    if not _KEY_RE.match(stage.key):
        raise InvalidFieldError(f"{where}.key", "use 1..64 letters, digits, '.', '_' or '-'")
    if stage.key in seen:
        raise InvalidFieldError(f"{where}.key", f"stage {stage.key!r} appears twice")
    seen.add(stage.key)
    if not stage.name.strip():
        raise InvalidFieldError(f"{where}.name", "a stage needs a name")
    probability = stage.probability
    if not probability.is_finite() or not _ZERO <= probability <= _ONE:
        raise InvalidFieldError(f"{where}.probability", "the probability must be within 0..1")
    fixed = {StageKind.WON: _ONE, StageKind.LOST: _ZERO}.get(stage.kind)
    if fixed is not None and probability != fixed:
        raise InvalidFieldError(f"{where}.probability", f"a {stage.kind} stage has {fixed}")


def validate_pipeline(pipeline: Pipeline) -> Pipeline:
    """Return ``pipeline`` if it keeps every rule, else raise :class:`InvalidFieldError`."""
    if not _KEY_RE.match(pipeline.key):
        raise InvalidFieldError("key", "use 1..64 letters, digits, '.', '_' or '-'")
    if not pipeline.name.strip():
        raise InvalidFieldError("name", "a pipeline needs a name")
    seen: set[str] = set()
    for index, stage in enumerate(pipeline.stages):
        _check_stage(index, stage, seen)
    kinds = [stage.kind for stage in pipeline.stages]
    if StageKind.OPEN not in kinds:
        raise InvalidFieldError("stages", "a pipeline needs at least one open stage")
    if kinds.count(StageKind.WON) != 1:
        raise InvalidFieldError("stages", "a pipeline needs exactly one won stage")
    if StageKind.LOST not in kinds:
        raise InvalidFieldError("stages", "a pipeline needs at least one lost stage")
    return pipeline


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Named, ordered stages; checked when built, so every pipeline in hand is valid."""

    key: str
    name: str
    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        validate_pipeline(self)

    def stage(self, key: str) -> Stage:
        """The stage called ``key``; raise ``InvalidFieldError("stage")`` if there is none."""
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise InvalidFieldError("stage", f"pipeline {self.key!r} has no stage {key!r}")


#: The pipeline every new book starts with.
DEFAULT_PIPELINE = Pipeline(
    "sales",
    "Sales",
    (
        Stage("lead", "Lead", Decimal("0.10")),
        Stage("qualified", "Qualified", Decimal("0.25")),
        Stage("proposal", "Proposal", Decimal("0.50")),
        Stage("negotiation", "Negotiation", Decimal("0.75")),
        Stage("won", "Won", Decimal(1), StageKind.WON),
        Stage("lost", "Lost", Decimal(0), StageKind.LOST),
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deal:
    """A sale being worked on. ``probability`` overrides the stage's when not ``None``."""

    id: int | None = None
    pipeline: str
    stage: str
    title: str
    party_id: int
    amount: Decimal
    currency: str
    expected_close: date | None = None
    owner_id: int | None = None
    probability: Decimal | None = None
    lost_reason: str = ""
    won_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class StageChange:
    """One step of a deal's history; ``from_stage`` is ``None`` when the deal was created."""

    deal_id: int | None
    from_stage: str | None
    to_stage: str
    at: datetime
    by: str = ""
    reason: str = ""


def _scale(currency: str, scales: Mapping[str, int] | None, field: str) -> int:
    if scales is not None and currency in scales:
        return scales[currency]
    found = iso_currency(currency)
    if found is None:
        raise InvalidFieldError(field, f"unknown currency {currency!r}")
    return found.scale


def _check_aware(field: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise InvalidFieldError(field, f"{field} must carry a time zone")


def _check_pipeline(deal: Deal, pipeline: Pipeline) -> None:
    if deal.pipeline != pipeline.key:
        raise InvalidFieldError(
            "pipeline", f"the deal is in {deal.pipeline!r}, not {pipeline.key!r}"
        )


def _check_amount(deal: Deal, scales: Mapping[str, int] | None) -> None:
    scale = _scale(deal.currency, scales, "currency")
    if not deal.amount.is_finite() or deal.amount < 0:
        raise InvalidFieldError("amount", "the amount must be a number of at least 0")
    try:
        to_minor(deal.amount, scale, deal.currency)
    except ExcessPrecisionError as err:
        raise InvalidFieldError("amount", str(err)) from err


def _check_closure(deal: Deal, stage: Stage) -> None:
    if stage.kind is StageKind.LOST and not deal.lost_reason.strip():
        raise InvalidFieldError("lost_reason", "a lost deal needs a reason")
    if deal.won_at is not None and stage.kind is not StageKind.WON:
        raise InvalidFieldError("won_at", "only a won deal has a won time")
    if deal.closed_at is not None and stage.kind is StageKind.OPEN:
        raise InvalidFieldError("closed_at", "an open deal has no closing time")
    _check_aware("won_at", deal.won_at)
    _check_aware("closed_at", deal.closed_at)


def validate_deal(deal: Deal, pipeline: Pipeline, scales: Mapping[str, int] | None = None) -> Deal:
    """Return ``deal`` if it keeps every rule, else raise :class:`InvalidFieldError`.

    The pipeline and stage exist; the title is 1..200 characters; the amount is at least 0
    with no more decimals than its currency has (``scales`` declares non-ISO ones); an
    override probability lies in 0..1; a lost deal has a reason.
    """
    _check_pipeline(deal, pipeline)
    stage = pipeline.stage(deal.stage)
    if not deal.title.strip() or len(deal.title) > TITLE_MAX:
        raise InvalidFieldError("title", f"the title must be 1..{TITLE_MAX} characters")
    _check_amount(deal, scales)
    override = deal.probability
    if override is not None and (not override.is_finite() or not _ZERO <= override <= _ONE):
        raise InvalidFieldError("probability", "the probability must be within 0..1")
    _check_closure(deal, stage)
    return deal


def _enter(deal: Deal, stage: Stage, at: datetime, reason: str) -> Deal:
    moved = replace(deal, stage=stage.key, probability=None)
    if stage.kind is StageKind.OPEN:
        return replace(moved, lost_reason="", won_at=None, closed_at=None)
    if stage.kind is StageKind.WON:
        return replace(moved, lost_reason="", won_at=at, closed_at=at)
    if not reason.strip():
        raise InvalidFieldError("lost_reason", "say why the deal was lost")
    return replace(moved, lost_reason=reason.strip(), won_at=None, closed_at=at)


def move(
    deal: Deal, pipeline: Pipeline, to_stage: str, at: datetime, reason: str = "", by: str = ""
) -> tuple[Deal, StageChange]:
    """Move ``deal`` to ``to_stage`` at ``at``; return the moved deal and its history step.

    Raises :class:`TransitionError` for a move to the stage the deal is in and for a move
    out of a won or lost stage other than a reopen to an open stage.
    """
    _check_pipeline(deal, pipeline)
    _check_aware("at", at)
    current, target = pipeline.stage(deal.stage), pipeline.stage(to_stage)
    if target.key == current.key:
        raise TransitionError(f"the deal is already in stage {current.key!r}")
    if current.kind is not StageKind.OPEN and target.kind is not StageKind.OPEN:
        raise TransitionError(
            f"a {current.kind} deal can only be reopened to an open stage, not {target.key!r}"
        )
    if deal.closed_at is not None and at < deal.closed_at:
        raise InvalidFieldError("at", "a deal cannot be reopened before it was closed")
    moved = _enter(deal, target, at, reason)
    return moved, StageChange(deal.id, current.key, target.key, at, by, reason.strip())


def effective_probability(deal: Deal, pipeline: Pipeline) -> Decimal:
    """The chance ``deal`` is won: 1 if won, 0 if lost, else its override or its stage's."""
    stage = pipeline.stage(deal.stage)
    if stage.kind is not StageKind.OPEN:
        return stage.probability
    return stage.probability if deal.probability is None else deal.probability


@dataclass(frozen=True, slots=True)
class ForecastRow:
    """Open deals expected to close in ``month`` ("YYYY-MM" or "none"), per owner and currency."""

    month: str
    owner_id: int | None
    currency: str
    open_amount: Decimal
    weighted_amount: Decimal
    deals: int


def _month(deal: Deal) -> str:
    return "none" if deal.expected_close is None else deal.expected_close.strftime("%Y-%m")


def _row_order(row: ForecastRow) -> tuple[str, bool, int, str]:
    return (row.month, row.owner_id is not None, row.owner_id or 0, row.currency)


def weighted_forecast(
    deals: Iterable[Deal],
    pipelines: Mapping[str, Pipeline],
    scales: Mapping[str, int] | None = None,
) -> list[ForecastRow]:
    """Sum open deals by expected-close month, owner and currency, weighted by probability.

    Each deal's weighted amount is ``amount * effective_probability`` rounded to its
    currency's scale (``ROUND_HALF_EVEN``); a row sums those rounded amounts, so it equals
    the sum of what each deal shows. Won and lost deals are left out. A deal without an
    expected close date counts in month ``"none"``, which sorts after every real month; rows
    are sorted by month, then owner (no owner first), then currency.
    """
    rows: dict[tuple[str, int | None, str], ForecastRow] = {}
    for deal in deals:
        pipeline = pipelines.get(deal.pipeline)
        if pipeline is None:
            raise InvalidFieldError("pipeline", f"unknown pipeline {deal.pipeline!r}")
        if pipeline.stage(deal.stage).kind is not StageKind.OPEN:
            continue
        scale = _scale(deal.currency, scales, "currency")
        weighted = quantize(deal.amount * effective_probability(deal, pipeline), scale)
        key = (_month(deal), deal.owner_id, deal.currency)
        row = rows.get(key) or ForecastRow(*key, Decimal(0), Decimal(0), 0)
        rows[key] = replace(
            row,
            open_amount=row.open_amount + deal.amount,
            weighted_amount=row.weighted_amount + weighted,
            deals=row.deals + 1,
        )
    return sorted(rows.values(), key=_row_order)
