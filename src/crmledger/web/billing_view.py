"""How billing looks on the pages: document states as badges, party names and choices,
and the one way a URL's document is loaded.

An open invoice past its due date shows as *overdue* whatever its stored status; the
others show their status in words. Lists get plain rows, built here once::

    doc_row(invoice, names)
    # {'id': 4, 'number': 'INV-2026-0004', 'state': ('Overdue', 'badge-error'), ...}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from crmledger.services.billing_views import BillingDoc
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.errors import NotFoundError
from crmledger.web import crm_view
from crmledger.web.session import Viewer

MAX_ID = 2**62
PARTY_CHOICES = 200
#: Badge class per document status.
STATUS_BADGES = {
    "draft": "",
    "issued": "badge-info",
    "partially_paid": "badge-warning",
    "paid": "badge-ok",
    "void": "",
}
STATUSES = tuple(STATUS_BADGES)
#: What each kind of document is called, and the section its pages belong to.
KIND_NAMES = {"invoice": "Invoice", "credit_note": "Credit note", "bill": "Bill"}
KIND_SECTIONS = {"invoice": "/invoices", "credit_note": "/invoices", "bill": "/bills"}
PAYMENT_KINDS = {
    "receipt": "Received",
    "refund": "Refund",
    "vendor_payment": "Paid to vendor",
    "vendor_refund": "Refund from vendor",
}


def state(doc: BillingDoc) -> tuple[str, str]:
    """The document's state as a badge: (words, class)."""
    if doc.overdue:
        return "Overdue", "badge-error"
    return crm_view.words(doc.status), STATUS_BADGES.get(doc.status, "")


def title(doc: BillingDoc) -> str:
    """``Invoice INV-2026-0001``, or ``Draft invoice #12`` before it is issued."""
    name = KIND_NAMES.get(doc.kind, doc.kind)
    return f"{name} {doc.number}" if doc.number else f"Draft {name.lower()} #{doc.id}"


def href(doc: BillingDoc) -> str:
    """The document's page."""
    return f"{KIND_SECTIONS.get(doc.kind, '/invoices')}/{doc.id}"


def doc_row(doc: BillingDoc, names: Mapping[int, str]) -> dict[str, Any]:
    """A document as a list row shows it."""
    return {
        "id": doc.id,
        "href": href(doc),
        "number": doc.number or f"Draft #{doc.id}",
        "kind": KIND_NAMES.get(doc.kind, doc.kind),
        "party_id": doc.party_id,
        "party": names.get(doc.party_id, f"Party #{doc.party_id}"),
        "state": state(doc),
        "issued_on": crm_view.day(doc.issued_on),
        "due_on": crm_view.day(doc.due_on),
        "gross": crm_view.money(doc.gross, doc.currency),
        "open": crm_view.money(doc.open, doc.currency) if doc.number else "",
    }


def names_of(viewer: Viewer, party_ids: Iterable[int]) -> dict[int, str]:
    """Display names of the parties, by id (none for a role that may not read parties)."""
    if not viewer.can("parties", "read"):
        return {}
    return {i: p.display_name for i, p in viewer.book.parties.many(set(party_ids)).items()}


def party_options(viewer: Viewer, current: int | None) -> list[tuple[str, str]]:
    """Parties a filter may choose, by name (the current one even when not among them)."""
    if not viewer.can("parties", "read"):
        return []
    found = viewer.book.parties.list(PartyQuery(limit=PARTY_CHOICES))
    options = sorted(((str(p.id), p.display_name) for p in found), key=lambda o: o[1].lower())
    if current is not None and str(current) not in {value for value, _ in options}:
        name = names_of(viewer, [current]).get(current, f"Party #{current}")
        options.append((str(current), name))
    return options


def load(viewer: Viewer, document_id: int, kinds: Iterable[str]) -> BillingDoc:
    """The document of a URL when it is one of ``kinds`` (else it is not found here)."""
    if not 1 <= document_id <= MAX_ID:
        raise NotFoundError(f"no document {document_id}")
    found = viewer.book.invoices.get(document_id)
    if found.kind not in kinds:
        raise NotFoundError(f"no {' or '.join(kinds)} {document_id}")
    return found


def today() -> date:
    """Today in UTC, the services' calendar (form defaults, the overdue filter)."""
    return datetime.now(UTC).date()


def id_param(raw: str) -> int | None:
    """A positive id typed in a query string (None when blank or not one)."""
    return int(raw) if raw.isdigit() and 0 < len(raw) < 18 and int(raw) > 0 else None
