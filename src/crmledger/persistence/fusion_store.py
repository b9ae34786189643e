"""``FusionStore`` on SQLAlchemy Core: runs, lineage and review pairs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, or_, select, tuple_, update

from crmledger.persistence.access_store import aware
from crmledger.persistence.fusion_tables import fusion_lineage, fusion_review, fusion_runs
from crmledger.services.fusion_ports import LineageRow, PairKey, ReviewRow, RunRow

#: Values per IN list.
_CHUNK = 400


def _at(value: datetime | None) -> datetime:
    found = aware(value)
    assert found is not None
    return found


def _run(row: Row[Any]) -> RunRow:
    values = row._asdict()
    values["started_at"] = _at(row.started_at)
    values["finished_at"] = _at(row.finished_at)
    return RunRow(**values)


def _review(row: Row[Any]) -> ReviewRow:
    return ReviewRow(
        id=row.id,
        run_id=row.run_id,
        left=(row.left_system, row.left_id),
        right=(row.right_system, row.right_id),
        probability_ppm=row.probability_ppm,
        explanation=row.explanation,
        left_values_enc=row.left_values,
        right_values_enc=row.right_values,
        status=row.status,
        decided_by=row.decided_by,
        decided_at=aware(row.decided_at),
        version=row.version,
        created_at=_at(row.created_at),
        updated_at=_at(row.updated_at),
    )


_PAIR = (
    fusion_review.c.left_system,
    fusion_review.c.left_id,
    fusion_review.c.right_system,
    fusion_review.c.right_id,
)


class SqlFusionStore:
    """Fusion tables in the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- runs -----------------------------------------------------------------------

    def add_run(self, row: RunRow) -> int:
        values = {k: getattr(row, k) for k in RunRow.__slots__ if k != "id"}
        result = self._conn.execute(insert(fusion_runs).values(values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def finish_run(self, run_id: int, timings: str, finished_at: datetime) -> None:
        self._conn.execute(
            update(fusion_runs)
            .where(fusion_runs.c.id == run_id)
            .values(timings=timings, finished_at=finished_at)
        )

    def run(self, run_id: int) -> RunRow | None:
        row = self._conn.execute(select(fusion_runs).where(fusion_runs.c.id == run_id)).first()
        return None if row is None else _run(row)

    def runs(self, before_id: int | None, limit: int) -> list[RunRow]:
        stmt = select(fusion_runs).order_by(fusion_runs.c.id.desc()).limit(limit)
        if before_id is not None:
            stmt = stmt.where(fusion_runs.c.id < before_id)
        return [_run(r) for r in self._conn.execute(stmt)]

    # -- lineage --------------------------------------------------------------------

    def lineage(self, party_ids: Sequence[int]) -> list[LineageRow]:
        out: list[LineageRow] = []
        ids = sorted(set(party_ids))
        for start in range(0, len(ids), _CHUNK):
            stmt = (
                select(fusion_lineage)
                .where(fusion_lineage.c.party_id.in_(ids[start : start + _CHUNK]))
                .order_by(fusion_lineage.c.party_id, fusion_lineage.c.field)
            )
            out += [LineageRow(**r._asdict()) for r in self._conn.execute(stmt)]
        return out

    def put_lineage(self, rows: Sequence[LineageRow]) -> None:
        if not rows:
            return
        keys = [(r.party_id, r.field) for r in rows]
        for start in range(0, len(keys), _CHUNK):
            part = keys[start : start + _CHUNK]
            self._conn.execute(
                delete(fusion_lineage).where(
                    tuple_(fusion_lineage.c.party_id, fusion_lineage.c.field).in_(part)
                )
            )
        values = [{k: getattr(r, k) for k in LineageRow.__slots__} for r in rows]
        self._conn.execute(insert(fusion_lineage), values)

    # -- review ---------------------------------------------------------------------

    def review_pairs(self, keys: Sequence[PairKey]) -> dict[PairKey, ReviewRow]:
        out: dict[PairKey, ReviewRow] = {}
        flat = [(a[0], a[1], b[0], b[1]) for a, b in keys]
        for start in range(0, len(flat), _CHUNK):
            stmt = select(fusion_review).where(tuple_(*_PAIR).in_(flat[start : start + _CHUNK]))
            for row in self._conn.execute(stmt):
                review = _review(row)
                out[review.key] = review
        return out

    def decisions(self) -> dict[PairKey, bool]:
        stmt = select(*_PAIR, fusion_review.c.status).where(fusion_review.c.status != "open")
        return {
            ((ls, li), (rs, ri)): status == "accepted"
            for ls, li, rs, ri, status in self._conn.execute(stmt)
        }

    def add_review(
        self, run_id: int, key: PairKey, probability_ppm: int, explanation: str, at: datetime
    ) -> int:
        (ls, li), (rs, ri) = key
        result = self._conn.execute(
            insert(fusion_review).values(
                run_id=run_id,
                left_system=ls,
                left_id=li,
                right_system=rs,
                right_id=ri,
                probability_ppm=probability_ppm,
                explanation=explanation,
                left_values="",
                right_values="",
                status="open",
                created_at=at,
                updated_at=at,
            )
        )
        found = result.inserted_primary_key
        assert found is not None
        return int(found[0])

    def set_review_values(self, review_id: int, left_enc: str, right_enc: str) -> None:
        self._conn.execute(
            update(fusion_review)
            .where(fusion_review.c.id == review_id)
            .values(left_values=left_enc, right_values=right_enc)
        )

    def refresh_review(
        self, review_id: int, run_id: int, probability_ppm: int, explanation: str, at: datetime
    ) -> None:
        self._conn.execute(
            update(fusion_review)
            .where(fusion_review.c.id == review_id, fusion_review.c.status == "open")
            .values(
                run_id=run_id,
                probability_ppm=probability_ppm,
                explanation=explanation,
                updated_at=at,
                version=fusion_review.c.version + 1,
            )
        )

    def review(self, review_id: int) -> ReviewRow | None:
        row = self._conn.execute(
            select(fusion_review).where(fusion_review.c.id == review_id)
        ).first()
        return None if row is None else _review(row)

    def review_page(self, status: str | None, after_id: int, limit: int) -> list[ReviewRow]:
        stmt = select(fusion_review).where(fusion_review.c.id > after_id)
        if status is not None:
            stmt = stmt.where(fusion_review.c.status == status)
        stmt = stmt.order_by(fusion_review.c.id).limit(limit)
        return [_review(r) for r in self._conn.execute(stmt)]

    def decide(self, review_id: int, version: int, status: str, by: str, at: datetime) -> bool:
        done = self._conn.execute(
            update(fusion_review)
            .where(
                and_(fusion_review.c.id == review_id, fusion_review.c.version == version),
                or_(fusion_review.c.status == "open", fusion_review.c.status != status),
            )
            .values(
                status=status,
                decided_by=by,
                decided_at=at,
                updated_at=at,
                version=fusion_review.c.version + 1,
            )
        )
        return done.rowcount == 1

    def count_open(self) -> int:
        stmt = (
            select(func.count()).select_from(fusion_review).where(fusion_review.c.status == "open")
        )
        return int(self._conn.execute(stmt).scalar_one())
