"""Finding parties whose names, emails and phones are encrypted.

A query is tried three ways at once: as exact keys (an email, a phone number in any format
the default region can read, a tax id) and as a name fragment. Both go through the blind
index; name candidates are then decrypted and checked, because two names can share every
trigram of a fragment without containing it. Results are ranked: exact key hits first, then
whole-name, name-prefix, word-prefix and inside-a-word matches::

    hits = find_parties(uow.parties, codec, "lovel", region="GB", limit=20)
    assert hits[0].party.display_name == "Ada Lovelace"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crmledger.core.crm.parties import Party
from crmledger.core.crm.search import exact_terms, query_terms, rank
from crmledger.fusion.normalise import email_key, phone_candidates, search_key
from crmledger.services.crm_ports import PartyStore
from crmledger.services.party_codec import PartyCodec

#: How many name candidates (the newest parties holding every trigram) are decrypted and
#: checked at most per query: a fragment common to thousands of names gives its best
#: matches among the newest parties; more letters narrow it.
CANDIDATES = 60
_TAX = re.compile(r"^[A-Za-z]{0,3}[ -]?[0-9][0-9A-Za-z .\-/]{4,}$")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A party found, how (``name``, ``email``, ``phone`` or ``tax_id``) and its rank
    (lower is better)."""

    party: Party
    matched: str
    rank: int


def _exact(text: str, region: str | None) -> dict[str, str]:
    """Plain exact terms a query may be, with what each would match."""
    out: dict[str, str] = {}
    if "@" in text:
        out |= dict.fromkeys(exact_terms("email", [email_key(text)]), "email")
    out |= dict.fromkeys(exact_terms("phone", phone_candidates(text, region)), "phone")
    if _TAX.match(text):
        compact = re.sub(r"[^0-9A-Za-z]", "", text).upper()
        out |= dict.fromkeys(exact_terms("tax", [compact]), "tax_id")
    return out


def _name_rank(party: Party, key: str) -> int | None:
    ranks = [rank(search_key(n), key) for n in (party.display_name, party.legal_name) if n]
    found = [r for r in ranks if r is not None]
    return min(found) if found else None


def find_parties(
    store: PartyStore, codec: PartyCodec, text: str, region: str | None, limit: int
) -> list[SearchHit]:
    """Up to ``limit`` parties matching ``text``, best first."""
    text = text.strip()
    exact = _exact(text, region)
    hashed = dict(zip(codec.hashed(exact), exact.values(), strict=True))
    exact_ids: dict[int, str] = {}
    for term_hash, how in hashed.items():
        for party_id in store.matching_any([term_hash], limit):
            exact_ids.setdefault(party_id, how)
    query = query_terms(search_key(text))
    # An email or a valid phone number is no name fragment; other digits may be (company
    # names hold them).
    by_name = bool(query.name) and "@" not in text and "phone" not in exact.values()
    name_ids = store.matching_all(codec.hashed(query.name), CANDIDATES) if by_name else []
    rows = store.many(sorted(set(name_ids) | set(exact_ids)))
    hits = []
    for row in rows:
        party = codec.decode(row)
        if row.id in exact_ids:
            hits.append(SearchHit(party, exact_ids[row.id], -1))
            continue
        found = _name_rank(party, query.text)
        if found is not None:
            hits.append(SearchHit(party, "name", found))
    hits.sort(key=lambda h: (h.rank, search_key(h.party.display_name), h.party.id or 0))
    return hits[:limit]
