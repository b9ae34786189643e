"""What the fusion service needs from storage: runs, lineage and the review queue.

Rows carry no personal value in the clear: a review pair's record values travel encrypted
(``left_values_enc``), explanations and reports name fields, levels, weights and rows::

    RunRow(id=3, name="customers", records_in=12000, created=7100, updated=40, ...)
    LineageRow(party_id=42, field="email", system="crm", external_id="C000123",
               source="crm", source_row=124, run_id=3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crmledger.services.party_merge_ports import MergeUnitOfWork

PairKey = tuple[tuple[str, str], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class RunRow:
    """A recorded fusion run; ``config``, ``timings`` and ``report`` are JSON text."""

    id: int
    name: str
    config: str
    records_in: int
    problems: int
    fixes: int
    clusters: int
    created: int
    updated: int
    unchanged: int
    merged: int
    for_review: int
    timings: str
    report: str
    actor: str
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class LineageRow:
    """The source record a golden party's field came from."""

    party_id: int
    field: str
    system: str
    external_id: str
    source: str
    source_row: int
    run_id: int


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """A pair of records a person decides; ``explanation`` is JSON text."""

    id: int
    run_id: int
    left: tuple[str, str]
    right: tuple[str, str]
    probability_ppm: int
    explanation: str
    left_values_enc: str
    right_values_enc: str
    status: str
    decided_by: str | None
    decided_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> PairKey:
        return (self.left, self.right)


class FusionStore(Protocol):
    """Fusion runs, lineage and review pairs in one transaction."""

    def add_run(self, row: RunRow) -> int:
        """Insert ``row`` (its id is ignored); returns the new id."""

    def finish_run(self, run_id: int, timings: str, finished_at: datetime) -> None:
        """Record the final stage timings of a run written before its last stage ended."""

    def run(self, run_id: int) -> RunRow | None: ...
    def runs(self, before_id: int | None, limit: int) -> list[RunRow]:
        """Newest first, below ``before_id``."""

    def lineage(self, party_ids: Sequence[int]) -> list[LineageRow]: ...
    def put_lineage(self, rows: Sequence[LineageRow]) -> None:
        """Insert or replace the rows (by party and field)."""

    def review_pairs(self, keys: Sequence[PairKey]) -> dict[PairKey, ReviewRow]:
        """The stored pairs among ``keys``."""

    def decisions(self) -> dict[PairKey, bool]:
        """Every decided pair: True accepted, False rejected."""

    def add_review(
        self, run_id: int, key: PairKey, probability_ppm: int, explanation: str, at: datetime
    ) -> int:
        """Insert an open pair (values empty until :meth:`set_review_values`)."""

    def set_review_values(self, review_id: int, left_enc: str, right_enc: str) -> None: ...
    def refresh_review(
        self, review_id: int, run_id: int, probability_ppm: int, explanation: str, at: datetime
    ) -> None:
        """A later run scored an open pair anew."""

    def review(self, review_id: int) -> ReviewRow | None: ...
    def review_page(self, status: str | None, after_id: int, limit: int) -> list[ReviewRow]:
        """Pairs by id after ``after_id`` (of ``status`` when given)."""

    def decide(self, review_id: int, version: int, status: str, by: str, at: datetime) -> bool:
        """Set the decision if the stored version is ``version``; whether a row changed."""

    def count_open(self) -> int: ...


class FusionUnitOfWork(MergeUnitOfWork, Protocol):
    """A unit of work that also holds the fusion tables (and party merges)."""

    @property
    def fusion(self) -> FusionStore:
        """Fusion runs, lineage and review pairs in this transaction."""


class FusionUnitOfWorkFactory(Protocol):
    """Opens fusion units of work."""

    def __call__(self, readonly: bool = False) -> FusionUnitOfWork: ...
