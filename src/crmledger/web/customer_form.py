"""The customer form: what the user typed, as a :class:`Party` or as changes to one.

Emails and phones are repeated inputs (``email``, ``phone``), one row per stored value and
one blank row to add another; the address, tax id and IBAN are the party's first ones (the
others are kept as they are when editing). Tags are typed comma-separated. A service's
error path maps onto these inputs (:data:`RULES`)::

    draft = read(form)                 # values as typed
    party = to_party(draft)            # None, with draft.errors set, if a value is unreadable
    InvalidFieldError("phones[1].number", ...)  ->  draft.errors["phone-1"]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from starlette.datastructures import FormData

from crmledger.core.crm.parties import (
    Address,
    BankAccount,
    Email,
    Lifecycle,
    Party,
    PartyKind,
    Phone,
    TaxNumber,
)
from crmledger.core.errors import LedgerError
from crmledger.web import forms

TEXT_FIELDS = {
    "display_name": 200,
    "legal_name": 200,
    "given_name": 200,
    "family_name": 200,
    "street": 200,
    "postcode": 40,
    "city": 200,
    "country": 60,
    "tax_id": 60,
    "iban": 60,
    "bic": 20,
    "tags": 600,
    "lifecycle": 20,
    "owner": 12,
    "currency": 30,
    "payment_terms_days": 12,
    "credit_limit": 40,
    "segment": 100,
    "source": 100,
    "website": 300,
    "kind": 20,
    "version": 12,
}

#: Service field paths -> form inputs (regexes on the whole path).
RULES = {
    r"emails\[(\d+)\](\..*)?": r"email-\1",
    r"emails": "email-0",
    r"phones\[(\d+)\](\..*)?": r"phone-\1",
    r"phones": "phone-0",
    r"addresses\[\d+\]\.(street|postcode|city|country)": r"\1",
    r"addresses\[\d+\]\.street2": "street",
    r"addresses.*": "country",
    r"tax_ids.*": "tax_id",
    r"bank_accounts\[\d+\]\.bic": "bic",
    r"bank_accounts.*": "iban",
    r"tags.*": "tags",
    r"owner_id": "owner",
    r"version": "form",
    r"(display_name|legal_name|given_name|family_name|lifecycle|currency|"
    r"payment_terms_days|credit_limit|segment|source|website)": r"\1",
}

LABELS = {
    "display_name": "Name",
    "legal_name": "Legal name",
    "given_name": "Given name",
    "family_name": "Family name",
    "email": "Email",
    "phone": "Phone",
    "street": "Street",
    "postcode": "Postcode",
    "city": "City",
    "country": "Country",
    "tax_id": "Tax id",
    "iban": "IBAN",
    "bic": "BIC",
    "tags": "Tags",
    "lifecycle": "Lifecycle",
    "owner": "Owner",
    "currency": "Currency",
    "payment_terms_days": "Payment terms",
    "credit_limit": "Credit limit",
    "segment": "Segment",
    "source": "Source",
    "website": "Website",
}

LIFECYCLES = [(item.value, item.value.replace("_", " ").capitalize()) for item in Lifecycle]
KINDS = [(PartyKind.ORGANISATION.value, "Organisation"), (PartyKind.PERSON.value, "Person")]


@dataclass
class CustomerForm:
    """The form's values as typed, its repeated rows and what is wrong."""

    values: dict[str, str]
    emails: list[str]
    phones: list[str]
    errors: forms.Errors = field(default_factory=forms.Errors)

    @property
    def kind(self) -> PartyKind:
        """The kind chosen (an organisation unless "person")."""
        return PartyKind.PERSON if self.values.get("kind") == "person" else PartyKind.ORGANISATION

    def rows(self, name: str) -> list[str]:
        """The rows of ``email`` or ``phone`` to show: the typed ones and one blank."""
        typed = self.emails if name == "email" else self.phones
        kept = [v for v in typed if v]
        return [*kept, ""]

    def place(self, error: LedgerError) -> None:
        """Show a service's error next to its input."""
        forms.place(self.errors, error, RULES, LABELS)


def blank(kind: str = "organisation") -> CustomerForm:
    """An empty form (a new lead)."""
    values = dict.fromkeys(TEXT_FIELDS, "")
    values |= {"kind": kind, "lifecycle": Lifecycle.LEAD.value}
    return CustomerForm(values, [], [])


def read(form: FormData) -> CustomerForm:
    """The form as typed (blank rows dropped)."""
    values = {name: forms.value(form, name, limit) for name, limit in TEXT_FIELDS.items()}
    emails = [v for v in forms.values(form, "email", 320, 20) if v]
    phones = [v for v in forms.values(form, "phone", 60, 20) if v]
    return CustomerForm(values, emails, phones)


