"""Expense claims approved and paid back many at a time (an approver's queue, a payment run)
on both databases: each claim is numbered, posted, audited and announced as one approved
alone, and a claim that may not be approved or paid stops the batch with nothing written."""

from __future__ import annotations

from datetime import date

import pytest

from crmledger.bootstrap import App
from crmledger.core.access import Role
from crmledger.core.billing.expenses import SelfApprovalError
from crmledger.core.errors import TransitionError
from tests.db.test_expenses import LIABILITY, as_user, balance, events, taxi_and_paper


def _submitted(staff: App, count: int) -> list[int]:
    ids = []
    for n in range(count):
        draft = taxi_and_paper(staff, claimed_on=date(2026, 6, 10 + n))
        ids.append(staff.expenses.submit(draft.id, draft.version).id)
    return ids


def _book(app: App) -> tuple[dict[str, int], list[str], list[str]]:
    actions = sorted(r.action for r in app.audit.log(limit=1000))
    return balance(app, LIABILITY), [str(e["type"]) for e in events(app)], actions


def test_approve_many_then_reimburse_many_post_and_clear_every_claim(app: App) -> None:
    sam, sam_id = as_user(app, "sam@example.com", Role.SALES)
    ann, _ = as_user(app, "ann@example.com", Role.ACCOUNTANT)
    ids = _submitted(sam, 3)
    posted = ann.expenses.approve_many(ids)
    assert [(c.id, c.status, c.number) for c in posted] == [
        (ids[0], "posted", "EXP-2026-0001"),
        (ids[1], "posted", "EXP-2026-0002"),
        (ids[2], "posted", "EXP-2026-0003"),
    ]
    assert len({c.entry_id for c in posted}) == 3
    assert balance(app, LIABILITY, f"user:{sam_id}") == {"EUR": -3 * 14900}
    assert balance(app, "Assets:Tax:Input") == {"EUR": 3 * 1900}
    paid = ann.expenses.reimburse_many(ids, paid_on=date(2026, 7, 1))
    assert [(c.status, c.reimbursed_on) for c in paid] == [("reimbursed", date(2026, 7, 1))] * 3
    assert balance(app, LIABILITY) == {}
    assert balance(app, "Assets:Bank:Checking") == {"EUR": -3 * 14900}
    kinds = [e["type"] for e in events(app)]
    assert (kinds.count("expense.approved"), kinds.count("expense.reimbursed")) == (3, 3)
    actions = [r.action for r in app.audit.log(limit=1000)]
    assert (actions.count("expense.approve"), actions.count("expense.reimburse")) == (3, 3)
    assert all(app.expenses.get(i).status == "reimbursed" for i in ids)
    assert app.audit.verify().ok


def test_a_claim_that_may_not_be_approved_stops_the_whole_queue(app: App) -> None:
    sam, _ = as_user(app, "sam@example.com", Role.SALES)
    ann, _ = as_user(app, "ann@example.com", Role.ACCOUNTANT)
    theirs = _submitted(sam, 2)
    own = _submitted(ann, 1)
    before = _book(app)
    with pytest.raises(SelfApprovalError):
        ann.expenses.approve_many([*theirs, *own])
    assert _book(app) == before
    assert [app.expenses.get(i).status for i in theirs] == ["submitted", "submitted"]


def test_a_claim_not_yet_approved_stops_the_payment_run(app: App) -> None:
    sam, _ = as_user(app, "sam@example.com", Role.SALES)
    ann, _ = as_user(app, "ann@example.com", Role.ACCOUNTANT)
    first, second = _submitted(sam, 2)
    ann.expenses.approve(first)
    before = _book(app)
    with pytest.raises(TransitionError):
        ann.expenses.reimburse_many([first, second], paid_on=date(2026, 7, 1))
    assert _book(app) == before
    assert app.expenses.get(first).status == "posted"
