"""Request and response bodies of party merges: the party to absorb, and a merge as
stored (who survived, who was absorbed, what moved, whether it was undone)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.schemas import In
from crmledger.services.party_merge import PartyMerge


class PartyMergeCreate(In):
    """The party to merge into the one the path names."""

    model_config = In.model_config | ConfigDict(
        json_schema_extra={"examples": [{"absorbed_id": 31}]}
    )

    absorbed_id: int = Field(
        ge=1, le=2**31 - 1, description="The party whose records move; it stays, as merged."
    )


class PartyMergePublic(BaseModel):
    """A merge of two parties."""

    id: int
    survivor_id: int
    absorbed_id: int
    status: str = Field(description="`active`, or `undone` once undone.")
    moved: dict[str, int] = Field(description="Rows moved, per `table.column`.")
    run_id: int | None = Field(description="The fusion run that merged them, if one did.")
    merged_by: str
    merged_at: datetime
    undone_by: str | None
    undone_at: datetime | None

    @classmethod
    def of(cls, merge: PartyMerge) -> PartyMergePublic:
        return cls(
            id=merge.id,
            survivor_id=merge.survivor_id,
            absorbed_id=merge.absorbed_id,
            status=merge.status,
            moved=merge.moved,
            run_id=merge.run_id,
            merged_by=merge.merged_by,
            merged_at=merge.merged_at,
            undone_by=merge.undone_by,
            undone_at=merge.undone_at,
        )
