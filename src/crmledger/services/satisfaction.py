"""Satisfaction: record NPS and CSAT answers and score them per period, segment or owner.

An answer belongs to a party that exists and scores on its survey's scale (NPS 0..10,
CSAT 1..5); anything else is refused naming the field, and nothing is stored::

    survey = SatisfactionService(uow, clock).acting_as(actor)
    survey.record(Response(kind=SurveyKind.NPS, score=9, party_id=7, answered_on=day))
    survey.summary(SurveyKind.NPS, by="segment")
    # [SummaryRow(key='enterprise', kind=..., responses=12, score=Decimal('41.7'),
    #             promoters=7, passives=3, detractors=2), ...]

Segments and owners are the parties' *current* ones (``parties.segment`` /
``parties.owner_id``): a summary answers "how satisfied is this segment's book of
customers", not "how was it when they answered". Period summaries list every period from
the first answer to the last, those without answers scoring ``None``, so a chart has no
silent holes.

``core.crm.satisfaction.summarise`` scores a list of responses; a summary here also counts
promoters, passives and detractors and starts from answers the store already counted per
party, day and score, so it scores histograms with ``nps`` / ``csat`` instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from crmledger.core.crm.satisfaction import (
    Granularity,
    Response,
    SurveyKind,
    csat,
    nps,
    period_key,
    validate_response,
)
from crmledger.core.errors import InvalidFieldError
from crmledger.services.crm_ports import SatisfactionQuery, SatisfactionRow, ScoreCount
from crmledger.services.errors import NotFoundError
from crmledger.services.party_guard import refuse_merged
from crmledger.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from crmledger.services.trail import OPERATOR, Actor, record

SummaryBy = Literal["period", "segment", "owner"]
BY: tuple[SummaryBy, ...] = ("period", "segment", "owner")
PERIODS: tuple[Granularity, ...] = ("month", "quarter", "year")
COMMENT_MAX = 2000
ID_MAX = 2**31 - 1
LIST_MAX = 10_000
RESOURCE = "satisfaction"


class UnknownPartyError(NotFoundError):
    """A response names a party the book does not hold."""

    field = "party_id"


@dataclass(frozen=True, slots=True)
class Recorded:
    """A stored response, when it was recorded and by whom (an audit id, ``user:7``)."""

    response: Response
    created_at: datetime
    created_by: str

    @property
    def id(self) -> int:
        """The response's id."""
        assert self.response.id is not None
        return self.response.id


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """How the answers under one key scored; the counts are NPS's (``None`` for CSAT)."""

    key: str
    kind: SurveyKind
    responses: int
    score: Decimal | None
    promoters: int | None = None
    passives: int | None = None
    detractors: int | None = None


def _recorded(row: SatisfactionRow) -> Recorded:
    response = Response(
        id=row.id,
        kind=SurveyKind(row.kind),
        score=row.score,
        party_id=row.party_id,
        answered_on=row.answered_on,
        comment=row.comment,
        interaction_id=row.interaction_id,
        order_id=row.order_id,
        invoice_id=row.invoice_id,
    )
    return Recorded(response, row.created_at, row.created_by)


def _kind(value: SurveyKind | str) -> SurveyKind:
    try:
        return SurveyKind(value)
    except ValueError:
        raise InvalidFieldError("kind", "is 'nps' or 'csat'") from None


def _check_id(name: str, value: object, required: bool) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        raise InvalidFieldError(name, f"is a whole number 1..{ID_MAX}")


def check_response(response: Response) -> Response:
    """``response`` with its kind as a :class:`SurveyKind` if every field is valid: the
    score on the kind's scale (``core``), ids in range, a comment of at most 2000
    characters without NUL, a real day; else :class:`InvalidFieldError`."""
    response = replace(response, kind=_kind(response.kind))
    validate_response(response)
    _check_id("party_id", response.party_id, required=True)
    for name in ("interaction_id", "order_id", "invoice_id"):
        _check_id(name, getattr(response, name), required=False)
    if not isinstance(response.answered_on, date) or isinstance(response.answered_on, datetime):
        raise InvalidFieldError("answered_on", "is a calendar day")
    if not isinstance(response.comment, str) or len(response.comment) > COMMENT_MAX:
        raise InvalidFieldError("comment", f"is text of at most {COMMENT_MAX} characters")
    if "\x00" in response.comment:
        raise InvalidFieldError("comment", "holds a NUL character")
    return response


def _indexed(index: int, error: InvalidFieldError) -> InvalidFieldError:
    return InvalidFieldError(f"responses[{index}].{error.field}", str(error))


def audit_view(response: Response) -> dict[str, Any]:
    """The response as the audit log keeps it: the comment is free text that may name
    people, so only its length is recorded."""
    return {
        "kind": response.kind.value,
        "score": response.score,
        "party_id": response.party_id,
        "answered_on": response.answered_on.isoformat(),
        "interaction_id": response.interaction_id,
        "order_id": response.order_id,
        "invoice_id": response.invoice_id,
        "comment_chars": len(response.comment),
    }


def _scored(key: str, kind: SurveyKind, histogram: Counter[int]) -> SummaryRow:
    scores = list(histogram.elements())
    if kind is SurveyKind.CSAT:
        return SummaryRow(key, kind, len(scores), csat(scores))
    promoters = sum(n for s, n in histogram.items() if s >= 9)
    detractors = sum(n for s, n in histogram.items() if s <= 6)
    passives = len(scores) - promoters - detractors
    return SummaryRow(key, kind, len(scores), nps(scores), promoters, passives, detractors)


