"""Accounts: duplicates are conflicts, and a close date before the open date is refused
before anything is written."""

from __future__ import annotations

from datetime import date

import pytest

from crmledger.bootstrap import App
from crmledger.core.accounts import Account
from crmledger.core.errors import InvalidAccountNameError
from crmledger.services.errors import ConflictError


def test_a_duplicate_name_or_code_is_a_conflict(app: App) -> None:
    with pytest.raises(ConflictError, match="exists"):
        app.ledger.add_account(Account("Assets:Cash"))
    with pytest.raises(ConflictError, match="code 1000"):
        app.ledger.add_account(Account("Assets:Other", code="1000"))


def test_closing_before_opening_writes_nothing(app: App) -> None:
    app.ledger.add_account(Account("Assets:Late", open_date=date(2026, 5, 1)))
    with pytest.raises(InvalidAccountNameError, match="closes before it opens"):
        app.ledger.close_account("Assets:Late", date(2026, 4, 1))
    late = next(a for a in app.ledger.accounts() if a.name == "Assets:Late")
    assert late.close_date is None
