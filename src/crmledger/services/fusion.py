"""Fusion runs: read many sources, clean, match and merge them into golden parties.

One call runs every stage and writes the result in one transaction, or (``dry_run``)
writes nothing and says what it would do::

    fusion = FusionService(uow, clock, cipher, openers).acting_as(actor)
    outcome = fusion.run(load_config(Path("fusion.yml")))
    outcome.created, outcome.updated, outcome.for_review

The stages (each timed, each reporting progress as ``(stage, count)``): ``prepare``
(open the sources, compile their mappings), ``read`` (map and clean every record),
``match`` (the book's parties that no run attached yet take part as records; review
decisions are respected), ``merge`` (survivorship per golden party) and ``write`` (parties,
external ids, lineage, review pairs, the run record, its audit record and outbox event).

A record whose external id a book party holds goes to that party; the book's own values
are the weakest candidates for survivorship (``book.priority``). A re-run over the same
sources finds the same clusters and golden values and so writes nothing but its run
record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmledger.core.crm.parties import Party
from crmledger.fusion.config import UPLOAD_OPENERS, RunConfig, Upload, prepare, upload_config
from crmledger.fusion.mapping import MappingError
from crmledger.fusion.match import MatchResult, MatchSettings, match
from crmledger.fusion.pipeline import IssueLog, book_record, plan, read_records
from crmledger.fusion.profile import SourceProfile, profile_source
from crmledger.fusion.records import FusedRecord, Issue
from crmledger.fusion.sources import Opener, Source, SourceError, text_source
from crmledger.fusion.suggest import Suggestion, suggest
from crmledger.services.billing_common import emit
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.errors import InvalidInputError, NotFoundError
from crmledger.services.fusion_ports import FusionUnitOfWork, FusionUnitOfWorkFactory, RunRow
from crmledger.services.fusion_review import ReviewQueue
from crmledger.services.fusion_write import (
    Change,
    changes,
    group_index,
    hold_back,
    merge_book_parties,
    merged_count,
    to_review,
    write_lineage,
    write_parties,
    write_review,
)
from crmledger.services.party_codec import PartyCodec
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.trail import OPERATOR, Actor, record

Progress = Callable[[str, int], None]
#: Located problems a run keeps in its stored report (all are counted).
KEPT_PROBLEMS = 200
_PAGE = 1000


@dataclass
class RunOutcome:
    """What a run did (or, dry, would do)."""

    name: str
    dry_run: bool
    run_id: int | None = None
    rows: dict[str, int] = field(default_factory=dict)
    records_in: int = 0
    problems: int = 0
    fixes: int = 0
    clusters: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    for_review: int = 0
    held: int = 0
    #: Book parties merged into another (absorbed -> survivor), and the merges made.
    absorbed: dict[int, int] = field(default_factory=dict)
    merge_ids: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    log: IssueLog = field(default_factory=IssueLog)
    trained: bool = False
    model: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "records_in": self.records_in,
            "problems": self.problems,
            "fixes": self.fixes,
            "clusters": self.clusters,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "for_review": self.for_review,
        }

    def report(self) -> dict[str, Any]:
        """The report a run keeps: counts, per-source rows, issue counts, the first located
        problems (source, row, field, reason: never a value) and the model."""
        return {
            "name": self.name,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "held": self.held,
            "parties_merged": [
                {"absorbed": a, "survivor": s} for a, s in sorted(self.absorbed.items())
            ],
            "rows": self.rows,
            "timings": self.timings,
            "issues": self.log.summary(),
            "problems": [
                {"source": p.source, "row": p.row, "field": p.field, "reason": p.reason}
                for p in self.log.problems[:KEPT_PROBLEMS]
            ],
            "model": {"trained": self.trained, "settings": self.model},
        }


@dataclass
class _Book:
    """The book's parties as the run sees them."""

    owners: dict[tuple[str, str], int] = field(default_factory=dict)
    parties: dict[int, tuple[Party, FusedRecord]] = field(default_factory=dict)
    matching: list[FusedRecord] = field(default_factory=list)


class _Timer:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = round(now - self._last, 3)
        self._last = now


