"""Examples for deals and pipelines."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from crmledger.core.crm.deals import Deal, Pipeline, Stage, StageKind
from tests.api.examples.parties import organisation

_n = itertools.count(1)


def deal(api: Any) -> int:
    stored = api.book.deals.add(
        Deal(
            pipeline="sales",
            stage="lead",
            title=f"Example deal {next(_n)}",
            party_id=organisation(api),
            amount=Decimal("1200.00"),
            currency="EUR",
        )
    )
    return int(stored.id)


def stages() -> list[dict[str, str]]:
    return [
        {"key": "due", "name": "Due", "probability": "0.4"},
        {"key": "renewed", "name": "Renewed", "probability": "1", "kind": "won"},
        {"key": "churned", "name": "Churned", "probability": "0", "kind": "lost"},
    ]


def pipeline(api: Any) -> str:
    key = f"example-{next(_n)}"
    api.book.deals.save_pipeline(
        Pipeline(
            key,
            "Example",
            (
                Stage("due", "Due", Decimal("0.4")),
                Stage("renewed", "Renewed", Decimal(1), StageKind.WON),
                Stage("churned", "Churned", Decimal(0), StageKind.LOST),
            ),
        ),
        if_version=None,
    )
    return key


BODIES: dict[str, Any] = {
    "createDeal": lambda api: {
        "party_id": organisation(api),
        "title": f"Matrix deal {next(_n)}",
        "amount": "1200.00",
        "currency": "EUR",
        "expected_close": "2026-12-31",
    },
    "updateDeal": lambda api: {"title": "Renamed deal"},
    "moveDeal": lambda api: {"stage": "qualified"},
    "createPipeline": lambda api: {
        "key": f"matrix-{next(_n)}",
        "name": "Matrix",
        "stages": stages(),
    },
    "replacePipeline": lambda api: {"name": "Replaced", "stages": stages()},
}

PATHS: dict[str, Any] = {
    "{deal_id}": deal,
    "{key}": pipeline,
}
