"""``/contracts``: recurring sales billed monthly, quarterly or yearly, and their prices.

A price change is its own resource under the contract, effective from a date::

    POST /api/v1/contracts/4/prices  If-Match: "1"  {"effective": "2026-07-01", "amount": "9.90"}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.commerce_schemas import (
    ContractCreate,
    ContractPublic,
    ContractUpdate,
    PriceChangeIn,
    QueryId,
)
from crmledger.api.deps import Services, permitted
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import (
    MAX_LIMIT,
    IdempotencyKey,
    IfMatch,
    etag,
    if_match_version,
    link,
    number_cursor,
    success,
)
from crmledger.api.routes.quotes import MOVE
from crmledger.api.schemas import Day, Page, encode_cursor
from crmledger.core.crm.contracts import Contract, ContractStatus, PriceChange
from crmledger.services.contracts import StoredContract
from crmledger.services.crm_ports import ContractQuery

router = APIRouter(prefix="/contracts", tags=["contracts"])
ContractId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ContractFilters(BaseModel):
    """Page and filters of contracts, newest first (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    party_id: QueryId | None = None
    product_id: QueryId | None = None
    status: ContractStatus | None = None
    due_through: Day | None = Field(
        None, description="Only active contracts with a billing date due on or before it."
    )


def _answer(contract: StoredContract, response: Response) -> ContractPublic:
    response.headers["ETag"] = etag(contract.version)
    return ContractPublic.of(contract)


@router.get(
    "",
    operation_id="listContracts",
    openapi_extra=requires("sales:read"),
    response_model=Page[ContractPublic],
    responses=responses(401, 403, 422),
)
def list_contracts(
    services: Services, filters: Annotated[ContractFilters, Query()]
) -> Page[ContractPublic]:
    """Contracts, newest first; filter by party, product, status or what is due to bill."""
    found = services.contracts.list(
        ContractQuery(
            limit=filters.limit,
            after=number_cursor(filters.cursor) if filters.cursor is not None else None,
            party_id=filters.party_id,
            product_id=filters.product_id,
            status=filters.status,
            due_through=filters.due_through,
        )
    )
    last = found[-1].key if len(found) == filters.limit else None
    return Page(
        items=[ContractPublic.of(c) for c in found],
        next_cursor=encode_cursor([last]) if last is not None else None,
    )


@router.post(
    "",
    operation_id="createContract",
    openapi_extra=requires("sales:write"),
    status_code=201,
    response_model=ContractPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getContract=link("getContract", {"contract_id": "$response.body#/id"}),
        addContractPrice=link(
            "addContractPrice",
            {"contract_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_contract(
    body: ContractCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ContractPublic:
    """A new active contract; billing dates count from ``start`` (a contract started on
    the 31st bills on the last day of shorter months)."""
    del idempotency_key  # handled by the idempotency middleware
    contract = services.contracts.create(
        Contract(
            party_id=body.party_id,
            product_id=body.product_id,
            description=body.description,
            currency=body.currency,
            frequency=body.frequency,
            start=body.start,
            end=body.end,
            next_billing=body.next_billing or body.start,
            prices=tuple(PriceChange(p.effective, Decimal(p.amount)) for p in body.prices),
        )
    )
    response.headers["Location"] = f"/api/v1/contracts/{contract.key}"
    return _answer(contract, response)


@router.get(
    "/{contract_id}",
    operation_id="getContract",
    openapi_extra=requires("sales:read"),
    response_model=ContractPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        updateContract=link(
            "updateContract",
            {
                "contract_id": "$request.path.contract_id",
                "header.If-Match": "$response.header.ETag",
            },
        ),
    ),
)
def get_contract(contract_id: ContractId, services: Services, response: Response) -> ContractPublic:
    """One contract with its price history."""
    return _answer(services.contracts.get(contract_id), response)


@router.patch(
    "/{contract_id}",
    operation_id="updateContract",
    openapi_extra=requires("sales:write"),
    dependencies=[permitted("sales:write")],
    response_model=ContractPublic,
    responses=MOVE | success(200, "ETag"),
)
def update_contract(
    contract_id: ContractId,
    body: ContractUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> ContractPublic:
    """Change the description, move the end (``null``: open-ended) or cancel the contract
    (``status: cancelled``)."""
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is not None or name == "end":
            changes[name] = value
    contract = services.contracts.update(contract_id, changes, if_match_version(if_match))
    return _answer(contract, response)


@router.post(
    "/{contract_id}/prices",
    operation_id="addContractPrice",
    openapi_extra=requires("sales:write"),
    dependencies=[permitted("sales:write")],
    response_model=ContractPublic,
    responses=MOVE
    | success(
        200, "ETag", getContract=link("getContract", {"contract_id": "$request.path.contract_id"})
    ),
)
def add_contract_price(
    contract_id: ContractId,
    body: PriceChangeIn,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> ContractPublic:
    """Bill a new price per period from ``effective`` on: a date within the contract, after
    its last billing date, with no change yet. ``If-Match`` makes a retry safe (it answers
    412 once the first attempt went through), so no ``Idempotency-Key`` is needed."""
    contract = services.contracts.change_price(
        contract_id, body.effective, Decimal(body.amount), if_match_version(if_match)
    )
    return _answer(contract, response)
