"""The audit log: every write records who, when, which request and what changed; personal
fields are redacted; the database refuses changes to it; and tampering behind the
application's back is named by ``audit verify``."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.accounts import Account
from crmledger.services.trail import Actor
from tests.db.test_tamper import tamper
from tests.helpers import sale


@pytest.fixture
def logged(app: App) -> App:
    """A user, an account, two posted entries, a reversal and a lock, by two actors."""
    user = app.access.add_user("ann@example.com", Role.ACCOUNTANT, "correct horse battery")
    ann = app.acting_as(Actor(Principal(user.id, "", Role.ACCOUNTANT, "token", 4), "req-42"))
    ann.ledger.add_account(Account("Assets:Bank:Extra"))
    [first, _] = ann.ledger.post([sale("2026-01-05", "10"), sale("2026-01-06", "20")])
    ann.ledger.reverse(first.id, date(2026, 1, 7))
    app.ledger.lock_period(date(2026, 1, 31))
    return app


def test_each_write_names_actor_request_and_change(logged: App) -> None:
    records = list(reversed(logged.audit.log(limit=100)))
    actions = [r.action for r in records]
    assert actions == [
        "book.init",
        "user.create",
        "account.create",
        "journal.post",
        "journal.post",
        "journal.reverse",
        "journal.post",
        "period.lock",
    ]
    post = records[3]
    assert (post.actor, post.role, post.via, post.request_id) == (
        "user:1/token:4",
        "accountant",
        "token",
        "req-42",
    )
    assert post.changes["after"]["number"] == "GJ/2026/1"
    lock = records[-1]
    assert lock.actor == "operator"
    assert lock.changes == {"before": {"lock_date": None}, "after": {"lock_date": "2026-01-31"}}


def test_personal_fields_never_reach_the_log(logged: App) -> None:
    [created] = logged.audit.log(filters={"action": "user.create"})
    assert created.changes["after"]["email"] == "[redacted]"
    with logged.engine.connect() as conn:
        stored = conn.execute(text("SELECT changes FROM audit_log")).scalars().all()
    assert not any("ann@example.com" in value for value in stored)


def test_the_log_filters_and_pages_newest_first(logged: App) -> None:
    posts = logged.audit.log(filters={"action": "journal.post"})
    assert [r.seq for r in posts] == sorted((r.seq for r in posts), reverse=True)
    assert len(posts) == 3
    older = logged.audit.log(before_seq=posts[0].seq, limit=1, filters={"action": "journal.post"})
    assert older == posts[1:2]


def test_roles_without_the_audit_permission_cannot_read_it(logged: App) -> None:
    sales = logged.acting_as(Actor(Principal(9, "", Role.SALES), "r"))
    with pytest.raises(PermissionDeniedError):
        sales.audit.log()
    with pytest.raises(PermissionDeniedError):
        sales.audit.verify()
    auditor = logged.acting_as(Actor(Principal(9, "", Role.AUDITOR), "r"))
    assert auditor.audit.verify().ok
    with pytest.raises(PermissionDeniedError):
        auditor.ledger.post([sale("2026-02-01", "1")])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'nothing' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 8",
    ],
)
def test_the_database_refuses_to_change_the_log(logged: App, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), logged.engine.begin() as conn:
        conn.execute(text(statement))
    assert logged.audit.verify().ok


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE audit_log SET actor = 'user:2' WHERE seq = 4", "audit-log #4"),
        ("UPDATE audit_log SET changes = '{}' WHERE seq = 6", "audit-log #6"),
        (
            "UPDATE audit_log SET at = at WHERE seq = 3; DELETE FROM audit_log WHERE seq = 3",
            "audit-log #4",
        ),
        ("DELETE FROM audit_log WHERE seq = 8", "audit-log #7"),
    ],
)
def test_tampering_behind_the_back_is_named(logged: App, statement: str, named: str) -> None:
    tamper(logged, *statement.split("; "))
    report = logged.audit.verify()
    assert not report.ok
    [finding] = report.findings
    assert finding.reference.startswith(named), finding