def period_keys(first: date, last: date, granularity: Granularity) -> list[str]:
    """Every period key from ``first``'s period to ``last``'s, in order."""
    keys: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        key = period_key(date(year, month, 1), granularity)
        if not keys or keys[-1] != key:
            keys.append(key)
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return keys


_Choice = TypeVar("_Choice", bound=str)


def _choice(field: str, value: str, choices: tuple[_Choice, ...]) -> _Choice:
    for choice in choices:
        if choice == value:
            return choice
    raise InvalidFieldError(field, "is " + " or ".join(repr(c) for c in choices))


def _owner_order(key: str) -> tuple[bool, int]:
    return (key == "", int(key) if key else 0)


class SatisfactionService:
    """The use cases on satisfaction responses (resource ``satisfaction``)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self._actor = actor

    def acting_as(self, actor: Actor) -> SatisfactionService:
        """The same service for another actor."""
        return SatisfactionService(self._uow, self._clock, actor)

    # -- writes ----------------------------------------------------------------------------

    def record(self, response: Response) -> Recorded:
        """Check and store one answer; a bad field is refused by its own name (``score``)."""
        self._actor.require(RESOURCE, "write")
        return self._store([check_response(response)])[0]

    def record_many(self, responses: Sequence[Response]) -> list[Recorded]:
        """Store ``responses`` in one transaction, all or none; a bad field is named with
        its position (``responses[3].score``)."""
        self._actor.require(RESOURCE, "write")
        ready = []
        for index, response in enumerate(responses):
            try:
                ready.append(check_response(response))
            except InvalidFieldError as error:
                raise _indexed(index, error) from error
        return self._store(ready)

    def _store(self, ready: Sequence[Response]) -> list[Recorded]:
        at, by = self._clock.now(), self._actor.audit_id
        with self._uow() as uow:
            self._require_parties(uow, [r.party_id for r in ready])
            ids = uow.satisfaction.insert(ready, at, by)
            stored = [replace(r, id=i) for r, i in zip(ready, ids, strict=True)]
            for r in stored:
                action, view = "satisfaction.record", audit_view(r)
                record(uow, self._actor, at, action, "satisfaction_response", r.id, None, view)
            uow.commit()
        return [Recorded(r, at, by) for r in stored]

    @staticmethod
    def _require_parties(uow: UnitOfWork, ids: Iterable[int]) -> None:
        wanted = sorted(set(ids))
        known = {p.id for p in uow.parties.many(wanted)}
        missing = [i for i in wanted if i not in known]
        if missing:
            raise UnknownPartyError(f"no party {missing[0]}")
        refuse_merged(uow.parties, known)

    # -- reads -----------------------------------------------------------------------------

    def get(self, response_id: int) -> Recorded:
        """One response; :class:`NotFoundError` when there is none."""
        self._actor.require(RESOURCE, "read")
        with self._uow(readonly=True) as uow:
            row = uow.satisfaction.get(response_id)
        if row is None:
            raise NotFoundError(f"no satisfaction response {response_id}")
        return _recorded(row)

    def summary(
        self,
        kind: SurveyKind | str,
        by: str = "period",
        period: str = "month",
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[SummaryRow]:
        """Score the answers of ``kind`` between the dates (inclusive) per period
        (``month`` / ``quarter`` / ``year``), per party segment or per party owner (the
        key is the owner's user id; ``""`` holds parties without segment or owner)."""
        self._actor.require(RESOURCE, "read")
        survey = _kind(kind)
        group, granularity = _choice("by", by, BY), _choice("period", period, PERIODS)
        with self._uow(readonly=True) as uow:
            counts = uow.satisfaction.score_counts(survey.value, date_from, date_to)
            key_of = self._key_of(uow, group, granularity, counts)
        groups: dict[str, Counter[int]] = {}
        for c in counts:
            groups.setdefault(key_of(c), Counter())[c.score] += c.count
        if group == "period" and counts:
            days = [c.answered_on for c in counts]
            for key in period_keys(min(days), max(days), granularity):
                groups.setdefault(key, Counter())
        order = _owner_order if group == "owner" else None
        return [_scored(k, survey, groups[k]) for k in sorted(groups, key=order)]

    @staticmethod
    def _key_of(
        uow: UnitOfWork, by: SummaryBy, period: Granularity, counts: Sequence[ScoreCount]
    ) -> Callable[[ScoreCount], str]:
        if by == "period":
            return lambda c: period_key(c.answered_on, period)
        parties = uow.parties.many(sorted({c.party_id for c in counts}))
        if by == "segment":
            segments = {p.id: p.segment for p in parties}
            return lambda c: segments[c.party_id]
        owners = {p.id: "" if p.owner_id is None else str(p.owner_id) for p in parties}
        return lambda c: owners[c.party_id]

    def list(self, query: SatisfactionQuery) -> list[Recorded]:
        """A page of responses, latest answer first (see :class:`SatisfactionQuery`)."""
        self._actor.require(RESOURCE, "read")
        if not 1 <= query.limit <= LIST_MAX:
            raise InvalidFieldError("limit", f"is 1..{LIST_MAX}")
        if query.kind is not None:
            query = replace(query, kind=_kind(query.kind).value)
        with self._uow(readonly=True) as uow:
            return [_recorded(r) for r in uow.satisfaction.page(query)]
