"""The review queue: record pairs the model was unsure of, decided by a person.

A pair scored in the review band (``match.review`` up to ``match.accept``) is stored once,
with its explanation and both records' values (encrypted). A decision sticks to the pair:
later runs link an accepted pair whatever its score and never link a rejected one::

    queue = fusion.review
    item = queue.list(status="open")[0]
    queue.decide(item.id, accept=True, if_version=item.version)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmledger.fusion.records import BOOK_SOURCE
from crmledger.services.errors import InvalidInputError, NotFoundError, VersionConflictError
from crmledger.services.fusion_ports import FusionUnitOfWork, FusionUnitOfWorkFactory, ReviewRow
from crmledger.services.party_merge import merge_parties, resolve
from crmledger.services.ports import Clock, FieldCipher, FieldContext
from crmledger.services.trail import OPERATOR, Actor, record

REVIEW_TABLE = "fusion_review"


def book_party(uow: FusionUnitOfWork, key: tuple[str, str]) -> int | None:
    """The book party a record is, or belongs to by its external id (after merges)."""
    system, external_id = key
    if system == BOOK_SOURCE:
        found: int | None = int(external_id)
    else:
        found = uow.parties.external_owners([key]).get(key)
    return None if found is None else resolve(uow, found)


STATUSES = ("open", "accepted", "rejected")


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A pair as a person sees it: both records' values side by side, the explanation."""

    id: int
    run_id: int
    left: tuple[str, str]
    right: tuple[str, str]
    probability: float
    explanation: dict[str, Any]
    left_record: dict[str, Any]
    right_record: dict[str, Any]
    status: str
    decided_by: str | None
    decided_at: datetime | None
    version: int


class ReviewQueue:
    """Listing and deciding review pairs."""

    def __init__(
        self,
        uow: FusionUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cipher = cipher
        self._actor = actor

    def _values(self, row: ReviewRow, column: str, stored: str) -> dict[str, Any]:
        if not stored:
            return {}
        text = self._cipher.decrypt(stored, FieldContext(REVIEW_TABLE, column, str(row.id)))
        found: dict[str, Any] = json.loads(text)
        return found

    def _item(self, row: ReviewRow) -> ReviewItem:
        return ReviewItem(
            id=row.id,
            run_id=row.run_id,
            left=row.left,
            right=row.right,
            probability=row.probability_ppm / 1_000_000,
            explanation=json.loads(row.explanation),
            left_record=self._values(row, "left_values", row.left_values_enc),
            right_record=self._values(row, "right_values", row.right_values_enc),
            status=row.status,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            version=row.version,
        )

    def list(
        self, status: str | None = "open", after_id: int = 0, limit: int = 50
    ) -> list[ReviewItem]:
        """Pairs by id (``status`` None: all)."""
        self._actor.require("parties", "read")
        if status is not None and status not in STATUSES:
            raise InvalidInputError("status", f"is one of {', '.join(STATUSES)}")
        with self._uow(readonly=True) as uow:
            return [self._item(r) for r in uow.fusion.review_page(status, after_id, limit)]

    def get(self, review_id: int) -> ReviewItem:
        """One pair; :class:`NotFoundError` when there is none."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return self._item(self._row(uow, review_id))

    @staticmethod
    def _row(uow: FusionUnitOfWork, review_id: int) -> ReviewRow:
        row = uow.fusion.review(review_id)
        if row is None:
            raise NotFoundError(f"no review pair {review_id}")
        return row

    def count_open(self) -> int:
        """How many pairs wait for a decision."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return uow.fusion.count_open()

    def _merge_parties(self, uow: FusionUnitOfWork, row: ReviewRow, at: datetime) -> None:
        """An accepted pair whose records belong to two book parties merges them (the
        lower id survives) in the decision's transaction."""
        found = {book_party(uow, key) for key in (row.left, row.right)}
        if None in found or len(found) < 2:
            return
        survivor, absorbed = sorted(p for p in found if p is not None)
        merge_parties(uow, self._actor, survivor, absorbed, at)

    def decide(self, review_id: int, accept: bool, if_version: int | None = None) -> ReviewItem:
        """Accept (the records are one customer) or reject a pair; later runs respect it.
        Deciding again changes the decision."""
        self._actor.require("parties", "write")
        status = "accepted" if accept else "rejected"
        at = self._clock.now()
        with self._uow() as uow:
            row = self._row(uow, review_id)
            if if_version is not None and row.version != if_version:
                raise VersionConflictError(f"review pair {review_id}", if_version, row.version)
            if row.status != status:
                if not uow.fusion.decide(review_id, row.version, status, self._actor.audit_id, at):
                    raise VersionConflictError(
                        f"review pair {review_id}", row.version, row.version + 1
                    )
                if accept:
                    self._merge_parties(uow, row, at)
                before = {"status": row.status}
                record(
                    uow,
                    self._actor,
                    at,
                    "fusion.review",
                    "fusion_review",
                    review_id,
                    before,
                    {"status": status},
                )
                uow.commit()
            row = self._row(uow, review_id)
            return self._item(row)
