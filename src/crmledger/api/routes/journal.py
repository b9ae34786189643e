"""``/journal-entries``: post, read, list and reverse entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.deps import Services
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import MAX_LIMIT, IdempotencyKey, link, success
from crmledger.api.schemas import (
    NO_NUL,
    Day,
    EntryCreate,
    EntryPublic,
    Page,
    ReverseRequest,
    decode_cursor,
    encode_cursor,
    money,
)
from crmledger.core.entries import JournalEntry, Posting
from crmledger.services.errors import InvalidInputError
from crmledger.services.ports import EntryQuery

router = APIRouter(prefix="/journal-entries", tags=["journal"])
EntryId = Annotated[int, Path(ge=1, le=2**62)]


def document(entry: JournalEntry) -> dict[str, Any]:
    """The API view of an entry as plain data (what :class:`EntryPublic` describes)."""
    assert entry.id is not None
    posted = entry.number is not None and entry.state.value != "draft"
    return {
        "id": entry.id,
        "journal": entry.journal,
        "fiscal_year": entry.fiscal_year,
        "number": entry.number,
        "reference_number": f"{entry.journal}/{entry.fiscal_year}/{entry.number}"
        if posted
        else None,
        "date": entry.date,
        "narration": entry.narration,
        "payee": entry.payee,
        "reference": entry.reference,
        "tags": list(entry.tags),
        "state": entry.state.value,
        "hash": entry.hash,
        "previous_hash": entry.previous_hash,
        "reverses": entry.reverses,
        "reversed_by": entry.reversed_by,
        "postings": [
            {
                "account": p.account,
                "amount": money(p.amount),
                "commodity": p.commodity,
                "memo": p.memo,
            }
            for p in entry.postings
        ],
    }


def public(entry: JournalEntry) -> EntryPublic:
    """The API view of an entry."""
    return EntryPublic.model_validate(document(entry))


class EntryFilters(BaseModel):
    """Page, sort and filters of the entry list (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    sort: Literal["id", "-id", "date", "-date"] = "-id"
    journal: str | None = Field(None, pattern=r"^[A-Za-z0-9]{1,16}$")
    state: Literal["draft", "posted", "reversed"] | None = None
    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")
    account: str | None = Field(None, min_length=1, max_length=400, pattern=NO_NUL)


def _after(cursor: str | None) -> tuple[date, int] | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if key is None or len(key) != 2:
        raise InvalidInputError("cursor", "not a cursor of this list")
    try:
        return date.fromisoformat(str(key[0])), int(str(key[1]))
    except ValueError:
        raise InvalidInputError("cursor", "not a cursor of this list") from None


@router.get(
    "",
    operation_id="listJournalEntries",
    openapi_extra=requires("journal:read"),
    response_model=Page[EntryPublic],
    responses=responses(401, 403, 422),
)
def list_entries(services: Services, filters: Annotated[EntryFilters, Query()]) -> Response:
    """Entries, newest first by default; filter by journal, state, dates or account (with
    its sub-accounts)."""
    # Serialised straight from plain data: a page of 100 entries is the hottest read of
    # the API, and validating it once more against the response model doubled its cost.
    query = EntryQuery(
        limit=filters.limit,
        after=_after(filters.cursor),
        sort=filters.sort.lstrip("-"),
        ascending=not filters.sort.startswith("-"),
        journal=filters.journal,
        state=filters.state,
        date_from=filters.date_from,
        date_to=filters.date_to,
        account=filters.account,
    )
    entries = services.ledger.entries(query)
    last = entries[-1] if len(entries) == filters.limit else None
    page = {
        "items": [document(e) for e in entries],
        "next_cursor": encode_cursor([last.date.isoformat(), last.id]) if last else None,
    }
    return Response(orjson.dumps(page), media_type="application/json")


@router.post(
    "",
    operation_id="postJournalEntry",
    openapi_extra=requires("journal:post"),
    status_code=201,
    response_model=EntryPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "Location",
        getJournalEntry=link("getJournalEntry", {"entry_id": "$response.body#/id"}),
        reverseJournalEntry=link("reverseJournalEntry", {"entry_id": "$response.body#/id"}),
    ),
)
def post_entry(
    body: EntryCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EntryPublic:
    """Post a balanced entry: it gets the next number of its journal and year and joins
    the journal's hash chain."""
    del idempotency_key  # handled by the idempotency middleware
    entry = JournalEntry(
        body.date,
        body.narration,
        tuple(
            Posting(p.account, Decimal(p.amount), p.commodity.upper(), memo=p.memo)
            for p in body.postings
        ),
        journal=body.journal,
        payee=body.payee,
        reference=body.reference,
        tags=tuple(body.tags),
    )
    [ref] = services.ledger.post([entry])
    response.headers["Location"] = f"/api/v1/journal-entries/{ref.id}"
    return public(services.ledger.get(ref.id))


@router.get(
    "/{entry_id}",
    operation_id="getJournalEntry",
    openapi_extra=requires("journal:read"),
    response_model=EntryPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        reverseJournalEntry=link("reverseJournalEntry", {"entry_id": "$request.path.entry_id"}),
    ),
)
def get_entry(entry_id: EntryId, services: Services) -> EntryPublic:
    """One entry with its postings."""
    return public(services.ledger.get(entry_id))


@router.post(
    "/{entry_id}/reverse",
    operation_id="reverseJournalEntry",
    openapi_extra=requires("journal:post"),
    status_code=201,
    response_model=EntryPublic,
    responses=responses(401, 403, 404, 409, 422)
    | success(
        201,
        "Location",
        getReversal=link("getJournalEntry", {"entry_id": "$response.body#/id"}),
        getReversed=link("getJournalEntry", {"entry_id": "$request.path.entry_id"}),
    ),
)
def reverse_entry(
    entry_id: EntryId,
    body: ReverseRequest,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EntryPublic:
    """Post the reversal of a posted entry; the original is marked reversed."""
    del idempotency_key
    ref = services.ledger.reverse(entry_id, body.date, body.narration)
    response.headers["Location"] = f"/api/v1/journal-entries/{ref.id}"
    return public(services.ledger.get(ref.id))
