"""Request and response bodies of deals and pipelines.

Money and probabilities travel as decimal strings (``"12000.00"``, ``"0.25"``), never as
JSON numbers. Inputs bound shapes and sizes; the rules (the stage exists, the amount fits
the currency's decimals, a pipeline has one won stage) are the services', so the API, the
CLI and the web refuse the same things with the same field names::

    {"party_id": 7, "title": "Fleet renewal", "amount": "12000.00", "currency": "EUR",
     "stage": "lead", "expected_close": "2026-06-30"}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from crmledger.api.schemas import NO_NUL, CommodityCode, Day, In, RowId, Short
from crmledger.core.crm.deals import (
    Deal,
    ForecastRow,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
    effective_probability,
)
from crmledger.services.deals import Board, StoredDeal, StoredPipeline

#: A pipeline or stage key, as ``core.crm.deals`` allows it.
KEY = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Key = Annotated[str, StringConstraints(pattern=KEY)]
#: A non-negative amount (a deal is never worth less than nothing).
Money = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,15}(\.[0-9]{1,12})?$")]
#: A probability 0..1 with at most four decimal places (it is stored in basis points).
Probability = Annotated[str, StringConstraints(pattern=r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$")]
Reason = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=500)]


#: A calendar month.
MONTH = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"


class DealCreate(In):
    """A new deal; it starts in an open stage (the pipeline's first one by default)."""

    party_id: RowId
    title: Short
    amount: Money = Field(description='A decimal string, e.g. "12000.00".')
    currency: CommodityCode
    pipeline: Key = "sales"
    stage: Key | None = Field(None, description="An open stage; default: the first one.")
    expected_close: Day | None = None
    owner_id: RowId | None = None
    probability: Probability | None = Field(
        None, description="Overrides the stage's probability until the deal moves."
    )


class DealUpdate(In):
    """The fields to change. ``title``, ``amount`` and ``currency`` sent as null stay as
    they are; ``expected_close``, ``owner_id`` and ``probability`` sent as null are
    cleared. The stage changes only by a move."""

    title: Short | None = None
    amount: Money | None = None
    currency: CommodityCode | None = None
    expected_close: Day | None = None
    owner_id: RowId | None = None
    probability: Probability | None = None


_KEEP_WHEN_NULL = ("title", "amount", "currency")


def deal_changes(body: DealUpdate) -> dict[str, object]:
    """The service's ``changes`` for the fields sent in ``body``."""
    changes: dict[str, object] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name in _KEEP_WHEN_NULL:
            continue
        if name in ("amount", "probability") and value is not None:
            value = Decimal(value)
        changes[name] = value
    return changes


class MoveRequest(In):
    """The stage to move to; losing needs a ``reason``."""

    stage: Key
    reason: Reason = ""


class StageIn(In):
    """A stage of a pipeline; a won stage has probability 1, a lost one 0."""

    key: Key
    name: Short
    probability: Probability
    kind: StageKind = StageKind.OPEN


class PipelineReplace(In):
    """A pipeline's new name and its whole stage list, in board order."""

    name: Short
    stages: list[StageIn] = Field(min_length=3, max_length=50)

    def pipeline(self, key: str) -> Pipeline:
        """The domain pipeline (checked by ``core.crm.deals`` as it is built)."""
        stages = tuple(Stage(s.key, s.name, Decimal(s.probability), s.kind) for s in self.stages)
        return Pipeline(key, self.name, stages)


class PipelineCreate(PipelineReplace):
    """A new pipeline."""

    key: Key


class StagePublic(BaseModel):
    key: str
    name: str
    probability: str
    kind: StageKind

    @classmethod
    def of(cls, stage: Stage) -> StagePublic:
        return cls(
            key=stage.key, name=stage.name, probability=str(stage.probability), kind=stage.kind
        )


class PipelinePublic(BaseModel):
    """A pipeline; ``version`` is what ``If-Match`` must name."""

    key: str
    name: str
    version: int
    stages: list[StagePublic]

    @classmethod
    def of(cls, pipeline: StoredPipeline) -> PipelinePublic:
        return cls(
            key=pipeline.key,
            name=pipeline.name,
            version=pipeline.version,
            stages=[StagePublic.of(s) for s in pipeline.stages],
        )


class DealPublic(BaseModel):
    """A deal; ``status`` is its stage's kind and ``effective_probability`` the chance the
    forecast weighs it with."""

    id: int
    pipeline: str
    stage: str
    status: StageKind
    title: str
    party_id: int
    amount: str
    currency: str
    expected_close: dt.date | None
    owner_id: int | None
    probability: str | None
    effective_probability: str
    lost_reason: str
    won_at: dt.datetime | None
    closed_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, deal: StoredDeal, pipelines: Mapping[str, Pipeline]) -> DealPublic:
        """The API view of a stored deal (``pipelines`` by key, for its stage)."""
        assert deal.id is not None
        pipeline = pipelines[deal.pipeline]
        return cls(
            id=deal.id,
            pipeline=deal.pipeline,
            stage=deal.stage,
            status=pipeline.stage(deal.stage).kind,
            title=deal.title,
            party_id=deal.party_id,
            amount=format(deal.amount, "f"),
            currency=deal.currency,
            expected_close=deal.expected_close,
            owner_id=deal.owner_id,
            probability=None if deal.probability is None else str(deal.probability),
            effective_probability=str(effective_probability(deal, pipeline)),
            lost_reason=deal.lost_reason,
            won_at=deal.won_at,
            closed_at=deal.closed_at,
            version=deal.version,
            created_at=deal.created_at,
            updated_at=deal.updated_at,
        )


