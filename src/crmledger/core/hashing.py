"""The versioned hash chain that makes the ledger tamper-evident.

Each posted entry is reduced to a canonical JSON record (sorted keys, no spaces, amounts as
fixed-scale decimal strings, parties as pseudonymous ids only) that includes the hash of the
entry before it in the same journal. The hash is ``$1$`` followed by the SHA-256 hex digest
of that record; the ``1`` is the record layout's version, so a later layout can be verified
side by side with entries hashed under this one::

    >>> h = chain_hash(canonical_record(entry, scales, previous_hash=GENESIS))
    >>> h.startswith("$1$")
    True

Changing any hashed field, removing an entry or inserting one breaks the link from that
entry on, and :mod:`crmledger.services.audit` names the first entry that no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from crmledger.core.entries import Conversion, JournalEntry
from crmledger.core.money import format_minor, to_minor

HASH_VERSION = 1
GENESIS = "$1$" + "0" * 64


def canonical_number(number: Decimal) -> str:
    """A unique text for a decimal value: no exponent, no trailing zeros."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _conversion(conversion: Conversion | None) -> list[Any] | None:
    if conversion is None:
        return None
    return [canonical_number(conversion.number), conversion.commodity, conversion.total]


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_record(
    entry: JournalEntry,
    scales: Mapping[str, int],
    previous_hash: str,
    *,
    number: int | None = None,
    minors: Sequence[tuple[int, int]] | None = None,
) -> bytes:
    """The bytes that are hashed for ``entry``.

    ``number`` defaults to the entry's own; ``minors`` (amount and weight of each posting in
    minor units) may be passed when the caller has them already.
    """
    if minors is None:
        minors = [(to_minor(p.amount, scales[p.commodity], p.commodity), 0) for p in entry.postings]
    postings = [
        [
            p.account,
            format_minor(amount, scales[p.commodity]),
            p.commodity,
            _conversion(p.cost),
            _conversion(p.price),
            p.party,
            p.memo,
        ]
        for p, (amount, _) in zip(entry.postings, minors, strict=True)
    ]
    record = {
        "v": HASH_VERSION,
        "journal": entry.journal,
        "year": entry.fiscal_year,
        "number": entry.number if number is None else number,
        "date": entry.date.isoformat(),
        "narration": entry.narration,
        "payee": entry.payee,
        "party": entry.party,
        "reference": entry.reference,
        "tags": list(entry.tags),
        "links": list(entry.links),
        "meta": [list(kv) for kv in entry.meta],
        "reverses": entry.reverses,
        "postings": postings,
        "previous": previous_hash,
    }
    return _ENCODER.encode(record).encode()


def chain_hash(record: bytes) -> str:
    """The versioned hash of a canonical record."""
    return f"$1${hashlib.sha256(record).hexdigest()}"
