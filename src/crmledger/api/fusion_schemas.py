"""Request and response bodies of ``/fusion``: runs over uploaded sources, their reports,
and the review queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from crmledger.api.schemas import NO_NUL, In
from crmledger.services.fusion import RunOutcome
from crmledger.services.fusion_ports import RunRow
from crmledger.services.fusion_review import ReviewItem

SourceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,49}$")]


class FusionSourceUpload(In):
    """A source as text, with its mapping (YAML or JSON text)."""

    name: SourceName = Field(description="Names the source; also its external id system.")
    kind: Literal["csv", "json", "jsonl"]
    content: str = Field(max_length=500_000, pattern=NO_NUL, description="The file's text.")
    mapping: str = Field(
        max_length=20_000, pattern=NO_NUL, description="The source's mapping (YAML or JSON)."
    )
    priority: int = Field(100, ge=1, le=10_000, description="Survivorship rank: 1 wins.")


_EXAMPLE_RUN: JsonDict = {
    "name": "Webshop customers",
    "dry_run": True,
    "region": "DE",
    "sources": [
        {
            "name": "shop",
            "kind": "csv",
            "content": "id,company,email\n1,Acme GmbH,info@acme.example\n",
            "mapping": "fields: {external_id: id, display_name: company, email: email}",
        }
    ],
}


class FusionRunCreate(In):
    """A fusion run over uploaded sources."""

    model_config = In.model_config | ConfigDict(json_schema_extra={"examples": [_EXAMPLE_RUN]})

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    dry_run: bool = Field(False, description="Write nothing; answer what would change.")
    region: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="Default phone region.")
    accept: float = Field(0.95, ge=0.5, le=1.0, description="Match probability that links.")
    review: float = Field(0.70, ge=0.0, le=1.0, description="Probability a person checks.")
    sources: list[FusionSourceUpload] = Field(min_length=1, max_length=5)


class FusionCounts(BaseModel):
    """What a run did."""

    records_in: int
    problems: int
    fixes: int
    clusters: int
    created: int
    updated: int
    unchanged: int
    merged: int
    for_review: int


class FusionRunPublic(FusionCounts):
    """A recorded run."""

    id: int
    name: str
    actor: str
    started_at: datetime
    finished_at: datetime

    @classmethod
    def of(cls, row: RunRow) -> FusionRunPublic:
        return cls(
            id=row.id,
            name=row.name,
            actor=row.actor,
            started_at=row.started_at,
            finished_at=row.finished_at,
            records_in=row.records_in,
            problems=row.problems,
            fixes=row.fixes,
            clusters=row.clusters,
            created=row.created,
            updated=row.updated,
            unchanged=row.unchanged,
            merged=row.merged,
            for_review=row.for_review,
        )


class LocatedProblem(BaseModel):
    """A value or row that was refused, by source, row and field."""

    source: str
    row: int
    field: str
    reason: str


class FusionOutcomePublic(FusionCounts):
    """What a run did (``id`` null: a dry run, nothing written)."""

    id: int | None
    name: str
    dry_run: bool
    held: int = Field(description="Records waiting for a review decision.")
    problem_list: list[LocatedProblem]

    @classmethod
    def of(cls, outcome: RunOutcome) -> FusionOutcomePublic:
        problems = [
            LocatedProblem(source=p.source, row=p.row, field=p.field, reason=p.reason)
            for p in outcome.log.problems[:200]
        ]
        return cls(
            id=outcome.run_id,
            name=outcome.name,
            dry_run=outcome.dry_run,
            held=outcome.held,
            problem_list=problems,
            **outcome.counts(),
        )


class ReviewPublic(BaseModel):
    """A pair of records a person decides, side by side, with why the model hesitated."""

    id: int
    run_id: int
    left: list[str] = Field(description="[system, external id]")
    right: list[str]
    probability: float
    explanation: dict[str, Any]
    left_record: dict[str, Any]
    right_record: dict[str, Any]
    status: Literal["open", "accepted", "rejected"]
    decided_by: str | None
    decided_at: datetime | None
    version: int

    @classmethod
    def of(cls, item: ReviewItem) -> ReviewPublic:
        return cls(
            id=item.id,
            run_id=item.run_id,
            left=list(item.left),
            right=list(item.right),
            probability=item.probability,
            explanation=item.explanation,
            left_record=item.left_record,
            right_record=item.right_record,
            status=item.status,  # type: ignore[arg-type]
            decided_by=item.decided_by,
            decided_at=item.decided_at,
            version=item.version,
        )


class ReviewDecision(In):
    """Accept: the two records are one customer; reject: two customers."""

    decision: Literal["accept", "reject"]
