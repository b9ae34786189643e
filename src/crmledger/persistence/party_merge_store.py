"""``PartyMergeStore`` on SQLAlchemy Core: moving a party's rows, journaled, and back.

:data:`MOVES` names every column that points at a party and moves with it; a test holds
it against the schema, so a new table pointing at parties cannot be forgotten. Rows that
would collide at the survivor (a tag it has already, a person who is its contact already)
stay with the absorbed party. :func:`party_keys` is what reads of a party's postings
match on: its own id and the ids of the parties merged into it.

Sync links (``sync_links.local_id``, no foreign key: a link's local id is a party for
customers) move too, so the next sync run of the absorbed party's outside record updates
the survivor instead of creating a party. A party has one *account* link per connector
and object type, the outside record pushes go to. When both parties have one, the
survivor's stays the account link and the absorbed party's is *folded* into it: it moves
with ``merge_id`` set to the merge (routing that record's changes to the survivor, never
pushed to), and the undo clears it as it moves the link back::

    before   shop customer C-1 -> 12           shop customer C-2 -> 31
    merged   shop customer C-1 -> 12           shop customer C-2 -> 12 (merge 7)
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Integer,
    Row,
    Select,
    String,
    Table,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)

from crmledger.persistence.access_store import aware
from crmledger.persistence.billing_tables import allocations, billing_documents, payments
from crmledger.persistence.commerce_tables import contracts, quotes, sales_orders
from crmledger.persistence.crm_tables import contacts, parties, party_external_ids, party_tags
from crmledger.persistence.deal_tables import deals
from crmledger.persistence.dunning_tables import dunning_notices
from crmledger.persistence.expense_tables import recurring_bills
from crmledger.persistence.fusion_tables import party_merge_rows, party_merges
from crmledger.persistence.integration_tables import sync_links
from crmledger.persistence.interaction_tables import interactions
from crmledger.persistence.satisfaction_tables import satisfaction_responses
from crmledger.services.party_merge_ports import CRM, FINANCE, MergeRow

_CHUNK = 400
Keep = Callable[[Table, int], list[Any]]


def _no_self_link(other: str) -> Keep:
    """Contacts: not the link between the two parties, nor a link the target has already
    with the same party on the ``other`` side."""
    moved = "organisation_id" if other == "person_id" else "person_id"

    def keep(table: Table, target: int) -> list[Any]:
        twin = contacts.alias()
        return [
            table.c[other] != target,
            ~exists().where(twin.c[moved] == target, twin.c[other] == table.c[other]),
        ]

    return keep


def _new_tag(table: Table, target: int) -> list[Any]:
    twin = party_tags.alias()
    return [table.c.tag.not_in(select(twin.c.tag).where(twin.c.party_id == target))]


@dataclass(frozen=True, slots=True)
class Move:
    """A column pointing at a party that a merge moves; ``keys`` name a row."""

    table: Table
    column: str
    family: str
    keys: tuple[str, ...] = ("id",)
    keep: Keep | None = None
    #: Columns the journal keeps as they were and the undo writes back (a sync link's
    #: state: what both sides last agreed on, before a run synced it with the survivor).
    state: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    def where(self, owner: int, target: int) -> list[Any]:
        """Rows of ``owner`` that may move to ``target``."""
        found = [self.table.c[self.column] == owner]
        return found + (self.keep(self.table, target) if self.keep is not None else [])

    def encode(self, row: Sequence[Any]) -> str:
        return str(row[0]) if len(self.keys) == 1 else json.dumps(list(row), ensure_ascii=False)

    def decode(self, key: str) -> Any:
        if len(self.keys) > 1:
            return tuple(json.loads(key))
        return int(key) if self.keys == ("id",) else key

    def key_column(self) -> Any:
        columns = [self.table.c[k] for k in self.keys]
        return columns[0] if len(columns) == 1 else tuple_(*columns)

    def is_key(self, key: Any) -> Any:
        values = key if isinstance(key, tuple) else (key,)
        return and_(*(self.table.c[k] == v for k, v in zip(self.keys, values, strict=True)))

    def save(self, values: Sequence[Any]) -> str | None:
        """The journal's text of a row's :attr:`state` (None without one)."""
        if not self.state:
            return None
        found = dict(zip(self.state, values, strict=True))
        return json.dumps(found, sort_keys=True, default=datetime.isoformat)

    def load(self, text: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(text)
        return {
            name: datetime.fromisoformat(value)
            if isinstance(self.table.c[name].type, DateTime) and value is not None
            else value
            for name, value in found.items()
        }


#: Every column that points at a party and moves with it, in the order they move.
MOVES: tuple[Move, ...] = (
    Move(contacts, "organisation_id", CRM, keep=_no_self_link("person_id")),
    Move(contacts, "person_id", CRM, keep=_no_self_link("organisation_id")),
    Move(party_tags, "party_id", CRM, ("tag",), _new_tag),
    Move(party_external_ids, "party_id", CRM, ("system", "external_id")),
    Move(interactions, "party_id", CRM),
    Move(deals, "party_id", CRM),
    Move(quotes, "party_id", CRM),
    Move(sales_orders, "party_id", CRM),
    Move(contracts, "party_id", CRM),
    Move(satisfaction_responses, "party_id", CRM),
    Move(billing_documents, "party_id", FINANCE),
    Move(payments, "party_id", FINANCE),
    Move(dunning_notices, "party_id", FINANCE),
    Move(recurring_bills, "party_id", FINANCE),
    Move(
        sync_links,
        "local_id",
        CRM,
        ("connector_id", "object_type", "external_id"),
        state=("remote_version", "local_version", "base", "synced_at"),
    ),
)
_BY_NAME = {m.name: m for m in MOVES}
#: The moved columns that point at a party without a foreign key.
UNKEYED = frozenset({"sync_links.local_id"})
#: Columns pointing at a party that stay: its search terms and field lineage describe
#: the absorbed party's own values, the merge journal names both parties.
STAYING = frozenset(
    {
        "party_search.party_id",
        "fusion_lineage.party_id",
        "party_merges.survivor_id",
        "party_merges.absorbed_id",
    }
)


def party_keys(party_id: int) -> Select[Any]:
    """The ``party`` values the postings of ``party_id`` carry: its id and the ids of the
    parties merged into it (through active merges, however deep), as text."""
    m = party_merges.c
    start = select(cast(literal(party_id), Integer).label("id")).cte("merged", recursive=True)
    tree = start.union(
        select(m.absorbed_id).where(m.survivor_id == start.c.id, m.status == "active")
    )
    return select(cast(tree.c.id, String(20)))


def not_absorbed(party_id: Any) -> Any:
    """True for parties no active merge absorbed (lists and searches show only those)."""
    m = party_merges.c
    return ~exists().where(m.absorbed_id == party_id, m.status == "active")


def _chunks(items: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])


def _merge(row: Row[Any]) -> MergeRow:
    merged_at = aware(row.merged_at)
    assert merged_at is not None
    return MergeRow(
        id=row.id,
        survivor_id=row.survivor_id,
        absorbed_id=row.absorbed_id,
        status=row.status,
        moved=json.loads(row.moved),
        run_id=row.run_id,
        merged_by=row.merged_by,
        merged_at=merged_at,
        undone_by=row.undone_by,
        undone_at=aware(row.undone_at),
    )


class SqlPartyMergeStore:
    """Party merges in the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- what would move, what moved ---------------------------------------------------

    def pending(self, survivor_id: int, absorbed_id: int) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        for move in MOVES:
            stmt = select(func.count()).select_from(move.table)
            found[move.family] += int(
                self._conn.execute(stmt.where(*move.where(absorbed_id, survivor_id))).scalar_one()
            )
        return dict(found)

    def journaled(self, merge_id: int) -> dict[str, int]:
        j = party_merge_rows.c
        stmt = (
            select(j.table_name, j.column_name, func.count())
            .where(j.merge_id == merge_id)
            .group_by(j.table_name, j.column_name)
        )
        found: dict[str, int] = defaultdict(int)
        for table, column, count in self._conn.execute(stmt):
            found[_BY_NAME[f"{table}.{column}"].family] += int(count)
        return dict(found)

    # -- merging and undoing -----------------------------------------------------------

    def add(
        self, survivor_id: int, absorbed_id: int, by: str, at: datetime, run_id: int | None
    ) -> int:
        values = {
            "survivor_id": survivor_id,
            "absorbed_id": absorbed_id,
            "status": "active",
            "moved": "{}",
            "run_id": run_id,
            "merged_by": by,
            "merged_at": at,
        }
        key = self._conn.execute(insert(party_merges).values(values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def move(self, merge_id: int, survivor_id: int, absorbed_id: int) -> dict[str, int]:
        moved: dict[str, int] = {}
        for move in MOVES:
            columns = [move.table.c[c] for c in (*move.keys, *move.state)]
            stmt = select(*columns).where(*move.where(absorbed_id, survivor_id))
            rows = [tuple(r) for r in self._conn.execute(stmt)]
            if not rows:
                continue
            if move.table is sync_links:
                self._fold_links(merge_id, absorbed_id, survivor_id)
            keys = [r[: len(move.keys)] for r in rows]
            self._conn.execute(
                insert(party_merge_rows),
                [
                    {
                        "merge_id": merge_id,
                        "table_name": move.table.name,
                        "column_name": move.column,
                        "row_key": move.encode(r[: len(move.keys)]),
                        "state": move.save(r[len(move.keys) :]),
                    }
                    for r in rows
                ],
            )
            wanted = [k[0] if len(k) == 1 else k for k in keys]
            self._shift(move, wanted, absorbed_id, survivor_id)
            moved[move.name] = len(keys)
        self._conn.execute(
            update(party_merges)
            .where(party_merges.c.id == merge_id)
            .values(moved=json.dumps(moved, sort_keys=True))
        )
        return moved

    def _shift(self, move: Move, keys: Sequence[Any], owner: int, target: int) -> int:
        done = 0
        column = move.table.c[move.column]
        for chunk in _chunks(keys):
            done += self._conn.execute(
                update(move.table)
                .where(column == owner, move.key_column().in_(chunk))
                .values({move.column: target})
            ).rowcount
        return done

    def restore(self, merge_id: int) -> dict[str, int]:
        merge = self.get(merge_id)
        assert merge is not None
        j = party_merge_rows.c
        by_move: dict[str, list[Any]] = defaultdict(list)
        states: dict[str, list[tuple[Any, str]]] = defaultdict(list)
        stmt = select(j.table_name, j.column_name, j.row_key, j.state).where(j.merge_id == merge_id)
        for table, column, key, state in self._conn.execute(stmt):
            move = _BY_NAME[f"{table}.{column}"]
            by_move[move.name].append(move.decode(key))
            if state is not None:
                states[move.name].append((move.decode(key), state))
        restored: dict[str, int] = {}
        for move in reversed(MOVES):
            keys = by_move.get(move.name)
            if keys:
                back = self._back(move, keys, merge.survivor_id, merge.absorbed_id)
                restored[move.name] = self._shift(move, back, merge.survivor_id, merge.absorbed_id)
                self._put_back(move, states[move.name], merge.absorbed_id)
        self._unfold_links(merge_id, merge.absorbed_id)
        return restored

    def _put_back(self, move: Move, states: Sequence[tuple[Any, str]], owner: int) -> None:
        """Write the journaled state back into the rows that went back to ``owner``."""
        for key, state in states:
            self._conn.execute(
                update(move.table)
                .where(move.table.c[move.column] == owner, move.is_key(key))
                .values(move.load(state))
            )

    def _fold_links(self, merge_id: int, absorbed: int, survivor: int) -> None:
        """Mark the absorbed party's account links whose connector and object type the
        survivor has an account link for as folded by ``merge_id`` (before they move)."""
        own = sync_links.alias()
        self._conn.execute(
            update(sync_links)
            .where(
                sync_links.c.local_id == absorbed,
                sync_links.c.merge_id.is_(None),
                exists().where(
                    own.c.connector_id == sync_links.c.connector_id,
                    own.c.object_type == sync_links.c.object_type,
                    own.c.local_id == survivor,
                    own.c.merge_id.is_(None),
                ),
            )
            .values(merge_id=merge_id)
        )

    def _unfold_links(self, merge_id: int, absorbed: int) -> None:
        """The links ``merge_id`` folded and the undo moved back are account links again
        (unless the absorbed party has gained one for that object type since)."""
        own = sync_links.alias()
        self._conn.execute(
            update(sync_links)
            .where(
                sync_links.c.merge_id == merge_id,
                sync_links.c.local_id == absorbed,
                ~exists().where(
                    own.c.connector_id == sync_links.c.connector_id,
                    own.c.object_type == sync_links.c.object_type,
                    own.c.local_id == absorbed,
                    own.c.merge_id.is_(None),
                ),
            )
            .values(merge_id=None)
        )

    def _back(self, move: Move, keys: Sequence[Any], survivor: int, absorbed: int) -> list[Any]:
        """The journaled rows that may go back (not colliding with what the absorbed
        party holds now)."""
        if move.keep is None:
            return list(keys)
        found: list[Any] = []
        for chunk in _chunks(keys):
            stmt = select(*(move.table.c[k] for k in move.keys)).where(
                *move.where(survivor, absorbed), move.key_column().in_(chunk)
            )
            found += [r[0] if len(r) == 1 else tuple(r) for r in self._conn.execute(stmt)]
        return found

    def undone(self, merge_id: int, by: str, at: datetime) -> None:
        self._conn.execute(
            update(party_merges)
            .where(party_merges.c.id == merge_id)
            .values(status="undone", undone_by=by, undone_at=at)
        )

    def crossings(self, merge_id: int) -> list[str]:
        j = party_merge_rows.c

        def moved(table: str) -> Any:
            return select(cast(j.row_key, Integer)).where(
                j.merge_id == merge_id, j.table_name == table, j.column_name == "party_id"
            )

        docs, pays, a = moved("billing_documents"), moved("payments"), allocations.c
        debit = or_(
            and_(a.invoice_id.is_not(None), a.invoice_id.in_(docs)),
            and_(a.refund_id.is_not(None), a.refund_id.in_(pays)),
        )
        credit = or_(
            and_(a.payment_id.is_not(None), a.payment_id.in_(pays)),
            and_(a.credit_note_id.is_not(None), a.credit_note_id.in_(docs)),
        )
        split = or_(and_(debit, ~credit), and_(~debit, credit))
        found = [f"allocation {i}" for i in self._conn.execute(select(a.id).where(split)).scalars()]
        d = billing_documents.c
        refers = and_(d.refers_to.is_not(None), d.refers_to.in_(docs))
        apart = or_(and_(d.id.in_(docs), ~refers), and_(~d.id.in_(docs), refers))
        stmt = select(d.id, d.refers_to).where(d.refers_to.is_not(None), apart)
        found += [f"document {i} refers to document {r}" for i, r in self._conn.execute(stmt)]
        return found

    # -- reads -------------------------------------------------------------------------

    def get(self, merge_id: int) -> MergeRow | None:
        row = self._conn.execute(select(party_merges).where(party_merges.c.id == merge_id)).first()
        return _merge(row) if row is not None else None

    def page(
        self, party_id: int | None, status: str | None, after_id: int, limit: int
    ) -> list[MergeRow]:
        m = party_merges.c
        stmt = select(party_merges)
        if party_id is not None:
            stmt = stmt.where(or_(m.survivor_id == party_id, m.absorbed_id == party_id))
        if status is not None:
            stmt = stmt.where(m.status == status)
        if after_id:
            stmt = stmt.where(m.id < after_id)
        return [_merge(r) for r in self._conn.execute(stmt.order_by(m.id.desc()).limit(limit))]

    def absorbing(self, party_ids: list[int]) -> dict[int, MergeRow]:
        m = party_merges.c
        found: dict[int, MergeRow] = {}
        for chunk in _chunks(sorted(set(party_ids))):
            stmt = select(party_merges).where(m.absorbed_id.in_(chunk), m.status == "active")
            found |= {r.absorbed_id: _merge(r) for r in self._conn.execute(stmt)}
        return found

    def absorbed(self, party_id: int) -> list[int]:
        m = party_merges.c
        found: list[int] = []
        frontier = [party_id]
        while frontier:
            stmt = select(m.absorbed_id).where(m.survivor_id.in_(frontier), m.status == "active")
            frontier = [int(i) for i in self._conn.execute(stmt).scalars() if i not in found]
            found += frontier
        return sorted(found)

    def touch(self, party_id: int, at: datetime) -> int:
        p = parties.c
        self._conn.execute(
            update(parties).where(p.id == party_id).values(version=p.version + 1, updated_at=at)
        )
        return int(self._conn.execute(select(p.version).where(p.id == party_id)).scalar_one())
