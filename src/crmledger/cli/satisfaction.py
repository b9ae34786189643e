"""``crmledger survey``: record NPS and CSAT answers and see how satisfied customers are.

::

    crmledger survey add 7 --nps 9 --comment "Fast delivery" --on 2026-05-04
    crmledger survey add 7 --csat 4
    crmledger survey list --party 7
    crmledger survey summary --kind nps --by segment --format json
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.services.crm_ports import SatisfactionQuery
from crmledger.services.errors import InvalidInputError
from crmledger.services.satisfaction import Recorded, SummaryRow

survey_app = typer.Typer(help="Satisfaction surveys: NPS and CSAT answers.", no_args_is_help=True)

Score = Annotated[int | None, typer.Option(show_default=False)]
Day = Annotated[str | None, typer.Option(show_default=False, help="A day as YYYY-MM-DD.")]


class By(StrEnum):
    """What a summary groups by."""

    period = "period"
    segment = "segment"
    owner = "owner"


class Period(StrEnum):
    """The period of ``--by period``."""

    month = "month"
    quarter = "quarter"
    year = "year"


def _day(field: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(field, f"{value!r} is not a day as YYYY-MM-DD") from None


def _kind_and_score(nps: int | None, csat: int | None) -> tuple[SurveyKind, int]:
    if (nps is None) == (csat is None):
        raise InvalidInputError("score", "give one of --nps 0..10 or --csat 1..5")
    if nps is not None:
        return SurveyKind.NPS, nps
    assert csat is not None
    return SurveyKind.CSAT, csat


def document(recorded: Recorded) -> dict[str, Any]:
    """A stored answer as JSON (the API's field names)."""
    r = recorded.response
    return {
        "id": recorded.id,
        "kind": r.kind.value,
        "score": r.score,
        "party_id": r.party_id,
        "answered_on": r.answered_on,
        "comment": r.comment,
        "interaction_id": r.interaction_id,
        "order_id": r.order_id,
        "invoice_id": r.invoice_id,
        "created_at": recorded.created_at,
        "created_by": recorded.created_by,
    }


def summary_row(row: SummaryRow) -> dict[str, Any]:
    """A summary row as JSON: the score a decimal string, ``None`` without answers."""
    out: dict[str, Any] = {
        "key": row.key,
        "responses": row.responses,
        "score": None if row.score is None else str(row.score),
    }
    if row.kind is SurveyKind.NPS:
        out |= {"promoters": row.promoters, "passives": row.passives, "detractors": row.detractors}
    return out


@survey_app.command("add")
def survey_add(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    party_id: Annotated[int, typer.Argument(help="The party who answered.")],
    nps: Score = None,
    csat: Score = None,
    comment: Annotated[str, typer.Option(help="What they said.")] = "",
    on: Day = None,
    interaction: Annotated[int | None, typer.Option(help="The interaction it is about.")] = None,
    order: Annotated[int | None, typer.Option(help="The order it is about.")] = None,
    invoice: Annotated[int | None, typer.Option(help="The invoice it is about.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record an answer: --nps 0..10 or --csat 1..5, given on --on (default today, UTC)."""
    kind, score = _kind_and_score(nps, csat)
    answered_on = _day("answered_on", on) or datetime.now(UTC).date()
    recorded = state.app.satisfaction.record(
        Response(
            kind=kind,
            score=score,
            party_id=party_id,
            answered_on=answered_on,
            comment=comment,
            interaction_id=interaction,
            order_id=order,
            invoice_id=invoice,
        )
    )
    if fmt is OutputFormat.json:
        print(dumps(document(recorded)))
        return
    console.print(
        f"Response {recorded.id}: {kind.value.upper()} {score} from party {party_id} "
        f"on {answered_on.isoformat()}."
    )


@survey_app.command("list")
def survey_list(
    party: Annotated[int | None, typer.Option(help="Only this party's answers.")] = None,
    kind: Annotated[SurveyKind | None, typer.Option()] = None,
    date_from: Annotated[str | None, typer.Option("--from", show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", show_default=False)] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Answers, latest first."""
    found = state.app.satisfaction.list(
        SatisfactionQuery(
            limit=limit,
            party_id=party,
            kind=kind,
            date_from=_day("from", date_from),
            date_to=_day("to", date_to),
        )
    )
    rows = [
        {
            "id": r.id,
            "day": r.response.answered_on,
            "party": r.response.party_id,
            "kind": r.response.kind.value,
            "score": r.response.score,
            "comment": r.response.comment,
        }
        for r in found
    ]
    doc = {"items": [document(r) for r in found]}
    emit(rows, fmt, title="Satisfaction responses", document=doc)


@survey_app.command("summary")
def survey_summary(
    kind: Annotated[SurveyKind, typer.Option(help="The survey to score.")] = SurveyKind.NPS,
    by: Annotated[By, typer.Option(help="Group per period, segment or owner.")] = By.period,
    period: Annotated[Period, typer.Option(help="The period of --by period.")] = Period.month,
    date_from: Annotated[str | None, typer.Option("--from", show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", show_default=False)] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """NPS (promoters minus detractors, in %) or CSAT (satisfied, in %) per group."""
    rows = state.app.satisfaction.summary(
        kind, by.value, period.value, _day("from", date_from), _day("to", date_to)
    )
    shown = [summary_row(r) for r in rows]
    doc = {"kind": kind.value, "by": by.value, "period": period.value, "rows": shown}
    title = f"{kind.value.upper()} by {period.value if by is By.period else by.value}"
    right = ("responses", "score", "promoters", "passives", "detractors")
    emit(shown, fmt, title=title, document=doc, right=right)
