"""Reading many parties at once reads them in slices (a report may name every customer,
more than one statement's bound parameters), and every slice is complete."""

from __future__ import annotations

import pytest

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.persistence import party_store
from crmledger.persistence.uow import SqlUnitOfWorkFactory


def test_many_parties_are_read_in_slices(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = app.parties.add_many(
        [Party(kind=PartyKind.ORGANISATION, display_name=f"Customer {i}") for i in range(7)]
    )
    ids = [int(p.id or 0) for p in stored]
    monkeypatch.setattr(party_store, "_MANY", 3)
    with SqlUnitOfWorkFactory(app.engine)(readonly=True) as uow:
        found = uow.parties.many(ids)
        assert sorted(r.id for r in found) == sorted(ids)
        assert uow.parties.many([]) == []
