"""Examples for parties and contacts."""

from __future__ import annotations

import itertools
from typing import Any

from crmledger.core.crm.parties import Party, PartyKind

_n = itertools.count(1)


def organisation(api: Any) -> int:
    party = api.book.parties.add(
        Party(kind=PartyKind.ORGANISATION, display_name=f"Example Org {next(_n)}")
    )
    return int(party.id)


def person(api: Any) -> int:
    party = api.book.parties.add(
        Party(kind=PartyKind.PERSON, display_name="", given_name="Pat", family_name=f"P{next(_n)}")
    )
    return int(party.id)


def contact(api: Any) -> int:
    from crmledger.core.crm.parties import Contact

    link = api.book.parties.add_contact(Contact(organisation(api), person(api), "Buyer"))
    return int(link.id)


BODIES: dict[str, Any] = {
    "createParty": lambda api: {
        "kind": "organisation",
        "display_name": f"Matrix Org {next(_n)}",
        "phones": [{"number": "+49 30 1234567"}],
    },
    "updateParty": lambda api: {"lifecycle": "customer"},
    "createContact": lambda api: {
        "organisation_id": organisation(api),
        "person_id": person(api),
        "role": "Buyer",
    },
    "updateContact": lambda api: {"role": "Head of Purchasing"},
}

PATHS: dict[str, Any] = {
    "{party_id}": organisation,
    "{contact_id}": contact,
}
