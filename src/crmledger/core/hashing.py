"""The versioned hash chain that makes the ledger tamper-evident.

Each posted entry is reduced to a canonical JSON record (sorted keys, no spaces, amounts as
fixed-scale decimal strings, parties as pseudonymous ids only) that includes the hash of the
entry before it in the same journal. The hash is ``$1$`` followed by the SHA-256 hex digest
of that record; the ``1`` is the record layout's version, so a later layout can be verified
side by side with entries hashed under this one::

    >>> from datetime import date
    >>> from decimal import Decimal
    >>> from crmledger.core.entries import JournalEntry, Posting
    >>> entry = JournalEntry(date(2026, 1, 5), "Chairs", number=1, postings=(
    ...     Posting("Expenses:Office", Decimal("120"), "EUR"),
    ...     Posting("Assets:Cash", Decimal("-120"), "EUR")))
    >>> canonical_record(entry, {"EUR": 2}, GENESIS)[:60]
    b'{"date":"2026-01-05","journal":"GJ","links":[],"meta":[],"na'
    >>> chain_hash(canonical_record(entry, {"EUR": 2}, GENESIS))[:11]
    '$1$b1b941c3'

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


def canonical_document(
    entry: JournalEntry,
    scales: Mapping[str, int],
    previous_hash: str,
    *,
    number: int | None = None,
    minors: Sequence[tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """The record that is hashed, as a value: what :func:`canonical_record` serialises.

    ``number`` defaults to the entry's own; ``minors`` (amount and weight of each posting in
    minor units) may be passed when the caller has them already.
    """
    if minors is None:
        minors = [(to_minor(p.amount, scales[p.commodity], p.commodity), 0) for p in entry.postings]
    return {
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
        "postings": [
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
        ],
        "previous": previous_hash,
    }


def canonical_record(
    entry: JournalEntry,
    scales: Mapping[str, int],
    previous_hash: str,
    *,
    number: int | None = None,
    minors: Sequence[tuple[int, int]] | None = None,
) -> bytes:
    """The bytes that are hashed for ``entry``: :func:`canonical_document` as JSON with
    sorted keys, no spaces and unescaped non-ASCII text.

    Written out by hand because it runs once per posted entry; a property test holds it
    equal to ``json.dumps(canonical_document(...), sort_keys=True, ...)``.
    """
    if minors is None:
        minors = [(to_minor(p.amount, scales[p.commodity], p.commodity), 0) for p in entry.postings]
    lines = ",".join(
        f"[{_text(p.account)},{_text(format_minor(amount, scales[p.commodity]))},"
        f"{_text(p.commodity)},{_conversion_json(p.cost)},{_conversion_json(p.price)},"
        f"{_optional(p.party)},{_text(p.memo)}]"
        for p, (amount, _) in zip(entry.postings, minors, strict=True)
    )
    meta = ",".join(f"[{_text(k)},{_text(v)}]" for k, v in entry.meta)
    number = entry.number if number is None else number
    return (
        f'{{"date":"{entry.date.isoformat()}","journal":{_text(entry.journal)},'
        f'"links":[{",".join(map(_text, entry.links))}],"meta":[{meta}],'
        f'"narration":{_text(entry.narration)},"number":{_int(number)},'
        f'"party":{_optional(entry.party)},"payee":{_optional(entry.payee)},'
        f'"postings":[{lines}],"previous":{_text(previous_hash)},'
        f'"reference":{_optional(entry.reference)},"reverses":{_int(entry.reverses)},'
        f'"tags":[{",".join(map(_text, entry.tags))}],"v":{HASH_VERSION},'
        f'"year":{entry.fiscal_year}}}'
    ).encode()


_text = json.encoder.encode_basestring  # JSON string literal, non-ASCII kept as is


def _optional(value: str | None) -> str:
    return "null" if value is None else _text(value)


def _int(value: int | None) -> str:
    return "null" if value is None else str(value)


def _conversion_json(conversion: Conversion | None) -> str:
    if conversion is None:
        return "null"
    total = "true" if conversion.total else "false"
    return f"[{_text(canonical_number(conversion.number))},{_text(conversion.commodity)},{total}]"


def chain_hash(record: bytes) -> str:
    """The versioned hash of a canonical record."""
    return f"$1${hashlib.sha256(record).hexdigest()}"
