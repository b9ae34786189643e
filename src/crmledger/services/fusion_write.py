"""Writing a fusion plan into the book: golden parties, their lineage, the review queue.

Each group of the plan becomes a party (:func:`golden_parties`): a new one, or the book's
party updated when its golden values differ from what the book holds; a party whose values
come out the same is left alone, so a re-run of the same sources writes nothing. Lineage
rows are written only where the record a field came from changed. Review pairs are stored
once per pair of records; an open pair scored the same again is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from crmledger.core.crm.parties import Party, validate_party
from crmledger.core.errors import InvalidFieldError
from crmledger.fusion.match import Pair, pair_key
from crmledger.fusion.party_values import normalise_party
from crmledger.fusion.pipeline import Group
from crmledger.fusion.records import BOOK_SOURCE, FusedRecord, Issue
from crmledger.fusion.survive import STORED, to_party
from crmledger.services.fusion_ports import FusionUnitOfWork, LineageRow, PairKey
from crmledger.services.parties import audit_view
from crmledger.services.party_codec import PartyCodec
from crmledger.services.party_merge import merge_parties
from crmledger.services.ports import FieldCipher, FieldContext
from crmledger.services.trail import Actor, record

#: A refused party field -> the golden field dropped to try again.
_FIELD_OF = {
    "emails": "email",
    "phones": "phone",
    "addresses": "postcode",
    "tax_ids": "tax_id",
    "bank_accounts": "iban",
    "credit_limit": "credit_limit",
    "currency": "currency",
    "website": "website",
    "language": "language",
    "payment_terms_days": "payment_terms_days",
}
_TRIES = 6
REVIEW_TABLE = "fusion_review"


@dataclass
class Change:
    """What a group does to the book: ``action`` is new, updated or unchanged."""

    group: Group
    party: Party
    action: str


def _first(group: Group) -> FusedRecord:
    return min(group.source_members or group.members, key=lambda m: (m.source, m.row))


def _ready(group: Group, region: str | None) -> tuple[Party, list[Issue]]:
    """The group's party, normalised and checked; a refused value is dropped (and
    reported) until the party passes."""
    issues: list[Issue] = []
    golden = group.golden
    keys = [m.key for m in group.source_members]
    for _ in range(_TRIES):
        party = to_party(golden, keys, group.base)
        if group.base is None:
            party = replace(party, source=_first(group).source[:100])
        try:
            return validate_party(normalise_party(party, region)), issues
        except InvalidFieldError as exc:
            name = _FIELD_OF.get(exc.field.split("[")[0].split(".")[0], exc.field)
            first = _first(group)
            issues.append(Issue(first.source, first.row, exc.field, "problem", str(exc)))
            if name not in golden.values:
                raise
            golden.values.pop(name)
            golden.lineage.pop(name, None)
    raise InvalidFieldError("party", "too many refused values")


def changes(groups: Sequence[Group], region: str | None) -> tuple[list[Change], list[Issue]]:
    """What each group does to the book, and the values refused on the way."""
    out: list[Change] = []
    issues: list[Issue] = []
    for group in groups:
        try:
            party, refused = _ready(group, region)
        except InvalidFieldError as exc:
            first = _first(group)
            issues.append(Issue(first.source, first.row, exc.field, "problem", str(exc)))
            continue
        issues += refused
        if group.base is None:
            out.append(Change(group, party, "new"))
        elif audit_view(party) != audit_view(group.base):
            out.append(Change(group, party, "updated"))
        else:
            out.append(Change(group, group.base, "unchanged"))
    return out, issues


# ------------------------------------------------------------------------------ writes


def merge_book_parties(
    uow: FusionUnitOfWork,
    actor: Actor,
    absorbed: Mapping[int, int],
    todo: Sequence[Change],
    at: datetime,
    run_id: int,
) -> list[int]:
    """Merge each absorbed book party into its survivor (``absorbed -> survivor``), before
    the golden values are written: the survivors' changes then expect the versions the
    merges left. Returns the merge ids."""
    ids: list[int] = []
    versions: dict[int, int] = {}
    for gone, survivor in sorted(absorbed.items()):
        done = merge_parties(uow, actor, survivor, gone, at, run_id=run_id)
        ids.append(done.id)
        versions[survivor] = done.versions[survivor]
    for change in todo:
        base = change.group.base
        if base is not None and base.id in versions:
            change.group.base = replace(base, version=versions[base.id])
            if change.action == "unchanged":
                change.party = change.group.base
    return ids


def write_parties(
    uow: FusionUnitOfWork,
    codec: PartyCodec,
    actor: Actor,
    todo: Sequence[Change],
    at: datetime,
) -> None:
    """Insert the new parties, update the changed ones (each with its audit record)."""
    new = [c for c in todo if c.action == "new"]
    ids = uow.parties.reserve_ids(len(new))
    rows = []
    terms: list[tuple[int, str]] = []
    for change, party_id in zip(new, ids, strict=True):
        change.party = replace(change.party, id=party_id, version=1, created_at=at, updated_at=at)
        row, hashes = codec.encode(change.party, party_id, at)
        rows.append(row)
        terms.extend((party_id, h) for h in set(hashes))
    uow.parties.insert(rows, terms)
    if new:
        span = {"parties": len(new), "first_id": ids[0], "last_id": ids[-1]}
        record(uow, actor, at, "party.fuse", "party", ids[0], None, span)
    for change in (c for c in todo if c.action == "updated"):
        _update(uow, codec, actor, change, at)


def _update(
    uow: FusionUnitOfWork, codec: PartyCodec, actor: Actor, change: Change, at: datetime
) -> None:
    base = change.group.base
    assert base is not None
    assert base.id is not None
    party = replace(change.party, id=base.id, version=base.version + 1, updated_at=at)
    row, hashes = codec.encode(party, base.id, at)
    if not uow.parties.update(row, base.version, hashes):
        from crmledger.services.errors import VersionConflictError  # noqa: PLC0415

        raise VersionConflictError(f"party {base.id}", base.version, base.version + 1)
    change.party = party
    record(uow, actor, at, "party.update", "party", base.id, audit_view(base), audit_view(party))


def write_lineage(uow: FusionUnitOfWork, todo: Sequence[Change], run_id: int) -> int:
    """Lineage rows whose source record changed; returns how many were written."""
    ids = [c.party.id for c in todo if c.party.id is not None]
    stored = {(r.party_id, r.field): r for r in uow.fusion.lineage(ids)}
    rows = []
    for change in todo:
        party_id = change.party.id
        assert party_id is not None
        for name, origin in change.group.golden.lineage.items():
            if origin.system == BOOK_SOURCE or name not in STORED:
                continue
            old = stored.get((party_id, name))
            if old is not None and (old.system, old.external_id, old.source_row) == (
                origin.system,
                origin.external_id,
                origin.row,
            ):
                continue
            rows.append(
                LineageRow(
                    party_id,
                    name,
                    origin.system,
                    origin.external_id,
                    origin.source,
                    origin.row,
                    run_id,
                )
            )
    uow.fusion.put_lineage(rows)
    return len(rows)


# ------------------------------------------------------------------------------ review


def explanation_json(pair: Pair) -> str:
    """A pair's explanation as stored (fields, levels, weights; no values)."""
    items = [{"field": a.field, "level": a.level, "weight": a.weight} for a in pair.explanation]
    return json.dumps({"weight": round(pair.weight, 2), "fields": items}, sort_keys=True)


