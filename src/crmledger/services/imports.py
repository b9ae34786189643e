"""Importing a parsed file into the ledger: atomic, idempotent, resumable in batches.

A file is identified by the SHA-256 of its bytes (its fingerprint); importing it again is a
no-op. Entries are read as a stream and posted in chunks, so a file of millions of entries
never sits in memory whole.

- Without ``batch_size`` the whole file is one transaction. After the first refused entry
  the rest is only validated, so every problem of the file is reported, then everything is
  rolled back: bad input writes nothing.
- With ``batch_size`` a first pass validates the whole file (and is rolled back); then every
  batch commits on its own, and a run that was interrupted resumes after the entries
  committed so far (whatever batch size it uses). Every problem is still reported before
  anything is written; only what changes in the book between an interruption and the
  resume can refuse a later batch, which then writes nothing and stops the import::

    result = imports.import_parsed(parsed, fingerprint=sha, kind="ledger", batch_size=50_000)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path

from crmledger.core.accounts import Account
from crmledger.core.errors import LedgerError
from crmledger.core.imports import BalanceAssertion, ParsedFile, Problem, SourceEntry
from crmledger.core.money import to_minor
from crmledger.services.errors import EntriesRejectedError, ImportRejectedError
from crmledger.services.ledger import add_iso_commodities
from crmledger.services.ports import Clock, LedgerStore, UnitOfWork, UnitOfWorkFactory
from crmledger.services.posting import post_batch, validate_batch
from crmledger.services.reports import balance_before
from crmledger.services.trail import OPERATOR, Actor, record

CHUNK = 20_000
Progress = Callable[[int], None]
Opener = Callable[[str], Account] | None


class InterruptedImportError(LedgerError):
    """A batched import of this file was interrupted; it resumes only with ``--batch``."""

    field = "file"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: ``entries`` of the file are in the book, ``batches`` were
    committed by this run (1 for a whole-file import)."""

    source: str
    fingerprint: str
    entries: int
    batches: int
    already_imported: bool = False
    skipped: tuple[Problem, ...] = ()


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def chunks(entries: Iterable[SourceEntry], size: int) -> Iterator[list[SourceEntry]]:
    """``entries`` in lists of at most ``size``."""
    iterator = iter(entries)
    while chunk := list(islice(iterator, size)):
        yield chunk


