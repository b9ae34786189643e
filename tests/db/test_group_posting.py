"""Entries posted one at a time by many threads at once commit together, each numbered,
chained and audited as its own; an entry that breaks a rule is refused alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from crmledger.bootstrap import App
from crmledger.core.access import Principal, Role
from crmledger.services.errors import EntriesRejectedError
from crmledger.services.ports import EntryQuery
from crmledger.services.trail import Actor
from tests.helpers import entry, sale


def test_concurrent_single_posts_share_transactions_but_not_fates(app: App) -> None:
    def post(n: int) -> object:
        actor = Actor(Principal(n % 3 + 1, "", Role.ACCOUNTANT, "token"), f"req-{n}")
        bad = n % 25 == 7
        if bad:
            item = entry("2026-03-01", "Typo", ("Assets:Cash", "5"), ("Assets:Nowhere", "-5"))
        else:
            item = sale(f"2026-03-{n % 28 + 1:02d}", f"{n + 1}")
        try:
            return app.ledger.acting_as(actor).post([item])[0]
        except EntriesRejectedError as error:
            return error

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(post, range(200)))
    refused = [o for o in outcomes if isinstance(o, EntriesRejectedError)]
    posted = [o for o in outcomes if not isinstance(o, EntriesRejectedError)]
    assert len(refused) == 8
    assert all(r.rejections[0].error.field == "account" for r in refused)
    assert sorted(p.number for p in posted) == list(range(1, 193))  # type: ignore[attr-defined]
    assert len(app.ledger.entries(EntryQuery(limit=500))) == 192
    cash = next(r for r in app.reports.trial_balance().rows if r.account == "Assets:Cash")
    assert cash.balance == sum(Decimal(n + 1) for n in range(200) if n % 25 != 7)
    report = app.audit.verify()
    assert report.ok
    posts = app.audit.log(limit=500, filters={"action": "journal.post"})
    assert {r.request_id for r in posts} == {f"req-{n}" for n in range(200) if n % 25 != 7}
    assert {r.actor for r in posts} == {"user:1", "user:2", "user:3"}


def test_a_lone_refused_entry_raises_to_its_caller(app: App) -> None:
    with pytest.raises(EntriesRejectedError, match="Assets:Nowhere"):
        app.ledger.post([entry("2026-03-01", "x", ("Assets:Cash", "5"), ("Assets:Nowhere", "-5"))])