def of_party(party: Party) -> CustomerForm:
    """The form filled from a stored party."""
    address = party.addresses[0] if party.addresses else Address("")
    bank = party.bank_accounts[0] if party.bank_accounts else BankAccount("")
    values = {
        "kind": party.kind.value,
        "display_name": party.display_name,
        "legal_name": party.legal_name,
        "given_name": party.given_name,
        "family_name": party.family_name,
        "street": address.street,
        "postcode": address.postcode,
        "city": address.city,
        "country": address.country,
        "tax_id": party.tax_ids[0].value if party.tax_ids else "",
        "iban": bank.iban,
        "bic": bank.bic,
        "tags": ", ".join(party.tags),
        "lifecycle": party.lifecycle.value,
        "owner": "" if party.owner_id is None else str(party.owner_id),
        "currency": party.currency or "",
        "payment_terms_days": _text(party.payment_terms_days),
        "credit_limit": _text(party.credit_limit),
        "segment": party.segment,
        "source": party.source,
        "website": party.website,
        "version": str(party.version),
    }
    emails = [e.address for e in party.emails]
    phones = [p.number for p in party.phones]
    return CustomerForm(values, emails, phones)


def _text(number: int | Decimal | None) -> str:
    return "" if number is None else str(number)


def _tags(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


def _labels(old: tuple[Any, ...], index: int, default: str) -> str:
    return str(old[index].label) if index < len(old) else default


def _address(draft: CustomerForm, old: tuple[Address, ...]) -> tuple[Address, ...]:
    v = draft.values
    if not any(v[k] for k in ("street", "postcode", "city", "country")):
        return old[1:]
    if not v["country"]:
        draft.errors.add("country", "Choose the country of the address.")
    first = old[0] if old else Address("")
    typed = replace(first, street=v["street"], postcode=v["postcode"], city=v["city"])
    return (replace(typed, country=v["country"]), *old[1:])


def _bank(draft: CustomerForm, old: tuple[BankAccount, ...]) -> tuple[BankAccount, ...]:
    iban, bic = draft.values["iban"], draft.values["bic"]
    if not iban:
        if bic:
            draft.errors.add("iban", "A BIC needs the IBAN it belongs to.")
        return old[1:]
    first = old[0] if old else BankAccount("")
    return (replace(first, iban=iban, bic=bic), *old[1:])


def _tax(draft: CustomerForm, old: tuple[TaxNumber, ...]) -> tuple[TaxNumber, ...]:
    typed = draft.values["tax_id"]
    if not typed:
        return old[1:]
    if old and typed == old[0].value:
        return old
    return (TaxNumber("", "", typed), *old[1:])


def _owner(draft: CustomerForm) -> int | None:
    return forms.integer(draft.values["owner"], "owner", draft.errors, "Owner")


def _lifecycle(draft: CustomerForm) -> Lifecycle:
    try:
        return Lifecycle(draft.values["lifecycle"] or Lifecycle.LEAD.value)
    except ValueError:
        draft.errors.add("lifecycle", "Choose a lifecycle stage from the list.")
        return Lifecycle.LEAD


def changes(draft: CustomerForm, old: Party) -> dict[str, Any] | None:
    """Every field of the form as changes to ``old`` (None with errors when unreadable)."""
    v = draft.values
    person = old.kind is PartyKind.PERSON
    result: dict[str, Any] = {
        "display_name": v["display_name"],
        "legal_name": v["legal_name"],
        "given_name": v["given_name"] if person else "",
        "family_name": v["family_name"] if person else "",
        "emails": tuple(
            Email(a, _labels(old.emails, i, "work")) for i, a in enumerate(draft.emails)
        ),
        "phones": tuple(
            Phone(n, _labels(old.phones, i, "work")) for i, n in enumerate(draft.phones)
        ),
        "addresses": _address(draft, old.addresses),
        "tax_ids": _tax(draft, old.tax_ids),
        "bank_accounts": _bank(draft, old.bank_accounts),
        "tags": _tags(v["tags"]),
        "lifecycle": _lifecycle(draft),
        "owner_id": _owner(draft),
        "currency": v["currency"] or None,
        "payment_terms_days": forms.integer(
            v["payment_terms_days"], "payment_terms_days", draft.errors, "Payment terms"
        ),
        "credit_limit": forms.decimal(
            v["credit_limit"], "credit_limit", draft.errors, "Credit limit"
        ),
        "segment": v["segment"],
        "source": v["source"],
        "website": v["website"],
    }
    if person and not (v["given_name"] or v["family_name"] or v["display_name"]):
        draft.errors.add("given_name", "Enter the person's name.")
    if not person and not v["display_name"]:
        draft.errors.add("display_name", "Enter the organisation's name.")
    return None if draft.errors else result


def to_party(draft: CustomerForm) -> Party | None:
    """A new party from the form (None with errors when a value is unreadable)."""
    kind = draft.kind
    found = changes(draft, Party(kind=kind, display_name=""))
    # A person's blank display name is completed from the given and family names.
    return None if found is None else Party(kind=kind, **found)


def version(draft: CustomerForm) -> int | None:
    """The version the form was read at (None when missing or unreadable)."""
    text = draft.values["version"]
    return int(text) if text.isdigit() and len(text) < 10 else None
