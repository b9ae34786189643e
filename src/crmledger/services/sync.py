"""The sync engine: connectors, runs that pull and push, the log, conflicts, reconciliation.

::

    sync = SyncService(uow, clock, cipher, CONNECTORS).acting_as(actor)
    sync.add("shop", "folder", {"path": "/srv/drop", "objects": {...}})
    report = sync.run("shop", "customer", dry_run=True)     # the diff, nothing written
    sync.run("shop", "customer")                             # page by page
    sync.reconcile("shop", "customer").agree

A run fetches a page after the stored cursor, applies it and moves the cursor in one
transaction with the page's log, so a run killed anywhere and started again neither
repeats nor loses a change (a page applied twice finds its records linked and changes
nothing). Runs of one connector queue on its cursor row. Pushing sends crmledger's changes
out (the records changed since they were last in step, or queued by their events) and
records the result per record; the outside id of a new record is derived from the party,
so a push repeated after a crash updates the record it created.
"""

from __future__ import annotations

import builtins
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from crmledger.core.errors import InvalidFieldError
from crmledger.core.integration.events import OutboxEvent
from crmledger.core.integration.reconcile import Reconciliation
from crmledger.core.integration.signatures import new_secret
from crmledger.services.errors import ConflictError, NotFoundError, VersionConflictError
from crmledger.services.integration_ports import (
    IntegrationUnitOfWork,
    IntegrationUnitOfWorkFactory,
)
from crmledger.services.ports import Clock, FieldCipher, FieldContext
from crmledger.services.sync_apply import CUSTOMER, Applier, RecordResult, conflict_context
from crmledger.services.sync_config import LEDGER, ConnectorSpec, check_name, compile_config
from crmledger.services.sync_export import (
    ExportedCustomer,
    ExportedInvoice,
    customer_chunks,
    invoice_chunks,
)
from crmledger.services.sync_ports import (
    ConflictRow,
    Connector,
    ConnectorRow,
    LogRow,
    RunRow,
)
from crmledger.services.sync_push import Pusher
from crmledger.services.sync_reconcile import reconcile_with
from crmledger.services.sync_records import changes_of, party_record
from crmledger.services.sync_schedule import Limits, is_due
from crmledger.services.trail import OPERATOR, Actor, record

#: Builds the adapter of a connector kind from its compiled configuration.
ConnectorFactory = Callable[[ConnectorSpec], Connector]
#: Writes the whole ledger in a format to a path at once; returns the bytes written.
LedgerExporter = Callable[[str, str], int]
#: Results a run report keeps (the log keeps every record).
REPORT_RESULTS = 1000
_COUNT_NAMES = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "conflict": "conflicts",
    "error": "errors",
}
INBOUND_SCHEMES = ("standard", "stripe")


@dataclass(frozen=True, slots=True)
class ConnectorView:
    """A connector as users see it: its configuration, never its secrets' values."""

    id: int
    name: str
    kind: str
    config: Mapping[str, Any]
    secrets: tuple[str, ...]
    inbound_scheme: str | None
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run did: counts by outcome and (up to 1,000) per-record results."""

    run_id: int
    connector: str
    object_type: str
    mode: str
    status: str
    counts: Mapping[str, int]
    cursor_from: str
    cursor_to: str
    results: tuple[RecordResult, ...] = ()
    message: str = ""


@dataclass(frozen=True, slots=True)
class ConflictView:
    """A field held for review, with both values to choose from."""

    id: int
    connector: str
    object_type: str
    external_id: str
    local_id: int
    field: str
    local_value: str
    remote_value: str
    remote_version: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


def secrets_context(connector_id: int) -> FieldContext:
    """Where a connector's secrets are encrypted."""
    return FieldContext("sync_connectors", "secrets", str(connector_id))


def counted(results: Sequence[RecordResult]) -> Counter[str]:
    """Results counted by the run columns (``conflict`` -> ``conflicts`` ...)."""
    return Counter(_COUNT_NAMES[r.outcome] for r in results)


