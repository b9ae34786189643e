"""The product catalogue: a list with a search box and an active filter (paged by SKU),
and a form to add or change a product with its prices per currency.

    /products?q=widget&active=active&after=WID-9
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from crmledger.core.access import PermissionDeniedError
from crmledger.core.accounts import AccountType
from crmledger.core.crm.products import Product
from crmledger.core.errors import LedgerError
from crmledger.services.crm_ports import ProductQuery
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.products import StoredProduct
from crmledger.web import product_form
from crmledger.web.params import text, with_query
from crmledger.web.product_form import ProductForm
from crmledger.web.render import flash, fragment, page, wants_fragment
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_ID = 2**62
ACTIVE = [("active", "Active"), ("inactive", "Not sold")]


@router.get("/products")
def products(request: Request, viewer: Signed) -> Response:
    """The catalogue by SKU: search, active filter, pages."""
    viewer.principal.require("products", "read")
    query = dict(request.query_params)
    shown = {name: text(query, name) for name in ("q", "active")}
    errors = {}
    if shown["active"] not in ("", "active", "inactive"):
        errors["active"] = "Choose active or not sold."
    after = text(query, "after")[:64] or None
    found: list[StoredProduct] = []
    if not errors:
        found = viewer.book.products.list(
            ProductQuery(
                limit=PAGE_SIZE,
                after=after,
                active={"active": True, "inactive": False}.get(shown["active"]),
                search=shown["q"] or None,
            )
        )
    last = found[-1].sku if len(found) == PAGE_SIZE else None
    context = {
        "products": found,
        "filters": shown,
        "errors": errors,
        "choices": ACTIVE,
        "filtered": any(shown.values()),
        "next_url": with_query("/products", {**shown, "after": last}) if last else None,
        "first_url": with_query("/products", shown) if after else None,
        "can_write": viewer.can("products", "write"),
        "title": "Products",
    }
    if wants_fragment(request):
        return fragment("_products_table.html", context)
    status = 422 if errors else 200
    return page(request, "products.html", context, viewer=viewer, active="/products", status=status)


def _accounts(viewer: Viewer) -> dict[str, list[str]]:
    if not viewer.can("accounts", "read"):
        return {"income": [], "expenses": []}
    chart = [a for a, _ in viewer.book.ledger.accounts_with_versions()]
    return {
        "income": [a.name for a in chart if a.type is AccountType.INCOME],
        "expenses": [a.name for a in chart if a.type is AccountType.EXPENSES],
    }


def _form_page(
    request: Request,
    viewer: Viewer,
    draft: ProductForm,
    product: StoredProduct | None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "form": draft,
        "product": product,
        "kinds": product_form.KINDS,
        "accounts": _accounts(viewer),
        "can_write": viewer.can("products", "write"),
        "title": product.name if product else "New product",
    }
    return page(
        request, "product_form.html", context, viewer=viewer, active="/products", status=status
    )


@router.get("/products/new")
def new_product(request: Request, viewer: Signed) -> Response:
    """An empty product form."""
    viewer.principal.require("products", "write")
    currency = viewer.book.ledger.info().base_currency or "EUR"
    draft = product_form.blank(currency)
    income = _accounts(viewer)["income"]
    if income and draft.values["income_account"] not in income:
        sales = [name for name in income if name.startswith("Income:Sales")]
        draft.values["income_account"] = (sales or income)[0]
    return _form_page(request, viewer, draft, None)


@router.post("/products/new")
async def create_product(request: Request, viewer: Signed) -> Response:
    """Add the product, or show the form again with what is wrong."""
    form = await request.form()
    return await run_in_threadpool(_create, request, viewer, form)


def _create(request: Request, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("products", "write")
    draft = product_form.read(form)
    product = product_form.to_product(draft)
    if product is not None:
        try:
            stored = viewer.book.products.add(product)
        except PermissionDeniedError:
            raise
        except LedgerError as exc:
            draft.place(exc)
        else:
            response = RedirectResponse(f"/products/{stored.id}", 303)
            flash(request, response, f"Added {stored.sku} {stored.name}.")
            return response
    return _form_page(request, viewer, draft, None, status=422)


def _product(viewer: Viewer, product_id: int) -> StoredProduct:
    if not 1 <= product_id <= MAX_ID:
        raise NotFoundError(f"no product {product_id}")
    return viewer.book.products.get(product_id)


@router.get("/products/{product_id:int}")
def product(request: Request, product_id: int, viewer: Signed) -> Response:
    """One product: its form for a role that may change it, else its details."""
    found = _product(viewer, product_id)
    return _form_page(request, viewer, product_form.of_product(found), found)


@router.post("/products/{product_id:int}")
async def update_product(request: Request, product_id: int, viewer: Signed) -> Response:
    """Save the product if nobody changed it since the form was opened."""
    form = await request.form()
    return await run_in_threadpool(_update, request, product_id, viewer, form)


def _save(viewer: Viewer, product_id: int, draft: ProductForm) -> Product | int:
    found = product_form.values(draft)
    version = product_form.version(draft)
    if found is None:
        return 422
    if version is None:
        draft.errors.add("form", "The form is missing its version. Reload the page.")
        return 422
    try:
        return viewer.book.products.update(product_id, found, if_version=version)
    except VersionConflictError:
        draft.errors.add(
            "form",
            "Someone else changed this product after you opened the form. Your changes "
            "were not saved: reload the page to see theirs, then edit again.",
        )
        return 409
    except PermissionDeniedError:
        raise
    except LedgerError as exc:
        draft.place(exc)
        return 422


def _update(request: Request, product_id: int, viewer: Viewer, form: FormData) -> Response:
    viewer.principal.require("products", "write")
    before = _product(viewer, product_id)
    draft = product_form.read(form)
    saved = _save(viewer, product_id, draft)
    if isinstance(saved, Product):
        response = RedirectResponse(f"/products/{product_id}", 303)
        flash(request, response, f"Saved {saved.sku} {saved.name}.")
        return response
    return _form_page(request, viewer, draft, before, status=saved)
