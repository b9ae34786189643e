"""``/search``: one search box over parties, contacts, deals and interactions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.crm_schemas import SearchResult
from crmledger.api.deps import Caller, Services
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import number_cursor
from crmledger.api.schemas import NO_NUL, Page, encode_cursor
from crmledger.services.crm_search import CrmSearch, Found
from crmledger.services.errors import InvalidInputError

router = APIRouter(prefix="/search", tags=["search"])
#: How deep a search pages: past the best 500 a better query helps more than a next page.
MAX_RESULTS = 500

_URLS = {
    "party": "/api/v1/parties/{id}",
    "contact": "/api/v1/contacts/{id}",
    "deal": "/api/v1/deals/{id}",
    "interaction": "/api/v1/interactions/{id}",
}


class SearchQuery(BaseModel):
    """What to look for and which page (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=200, pattern=NO_NUL, description="The query.")
    limit: int = Field(20, ge=1, le=100, description="Page size (at most 100).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")


def public(found: Found) -> SearchResult:
    """The API view of a search result, with the URL of the thing found."""
    return SearchResult(
        type=found.kind,
        id=found.id,
        title=found.title,
        subtitle=found.subtitle,
        matched=found.matched,
        rank=found.rank,
        party_id=found.party_id,
        url=_URLS[found.kind].format(id=found.id),
    )


@router.get(
    "",
    operation_id="search",
    openapi_extra=requires("parties:read"),
    response_model=Page[SearchResult],
    responses=responses(401, 403, 422),
)
def search(
    services: Services, caller: Caller, query: Annotated[SearchQuery, Query()]
) -> Page[SearchResult]:
    """Parties and contacts by name fragment, email, phone in any format or tax id; deals
    by title; interactions by the words of their subject and body. Best first; kinds the
    caller's role cannot read are left out."""
    caller.require("parties", "read")
    box = CrmSearch(caller, services.parties, services.deals, services.interactions)
    q, limit, cursor = query.q, query.limit, query.cursor
    start = number_cursor(cursor) if cursor is not None else 0
    if start + limit > MAX_RESULTS:
        raise InvalidInputError("cursor", f"a search shows its best {MAX_RESULTS} results")
    found = box.find(q, start + limit + 1)
    more = len(found) > start + limit
    return Page(
        items=[public(f) for f in found[start : start + limit]],
        next_cursor=encode_cursor([start + limit]) if more else None,
    )
