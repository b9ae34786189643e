"""``crmledger party``: add, list, show, update and search organisations and people.

::

    crmledger party add "Acme GmbH" --email sales@acme.example --phone "030 1234567" --country DE
    crmledger party add --person --given Ada --family Lovelace --email ada@example.org
    crmledger party contact 1 2 --role "Head of Purchasing"
    crmledger party list --lifecycle customer --tag vip
    crmledger party search lovel
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from crmledger.cli.customer_360 import show_360
from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.crm.parties import (
    Address,
    BankAccount,
    Contact,
    Email,
    ExternalId,
    Lifecycle,
    Party,
    PartyKind,
    Phone,
    TaxNumber,
)
from crmledger.services.crm_ports import PartyQuery
from crmledger.services.errors import InvalidInputError

party_app = typer.Typer(help="Organisations and people (the CRM's parties).", no_args_is_help=True)

Many = Annotated[list[str] | None, typer.Option(show_default=False)]
Text = Annotated[str | None, typer.Option(show_default=False)]


def _decimal(field: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidInputError(field, f"{value!r} is not a number") from None


def _external(values: list[str]) -> tuple[ExternalId, ...]:
    out = []
    for i, value in enumerate(values):
        system, sep, ext = value.partition(":")
        if not sep:
            raise InvalidInputError(f"external_ids[{i}]", "write it as system:id")
        out.append(ExternalId(system, ext))
    return tuple(out)


def _owner(email: str | None) -> int | None:
    if email is None:
        return None
    return state.app.access.find_user(email).id


def _address(country: str | None, street: str, postcode: str, city: str) -> tuple[Address, ...]:
    if country is None:
        if street or postcode or city:
            raise InvalidInputError("addresses[0].country", "an address needs --country")
        return ()
    return (Address(country=country, street=street, postcode=postcode, city=city),)


def show_rows(party: Party) -> list[dict[str, Any]]:
    """A party as ``field: value`` rows."""
    values: dict[str, Any] = {
        "id": party.id,
        "kind": party.kind.value,
        "name": party.display_name,
        "legal name": party.legal_name,
        "lifecycle": party.lifecycle.value,
        "emails": ", ".join(e.address for e in party.emails),
        "phones": ", ".join(p.number for p in party.phones),
        "addresses": "; ".join(
            " ".join(x for x in (a.street, a.postcode, a.city, a.country) if x)
            for a in party.addresses
        ),
        "website": party.website,
        "tax ids": ", ".join(t.value for t in party.tax_ids),
        "bank accounts": ", ".join(b.iban for b in party.bank_accounts),
        "tags": ", ".join(party.tags),
        "owner": party.owner_id,
        "segment": party.segment,
        "source": party.source,
        "currency": party.currency,
        "language": party.language,
        "payment terms (days)": party.payment_terms_days,
        "credit limit": party.credit_limit,
        "external ids": ", ".join(f"{e.system}:{e.id}" for e in party.external_ids),
        "version": party.version,
    }
    return [{"field": k, "value": v} for k, v in values.items() if v not in (None, "")]


def document(party: Party) -> dict[str, Any]:
    """A party as JSON (the API's field names)."""
    return {
        "id": party.id,
        "kind": party.kind.value,
        "display_name": party.display_name,
        "legal_name": party.legal_name,
        "given_name": party.given_name,
        "family_name": party.family_name,
        "emails": [{"address": e.address, "label": e.label} for e in party.emails],
        "phones": [{"number": p.number, "label": p.label} for p in party.phones],
        "addresses": [_addr(a) for a in party.addresses],
        "website": party.website,
        "tax_ids": [
            {"country": t.country, "scheme": t.scheme, "value": t.value} for t in party.tax_ids
        ],
        "bank_accounts": [
            {"iban": b.iban, "bic": b.bic, "holder": b.holder} for b in party.bank_accounts
        ],
        "tags": list(party.tags),
        "owner_id": party.owner_id,
        "lifecycle": party.lifecycle.value,
        "segment": party.segment,
        "source": party.source,
        "currency": party.currency,
        "language": party.language,
        "payment_terms_days": party.payment_terms_days,
        "credit_limit": party.credit_limit,
        "external_ids": [{"system": e.system, "id": e.id} for e in party.external_ids],
        "version": party.version,
    }


def _addr(a: Address) -> dict[str, str]:
    return {
        "country": a.country,
        "street": a.street,
        "street2": a.street2,
        "postcode": a.postcode,
        "city": a.city,
        "region": a.region,
        "label": a.label,
    }


@party_app.command("add")
def party_add(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    name: Annotated[str, typer.Argument(help="Display name (optional for --person).")] = "",
    person: Annotated[
        bool, typer.Option("--person", help="A person, not an organisation.")
    ] = False,
    given: Annotated[str, typer.Option(help="A person's given name.")] = "",
    family: Annotated[str, typer.Option(help="A person's family name.")] = "",
    legal_name: Annotated[str, typer.Option(help="The registered name.")] = "",
    email: Many = None,
    phone: Many = None,
    country: Text = None,
    street: Annotated[str, typer.Option()] = "",
    postcode: Annotated[str, typer.Option()] = "",
    city: Annotated[str, typer.Option()] = "",
    website: Annotated[str, typer.Option()] = "",
    tax_id: Many = None,
    iban: Text = None,
    bic: Annotated[str, typer.Option()] = "",
    tag: Many = None,
    lifecycle: Annotated[Lifecycle, typer.Option()] = Lifecycle.LEAD,
    owner: Annotated[str | None, typer.Option(help="The owner's login email.")] = None,
    segment: Annotated[str, typer.Option()] = "",
    source: Annotated[str, typer.Option()] = "",
    currency: Text = None,
    language: Text = None,
    terms: Annotated[int | None, typer.Option("--terms", help="Payment terms in days.")] = None,
    credit_limit: Text = None,
    external: Annotated[
        list[str] | None, typer.Option(help="An id in another system, as system:id.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add an organisation (or a person with --person); values are checked and normalised."""
    party = Party(
        kind=PartyKind.PERSON if person else PartyKind.ORGANISATION,
        display_name=name,
        legal_name=legal_name,
        given_name=given,
        family_name=family,
        emails=tuple(Email(e) for e in email or ()),
        phones=tuple(Phone(p) for p in phone or ()),
        addresses=_address(country, street, postcode, city),
        website=website,
        tax_ids=tuple(TaxNumber(country or "", "", t) for t in tax_id or ()),
        bank_accounts=(BankAccount(iban, bic),) if iban else (),
        tags=tuple(tag or ()),
        owner_id=_owner(owner),
        lifecycle=lifecycle,
        segment=segment,
        source=source,
        currency=currency,
        language=language,
        payment_terms_days=terms,
        credit_limit=_decimal("credit_limit", credit_limit),
        external_ids=_external(external or []),
    )
    stored = state.app.parties.add(party)
    if fmt is OutputFormat.json:
        print(dumps(document(stored)))
        return
    console.print(f"Party {stored.id} [bold]{stored.display_name}[/bold] added.")


@party_app.command("list")
def party_list(
    kind: Annotated[PartyKind | None, typer.Option()] = None,
    lifecycle: Annotated[Lifecycle | None, typer.Option()] = None,
    tag: Text = None,
    segment: Text = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Parties, newest first, with optional filters."""
    found = state.app.parties.list(
        PartyQuery(limit=limit, kind=kind, lifecycle=lifecycle, tag=tag, segment=segment)
    )
    rows = [
        {
            "id": p.id,
            "kind": p.kind.value,
            "name": p.display_name,
            "lifecycle": p.lifecycle.value,
            "email": p.emails[0].address if p.emails else "",
            "phone": p.phones[0].number if p.phones else "",
            "tags": ", ".join(p.tags),
        }
        for p in found
    ]
    emit(rows, fmt, title="Parties", document={"items": [document(p) for p in found]})


@party_app.command("show")
def party_show(
    party_id: Annotated[int, typer.Argument(help="The party's id.")],
    fmt: FormatOption = OutputFormat.table,
    full: Annotated[
        bool, typer.Option("--360", help="The customer 360: money, behaviour, value, risk.")
    ] = False,
) -> None:
    """One party with all of its fields and contacts (with --360: everything about it)."""
    if full:
        view = state.app.intelligence.customer_360(party_id)
        show_360(view, fmt, document(view.party))
        return
    party = state.app.parties.get(party_id)
    links = state.app.parties.contacts(
        organisation_id=party_id if party.kind is PartyKind.ORGANISATION else None,
        person_id=party_id if party.kind is PartyKind.PERSON else None,
    )
    if fmt is OutputFormat.json:
        doc = document(party) | {
            "contacts": [
                {
                    "id": v.contact.id,
                    "organisation_id": v.organisation.id,
                    "person_id": v.person.id,
                    "role": v.contact.role,
                }
                for v in links
            ]
        }
        print(dumps(doc))
        return
    emit(show_rows(party), fmt, title=party.display_name)
    if links:
        emit(
            [
                {
                    "contact": v.contact.id,
                    "organisation": v.organisation.display_name,
                    "person": v.person.display_name,
                    "role": v.contact.role,
                }
                for v in links
            ],
            fmt,
            title="Contacts",
        )


@party_app.command("update")
def party_update(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    party_id: Annotated[int, typer.Argument(help="The party's id.")],
    name: Text = None,
    legal_name: Text = None,
    email: Many = None,
    phone: Many = None,
    website: Text = None,
    add_tag: Many = None,
    remove_tag: Many = None,
    lifecycle: Annotated[Lifecycle | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option(help="The owner's login email.")] = None,
    segment: Text = None,
    currency: Text = None,
    terms: Annotated[int | None, typer.Option("--terms")] = None,
    credit_limit: Text = None,
) -> None:
    """Change a party: options given replace the stored value (``--email`` and ``--phone``
    replace the whole list); tags are added and removed one by one."""
    current = state.app.parties.get(party_id)
    changes: dict[str, Any] = {}
    simple = {
        "display_name": name,
        "legal_name": legal_name,
        "website": website,
        "lifecycle": lifecycle,
        "segment": segment,
        "currency": currency,
        "payment_terms_days": terms,
    }
    changes |= {k: v for k, v in simple.items() if v is not None}
    if email is not None:
        changes["emails"] = tuple(Email(e) for e in email)
    if phone is not None:
        changes["phones"] = tuple(Phone(p) for p in phone)
    if owner is not None:
        changes["owner_id"] = _owner(owner)
    if credit_limit is not None:
        changes["credit_limit"] = _decimal("credit_limit", credit_limit)
    if add_tag or remove_tag:
        tags = [t for t in current.tags if t not in (remove_tag or [])]
        changes["tags"] = tuple(dict.fromkeys([*tags, *(add_tag or [])]))
    updated = state.app.parties.update(party_id, changes, if_version=current.version)
    console.print(
        f"Party {updated.id} [bold]{updated.display_name}[/bold] updated (v{updated.version})."
    )


@party_app.command("contact")
def party_contact(
    organisation_id: Annotated[int, typer.Argument(help="The organisation's id.")],
    person_id: Annotated[int, typer.Argument(help="The person's id.")],
    role: Annotated[str, typer.Option(help="The person's role there.")] = "",
    primary: Annotated[bool, typer.Option("--primary", help="The main contact.")] = False,
) -> None:
    """Make a person a contact of an organisation."""
    link = state.app.parties.add_contact(Contact(organisation_id, person_id, role, primary))
    console.print(f"Contact {link.id}: person {person_id} at organisation {organisation_id}.")


@party_app.command("search")
def party_search(
    query: Annotated[str, typer.Argument(help="A name fragment, an email, a phone or a tax id.")],
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Find parties, best match first."""
    hits = state.app.parties.search(query, limit)
    rows = [
        {
            "id": h.party.id,
            "name": h.party.display_name,
            "kind": h.party.kind.value,
            "matched": h.matched,
            "email": h.party.emails[0].address if h.party.emails else "",
        }
        for h in hits
    ]
    emit(rows, fmt, title=f"Search: {query}")


@party_app.command("region")
def party_region(
    region: Annotated[
        str | None, typer.Argument(help="A country: DE, Germany, DEU ... (omit to show it).")
    ] = None,
) -> None:
    """The book's default phone region: numbers typed without a country code (for parties
    without an address, and in searches) are read as numbers of it."""
    if region is None:
        console.print(state.app.parties.region() or "not set")
        return
    console.print(f"Phone region set to {state.app.parties.set_region(region)}.")