class SyncService:
    """Connectors and their runs (see the module)."""

    def __init__(
        self,
        uow: IntegrationUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        connectors: Mapping[str, ConnectorFactory],
        actor: Actor = OPERATOR,
        limits: Limits | None = None,
        exporter: LedgerExporter | None = None,
    ) -> None:
        self._uow, self._clock, self._cipher = uow, clock, cipher
        self._connectors, self._actor = connectors, actor
        self._limits = limits or Limits()
        self._exporter = exporter

    def acting_as(self, actor: Actor) -> SyncService:
        """The same service for another actor (sharing the connectors' rate limits)."""
        return SyncService(
            self._uow,
            self._clock,
            self._cipher,
            self._connectors,
            actor,
            self._limits,
            self._exporter,
        )

    # -- connectors --------------------------------------------------------------------

    def _view(self, row: ConnectorRow) -> ConnectorView:
        return ConnectorView(
            id=row.id,
            name=row.name,
            kind=row.kind,
            config=json.loads(row.config),
            secrets=tuple(sorted(self._secrets(row))),
            inbound_scheme=row.inbound_scheme,
            status=row.status,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _secrets(self, row: ConnectorRow) -> dict[str, str]:
        if not row.secrets_enc:
            return {}
        found = json.loads(self._cipher.decrypt(row.secrets_enc, secrets_context(row.id)))
        return {str(k): str(v) for k, v in found.items()}

    def _compile(self, row: ConnectorRow, with_secrets: bool = False) -> ConnectorSpec:
        spec = compile_config(row.name, row.kind, json.loads(row.config))
        return replace(spec, secrets=self._secrets(row)) if with_secrets else spec

    def _check(self, spec: ConnectorSpec) -> None:
        if spec.kind == "export":
            if self._exporter is None:
                raise InvalidFieldError("kind", "this book writes no ledger exports")
            if not Path(spec.options["path"]).parent.is_dir():
                raise InvalidFieldError("path", f"no folder {Path(spec.options['path']).parent}")
            return
        factory = self._connectors.get(spec.kind)
        if factory is None:
            raise InvalidFieldError("kind", f"this book has no {spec.kind} connector")
        factory(spec).close()  # refuses a configuration the adapter cannot use

    def add(
        self,
        name: str,
        kind: str,
        config: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
        inbound_scheme: str | None = None,
    ) -> tuple[ConnectorView, str | None]:
        """A new connector; with ``inbound_scheme`` (``standard`` or ``stripe``) it also
        takes signed webhooks, and the returned text is its inbound secret (made up unless
        ``secrets`` holds ``inbound_secret``)."""
        self._actor.require("integrations", "write")
        spec = compile_config(check_name(name), kind, config)
        self._check(replace(spec, secrets=dict(secrets or {})))
        kept = dict(secrets or {})
        inbound = _inbound(inbound_scheme, kept)
        at = self._clock.now()
        row = ConnectorRow(
            0,
            name,
            kind,
            json.dumps(dict(config), sort_keys=True),
            "",
            inbound_scheme,
            "active",
            1,
            at,
            at,
        )
        with self._uow() as uow:
            if uow.sync.connector_named(name) is not None:
                raise ConflictError(f"a connector named {name} exists")
            new_id = uow.sync.add_connector(row)
            sealed = self._cipher.encrypt(json.dumps(kept), secrets_context(new_id)) if kept else ""
            uow.sync.set_connector_secrets(new_id, sealed)
            row = replace(row, id=new_id, secrets_enc=sealed)
            view = {"kind": kind, "config": dict(config), "secrets": sorted(kept)}
            record(uow, self._actor, at, "sync.connector.create", "connector", name, None, view)
            uow.commit()
        return self._view(row), inbound

    def _row(self, uow: IntegrationUnitOfWork, name: str) -> ConnectorRow:
        row = uow.sync.connector_named(name)
        if row is None:
            raise NotFoundError(f"no connector {name}")
        return row

    def get(self, name: str) -> ConnectorView:
        """One connector; :class:`NotFoundError` when there is none."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            return self._view(self._row(uow, name))

    def list(self) -> builtins.list[ConnectorView]:
        """Every connector, by name."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            return [self._view(r) for r in uow.sync.connectors()]

    def update(
        self,
        name: str,
        if_version: int | None,
        *,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        status: str | None = None,
    ) -> ConnectorView:
        """Change a connector's configuration, secrets (merged into the kept ones) or
        status (``active`` or ``paused``)."""
        self._actor.require("integrations", "write")
        if status is not None and status not in ("active", "paused"):
            raise InvalidFieldError("status", "a connector is active or paused")
        at = self._clock.now()
        with self._uow() as uow:
            before = self._row(uow, name)
            if if_version is not None and if_version != before.version:
                raise VersionConflictError(f"connector {name}", if_version, before.version)
            kept = self._secrets(before) | dict(secrets or {})
            text = before.config if config is None else json.dumps(dict(config), sort_keys=True)
            after = replace(
                before,
                config=text,
                secrets_enc=self._cipher.encrypt(json.dumps(kept), secrets_context(before.id))
                if kept
                else "",
                status=status or before.status,
                version=before.version + 1,
                updated_at=at,
            )
            self._check(self._compile(after, with_secrets=True))
            if not uow.sync.update_connector(after, before.version):
                raise VersionConflictError(f"connector {name}", before.version, after.version)
            changes = {"config": json.loads(after.config), "status": after.status}
            record(uow, self._actor, at, "sync.connector.update", "connector", name, None, changes)
            uow.commit()
        return self._view(after)

    def inbound_secret(self, name: str) -> str:
        """The secret inbound webhooks of ``name`` are signed with."""
        self._actor.require("integrations", "write")
        with self._uow(readonly=True) as uow:
            row = self._row(uow, name)
            secret = self._secrets(row).get("inbound_secret")
        if row.inbound_scheme is None or not secret:
            raise InvalidFieldError("inbound_scheme", f"connector {name} takes no webhooks")
        return secret

    def stored_cursor(self, connector_id: int, object_type: str) -> str:
        """The cursor a connector's object type is at now."""
        with self._uow(readonly=True) as uow:
            return uow.sync.cursor(connector_id, object_type)

    def connector_for(self, name: str) -> tuple[ConnectorRow, ConnectorSpec, Connector]:
        """The stored row, the compiled spec (with secrets) and the adapter of ``name``."""
        with self._uow(readonly=True) as uow:
            row = self._row(uow, name)
        spec = self._compile(row, with_secrets=True)
        connector = self._connectors[spec.kind](spec)
        return row, spec, self._limits.held(row.name, spec.rate_per_second, connector)

    # -- runs --------------------------------------------------------------------------

    def _start(self, row: ConnectorRow, object_type: str, mode: str, cursor: str) -> RunRow:
        at = self._clock.now()
        run = RunRow(
            0,
            row.id,
            object_type,
            mode,
            "running",
            {},
            cursor,
            cursor,
            "",
            self._actor.audit_id,
            at,
            None,
        )
        with self._uow() as uow:
            run = replace(run, id=uow.sync.add_run(run))
            uow.commit()
        return run

    def _finish(self, run: RunRow, status: str, message: str = "") -> RunRow:
        done = replace(run, status=status, message=message, finished_at=self._clock.now())
        with self._uow() as uow:
            uow.sync.finish_run(done)
            uow.commit()
        return done

    def run(
        self,
        name: str,
        object_type: str = CUSTOMER,
        *,
        dry_run: bool = False,
        limit: int = 500,
        max_pages: int = 10_000,
    ) -> RunReport:
        """Pull the changes after the stored cursor, page by page (see the module); a dry
        run applies nothing and reports what a run would do."""
        self._actor.require("integrations", "write")
        if not 1 <= limit <= 10_000:
            raise InvalidFieldError("limit", "a page holds 1 to 10,000 records")
        with self._uow(readonly=True) as uow:
            if self._row(uow, name).kind == "export":
                return self._export(name, dry_run)
        row, spec, connector = self.connector_for(name)
        if row.status != "active" and not dry_run:
            raise InvalidFieldError("status", f"connector {name} is paused")
        spec.object(object_type)
        with self._uow(readonly=True) as uow:
            cursor = uow.sync.cursor(row.id, object_type)
        run = self._start(row, object_type, "dry_run" if dry_run else "pull", cursor)
        pages = _Pages(self, row, spec, connector, run, dry_run)
        try:
            pages.go(cursor, limit, max_pages)
        except Exception as exc:
            self._finish(pages.run, "failed", f"{type(exc).__name__}: {exc}"[:4000])
            raise
        finally:
            connector.close()
        run = self._finish(pages.run, "done")
        return _report(name, run, pages.results)

    def _export(self, name: str, dry_run: bool) -> RunReport:
        """Write the ledger to the export connector's file (a dry run only says where)."""
        with self._uow(readonly=True) as uow:
            row = self._row(uow, name)
        spec = self._compile(row)
        path, fmt = spec.options["path"], spec.options["format"]
        if self._exporter is None:
            raise InvalidFieldError("kind", "this book writes no ledger exports")
        if dry_run:
            at = self._clock.now()
            said = f"would write {fmt} to {path}"
            run = RunRow(0, row.id, LEDGER, "dry_run", "done", {}, "", "", said, "", at, at)
            return _report(name, run, ())
        if row.status != "active":
            raise InvalidFieldError("status", f"connector {name} is paused")
        run = self._start(row, LEDGER, "export", "")
        try:
            size = self._exporter(fmt, path)
        except Exception as exc:
            self._finish(run, "failed", f"{type(exc).__name__}: {exc}"[:4000])
            raise
        done = self._finish(run, "done", f"wrote {size:,} bytes of {fmt} to {path}")
        return _report(name, done, ())

    def apply_page(
        self,
        row: ConnectorRow,
        spec: ConnectorSpec,
        run: RunRow,
        changes: tuple[Any, ...],
        cursors: tuple[str, str] | None,
        dry_run: bool,
    ) -> tuple[RunRow, builtins.list[RecordResult]] | None:
        """Apply one page in one transaction: its records, their log, the run's counts
        and (``cursors``: from, to) the cursor; ``None`` when the stored cursor moved
        meanwhile (another run applied the page)."""
        with self._uow() as uow:
            if cursors is not None and uow.sync.lock_cursor(row.id, run.object_type) != cursors[0]:
                return None
            applier = Applier(uow, self._clock, self._cipher, self._actor, spec, row.id)
            results = applier.apply(run.object_type, changes)
            if dry_run:
                return run, results
            counts = Counter(run.counts) + counted(results)
            run = replace(run, counts=dict(counts), cursor_to=cursors[1] if cursors else "")
            uow.sync.add_log([_log(run.id, r) for r in results])
            if cursors is not None:
                uow.sync.set_cursor(row.id, run.object_type, cursors[1], self._clock.now())
            uow.sync.finish_run(run)
            uow.commit()
        return run, results

    def push(self, name: str, object_type: str = CUSTOMER, *, full: bool = True) -> RunReport:
        """Send crmledger's changes out: the queued records, and with ``full`` every
        record changed since it was last in step (and new ones, when the connector
        creates them outside)."""
        self._actor.require("integrations", "write")
        row, spec, connector = self.connector_for(name)
        if not spec.push:
            raise InvalidFieldError("push", f"connector {name} does not push")
        if object_type != CUSTOMER:
            raise InvalidFieldError("object_type", "only customers are pushed")
        spec.object(object_type)
        run = self._start(row, object_type, "push", "")
        pusher = Pusher(self._uow, self._clock, self._cipher, spec, row.id, connector)
        try:
            results = pusher.push(full)
        except Exception as exc:
            self._finish(run, "failed", f"{type(exc).__name__}: {exc}"[:4000])
            raise
        finally:
            connector.close()
        run = replace(run, counts=dict(counted(results)))
        with self._uow() as uow:
            uow.sync.add_log([_log(run.id, r) for r in results])
            uow.commit()
        run = self._finish(run, "done")
        return _report(name, run, results)

    def queue_events(self, events: Sequence[OutboxEvent]) -> int:
        """Queue the parties ``events`` created or changed for every active connector that
        pushes (the bus subscriber of the worker); returns how many were queued."""
        ids = sorted(_parties_of(events))
        if not ids:
            return 0
        at = self._clock.now()
        with self._uow(readonly=True) as uow:
            # A read first: a book pushing nowhere takes no write lock per event batch.
            pushing = [r.id for r in uow.sync.connectors() if self._pushes(r)]
        if not pushing:
            return 0
        queued = 0
        with self._uow() as uow:
            for row in uow.sync.connectors():
                if self._pushes(row):
                    uow.sync.queue_push(row.id, CUSTOMER, ids, at)
                    queued += len(ids)
            uow.commit()
        return queued

    def _pushes(self, row: ConnectorRow) -> bool:
        return row.status == "active" and self._compile(row).push

    def push_queued(self) -> int:
        """Push what events queued, for every connector (the worker's task); returns how
        many records were pushed."""
        with self._uow(readonly=True) as uow:
            waiting = [r.name for r in uow.sync.connectors() if uow.sync.queued(r.id, CUSTOMER, 1)]
        pushed = 0
        for name in waiting:
            report = self.push(name, CUSTOMER, full=False)
            pushed += sum(report.counts.values())
        return pushed

    def run_due(self) -> int:
        """Pull every active connector whose schedule came round since its last pull
        started (the worker's task; see :mod:`.sync_schedule`); returns how many records
        the runs saw."""
        now = self._clock.now()
        due: list[tuple[str, str]] = []
        with self._uow(readonly=True) as uow:
            for row in uow.sync.connectors():
                spec = self._compile(row)
                if row.status != "active" or spec.schedule is None:
                    continue
                mode = "export" if row.kind == "export" else "pull"
                if is_due(spec.schedule, uow.sync.last_started(row.id, mode), now):
                    due += [(row.name, t) for t in spec.objects if t in (CUSTOMER, LEDGER)]
        seen = 0
        for name, object_type in due:
            seen += max(1, sum(self.run(name, object_type).counts.values()))
        return seen

    # -- what runs left ----------------------------------------------------------------

    def runs(
        self, name: str | None = None, before: int | None = None, limit: int = 50
    ) -> builtins.list[RunRow]:
        """Runs, newest first (of one connector when ``name`` is given)."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            connector_id = None if name is None else self._row(uow, name).id
            return uow.sync.runs(connector_id, before, limit)

    def log(self, run_id: int, after: int | None = None, limit: int = 500) -> builtins.list[LogRow]:
        """The per-record outcomes of a run, in order."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            if uow.sync.run(run_id) is None:
                raise NotFoundError(f"no sync run {run_id}")
            return uow.sync.log(run_id, after, limit)

    def status(self, name: str) -> dict[str, Any]:
        """Cursors per object type, the last run, open conflicts and queued pushes."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            row = self._row(uow, name)
            spec = self._compile(row)
            runs = uow.sync.runs(row.id, None, 1)
            return {
                "connector": name,
                "status": row.status,
                "cursors": {t: uow.sync.cursor(row.id, t) for t in spec.objects},
                "last_run": runs[0] if runs else None,
                "open_conflicts": len(uow.sync.conflicts(row.id, "open", None, 10_000)),
                "queued": len(uow.sync.queued(row.id, CUSTOMER, 100_000)),
            }

    # -- conflicts ---------------------------------------------------------------------

    def conflicts(
        self,
        name: str | None = None,
        status: str | None = "open",
        after: int | None = None,
        limit: int = 100,
    ) -> builtins.list[ConflictView]:
        """Conflicts (open ones by default), oldest first, with both values."""
        self._actor.require("integrations", "read")
        with self._uow(readonly=True) as uow:
            names = {r.id: r.name for r in uow.sync.connectors()}
            connector_id = None if name is None else self._row(uow, name).id
            rows = uow.sync.conflicts(connector_id, status, after, limit)
            applier_parties = {r.local_id for r in rows}
        parties = self._parties_of(applier_parties)
        return [self._conflict(r, names[r.connector_id], parties) for r in rows]

    def _parties_of(self, ids: set[int]) -> dict[int, dict[str, str]]:
        from crmledger.services.parties import PartyService  # noqa: PLC0415

        found = PartyService(self._uow, self._clock, self._cipher, self._actor).many(ids)
        return {i: party_record(p) for i, p in found.items()}

    def _conflict(
        self, row: ConflictRow, connector: str, parties: Mapping[int, Mapping[str, str]]
    ) -> ConflictView:
        remote = (
            self._cipher.decrypt(row.remote_enc, conflict_context(row.id)) if row.remote_enc else ""
        )
        return ConflictView(
            id=row.id,
            connector=connector,
            object_type=row.object_type,
            external_id=row.external_id,
            local_id=row.local_id,
            field=row.field,
            local_value=parties.get(row.local_id, {}).get(row.field, ""),
            remote_value=remote,
            remote_version=row.remote_version,
            status=row.status,
            created_at=row.created_at,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
        )

    def resolve(self, conflict_id: int, keep: str) -> ConflictView:
        """Decide a conflict: ``local`` keeps crmledger's value (the next push sends it
        out), ``remote`` takes the outside value into the party."""
        self._actor.require("integrations", "write")
        if keep not in ("local", "remote"):
            raise InvalidFieldError("keep", "keep the local or the remote value")
        at = self._clock.now()
        with self._uow() as uow:
            row = uow.sync.conflict(conflict_id)
            if row is None:
                raise NotFoundError(f"no conflict {conflict_id}")
            if row.status != "open":
                raise ConflictError(f"conflict {conflict_id} is decided already")
            remote = self._cipher.decrypt(row.remote_enc, conflict_context(row.id))
            connector = uow.sync.connector(row.connector_id)
            assert connector is not None
            spec = self._compile(connector)
            applier = Applier(uow, self._clock, self._cipher, self._actor, spec, row.connector_id)
            self._settle(uow, applier, row, remote, keep)
            status = "took_remote" if keep == "remote" else "kept_local"
            uow.sync.close_conflict(row.id, status, self._actor.audit_id, at)
            record(
                uow,
                self._actor,
                at,
                "sync.conflict.resolve",
                "sync_conflict",
                row.id,
                None,
                {"keep": keep, "field": row.field},
            )
            uow.commit()
        return self.conflicts(status=None, after=conflict_id - 1, limit=1)[0]

    def _settle(
        self, uow: IntegrationUnitOfWork, applier: Applier, row: ConflictRow, remote: str, keep: str
    ) -> None:
        party = applier.parties.get(row.local_id)
        if keep == "remote":
            changes = changes_of(party, {row.field: remote})
            if changes:
                party = applier.parties.update(row.local_id, changes, party.version)
        link = uow.sync.links(row.connector_id, row.object_type, [row.external_id]).get(
            row.external_id
        )
        if link is not None:
            base = dict(link.base) | {row.field: applier.digest(row.field, remote)}
            version = party.version if keep == "remote" else link.local_version
            uow.sync.save_link(
                replace(link, base=base, local_version=version, synced_at=self._clock.now())
            )
        if keep == "local":
            uow.sync.queue_push(
                row.connector_id, row.object_type, [row.local_id], self._clock.now()
            )

    # -- reconciliation ----------------------------------------------------------------

    def reconcile(self, name: str, object_type: str = CUSTOMER) -> Reconciliation:
        """Compare both sides of ``object_type`` (see :mod:`.sync_reconcile`) and keep the
        verdict as a run."""
        self._actor.require("integrations", "read")
        row, spec, connector = self.connector_for(name)
        spec.object(object_type)
        run = self._start(row, object_type, "reconcile", "")
        try:
            verdict = reconcile_with(
                self._uow, self._clock, self._cipher, spec, row.id, connector, object_type
            )
        except Exception as exc:
            self._finish(run, "failed", f"{type(exc).__name__}: {exc}"[:4000])
            raise
        finally:
            connector.close()
        summary = {
            "agree": verdict.agree,
            "local": verdict.local_count,
            "remote": verdict.remote_count,
            "missing_local": verdict.missing_local,
            "missing_remote": verdict.missing_remote,
            "differing": verdict.differing,
            "totals": {k: [str(a), str(b)] for k, v in verdict.totals.items() for a, b in [v]},
        }
        self._finish(run, "done", json.dumps(summary, sort_keys=True))
        return verdict

    # -- the book's side of another book's reconciliation -------------------------------

    def export_customers(self, after: int = 0) -> Iterator[builtins.list[ExportedCustomer]]:
        """Every party after the id ``after`` as a customer record, a chunk at a time (see
        :mod:`.sync_export`); needs ``parties:read``, checked before the first chunk."""
        self._actor.require("parties", "read")
        return customer_chunks(self._uow, self._clock, self._cipher, after)

    def export_invoices(self, after: int = 0) -> Iterator[builtins.list[ExportedInvoice]]:
        """Every issued invoice after the id ``after``, a chunk at a time (see
        :mod:`.sync_export`); needs ``billing:read``, checked before the first chunk."""
        self._actor.require("billing", "read")
        return invoice_chunks(self._uow, after)


class _Pages:
    """The page loop of one pull run."""

    def __init__(
        self,
        service: SyncService,
        row: ConnectorRow,
        spec: ConnectorSpec,
        connector: Connector,
        run: RunRow,
        dry_run: bool,
    ) -> None:
        self.service, self.row, self.spec, self.connector = service, row, spec, connector
        self.run, self.dry_run = run, dry_run
        self.results: list[RecordResult] = []

    def go(self, cursor: str, limit: int, max_pages: int) -> None:
        for _ in range(max_pages):
            page = self.connector.fetch(self.run.object_type, cursor, limit)
            if not page.changes and page.cursor == cursor:
                return
            cursors = None if self.dry_run else (cursor, page.cursor)
            done = self.service.apply_page(
                self.row, self.spec, self.run, page.changes, cursors, self.dry_run
            )
            if done is None:  # another run moved the cursor: start from where it is now
                cursor = self.service.stored_cursor(self.row.id, self.run.object_type)
                continue
            self.run, results = done
            if self.dry_run:
                self.run = replace(
                    self.run, counts=dict(Counter(self.run.counts) + counted(results))
                )
            room = REPORT_RESULTS - len(self.results)
            self.results.extend(results[: max(room, 0)])
            cursor = page.cursor
            if not page.more:
                return


def _parties_of(events: Sequence[OutboxEvent]) -> set[int]:
    """The parties events created or changed (an import names its parties in one event)."""
    found: set[int] = set()
    for event in events:
        if event.type in ("party.created", "party.updated"):
            found.add(event.aggregate_id)
        elif event.type == "party.imported":
            found.update(int(i) for i in event.data().get("party_ids", []))
    return found


def _log(run_id: int, result: RecordResult) -> LogRow:
    return LogRow(
        run_id, result.external_id, result.local_id, result.outcome, result.reason, result.fields
    )


def _report(name: str, run: RunRow, results: Sequence[RecordResult]) -> RunReport:
    return RunReport(
        run_id=run.id,
        connector=name,
        object_type=run.object_type,
        mode=run.mode,
        status=run.status,
        counts={k: int(run.counts.get(k, 0)) for k in _COUNT_NAMES.values()},
        cursor_from=run.cursor_from,
        cursor_to=run.cursor_to,
        results=tuple(results[:REPORT_RESULTS]),
        message=run.message,
    )


def _inbound(scheme: str | None, secrets: dict[str, str]) -> str | None:
    if scheme is None:
        return None
    if scheme not in INBOUND_SCHEMES:
        raise InvalidFieldError("inbound_scheme", "inbound webhooks are signed standard or stripe")
    secrets.setdefault("inbound_secret", new_secret())
    return secrets["inbound_secret"]
