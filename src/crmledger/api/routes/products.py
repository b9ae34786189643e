"""``/products``: the catalogue of goods and services with a list price per currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.commerce_schemas import (
    PriceIn,
    ProductCreate,
    ProductPublic,
    ProductUpdate,
    TaxCategory,
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
    success,
)
from crmledger.api.schemas import NO_NUL, Page, decode_cursor, encode_cursor
from crmledger.core.crm.products import Price, Product, ProductKind
from crmledger.services.crm_ports import ProductQuery
from crmledger.services.errors import InvalidInputError

router = APIRouter(prefix="/products", tags=["products"])
ProductId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DEFAULT_INCOME = {
    ProductKind.GOOD: "Income:Sales:Products",
    ProductKind.SERVICE: "Income:Sales:Services",
}
#: Fields a ``null`` clears; ``null`` leaves the others as they are.
_CLEARABLE = frozenset({"cost", "cost_currency", "cost_account"})


class ProductFilters(BaseModel):
    """Page and filters of the catalogue (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size (at most 500).")
    cursor: str | None = Field(None, max_length=512, description="`next_cursor` of the last page.")
    active: bool | None = Field(None, description="Only active (or inactive) products.")
    kind: ProductKind | None = None
    tax_category: TaxCategory | None = None
    search: str | None = Field(
        None, min_length=1, max_length=100, pattern=NO_NUL, description="A SKU or name fragment."
    )


def _after(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if key is None or len(key) != 1 or not isinstance(key[0], str):
        raise InvalidInputError("cursor", "not a cursor of this list")
    return key[0]


def _prices(prices: list[PriceIn]) -> tuple[Price, ...]:
    return tuple(Price(p.currency, Decimal(p.amount)) for p in prices)


def _changes(body: ProductUpdate) -> dict[str, Any]:
    convert: dict[str, Any] = {
        "prices": _prices,
        "cost": lambda v: None if v is None else Decimal(v),
    }
    out: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name not in _CLEARABLE:
            continue
        out[name] = convert[name](value) if name in convert else value
    return out


@router.get(
    "",
    operation_id="listProducts",
    openapi_extra=requires("products:read"),
    response_model=Page[ProductPublic],
    responses=responses(401, 403, 422),
)
def list_products(
    services: Services, filters: Annotated[ProductFilters, Query()]
) -> Page[ProductPublic]:
    """The catalogue by SKU; filter by active, kind, tax category or a SKU or name fragment."""
    found = services.products.list(
        ProductQuery(
            limit=filters.limit,
            after=_after(filters.cursor),
            active=filters.active,
            kind=filters.kind,
            tax_category=filters.tax_category,
            search=filters.search,
        )
    )
    last = found[-1].sku if len(found) == filters.limit else None
    return Page(
        items=[ProductPublic.of(p) for p in found],
        next_cursor=encode_cursor([last]) if last is not None else None,
    )


@router.post(
    "",
    operation_id="createProduct",
    openapi_extra=requires("products:write"),
    status_code=201,
    response_model=ProductPublic,
    responses=responses(401, 403, 409, 422)
    | success(
        201,
        "ETag",
        "Location",
        getProduct=link("getProduct", {"product_id": "$response.body#/id"}),
        updateProduct=link(
            "updateProduct",
            {"product_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def create_product(
    body: ProductCreate,
    services: Services,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ProductPublic:
    """Add a product. A price with more decimals than its currency has is refused naming
    the field (``prices[0].amount``), as is an income account that is not an ``Income``
    account of the chart."""
    del idempotency_key  # handled by the idempotency middleware
    product = services.products.add(
        Product(
            sku=body.sku,
            name=body.name,
            description=body.description,
            unit=body.unit,
            kind=body.kind,
            prices=_prices(body.prices),
            tax_category=body.tax_category,
            income_account=body.income_account or DEFAULT_INCOME[body.kind],
            cost=None if body.cost is None else Decimal(body.cost),
            cost_account=body.cost_account,
            active=body.active,
        ),
        cost_currency=body.cost_currency,
    )
    response.headers["ETag"] = etag(product.version)
    response.headers["Location"] = f"/api/v1/products/{product.key}"
    return ProductPublic.of(product)


@router.get(
    "/{product_id}",
    operation_id="getProduct",
    openapi_extra=requires("products:read"),
    response_model=ProductPublic,
    responses=responses(401, 403, 404, 422)
    | success(
        200,
        "ETag",
        updateProduct=link(
            "updateProduct",
            {"product_id": "$request.path.product_id", "header.If-Match": "$response.header.ETag"},
        ),
    ),
)
def get_product(product_id: ProductId, services: Services, response: Response) -> ProductPublic:
    """One product; its ``ETag`` is what an update must send in ``If-Match``."""
    product = services.products.get(product_id)
    response.headers["ETag"] = etag(product.version)
    return ProductPublic.of(product)


@router.patch(
    "/{product_id}",
    operation_id="updateProduct",
    openapi_extra=requires("products:write"),
    dependencies=[permitted("products:write")],
    response_model=ProductPublic,
    responses=responses(401, 403, 404, 409, 412, 422, 428)
    | success(
        200, "ETag", getProduct=link("getProduct", {"product_id": "$request.path.product_id"})
    ),
)
def update_product(
    product_id: ProductId,
    body: ProductUpdate,
    services: Services,
    response: Response,
    if_match: IfMatch,
) -> ProductPublic:
    """Change the fields sent (``prices`` as a whole); ``active: false`` takes a product
    off sale without touching the documents that name it."""
    product = services.products.update(
        product_id, _changes(body), if_version=if_match_version(if_match)
    )
    response.headers["ETag"] = etag(product.version)
    return ProductPublic.of(product)
