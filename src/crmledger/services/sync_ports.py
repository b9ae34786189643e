"""What the sync engine needs: connectors to outside systems, and its tables.

A connector reads pages of changes after a cursor and writes changes back, one result per
record; the engine keeps, per connector and object type, the external-id map (one
external customer is one party), the cursor, and a log of every record's outcome::

    page = connector.fetch("customer", cursor="", limit=500)
    page.changes[0]  ->  RemoteChange("C-1001", "2026-06-01T10:00:00", {"name": "Acme", ...})
    connector.push("customer", [OutboundChange("C-1001", {"email": "ap@acme.example"})])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RemoteChange:
    """A record as the outside system has it now: its id there, its version there (a
    timestamp or a counter, compared as text of equal form), and its field values (by the
    engine's field names, after the connector's mapping). ``made_from`` is the id of the
    book's own party the record was made from, when a push of this book made it there (so
    a pull that comes before that push's answer links the two instead of copying it)."""

    external_id: str
    version: str
    values: Mapping[str, str]
    made_from: str = ""


@dataclass(frozen=True, slots=True)
class Page:
    """Changes after a cursor, and the cursor after them; ``more`` when another page may
    follow at once."""

    changes: tuple[RemoteChange, ...]
    cursor: str
    more: bool = False


@dataclass(frozen=True, slots=True)
class OutboundChange:
    """Field values to write to the outside record ``external_id``; ``new`` creates it.
    ``version`` is the record's version there when both sides were last in step (a
    connector that can tell may refuse the change when the record moved since)."""

    external_id: str
    values: Mapping[str, str]
    new: bool = False
    version: str = ""


@dataclass(frozen=True, slots=True)
class PushResult:
    """What the outside system made of one outbound change."""

    external_id: str
    ok: bool
    version: str = ""
    error: str = ""


class Connector(Protocol):
    """An outside system, for one or more object types (``customer``, ``invoice``)."""

    def fetch(self, object_type: str, cursor: str, limit: int) -> Page:
        """Records changed after ``cursor`` (``""``: from the start), at most ``limit``."""

    def push(self, object_type: str, changes: Sequence[OutboundChange]) -> list[PushResult]:
        """Write ``changes``; one result per change, in order."""

    def snapshot(self, object_type: str) -> Iterator[RemoteChange]:
        """Every record the system has now (for reconciliation), streamed."""

    def close(self) -> None:
        """Release connections (the connector is not used again)."""


