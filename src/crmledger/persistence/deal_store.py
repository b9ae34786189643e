"""``DealStore`` on SQLAlchemy Core: pipelines, stages, deals and stage history.

Writes are compare-and-set on ``version``; a pipeline's stage list is replaced stage by
stage (update, insert, delete) so the foreign key from deals to their stage never breaks::

    store = SqlDealStore(conn)
    store.update_pipeline(row, expected_version=3)   # False: someone saved version 4 first
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, exists, func, insert, select, update

from crmledger.persistence.access_store import aware
from crmledger.persistence.deal_tables import deal_stage_changes, deals, pipeline_stages, pipelines
from crmledger.services.crm_ports import (
    DealQuery,
    DealRow,
    PipelineRow,
    StageChangeRow,
    StageRow,
    StageTotal,
)

_DEAL_COLUMNS = [c.name for c in deals.columns]
_LIKE_ESCAPE = "\\"


def _stage(row: Row[Any]) -> StageRow:
    return StageRow(row.key, row.name, row.position, row.probability_bp, row.kind)


def _deal(row: Row[Any]) -> DealRow:
    values = {name: getattr(row, name) for name in _DEAL_COLUMNS}
    for name in ("won_at", "closed_at", "created_at", "updated_at"):
        values[name] = aware(values[name])
    return DealRow(**values)


def _change(row: Row[Any]) -> StageChangeRow:
    at = aware(row.at)
    assert at is not None
    return StageChangeRow(
        row.id, row.deal_id, row.from_stage, row.to_stage, at, row.by_actor, row.reason
    )


def _deal_values(row: DealRow) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _DEAL_COLUMNS}
    del values["id"]
    return values


def _like(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlDealStore:
    """Pipelines and deals in the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- pipelines -------------------------------------------------------------------------

    def pipelines(self) -> list[PipelineRow]:
        heads = self._conn.execute(select(pipelines).order_by(pipelines.c.key)).all()
        return self._complete(heads)

    def pipeline(self, key: str) -> PipelineRow | None:
        head = self._conn.execute(select(pipelines).where(pipelines.c.key == key)).first()
        return self._complete([head])[0] if head is not None else None

    def _complete(self, heads: Sequence[Row[Any]]) -> list[PipelineRow]:
        keys = [h.key for h in heads]
        stages: dict[str, list[StageRow]] = {k: [] for k in keys}
        if keys:
            stmt = (
                select(pipeline_stages)
                .where(pipeline_stages.c.pipeline.in_(keys))
                .order_by(pipeline_stages.c.pipeline, pipeline_stages.c.position)
            )
            for row in self._conn.execute(stmt):
                stages[row.pipeline].append(_stage(row))
        return [
            PipelineRow(
                h.key,
                h.name,
                h.version,
                tuple(stages[h.key]),
                aware(h.created_at) or h.created_at,
                aware(h.updated_at) or h.updated_at,
            )
            for h in heads
        ]

    def insert_pipeline(self, row: PipelineRow) -> None:
        self._conn.execute(
            insert(pipelines).values(
                key=row.key,
                name=row.name,
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        )
        self._insert_stages(row.key, row.stages)

    def _insert_stages(self, pipeline: str, stages: Sequence[StageRow]) -> None:
        if stages:
            self._conn.execute(
                insert(pipeline_stages),
                [
                    {
                        "pipeline": pipeline,
                        "key": s.key,
                        "name": s.name,
                        "position": s.position,
                        "probability_bp": s.probability_bp,
                        "kind": s.kind,
                    }
                    for s in stages
                ],
            )

    def update_pipeline(self, row: PipelineRow, expected_version: int) -> bool:
        done = self._conn.execute(
            update(pipelines)
            .where(pipelines.c.key == row.key, pipelines.c.version == expected_version)
            .values(name=row.name, version=row.version, updated_at=row.updated_at)
        )
        if done.rowcount != 1:
            return False
        t = pipeline_stages
        stored = {r.key for r in self._conn.execute(select(t.c.key).where(t.c.pipeline == row.key))}
        wanted = {s.key for s in row.stages}
        gone = stored - wanted
        if gone:
            self._conn.execute(delete(t).where(t.c.pipeline == row.key, t.c.key.in_(gone)))
        for stage in row.stages:
            if stage.key in stored:
                self._conn.execute(
                    update(t)
                    .where(t.c.pipeline == row.key, t.c.key == stage.key)
                    .values(
                        name=stage.name,
                        position=stage.position,
                        probability_bp=stage.probability_bp,
                        kind=stage.kind,
                    )
                )
        self._insert_stages(row.key, [s for s in row.stages if s.key not in stored])
        return True

    def deals_per_stage(self, pipeline: str) -> dict[str, int]:
        stmt = (
            select(deals.c.stage, func.count())
            .where(deals.c.pipeline == pipeline)
            .group_by(deals.c.stage)
        )
        return {stage: int(n) for stage, n in self._conn.execute(stmt)}

    # -- deals -----------------------------------------------------------------------------

    def insert_deal(self, row: DealRow) -> int:
        result = self._conn.execute(insert(deals).values(_deal_values(row)).returning(deals.c.id))
        return int(result.scalar_one())

    def update_deal(self, row: DealRow, expected_version: int) -> bool:
        values = _deal_values(row)
        del values["created_at"]
        done = self._conn.execute(
            update(deals)
            .where(deals.c.id == row.id, deals.c.version == expected_version)
            .values(values)
        )
        return done.rowcount == 1

    def deal(self, deal_id: int) -> DealRow | None:
        row = self._conn.execute(select(deals).where(deals.c.id == deal_id)).first()
        return _deal(row) if row is not None else None

    def deal_page(self, query: DealQuery) -> list[DealRow]:
        stmt = select(deals).where(*_filters(query))
        if query.after is not None:
            stmt = stmt.where(
                deals.c.id > query.after if query.ascending else deals.c.id < query.after
            )
        order = deals.c.id if query.ascending else deals.c.id.desc()
        rows = self._conn.execute(stmt.order_by(order).limit(query.limit)).all()
        return [_deal(r) for r in rows]

    def open_deals(
        self, pipeline: str | None, close_from: date | None, close_to: date | None
    ) -> list[DealRow]:
        query = DealQuery(
            pipeline=pipeline, status="open", close_from=close_from, close_to=close_to
        )
        stmt = select(deals).where(*_filters(query)).order_by(deals.c.id)
        return [_deal(r) for r in self._conn.execute(stmt)]

    def stage_deals(self, pipeline: str, stage: str, limit: int) -> list[DealRow]:
        stmt = (
            select(deals)
            .where(deals.c.pipeline == pipeline, deals.c.stage == stage)
            .order_by(deals.c.id.desc())
            .limit(limit)
        )
        return [_deal(r) for r in self._conn.execute(stmt)]

    def stage_totals(self, pipeline: str) -> list[StageTotal]:
        stmt = (
            select(deals.c.stage, deals.c.currency, func.count(), func.sum(deals.c.amount_minor))
            .where(deals.c.pipeline == pipeline)
            .group_by(deals.c.stage, deals.c.currency)
            .order_by(deals.c.stage, deals.c.currency)
        )
        return [
            StageTotal(stage, currency, int(n), int(total))
            for stage, currency, n, total in self._conn.execute(stmt)
        ]

    def search(self, fragment: str, limit: int) -> list[DealRow]:
        stmt = (
            select(deals)
            .where(deals.c.title_fold.like(_like(fragment), escape=_LIKE_ESCAPE))
            .order_by(deals.c.id.desc())
            .limit(limit)
        )
        return [_deal(r) for r in self._conn.execute(stmt)]

    # -- stage history ---------------------------------------------------------------------

    def add_change(self, row: StageChangeRow) -> int:
        result = self._conn.execute(
            insert(deal_stage_changes)
            .values(
                deal_id=row.deal_id,
                from_stage=row.from_stage,
                to_stage=row.to_stage,
                at=row.at,
                by_actor=row.by,
                reason=row.reason,
            )
            .returning(deal_stage_changes.c.id)
        )
        return int(result.scalar_one())

    def changes(self, deal_id: int, after_id: int, limit: int) -> list[StageChangeRow]:
        t = deal_stage_changes
        stmt = (
            select(t).where(t.c.deal_id == deal_id, t.c.id > after_id).order_by(t.c.id).limit(limit)
        )
        return [_change(r) for r in self._conn.execute(stmt)]


def _filters(query: DealQuery) -> list[Any]:
    where: list[Any] = []
    for name in ("pipeline", "stage", "owner_id", "party_id"):
        value = getattr(query, name)
        if value is not None:
            where.append(deals.c[name] == value)
    if query.status is not None:
        t = pipeline_stages
        where.append(
            exists().where(
                and_(t.c.pipeline == deals.c.pipeline, t.c.key == deals.c.stage),
                t.c.kind == query.status,
            )
        )
    if query.close_from is not None:
        where.append(deals.c.expected_close >= query.close_from)
    if query.close_to is not None:
        where.append(deals.c.expected_close <= query.close_to)
    return where
