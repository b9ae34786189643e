"""Examples for satisfaction responses (NPS and CSAT)."""

from __future__ import annotations

from datetime import date
from typing import Any

from crmledger.core.crm.satisfaction import Response, SurveyKind
from tests.api.examples.parties import organisation


def response(api: Any) -> int:
    recorded = api.book.satisfaction.record(
        Response(
            kind=SurveyKind.NPS, score=9, party_id=organisation(api), answered_on=date(2026, 5, 4)
        )
    )
    return int(recorded.id)


BODIES: dict[str, Any] = {
    "createSatisfactionResponse": lambda api: {
        "kind": "csat",
        "score": 4,
        "party_id": organisation(api),
        "answered_on": "2026-05-04",
        "comment": "Friendly support",
    },
}

PATHS: dict[str, Any] = {
    "{response_id}": response,
}
