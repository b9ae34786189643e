"""``crmledger deal`` and ``crmledger pipeline``: deals, their stages and the forecast.

::

    crmledger deal add 7 "Fleet renewal" --amount 12000.00 --currency EUR --close 2026-06-30
    crmledger deal move 1 proposal
    crmledger deal move 1 lost --reason "went with a competitor"
    crmledger deal list --open --owner sam@example.com
    crmledger deal forecast --format csv
    crmledger pipeline show sales
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.crm.deals import Deal, StageKind
from crmledger.services.crm_ports import DealQuery
from crmledger.services.deals import StoredDeal
from crmledger.services.errors import InvalidInputError

deal_app = typer.Typer(help="Deals and their way through the pipeline.", no_args_is_help=True)
pipeline_app = typer.Typer(help="Pipelines: the stages deals move through.", no_args_is_help=True)

Text = Annotated[str | None, typer.Option(show_default=False)]
Owner = Annotated[str | None, typer.Option("--owner", help="The owner's login email.")]


def _decimal(field: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidInputError(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidInputError(field, f"{value!r} is not a number")
    return number


def _day(field: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(field, f"{value!r} is not a date as YYYY-MM-DD") from None


def _owner(email: str | None) -> int | None:
    if email is None:
        return None
    return state.app.access.find_user(email).id


def document(deal: StoredDeal) -> dict[str, Any]:
    """A deal as JSON (the API's field names)."""
    return {
        "id": deal.id,
        "pipeline": deal.pipeline,
        "stage": deal.stage,
        "title": deal.title,
        "party_id": deal.party_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close": deal.expected_close,
        "owner_id": deal.owner_id,
        "probability": deal.probability,
        "lost_reason": deal.lost_reason,
        "won_at": deal.won_at,
        "closed_at": deal.closed_at,
        "version": deal.version,
    }


def _row(deal: StoredDeal) -> dict[str, Any]:
    return {
        "id": deal.id,
        "title": deal.title,
        "party": deal.party_id,
        "stage": deal.stage,
        "amount": deal.amount,
        "currency": deal.currency,
        "close": deal.expected_close,
        "owner": deal.owner_id,
    }


@deal_app.command("add")
def deal_add(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    party_id: Annotated[int, typer.Argument(help="The party the deal is with.")],
    title: Annotated[str, typer.Argument(help="What is being sold.")],
    amount: Annotated[str, typer.Option(help="The deal's value, e.g. 1200.00.")],
    currency: Annotated[str, typer.Option(help="An ISO currency or a commodity of the book.")],
    stage: Annotated[str, typer.Option(help="An open stage (default: the first).")] = "",
    close: Annotated[str | None, typer.Option(help="Expected close date, YYYY-MM-DD.")] = None,
    owner: Owner = None,
    pipeline: Annotated[str, typer.Option(help="The pipeline's key.")] = "sales",
    probability: Annotated[
        str | None, typer.Option(help="Overrides the stage's probability, e.g. 0.3.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a deal for a party."""
    value = _decimal("amount", amount)
    assert value is not None
    deal = Deal(
        pipeline=pipeline,
        stage=stage,
        title=title,
        party_id=party_id,
        amount=value,
        currency=currency,
        expected_close=_day("expected_close", close),
        owner_id=_owner(owner),
        probability=_decimal("probability", probability),
    )
    stored = state.app.deals.add(deal)
    if fmt is OutputFormat.json:
        print(dumps(document(stored)))
        return
    console.print(
        f"Deal {stored.id} [bold]{stored.title}[/bold] added in stage {stored.stage} "
        f"({stored.amount} {stored.currency})."
    )


@deal_app.command("move")
def deal_move(
    deal_id: Annotated[int, typer.Argument(help="The deal's id.")],
    stage: Annotated[str, typer.Argument(help="The stage to move to.")],
    reason: Annotated[str, typer.Option(help="Why it was lost (needed for a lost stage).")] = "",
) -> None:
    """Move a deal to another stage (won, lost, or back to an open one)."""
    current = state.app.deals.get(deal_id)
    moved = state.app.deals.move(deal_id, stage, if_version=current.version, reason=reason)
    console.print(f"Deal {moved.id} moved from {current.stage} to [bold]{moved.stage}[/bold].")


@deal_app.command("list")
def deal_list(
    pipeline: Text = None,
    stage: Text = None,
    owner: Owner = None,
    party: Annotated[int | None, typer.Option(help="Only this party's deals.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only deals still open.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Deals, newest first, with optional filters."""
    found = state.app.deals.list(
        DealQuery(
            limit=limit,
            pipeline=pipeline,
            stage=stage,
            owner_id=_owner(owner),
            party_id=party,
            status=StageKind.OPEN if open_only else None,
        )
    )
    emit(
        [_row(d) for d in found],
        fmt,
        title="Deals",
        document={"items": [document(d) for d in found]},
        right=("amount",),
    )


@deal_app.command("show")
def deal_show(
    deal_id: Annotated[int, typer.Argument(help="The deal's id.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One deal with its stage history."""
    deal = state.app.deals.get(deal_id)
    steps = state.app.deals.history(deal_id)
    history = [
        {"at": s.at, "from": s.from_stage or "", "to": s.to_stage, "by": s.by, "reason": s.reason}
        for s in steps
    ]
    if fmt is OutputFormat.json:
        print(dumps(document(deal) | {"history": history}))
        return
    rows = [{"field": k, "value": v} for k, v in document(deal).items() if v not in (None, "")]
    emit(rows, fmt, title=deal.title)
    emit(history, fmt, title="History")


@deal_app.command("forecast")
def deal_forecast(
    pipeline: Text = None,
    from_month: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    to_month: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Open deals by expected-close month, owner and currency, weighted by probability."""
    rows = [
        {
            "month": r.month,
            "owner": r.owner_id,
            "currency": r.currency,
            "open": r.open_amount,
            "weighted": r.weighted_amount,
            "deals": r.deals,
        }
        for r in state.app.deals.forecast(pipeline, from_month, to_month)
    ]
    emit(rows, fmt, title="Weighted forecast", right=("open", "weighted", "deals"))


@pipeline_app.command("list")
def pipeline_list(fmt: FormatOption = OutputFormat.table) -> None:
    """Every pipeline with its stages."""
    rows = [
        {
            "key": p.key,
            "name": p.name,
            "stages": ", ".join(s.key for s in p.stages),
            "version": p.version,
        }
        for p in state.app.deals.pipelines()
    ]
    emit(rows, fmt, title="Pipelines")


@pipeline_app.command("show")
def pipeline_show(
    key: Annotated[str, typer.Argument(help="The pipeline's key.")] = "sales",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A pipeline's stages with their probabilities and kinds."""
    found = state.app.deals.pipeline(key)
    rows = [
        {"stage": s.key, "name": s.name, "probability": s.probability, "kind": s.kind.value}
        for s in found.stages
    ]
    emit(rows, fmt, title=f"{found.name} (v{found.version})", right=("probability",))
