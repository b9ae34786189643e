"""One search box over parties, contacts, deals and interactions.

Each kind is searched the way it is stored: parties through their blind index (names,
emails, phones and tax ids are encrypted), deals by title, interactions by full text. A
kind the caller's role may not read is left out rather than refused, so the same box works
for everyone. Results are ranked on one scale: exact keys, whole names, name prefixes, word
prefixes and fragments of parties and deals first (ranks -1 to 3), then full-text hits on
interactions (rank 4)::

    results = CrmSearch(principal, book.parties, book.deals, book.interactions).find("acme")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from crmledger.core.access import Principal
from crmledger.core.crm.deals import Deal
from crmledger.core.crm.interactions import Interaction
from crmledger.core.crm.search import rank
from crmledger.core.errors import InvalidFieldError
from crmledger.fusion.normalise import search_key
from crmledger.services.parties import ContactView, PartyService

Kind = Literal["party", "contact", "deal", "interaction"]
TEXT_RANK = 4
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class Found:
    """One thing found; ``kind`` is party, contact, deal or interaction."""

    kind: Kind
    id: int
    title: str
    subtitle: str
    matched: str
    rank: int
    party_id: int | None


class DealSearch(Protocol):
    def search(self, text: str, limit: int = 20) -> Sequence[Deal]: ...


class InteractionHitLike(Protocol):
    @property
    def interaction(self) -> Interaction: ...


class InteractionSearch(Protocol):
    def search(self, text: str, limit: int = 20) -> Sequence[InteractionHitLike]: ...


class CrmSearch:
    """The search box over the CRM's services (each checks its own permission)."""

    def __init__(
        self,
        principal: Principal,
        parties: PartyService,
        deals: DealSearch,
        interactions: InteractionSearch,
    ) -> None:
        self._can = principal.can
        self._parties = parties
        self._deals = deals
        self._interactions = interactions

    def find(self, text: str, limit: int = 20) -> list[Found]:
        """Up to ``limit`` results for ``text``, best first."""
        text = text.strip()
        if len(text) > MAX_QUERY:
            raise InvalidFieldError("q", f"is longer than {MAX_QUERY} characters")
        if not text:
            return []
        found: list[Found] = []
        if self._can("parties", "read"):
            found += self._party_results(text, limit)
        if self._can("deals", "read"):
            found += _deal_results(self._deals.search(text, limit), text)
        if self._can("interactions", "read"):
            found += [
                Found(
                    "interaction",
                    h.interaction.id or 0,
                    h.interaction.subject,
                    h.interaction.kind.value,
                    "text",
                    TEXT_RANK,
                    h.interaction.party_id,
                )
                for h in self._interactions.search(text, limit)
            ]
        found.sort(key=lambda f: (f.rank, search_key(f.title), f.kind, f.id))
        return found[:limit]

    def _party_results(self, text: str, limit: int) -> list[Found]:
        hits = self._parties.search(text, limit)
        people = [h.party.id for h in hits if h.party.is_person and h.party.id is not None]
        links: dict[int, list[ContactView]] = {}
        for view in self._parties.contacts_of_people(people) if people else []:
            links.setdefault(view.person.id or 0, []).append(view)
        out = []
        for hit in hits:
            party = hit.party
            assert party.id is not None
            out.append(
                Found(
                    "party",
                    party.id,
                    party.display_name,
                    party.kind.value,
                    hit.matched,
                    hit.rank,
                    party.id,
                )
            )
            for view in links.get(party.id, []):
                role = f"{view.contact.role} at " if view.contact.role else ""
                out.append(
                    Found(
                        "contact",
                        view.contact.id or 0,
                        party.display_name,
                        role + view.organisation.display_name,
                        hit.matched,
                        hit.rank,
                        view.organisation.id,
                    )
                )
        return out


def _deal_results(deals: Sequence[Deal], text: str) -> list[Found]:
    query = search_key(text)
    out = []
    for deal in deals:
        found = rank(search_key(deal.title), query)
        out.append(
            Found(
                "deal",
                deal.id or 0,
                deal.title,
                f"{deal.stage} · {deal.amount} {deal.currency}",
                "title",
                3 if found is None else found,
                deal.party_id,
            )
        )
    return out
