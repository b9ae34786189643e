"""Search terms for encrypted records: what goes into the blind index, and what a query asks.

Names, emails and phones of people are stored encrypted, so the database cannot ``LIKE``
them. Instead each record gets a set of *terms*, and the store keeps a keyed hash of each
term (a blind index): equal terms give equal hashes, and nothing else can be read off them.
A name fragment becomes the trigrams of its words (``"lovel"`` → ``lov ove vel``), plus a
two-letter prefix term so two typed letters still find a word::

    >>> sorted(name_terms("ada lovelace"))[:4]
    ['g:ace', 'g:ada', 'g:ela', 'g:lac']
    >>> query_terms("lovel").name
    ('g:lov', 'g:ove', 'g:vel')

A record matches when it has every term of the query; the caller then checks the decrypted
name really contains the fragment (different words can share trigrams) and ranks the hits.
Texts arrive normalised by a search key (case-folded, accents dropped, punctuation to
spaces), so "Müller" and "MULLER" share terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

GRAM = 3
MIN_FRAGMENT = 2
MAX_QUERY_TERMS = 12


def _word_terms(word: str) -> set[str]:
    terms = {f"p:{word[:MIN_FRAGMENT]}"} if len(word) >= MIN_FRAGMENT else set()
    terms.update(f"g:{word[i : i + GRAM]}" for i in range(len(word) - GRAM + 1))
    return terms


def name_terms(key: str) -> set[str]:
    """The index terms of a normalised name (every word's trigrams and 2-letter prefix)."""
    terms: set[str] = set()
    for word in key.split():
        terms |= _word_terms(word)
    return terms


def exact_terms(kind: str, values: Iterable[str]) -> set[str]:
    """Terms for exact look-ups: ``kind=value`` (``email=ada@example.org``), which no
    name term (``g:``, ``p:``) can equal."""
    return {f"{kind}={value}" for value in values if value}


@dataclass(frozen=True, slots=True)
class Query:
    """What a typed query may mean: a name fragment's terms and the exact keys to try."""

    text: str
    name: tuple[str, ...]


def query_terms(key: str) -> Query:
    """The name terms of a normalised query: trigrams of words of 3+ letters, the prefix
    term of 2-letter words; at most ``MAX_QUERY_TERMS`` (the rarest cannot be known here,
    so the first ones; the caller's check of the decrypted name keeps results exact)."""
    terms: list[str] = []
    for word in key.split():
        if len(word) < MIN_FRAGMENT:
            continue
        if len(word) < GRAM:
            terms.append(f"p:{word}")
            continue
        terms.extend(f"g:{word[i : i + GRAM]}" for i in range(len(word) - GRAM + 1))
    unique = tuple(dict.fromkeys(terms))[:MAX_QUERY_TERMS]
    return Query(key, unique)


def rank(name_key: str, query_key: str) -> int | None:
    """How well a normalised name matches a normalised query, lower is better; ``None``
    when it does not match at all (every query word must start a word or sit inside one).

    0 the whole name, 1 the name starts with the query, 2 every query word starts a word of
    the name, 3 every query word is inside the name.
    """
    if not query_key:
        return None
    if name_key == query_key:
        return 0
    if name_key.startswith(query_key):
        return 1
    words = name_key.split()
    wanted = query_key.split()
    if all(any(w.startswith(q) for w in words) for q in wanted):
        return 2
    if all(q in name_key for q in wanted):
        return 3
    return None
