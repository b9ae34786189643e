"""The new-deal form (on a customer's page) and the move form (on the board and a card).

A deal starts in an open stage of a pipeline; a move names the stage and the version the
card was drawn at, and a reason when the stage loses the deal::

    draft = read(form)
    deal = to_deal(draft, party_id=7)        # None with draft.errors set
"""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData

from crmledger.core.crm.deals import Deal, Pipeline, StageKind
from crmledger.web import forms
from crmledger.web.forms import Draft

LIMITS = {
    "title": 200,
    "amount": 40,
    "currency": 30,
    "expected_close": 20,
    "pipeline": 64,
    "stage": 64,
}
MOVE_LIMITS = {"to_stage": 64, "version": 12, "reason": 500, "next": 300}
RULES = {
    r"(title|amount|currency|expected_close|pipeline|stage)": r"\1",
    r"lost_reason|reason": "reason",
}
LABELS = {"title": "Title", "amount": "Amount", "currency": "Currency", "reason": "Reason"}


def blank(currency: str, pipeline: str) -> Draft:
    """An empty deal form in ``currency`` and ``pipeline`` (its first open stage)."""
    values = dict.fromkeys(LIMITS, "")
    values |= {"currency": currency, "pipeline": pipeline}
    return Draft(values)


def read(form: FormData) -> Draft:
    """The form as typed."""
    return Draft.read(form, LIMITS)


def open_stages(pipeline: Pipeline) -> list[tuple[str, str]]:
    """The stages a new deal may start in."""
    return [(s.key, s.name) for s in pipeline.stages if s.kind is StageKind.OPEN]


def _day(draft: Draft) -> date | None:
    raw = draft.get("expected_close")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        draft.errors.add("expected_close", f"{raw!r} is not a date; use YYYY-MM-DD.")
        return None


def to_deal(draft: Draft, party_id: int) -> Deal | None:
    """The deal the form describes (None with errors set)."""
    amount = forms.decimal(draft.get("amount"), "amount", draft.errors, "Amount")
    if amount is None and "amount" not in draft.errors:
        draft.errors.add("amount", "Enter the deal's value, e.g. 12000.")
    if not draft.get("title"):
        draft.errors.add("title", "Give the deal a title.")
    if not draft.get("currency"):
        draft.errors.add("currency", "Enter a currency code such as EUR.")
    close = _day(draft)
    if draft.errors or amount is None:
        return None
    return Deal(
        pipeline=draft.get("pipeline") or "sales",
        stage=draft.get("stage"),
        title=draft.get("title"),
        party_id=party_id,
        amount=amount,
        currency=draft.get("currency").upper(),
        expected_close=close,
    )