def _plain(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def record_values(record: FusedRecord) -> str:
    """A record as the review page shows it (encrypted before it is stored)."""
    doc: dict[str, Any] = {
        "source": record.source,
        "row": record.row,
        "system": record.system,
        "external_id": record.external_id,
        "values": {k: _plain(v) for k, v in sorted(record.values.items())},
    }
    return json.dumps(doc, sort_keys=True)


def to_review(
    pairs: Sequence[Pair], records: Sequence[FusedRecord], groups_of: dict[tuple[str, str], int]
) -> list[Pair]:
    """The pairs a person should decide: in the review band, not decided, and not already
    in one group through other links."""
    out = []
    for pair in pairs:
        left, right = records[pair.left].key, records[pair.right].key
        same = groups_of.get(left) is not None and groups_of.get(left) == groups_of.get(right)
        if not same:
            out.append(pair)
    return out


def write_review(
    uow: FusionUnitOfWork,
    cipher: FieldCipher,
    pairs: Sequence[Pair],
    records: Sequence[FusedRecord],
    run_id: int,
    at: datetime,
) -> int:
    """Store new review pairs, refresh open ones scored differently; returns how many rows
    changed."""
    keyed: dict[PairKey, Pair] = {
        pair_key(records[p.left].key, records[p.right].key): p for p in pairs
    }
    stored = uow.fusion.review_pairs(list(keyed))
    written = 0
    for key, pair in keyed.items():
        ppm, text = round(pair.probability * 1_000_000), explanation_json(pair)
        old = stored.get(key)
        if old is None:
            review_id = uow.fusion.add_review(run_id, key, ppm, text, at)
            left, right = (records[pair.left], records[pair.right])
            if left.key != key[0]:
                left, right = right, left
            uow.fusion.set_review_values(
                review_id,
                cipher.encrypt(
                    record_values(left), FieldContext(REVIEW_TABLE, "left_values", str(review_id))
                ),
                cipher.encrypt(
                    record_values(right), FieldContext(REVIEW_TABLE, "right_values", str(review_id))
                ),
            )
            written += 1
        elif old.status == "open" and (old.probability_ppm, old.explanation) != (ppm, text):
            uow.fusion.refresh_review(old.id, run_id, ppm, text, at)
            written += 1
    return written


def hold_back(
    todo: Sequence[Change], review: Sequence[Pair], records: Sequence[FusedRecord]
) -> tuple[list[Change], int]:
    """The changes to make now, and how many records wait: a new party whose records are
    in an undecided review pair waits for the decision (so accepting the pair later merges
    records, never two parties)."""
    waiting = {records[i].key for p in review for i in (p.left, p.right)}
    kept, held = [], 0
    for change in todo:
        members = change.group.source_members
        if change.action == "new" and any(m.key in waiting for m in members):
            held += len(members)
        else:
            kept.append(change)
    return kept, held


def group_index(todo: Sequence[Change]) -> dict[tuple[str, str], int]:
    """Record key -> index of the change holding it."""
    return {m.key: i for i, c in enumerate(todo) for m in c.group.members}


def merged_count(todo: Sequence[Change]) -> int:
    """Source records that were duplicates of another record of the run."""
    return sum(max(len(c.group.source_members) - 1, 0) for c in todo)
