"""``PartyStore`` on SQLAlchemy Core: parties and their side tables in one connection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from crmledger.core.crm.parties import Contact
from crmledger.persistence.access_store import aware
from crmledger.persistence.crm_tables import (
    contacts,
    parties,
    party_external_ids,
    party_search,
    party_tags,
)
from crmledger.persistence.fusion_tables import party_merges
from crmledger.persistence.party_merge_store import not_absorbed
from crmledger.services.crm_ports import ContactRow, PartyQuery, PartyRow

_COLUMNS = [c.name for c in parties.columns]
_SORTS = {"id": parties.c.id, "updated": parties.c.updated_at}
#: Values per IN list (SQLite allows 32766 parameters; PostgreSQL 65535).
_CHUNK = 500
#: Parties per statement when many are read at once.
_MANY = 10_000
#: Terms checked per name candidate besides the one whose postings are walked.
_PROBES = 3


def _contact(row: Row[Any]) -> ContactRow:
    created = aware(row.created_at)
    assert created is not None
    return ContactRow(
        row.id, row.organisation_id, row.person_id, row.role, row.is_primary, row.version, created
    )


class SqlPartyStore:
    """Parties in the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- writes ----------------------------------------------------------------------

    def reserve_ids(self, count: int) -> list[int]:
        if count <= 0:
            return []
        if self._conn.dialect.name == "postgresql":
            sequence = "nextval(pg_get_serial_sequence('parties', 'id'))"
            sql = text(f"SELECT {sequence} FROM generate_series(1, :n)")
            return [int(r[0]) for r in self._conn.execute(sql, {"n": count})]
        # SQLite writers hold the database lock (BEGIN IMMEDIATE), so max(id) is stable.
        top = self._conn.execute(select(func.coalesce(func.max(parties.c.id), 0))).scalar_one()
        return list(range(int(top) + 1, int(top) + 1 + count))

    def insert(self, rows: Sequence[PartyRow], terms: Sequence[tuple[int, str]]) -> None:
        if not rows:
            return
        self._conn.execute(insert(parties), [_values(r) for r in rows])
        self._side_tables(rows)
        self._insert_terms(terms)

    def _insert_terms(self, terms: Sequence[tuple[int, str]]) -> None:
        if not terms:
            return
        if self._conn.dialect.name == "sqlite":
            # Straight to the driver: an import writes ~15 terms per party, and building a
            # parameter dict per row through the SQL compiler cost more than the insert.
            sql = "INSERT INTO party_search (party_id, term) VALUES (?, ?)"
            self._conn.exec_driver_sql(sql, list(terms))
            return
        # PostgreSQL: COPY, the bulk path (an executemany costs a statement per row).
        driver = self._conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy("COPY party_search (party_id, term) FROM STDIN") as copy,
        ):
            for row in terms:
                copy.write_row(row)

    def _side_tables(self, rows: Sequence[PartyRow]) -> None:
        tags = [{"party_id": r.id, "tag": t} for r in rows for t in r.tags]
        if tags:
            self._conn.execute(insert(party_tags), tags)
        ext = [
            {"party_id": r.id, "system": s, "external_id": e}
            for r in rows
            for s, e in r.external_ids
        ]
        if ext:
            self._conn.execute(insert(party_external_ids), ext)

    def update(self, row: PartyRow, expected_version: int, terms: Sequence[str]) -> bool:
        values = _values(row)
        del values["id"], values["created_at"]
        done = self._conn.execute(
            update(parties)
            .where(parties.c.id == row.id, parties.c.version == expected_version)
            .values(values)
        )
        if done.rowcount != 1:
            return False
        for table in (party_tags, party_external_ids, party_search):
            self._conn.execute(delete(table).where(table.c.party_id == row.id))
        self._side_tables([row])
        self._insert_terms([(row.id, t) for t in set(terms)])
        return True

    # -- reads -----------------------------------------------------------------------

    def get(self, party_id: int) -> PartyRow | None:
        found = self.many([party_id])
        return found[0] if found else None

    def existing(self, ids: Sequence[int]) -> set[int]:
        wanted = sorted(set(ids))
        found: set[int] = set()
        for start in range(0, len(wanted), 500):
            stmt = select(parties.c.id).where(parties.c.id.in_(wanted[start : start + 500]))
            found.update(int(i) for i in self._conn.execute(stmt).scalars())
        return found

    def merged_into(self, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        m = party_merges.c
        wanted = sorted(set(ids))
        found: dict[int, tuple[int, int]] = {}
        for start in range(0, len(wanted), _CHUNK):
            stmt = select(m.absorbed_id, m.survivor_id, m.id).where(
                m.absorbed_id.in_(wanted[start : start + _CHUNK]), m.status == "active"
            )
            found |= {int(a): (int(s), int(i)) for a, s, i in self._conn.execute(stmt)}
        return found

    def many(self, ids: Sequence[int]) -> list[PartyRow]:
        # In slices: a report may name every customer of the book, and PostgreSQL takes
        # at most 65,535 bound parameters per statement.
        wanted = list(ids)
        found: list[PartyRow] = []
        for start in range(0, len(wanted), _MANY):
            chunk = wanted[start : start + _MANY]
            rows = self._conn.execute(select(parties).where(parties.c.id.in_(chunk))).all()
            found += self._complete(rows)
        return found

    def _complete(self, rows: Sequence[Row[Any]]) -> list[PartyRow]:
        ids = [r.id for r in rows]
        tags: dict[int, list[str]] = defaultdict(list)
        ext: dict[int, list[tuple[str, str]]] = defaultdict(list)
        if ids:
            for pid, tag in self._conn.execute(
                select(party_tags.c.party_id, party_tags.c.tag)
                .where(party_tags.c.party_id.in_(ids))
                .order_by(party_tags.c.tag)
            ):
                tags[pid].append(tag)
            for pid, system, eid in self._conn.execute(
                select(party_external_ids).where(party_external_ids.c.party_id.in_(ids))
            ):
                ext[pid].append((system, eid))
        return [_row(r, tuple(tags[r.id]), tuple(sorted(ext[r.id]))) for r in rows]

    def page(self, query: PartyQuery) -> list[PartyRow]:
        field, descending = query.sort.lstrip("-"), query.sort.startswith("-")
        column = _SORTS[field]
        stmt = select(parties).where(*_filters(query))
        if query.after is not None:
            value, last_id = query.after
            key: Any = int(value) if field == "id" else datetime.fromisoformat(value)
            if descending:
                stmt = stmt.where(or_(column < key, and_(column == key, parties.c.id < last_id)))
            else:
                stmt = stmt.where(or_(column > key, and_(column == key, parties.c.id > last_id)))
        order = [column.desc(), parties.c.id.desc()] if descending else [column, parties.c.id]
        rows = self._conn.execute(stmt.order_by(*order).limit(query.limit)).all()
        return self._complete(rows)

    def count(self) -> int:
        stmt = select(func.count()).select_from(parties).where(not_absorbed(parties.c.id))
        return int(self._conn.execute(stmt).scalar_one())

    def matching_all(self, terms: Sequence[str], limit: int) -> list[int]:
        # Walk one term's postings newest first and probe the primary key for the others,
        # stopping at ``limit``: a GROUP BY over every posting of common trigrams cost
        # 40-190 ms on PostgreSQL at 100,000 parties, this 2-25 ms.
        wanted = list(dict.fromkeys(terms))
        if not wanted:
            return []
        driver = party_search
        probes = []
        # A few probes narrow enough (the caller checks every candidate's real name); more
        # made PostgreSQL plan hash semi-joins over whole posting lists.
        for term in wanted[1 : _PROBES + 1]:
            other = party_search.alias()
            probes.append(
                exists().where(other.c.term == term, other.c.party_id == driver.c.party_id)
            )
        stmt = (
            select(driver.c.party_id)
            .where(driver.c.term == wanted[0], *probes, not_absorbed(driver.c.party_id))
            .order_by(driver.c.party_id.desc())
            .limit(limit)
        )
        return [int(r[0]) for r in self._conn.execute(stmt)]

    def matching_any(self, terms: Sequence[str], limit: int) -> list[int]:
        if not terms:
            return []
        stmt = (
            select(party_search.c.party_id)
            .where(party_search.c.term.in_(list(terms)), not_absorbed(party_search.c.party_id))
            .distinct()
            .limit(limit)
        )
        return [int(r[0]) for r in self._conn.execute(stmt)]

    def external_owners(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        t = party_external_ids
        by_system: dict[str, list[str]] = defaultdict(list)
        for system, ext in dict.fromkeys(pairs):
            by_system[system].append(ext)
        found: dict[tuple[str, str], int] = {}
        for system, ids in by_system.items():
            for start in range(0, len(ids), _CHUNK):
                stmt = select(t).where(
                    t.c.system == system, t.c.external_id.in_(ids[start : start + _CHUNK])
                )
                found |= {(r.system, r.external_id): r.party_id for r in self._conn.execute(stmt)}
        return found

    def external_holders(self, external_id: str) -> list[int]:
        t = party_external_ids.c
        stmt = select(t.party_id).where(t.external_id == external_id).distinct()
        return sorted(int(i) for i in self._conn.execute(stmt).scalars())

    # -- contacts --------------------------------------------------------------------

    def add_contact(
        self, organisation_id: int, person_id: int, role: str, primary: bool, at: datetime
    ) -> int:
        result = self._conn.execute(
            insert(contacts)
            .values(
                organisation_id=organisation_id,
                person_id=person_id,
                role=role,
                is_primary=primary,
                created_at=at,
            )
            .returning(contacts.c.id)
        )
        return int(result.scalar_one())

    def add_contacts(self, links: Sequence[Contact], at: datetime) -> list[int]:
        if not links:
            return []
        stmt = insert(contacts).returning(contacts.c.id, sort_by_parameter_order=True)
        values = [
            {
                "organisation_id": link.organisation_id,
                "person_id": link.person_id,
                "role": link.role,
                "is_primary": link.primary,
                "created_at": at,
            }
            for link in links
        ]
        return [int(r[0]) for r in self._conn.execute(stmt, values)]

    def contact(self, contact_id: int) -> ContactRow | None:
        row = self._conn.execute(select(contacts).where(contacts.c.id == contact_id)).first()
        return _contact(row) if row is not None else None

    def contacts(
        self, organisation_id: int | None = None, person_id: int | None = None
    ) -> list[ContactRow]:
        stmt = select(contacts).order_by(contacts.c.is_primary.desc(), contacts.c.id)
        if organisation_id is not None:
            stmt = stmt.where(contacts.c.organisation_id == organisation_id)
        if person_id is not None:
            stmt = stmt.where(contacts.c.person_id == person_id)
        return [_contact(r) for r in self._conn.execute(stmt)]

    def contacts_of_people(self, person_ids: Sequence[int]) -> list[ContactRow]:
        wanted = list(person_ids)
        found: list[ContactRow] = []
        for start in range(0, len(wanted), _CHUNK):
            stmt = select(contacts).where(contacts.c.person_id.in_(wanted[start : start + _CHUNK]))
            found += [_contact(r) for r in self._conn.execute(stmt)]
        return sorted(found, key=lambda c: (not c.primary, c.id))

    def contact_page(self, after_id: int, limit: int) -> list[ContactRow]:
        stmt = select(contacts).where(contacts.c.id > after_id).order_by(contacts.c.id).limit(limit)
        return [_contact(r) for r in self._conn.execute(stmt)]

    def update_contact(
        self, contact_id: int, expected_version: int, role: str, primary: bool
    ) -> bool:
        done = self._conn.execute(
            update(contacts)
            .where(contacts.c.id == contact_id, contacts.c.version == expected_version)
            .values(role=role, is_primary=primary, version=contacts.c.version + 1)
        )
        return done.rowcount == 1

    def delete_contact(self, contact_id: int) -> bool:
        return self._conn.execute(delete(contacts).where(contacts.c.id == contact_id)).rowcount == 1


def _filters(query: PartyQuery) -> list[Any]:
    where: list[Any] = []
    for name in ("kind", "lifecycle", "owner_id", "segment", "source"):
        value = getattr(query, name)
        if value is not None:
            where.append(parties.c[name] == value)
    if query.tag is not None:
        tagged = select(party_tags.c.party_id).where(party_tags.c.tag == query.tag)
        where.append(parties.c.id.in_(tagged))
    if query.updated_since is not None:
        since = query.updated_since  # stored in UTC (SQLite keeps no offset)
        since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
        where.append(parties.c.updated_at >= since)
    if query.external is not None:
        e = party_external_ids.c
        system, external_id = query.external
        held = select(e.party_id).where(e.system == system, e.external_id == external_id)
        where.append(parties.c.id.in_(held))
    if query.ids is not None:
        where.append(parties.c.id.in_(list(query.ids)))
    else:
        where.append(not_absorbed(parties.c.id))
    return where


def _values(row: PartyRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _COLUMNS}


def _row(row: Row[Any], tags: tuple[str, ...], ext: tuple[tuple[str, str], ...]) -> PartyRow:
    values = row._asdict()  # the table's columns (select(parties))
    values["created_at"] = aware(values["created_at"])
    values["updated_at"] = aware(values["updated_at"])
    return PartyRow(**values, tags=tags, external_ids=ext)
