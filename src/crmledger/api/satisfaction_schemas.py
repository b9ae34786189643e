"""Request and response bodies of satisfaction surveys (NPS and CSAT).

The document states the scale of each kind (``oneOf``: NPS 0..10, CSAT 1..5) so clients
and fuzzers know it; the service checks it again and names ``score`` when it is off::

    POST /api/v1/satisfaction-responses
    {"kind": "csat", "score": 4, "party_id": 7, "answered_on": "2026-05-04"}

Scores of a summary are decimal strings (``"41.7"``), ``null`` for a period without
answers, never JSON numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from crmledger.api.routes.common import MAX_LIMIT
from crmledger.api.schemas import NO_NUL, Day, In, RowId, json_number
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.services.satisfaction import COMMENT_MAX, ID_MAX, Recorded, SummaryRow

RefId = RowId
Comment = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=COMMENT_MAX)]

# JSON Schema cannot tie a range to a sibling field by itself: each kind's scale is one
# alternative of a oneOf (the kinds exclude each other, so exactly one matches).
_SCALES: JsonDict = {
    "oneOf": [
        {"properties": {"kind": {"const": "nps"}, "score": {"minimum": 0, "maximum": 10}}},
        {"properties": {"kind": {"const": "csat"}, "score": {"minimum": 1, "maximum": 5}}},
    ]
}


class SatisfactionCreate(In):
    """One answer: NPS scores 0..10, CSAT 1..5; ``answered_on`` is the day it was given."""

    model_config = ConfigDict(json_schema_extra=_SCALES)

    kind: SurveyKind
    score: Annotated[
        int, Field(ge=0, le=10, description="NPS 0..10, CSAT 1..5."), BeforeValidator(json_number)
    ]
    party_id: RefId
    answered_on: Day
    comment: Comment = ""
    interaction_id: RefId | None = None
    order_id: RefId | None = None
    invoice_id: RefId | None = None

    def response(self) -> Response:
        """The domain value of this body."""
        return Response(
            kind=self.kind,
            score=self.score,
            party_id=self.party_id,
            answered_on=self.answered_on,
            comment=self.comment,
            interaction_id=self.interaction_id,
            order_id=self.order_id,
            invoice_id=self.invoice_id,
        )


class SatisfactionPublic(BaseModel):
    """A stored answer; ``created_by`` is the recorder's pseudonymous id (``user:7``)."""

    id: int
    kind: SurveyKind
    score: int
    party_id: int
    answered_on: dt.date
    comment: str
    interaction_id: int | None
    order_id: int | None
    invoice_id: int | None
    created_at: dt.datetime
    created_by: str

    @classmethod
    def of(cls, recorded: Recorded) -> SatisfactionPublic:
        """The API view of a stored answer."""
        r = recorded.response
        return cls(
            id=recorded.id,
            kind=r.kind,
            score=r.score,
            party_id=r.party_id,
            answered_on=r.answered_on,
            comment=r.comment,
            interaction_id=r.interaction_id,
            order_id=r.order_id,
            invoice_id=r.invoice_id,
            created_at=recorded.created_at,
            created_by=recorded.created_by,
        )


class SatisfactionFilters(BaseModel):
    """Page and filters of the response list (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    party_id: int | None = Field(None, ge=1, le=ID_MAX)
    kind: SurveyKind | None = None
    date_from: Day | None = Field(None, alias="from", description="First day, inclusive.")
    date_to: Day | None = Field(None, alias="to", description="Last day, inclusive.")


class SummaryFilters(BaseModel):
    """What to score and how to group it (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    kind: SurveyKind
    by: Literal["period", "segment", "owner"] = Field(
        "period", description="Group per period, per party segment or per party owner."
    )
    period: Literal["month", "quarter", "year"] = Field(
        "month", description="The period of `by=period`."
    )
    date_from: Day | None = Field(None, alias="from", description="First day, inclusive.")
    date_to: Day | None = Field(None, alias="to", description="Last day, inclusive.")


class SummaryRowPublic(BaseModel):
    """The answers under one key: a period (``2026-05``, ``2026-Q2``, ``2026``), a segment
    or an owner's user id (``""``: parties without one)."""

    key: str
    responses: int
    score: str | None = Field(description='NPS -100..100 or CSAT 0..100 % ("41.7").')
    promoters: int | None = Field(description="NPS 9-10 (null for CSAT).")
    passives: int | None = Field(description="NPS 7-8 (null for CSAT).")
    detractors: int | None = Field(description="NPS 0-6 (null for CSAT).")

    @classmethod
    def of(cls, row: SummaryRow) -> SummaryRowPublic:
        """The API view of a summary row."""
        return cls(
            key=row.key,
            responses=row.responses,
            score=None if row.score is None else str(row.score),
            promoters=row.promoters,
            passives=row.passives,
            detractors=row.detractors,
        )


class SummaryPublic(BaseModel):
    """A satisfaction summary: what was asked for and one row per key, in key order."""

    kind: SurveyKind
    by: str
    period: str
    rows: list[SummaryRowPublic]