class FusionService:
    """Fusion runs, their reports, and the review queue."""

    def __init__(
        self,
        uow: FusionUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        openers: Mapping[str, Opener],
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cipher = cipher
        self._codec = PartyCodec(cipher)
        self._openers = dict(openers)
        self._actor = actor
        self.review = ReviewQueue(uow, clock, cipher, actor)

    def acting_as(self, actor: Actor) -> FusionService:
        """The same service for another actor."""
        return FusionService(self._uow, self._clock, self._cipher, self._openers, actor)

    @property
    def openers(self) -> dict[str, Opener]:
        return dict(self._openers)

    # -- looking at sources ------------------------------------------------------------

    def profile(self, source: Source, region: str | None = None) -> SourceProfile:
        """The profile of ``source`` (nothing is written)."""
        self._actor.require("parties", "read")
        return profile_source(source, region)

    def suggest(self, source: Source) -> Suggestion:
        """A drafted mapping for ``source``."""
        self._actor.require("parties", "read")
        return suggest(source)

    # -- runs --------------------------------------------------------------------------

    def run_upload(
        self,
        name: str,
        uploads: list[Upload],
        dry_run: bool = False,
        region: str | None = None,
        match_settings: MatchSettings | None = None,
    ) -> RunOutcome:
        """Run over uploaded sources (the web UI's and the REST API's way: no file paths,
        no database URLs); a bad mapping or source is an :class:`InvalidInputError`
        naming its lines."""
        try:
            config = upload_config(name, uploads, region, match_settings)
            return self.run(config, dry_run, openers=UPLOAD_OPENERS)
        except MappingError as exc:
            raise InvalidInputError("mapping", str(exc)) from None
        except SourceError as exc:
            raise InvalidInputError("sources", str(exc)) from None

    def profile_text(
        self, name: str, kind: str, text: str, region: str | None = None
    ) -> SourceProfile:
        """The profile of uploaded text."""
        try:
            return self.profile(text_source(name, kind, text), region)
        except SourceError as exc:
            raise InvalidInputError("file", str(exc)) from None

    def suggest_text(self, name: str, kind: str, text: str) -> Suggestion:
        """A drafted mapping for uploaded text."""
        try:
            return self.suggest(text_source(name, kind, text))
        except SourceError as exc:
            raise InvalidInputError("file", str(exc)) from None

    def run(
        self,
        config: RunConfig,
        dry_run: bool = False,
        progress: Progress | None = None,
        openers: Mapping[str, Opener] | None = None,
        workers: int = 1,
    ) -> RunOutcome:
        """Run every stage; write the result unless ``dry_run`` (see the module docs);
        ``workers`` processes clean the records (the command line's choice)."""
        self._actor.require("parties", "write")
        started, timer = self._clock.now(), _Timer()
        outcome = RunOutcome(config.name, dry_run)
        prepared = prepare(config, self._openers if openers is None else openers)
        timer.lap("prepare")
        records, outcome.rows = read_records(
            prepared, config.region, outcome.log, progress, self._clock.today(), workers
        )
        outcome.records_in = sum(outcome.rows.values())
        timer.lap("read")
        with self._uow(readonly=dry_run) as uow:
            book = self._book(uow, config)
            everyone = records + book.matching
            result = match(everyone, config.match, uow.fusion.decisions())
            self._tick(progress, "match", len(everyone))
            timer.lap("match")
            todo, review = self._merge(config, everyone, result, book, outcome)
            self._tick(progress, "merge", len(todo))
            timer.lap("merge")
            outcome.timings = timer.stages
            if not dry_run:
                self._write(uow, config, todo, (review, everyone), outcome, started)
                timer.lap("write")
                outcome.timings = timer.stages
                assert outcome.run_id is not None
                uow.fusion.finish_run(outcome.run_id, json.dumps(timer.stages), self._clock.now())
                uow.commit()
        return outcome

    @staticmethod
    def _tick(progress: Progress | None, stage: str, count: int) -> None:
        if progress is not None:
            progress(stage, count)

    def _book(self, uow: FusionUnitOfWork, config: RunConfig) -> _Book:
        """Every book party: owners of external ids; those no source of this run attached
        take part in matching (when the configuration includes the book)."""
        book = _Book()
        systems = {s.system for s in config.sources}
        after: tuple[str, int] | None = None
        while rows := uow.parties.page(PartyQuery(limit=_PAGE, sort="id", after=after)):
            for row in rows:
                party = self._codec.decode(row)
                assert party.id is not None
                attached = False
                for ext in party.external_ids:
                    book.owners[(ext.system, ext.id)] = party.id
                    attached = attached or ext.system in systems
                own = book_record(party, config.book_priority, config.region)
                book.parties[party.id] = (party, own)
                if config.include_book and not attached:
                    book.matching.append(own)
            after = (str(rows[-1].id), rows[-1].id)
        return book

    def _merge(
        self,
        config: RunConfig,
        everyone: list[FusedRecord],
        result: MatchResult,
        book: _Book,
        outcome: RunOutcome,
    ) -> tuple[list[Change], list[Any]]:
        can_merge = self._actor.principal.can("billing", "write")
        found = plan(
            everyone, result.clusters, book.owners, book.parties, config.survivorship, can_merge
        )
        todo, refused = changes(found.groups, config.region)
        outcome.log.extend([*found.problems, *refused])
        outcome.absorbed = dict(found.merges)
        review = to_review(result.review_pairs(config.match.accept), everyone, group_index(todo))
        todo, outcome.held = hold_back(todo, review, everyone)
        outcome.problems = outcome.log.total("problem")
        outcome.fixes = outcome.log.total("fix")
        outcome.clusters = len(todo)
        for action in ("new", "updated", "unchanged"):
            count = sum(1 for c in todo if c.action == action)
            setattr(outcome, "created" if action == "new" else action, count)
        outcome.merged = merged_count(todo)
        outcome.for_review = len(review)
        outcome.trained, outcome.model = result.trained, result.model
        return todo, review

    def _write(
        self,
        uow: FusionUnitOfWork,
        config: RunConfig,
        todo: Sequence[Change],
        review: tuple[list[Any], list[FusedRecord]],
        outcome: RunOutcome,
        started: datetime,
    ) -> None:
        at = self._clock.now()
        run_id = uow.fusion.add_run(self._run_row(config, outcome, started, at))
        outcome.run_id = run_id
        outcome.merge_ids = merge_book_parties(uow, self._actor, outcome.absorbed, todo, at, run_id)
        write_parties(uow, self._codec, self._actor, todo, at)
        lineage = write_lineage(uow, todo, run_id)
        pairs, everyone = review
        reviewed = write_review(uow, self._cipher, pairs, everyone, run_id, at)
        summary = outcome.counts() | {"lineage_rows": lineage, "review_rows": reviewed}
        record(uow, self._actor, at, "fusion.run", "fusion_run", run_id, None, summary)
        emit(uow, "fusion_run", run_id, "fusion.run.finished", at, **outcome.counts())

    def _run_row(
        self, config: RunConfig, outcome: RunOutcome, started: datetime, at: datetime
    ) -> RunRow:
        return RunRow(
            id=0,
            name=config.name[:200],
            config=json.dumps(config.as_stored(), sort_keys=True, default=str),
            **outcome.counts(),
            timings=json.dumps(outcome.timings),
            report=json.dumps(outcome.report(), sort_keys=True, default=str),
            actor=self._actor.audit_id,
            started_at=started,
            finished_at=at,
        )

    # -- reading runs ------------------------------------------------------------------

    def runs(self, before_id: int | None = None, limit: int = 50) -> list[RunRow]:
        """Recorded runs, newest first."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            return uow.fusion.runs(before_id, limit)

    def get_run(self, run_id: int) -> RunRow:
        """One recorded run; :class:`NotFoundError` when there is none."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            row = uow.fusion.run(run_id)
        if row is None:
            raise NotFoundError(f"no fusion run {run_id}")
        return row

    def report(self, run_id: int) -> dict[str, Any]:
        """A run's stored report with its configuration and counts."""
        row = self.get_run(run_id)
        report: dict[str, Any] = json.loads(row.report)
        report["id"] = row.id
        report["config"] = json.loads(row.config)
        report["timings"] = json.loads(row.timings)
        report["started_at"] = row.started_at.isoformat()
        report["finished_at"] = row.finished_at.isoformat()
        report["actor"] = row.actor
        return report

    def lineage(self, party_id: int) -> dict[str, dict[str, Any]]:
        """Where each field of a golden party came from."""
        self._actor.require("parties", "read")
        with self._uow(readonly=True) as uow:
            rows = uow.fusion.lineage([party_id])
        return {
            r.field: {
                "system": r.system,
                "external_id": r.external_id,
                "source": r.source,
                "row": r.source_row,
                "run_id": r.run_id,
            }
            for r in rows
        }


def problem_lines(issues: Sequence[Issue]) -> list[str]:
    """``source:row: field: reason`` for each issue."""
    return [str(i) for i in issues]