@dataclass(frozen=True, slots=True)
class ConnectorRow:
    """A configured connector; ``config`` is JSON without secrets, ``secrets_enc`` the
    encrypted JSON of its secrets (a password, a token, the inbound signing secret)."""

    id: int
    name: str
    kind: str
    config: str
    secrets_enc: str
    inbound_scheme: str | None
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One outside record mapped to one local record, with the state of the last sync:
    the versions on both sides and keyed hashes of the values both sides agreed on."""

    connector_id: int
    object_type: str
    external_id: str
    local_id: int
    remote_version: str
    local_version: int
    base: Mapping[str, str]
    synced_at: datetime


@dataclass(frozen=True, slots=True)
class RunRow:
    """A sync run: what it did, by outcome, and the cursors it went between."""

    id: int
    connector_id: int
    object_type: str
    mode: str
    status: str
    counts: Mapping[str, int]
    cursor_from: str
    cursor_to: str
    message: str
    actor: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class LogRow:
    """The outcome of one record in a run and why; ``fields`` names the fields it
    changed or held (never their values)."""

    run_id: int
    external_id: str
    local_id: int | None
    outcome: str
    reason: str = ""
    fields: tuple[str, ...] = field(default_factory=tuple)
    id: int = 0


@dataclass(frozen=True, slots=True)
class ConflictRow:
    """A field both sides changed, held for a person to decide; the outside value is
    encrypted."""

    id: int
    connector_id: int
    object_type: str
    external_id: str
    local_id: int
    field: str
    remote_enc: str
    remote_version: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


@dataclass(frozen=True, slots=True)
class InvoiceTotal:
    """An issued invoice as reconciliation compares it."""

    id: int
    number: str
    party_id: int
    currency: str
    gross_minor: int
    status: str
    issued_on: date | None


class SyncStore(Protocol):
    """Connectors, cursors, the external-id map, runs, logs, conflicts, the push queue."""

    def add_connector(self, row: ConnectorRow) -> int: ...
    def set_connector_secrets(self, connector_id: int, secrets_enc: str) -> None: ...
    def connector(self, connector_id: int) -> ConnectorRow | None: ...
    def connector_named(self, name: str) -> ConnectorRow | None: ...
    def connectors(self) -> list[ConnectorRow]: ...
    def update_connector(self, row: ConnectorRow, expected_version: int) -> bool: ...

    def cursor(self, connector_id: int, object_type: str) -> str:
        """The stored cursor (``""`` before the first run)."""

    def lock_cursor(self, connector_id: int, object_type: str) -> str:
        """The stored cursor, its row locked until the transaction ends (runs of one
        connector queue here)."""

    def set_cursor(self, connector_id: int, object_type: str, cursor: str, at: datetime) -> None:
        """Store the cursor."""

    def links(
        self, connector_id: int, object_type: str, external_ids: Sequence[str]
    ) -> dict[str, LinkRow]: ...
    def links_of_local(
        self, connector_id: int, object_type: str, local_ids: Sequence[int]
    ) -> dict[int, LinkRow]: ...
    def link_ids(self, connector_id: int, object_type: str) -> list[tuple[str, int]]:
        """Every link's outside and local id (merged links too), by outside id, without the
        sync state (what reconciliation reads for a whole book)."""

    def account_ids(self, connector_id: int, object_type: str) -> dict[int, str]:
        """Each local record's outside id by its account link (merged links left out), in
        one read: what reconciling a million invoices looks their customers up in."""

    def save_link(self, row: LinkRow) -> None:
        """Insert or replace the link of ``(connector, object type, external id)``."""

    def add_run(self, row: RunRow) -> int: ...
    def finish_run(self, row: RunRow) -> None: ...
    def run(self, run_id: int) -> RunRow | None: ...
    def runs(self, connector_id: int | None, before: int | None, limit: int) -> list[RunRow]: ...
    def last_started(self, connector_id: int, mode: str) -> datetime | None:
        """When the connector's latest run of ``mode`` started."""

    def add_log(self, rows: Sequence[LogRow]) -> None: ...
    def log(self, run_id: int, after: int | None, limit: int) -> list[LogRow]: ...

    def open_conflict(self, row: ConflictRow) -> int:
        """Hold a conflict (replacing the open one of the same record and field)."""

    def set_conflict_value(self, conflict_id: int, remote_enc: str) -> None:
        """Store the encrypted outside value a conflict holds."""

    def conflicts(
        self, connector_id: int | None, status: str | None, after: int | None, limit: int
    ) -> list[ConflictRow]: ...
    def conflict(self, conflict_id: int) -> ConflictRow | None: ...
    def open_fields(self, connector_id: int, object_type: str, external_id: str) -> set[str]:
        """The fields of a record held for review."""

    def close_conflict(self, conflict_id: int, status: str, by: str, at: datetime) -> bool: ...

    def queue_push(
        self, connector_id: int, object_type: str, local_ids: Sequence[int], at: datetime
    ) -> None: ...
    def queued(self, connector_id: int, object_type: str, limit: int) -> list[int]: ...
    def unqueue(self, connector_id: int, object_type: str, local_ids: Sequence[int]) -> None: ...
    def invoices(self, after: int, limit: int) -> list[InvoiceTotal]:
        """Issued invoices (not drafts) by id, after the id ``after``."""