class StageChangePublic(BaseModel):
    """One step of a deal's history; ``from_stage`` is null for its creation and ``by``
    the pseudonymous id of who moved it."""

    from_stage: str | None
    to_stage: str
    at: dt.datetime
    by: str
    reason: str

    @classmethod
    def of(cls, step: StageChange) -> StageChangePublic:
        return cls(
            from_stage=step.from_stage,
            to_stage=step.to_stage,
            at=step.at,
            by=step.by,
            reason=step.reason,
        )


class ForecastRowPublic(BaseModel):
    """Open deals expected to close in ``month`` (``YYYY-MM``, or ``none`` without a date)
    for one owner and currency."""

    month: str
    owner_id: int | None
    currency: str
    open_amount: str
    weighted_amount: str
    deals: int

    @classmethod
    def of(cls, row: ForecastRow) -> ForecastRowPublic:
        return cls(
            month=row.month,
            owner_id=row.owner_id,
            currency=row.currency,
            open_amount=format(row.open_amount, "f"),
            weighted_amount=format(row.weighted_amount, "f"),
            deals=row.deals,
        )


class ForecastPublic(BaseModel):
    """The weighted forecast, by month, then owner, then currency."""

    rows: list[ForecastRowPublic]


class TotalPublic(BaseModel):
    currency: str
    amount: str


class BoardColumnPublic(BaseModel):
    """A stage with its newest deals (at most 50), its count and totals per currency."""

    stage: StagePublic
    count: int
    totals: list[TotalPublic]
    deals: list[DealPublic]


class BoardPublic(BaseModel):
    """A pipeline's deals grouped by stage."""

    pipeline: PipelinePublic
    columns: list[BoardColumnPublic]

    @classmethod
    def of(cls, board: Board) -> BoardPublic:
        pipelines: dict[str, Pipeline] = {board.pipeline.key: board.pipeline}
        return cls(
            pipeline=PipelinePublic.of(board.pipeline),
            columns=[
                BoardColumnPublic(
                    stage=StagePublic.of(c.stage),
                    count=c.count,
                    totals=[
                        TotalPublic(currency=k, amount=format(v, "f"))
                        for k, v in sorted(c.totals.items())
                    ],
                    deals=[DealPublic.of(d, pipelines) for d in c.deals],
                )
                for c in board.columns
            ],
        )


def new_deal(body: DealCreate) -> Deal:
    """The domain deal of a create request (no stage: the pipeline's first open one)."""
    return Deal(
        pipeline=body.pipeline,
        stage=body.stage or "",
        title=body.title,
        party_id=body.party_id,
        amount=Decimal(body.amount),
        currency=body.currency,
        expected_close=body.expected_close,
        owner_id=body.owner_id,
        probability=None if body.probability is None else Decimal(body.probability),
    )