class ImportService:
    """Posts the entries of parsed files."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self._clock = clock
        self.actor = actor

    def acting_as(self, actor: Actor) -> ImportService:
        """The same service, for another actor."""
        return ImportService(self._uow, self._clock, actor)

    def _record(self, uow: UnitOfWork, import_id: int, parsed: ParsedFile, count: int) -> None:
        after = {"source": parsed.source, "entries": count}
        record(
            uow, self.actor, self._clock.now(), "journal.import", "import", import_id, None, after
        )

    def import_parsed(
        self,
        parsed: ParsedFile,
        *,
        fingerprint: str,
        kind: str,
        strict: bool = False,
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Import ``parsed``; raise :class:`ImportRejectedError` listing every problem."""
        self.actor.require("journal", "post")
        _raise_if(parsed.problems)
        opener: Opener = None if strict else Account
        with self._uow(readonly=True) as uow:
            found = uow.ledger.find_import(fingerprint)
        if found is not None and found[2]:
            return ImportResult(parsed.source, fingerprint, 0, 0, True, tuple(parsed.skipped))
        if batch_size is None:
            if found is not None:
                raise InterruptedImportError(
                    f"an interrupted batched import of {parsed.source} exists; "
                    "run it again with --batch to resume"
                )
            count = self._import_whole(parsed, fingerprint, kind, opener, progress)
            return ImportResult(parsed.source, fingerprint, count, 1, False, tuple(parsed.skipped))
        if found is None:
            self._validate(parsed, opener)
            with self._uow() as uow:
                _declare(uow.ledger, parsed, opener is None)
                import_id = uow.ledger.start_import(
                    fingerprint, parsed.source, kind, self._clock.now()
                )
                uow.commit()
            done = 0
        else:  # resume after the entries committed so far, whatever the batch size was
            import_id, done = found[0], found[1]
        count, batches = self._import_batches(parsed, import_id, batch_size, done, opener, progress)
        return ImportResult(
            parsed.source, fingerprint, count, batches, False, tuple(parsed.skipped)
        )

    def _import_whole(
        self,
        parsed: ParsedFile,
        fingerprint: str,
        kind: str,
        opener: Opener,
        progress: Progress | None,
    ) -> int:
        with self._uow() as uow:
            store = uow.ledger
            _declare(store, parsed, opener is None)
            import_id = store.start_import(fingerprint, parsed.source, kind, self._clock.now())
            count = self._post_all(
                store, parsed, parsed.iter_entries(), import_id, opener, progress
            )
            _raise_if(parsed.problems)
            _raise_if(_failed_assertions(store, parsed))
            _keep_assertions(store, parsed, import_id)
            store.progress_import(import_id, count, True)
            self._record(uow, import_id, parsed, count)
            uow.commit()
        return count

    def _validate(self, parsed: ParsedFile, opener: Opener) -> None:
        """A pass whose transaction is rolled back: it only validates the entries, unless the
        file asserts balances, which can only be checked with the entries posted."""
        with self._uow() as uow:
            _declare(uow.ledger, parsed, opener is None)
            self._post_all(
                uow.ledger,
                parsed,
                parsed.iter_entries(),
                None,
                opener,
                None,
                validate_only=not parsed.assertions,
            )
            _raise_if(parsed.problems)
            _raise_if(_failed_assertions(uow.ledger, parsed))

    def _import_batches(
        self,
        parsed: ParsedFile,
        import_id: int,
        size: int,
        done: int,
        opener: Opener,
        progress: Progress | None,
    ) -> tuple[int, int]:
        """Commit ``size`` entries at a time after the first ``done``; a refused batch
        writes nothing and stops the import (the batches before it stay)."""
        count, number = done, 0
        remaining = islice(parsed.iter_entries(), done, None)  # committed by an earlier run
        for batch in chunks(remaining, size):
            with self._uow() as uow:
                _declare(uow.ledger, parsed, opener is None)
                self._post_all(uow.ledger, parsed, batch, import_id, opener, None)
                _raise_if(parsed.problems)
                count += len(batch)
                number += 1
                uow.ledger.progress_import(import_id, len(batch), False)
                uow.commit()
            if progress is not None:
                progress(count)
        with self._uow() as uow:
            _raise_if(_failed_assertions(uow.ledger, parsed))
            _keep_assertions(uow.ledger, parsed, import_id)
            uow.ledger.progress_import(import_id, 0, True)
            self._record(uow, import_id, parsed, count)
            uow.commit()
        return count, number

    def _post_all(
        self,
        store: LedgerStore,
        parsed: ParsedFile,
        entries: Iterable[SourceEntry],
        import_id: int | None,
        opener: Opener,
        progress: Progress | None,
        *,
        validate_only: bool = False,
    ) -> int:
        """Post (or only validate) ``entries`` chunk by chunk; after the first refused chunk
        only validate, so that every problem is collected in ``parsed.problems``."""
        count = 0
        for chunk in chunks(entries, CHUNK):
            drafts = [s.entry for s in chunk]
            add_iso_commodities(store, drafts)
            try:
                if validate_only or parsed.problems:
                    validate_batch(store, drafts, opener)
                else:
                    post_batch(
                        store, drafts, self._clock.now(), import_id=import_id, open_account=opener
                    )
            except EntriesRejectedError as rejected:
                parsed.problems.extend(
                    Problem(parsed.source, chunk[r.index].line, r.error.field, str(r.error))
                    for r in rejected.rejections
                )
            count += len(chunk)
            if progress is not None:
                progress(count)
        return count


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ImportRejectedError(sorted(problems, key=lambda p: p.line))


def _declare(store: LedgerStore, parsed: ParsedFile, strict: bool) -> None:
    """Add the commodities and accounts the file declares, and unless ``strict`` the
    commodities it only uses (idempotent)."""
    scales = store.scales()
    inferred = [] if strict else parsed.inferred_commodities
    for commodity in [*parsed.commodities, *inferred]:
        if commodity.code not in scales:
            store.add_commodity(commodity)
            scales[commodity.code] = commodity.scale
    known = store.accounts()
    for account in parsed.accounts:
        if account.name not in known:
            known[account.name] = (store.add_account(account), account)
        elif account.close_date and not known[account.name][1].close_date:
            store.close_account(account.name, account.close_date)


def _failed_assertions(store: LedgerStore, parsed: ParsedFile) -> list[Problem]:
    return [
        problem
        for assertion in parsed.assertions
        if (problem := _check_assertion(store, parsed.source, assertion)) is not None
    ]


def _check_assertion(
    store: LedgerStore, source: str, assertion: BalanceAssertion
) -> Problem | None:
    """Balance of the account and its sub-accounts at the start of the assertion's date."""
    held = balance_before(store, assertion.account, assertion.date)
    total = held.get(assertion.commodity, Decimal(0))
    if total == assertion.amount:
        return None
    return Problem(
        source,
        assertion.line,
        "balance",
        f"{assertion.account} holds {total} {assertion.commodity} on "
        f"{assertion.date.isoformat()}, the file asserts {assertion.amount}",
    )


def _keep_assertions(store: LedgerStore, parsed: ParsedFile, import_id: int) -> None:
    """Store the file's balance assertions (they held) so exports can write them again."""
    for name in {a.account for a in parsed.assertions} - store.accounts().keys():
        store.add_account(Account(name))  # a parent named only by its assertion
    accounts, scales = store.accounts(), store.scales()
    store.add_assertions(
        [
            (
                accounts[a.account][0],
                a.date,
                a.commodity,
                to_minor(a.amount, scales[a.commodity], a.commodity),
                import_id,
            )
            for a in parsed.assertions
        ]
    )
