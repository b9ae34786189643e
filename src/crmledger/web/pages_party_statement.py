"""A customer's (or vendor's) statement of account as PDF, from its page.

::

    /customers/7/statement                            # 1 January to today
    /customers/7/statement?from=2026-01-01&to=2026-06-30&kind=customer
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from crmledger.core.errors import LedgerError
from crmledger.services.errors import NotFoundError
from crmledger.web.params import parse_date, sentence, text
from crmledger.web.render import page
from crmledger.web.session import Signed

router = APIRouter(include_in_schema=False)
KINDS = ("customer", "vendor")


@router.get("/customers/{party_id:int}/statement")
def statement_pdf(request: Request, party_id: int, viewer: Signed) -> Response:
    """The party's statement of account for a period, ready to send."""
    viewer.principal.require("billing", "read")
    query = dict(request.query_params)
    errors: dict[str, str] = {}
    start = parse_date(query.get("from"), "from", errors)
    end = parse_date(query.get("to"), "to", errors)
    kind = text(query, "kind") or None
    if kind is not None and kind not in KINDS:
        errors["kind"] = "Choose a customer or a vendor statement."
    if not errors:
        try:
            found = viewer.book.party_statements.statement(party_id, start, end, kind)
            pdf = viewer.book.party_statements.render(found)
        except NotFoundError:
            raise
        except LedgerError as error:
            errors[getattr(error, "field", "to")] = sentence(error)
        else:
            name = f"statement-{party_id}-{found.end.isoformat()}.pdf"
            headers = {
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            }
            return Response(pdf, media_type="application/pdf", headers=headers)
    context = {"title": "Statement of account", "message": " ".join(errors.values())}
    return page(request, "error.html", context, viewer=viewer, status=422)
