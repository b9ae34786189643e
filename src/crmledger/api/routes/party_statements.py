"""``/parties/{party_id}/statement``: a customer's or vendor's statement of account.

The PDF is ready to send (in the party's language, with the company's details); the same
figures come as JSON with ``Accept: application/json`` (or ``format=json``)::

    GET /api/v1/parties/7/statement?from=2026-01-01&to=2026-06-30        → application/pdf
    GET /api/v1/parties/7/statement?from=2026-01-01&to=2026-06-30
        Accept: application/json                                         → the figures
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from crmledger.api.aging_schemas import PartyStatementPublic, StatementFilters
from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses

router = APIRouter(tags=["billing"])
PartyId = Annotated[int, Path(ge=1, le=2**31 - 1)]

PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The statement as PDF, or as JSON when asked for.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _wants_json(fmt: str | None, request: Request) -> bool:
    if fmt is not None:
        return fmt == "json"
    return "application/json" in request.headers.get("accept", "")


@router.get(
    "/parties/{party_id}/statement",
    operation_id="partyStatement",
    openapi_extra=requires("billing:read"),
    dependencies=[permitted("billing:read")],
    response_model=PartyStatementPublic,
    responses=responses(401, 403, 404, 422) | PDF,
)
def party_statement(
    party_id: PartyId,
    services: Services,
    request: Request,
    filters: Annotated[StatementFilters, Query()],
) -> Any:
    """The statement of account of a period (1 January to today by default): per
    currency, the opening balance, every document and payment with the running balance,
    the closing balance and the aging of what is open at the end. An unknown party is a
    ``404``."""
    service = services.party_statements
    args = (party_id, filters.date_from, filters.date_to, filters.kind, filters.buckets)
    found = service.statement(*args)
    if _wants_json(filters.fmt, request):
        return PartyStatementPublic.of(found)
    name = f"statement-{party_id}-{found.end.isoformat()}"
    return Response(
        service.render(found),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )
