"""Importing a parsed file into the ledger: atomic, idempotent, resumable in batches.

A file is identified by the SHA-256 of its bytes (its fingerprint). Importing it again is a
no-op. Without ``batch_size`` the whole file is one transaction; with it, every batch is its
own transaction and a later run resumes after the last committed batch. Either way every
entry is validated before the first write, so bad input writes nothing and every problem is
reported as ``file:line: field: reason``::

    result = imports.import_parsed(parsed, fingerprint=sha, kind="ledger")
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from crmledger.core.accounts import Account
from crmledger.core.currencies import iso_currency
from crmledger.core.imports import BalanceAssertion, ParsedFile, Problem, SourceEntry
from crmledger.core.money import from_minor
from crmledger.services.errors import EntriesRejectedError, ImportRejectedError
from crmledger.services.ports import Clock, LedgerStore, UnitOfWorkFactory
from crmledger.services.posting import post_batch, validate_batch

CHUNK = 20_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did."""

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


class ImportService:
    """Posts the entries of parsed files."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

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
        if parsed.problems:
            raise ImportRejectedError(sorted(parsed.problems, key=lambda p: p.line))
        entries = parsed.entries
        size = batch_size or max(len(entries), 1)
        batches = [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]
        opener = None if strict else Account
        with self._uow() as uow:
            found = uow.ledger.find_import(fingerprint)
            if found is not None and found[2]:
                return ImportResult(parsed.source, fingerprint, 0, 0, True, tuple(parsed.skipped))
            if found is None:
                _declare(uow.ledger, parsed)
                import_id, done = (
                    uow.ledger.start_import(fingerprint, parsed.source, kind, self._clock.now()),
                    0,
                )
                if len(batches) > 1:  # prove every batch valid before the first commits
                    _raise_problems(uow.ledger, parsed, entries, opener, post=None)
                    uow.commit()
            else:
                import_id, done = found[0], found[1]
            if len(batches) == 1:
                self._post(uow.ledger, parsed, entries, import_id, opener, progress, 0)
                uow.ledger.progress_import(import_id, 1, len(entries), True)
                uow.commit()
                return ImportResult(
                    parsed.source, fingerprint, len(entries), 1, False, tuple(parsed.skipped)
                )
        posted = sum(len(b) for b in batches[:done])
        for number in range(done, len(batches)):
            with self._uow() as uow:
                self._post(
                    uow.ledger,
                    parsed,
                    batches[number],
                    import_id,
                    opener,
                    progress,
                    posted,
                    check_assertions=number == len(batches) - 1,
                )
                posted += len(batches[number])
                uow.ledger.progress_import(
                    import_id, number + 1, len(batches[number]), number == len(batches) - 1
                )
                uow.commit()
        return ImportResult(
            parsed.source, fingerprint, posted, len(batches), False, tuple(parsed.skipped)
        )

    def _post(
        self,
        store: LedgerStore,
        parsed: ParsedFile,
        batch: Sequence[SourceEntry],
        import_id: int,
        opener: Callable[[str], Account] | None,
        progress: Progress | None,
        offset: int,
        check_assertions: bool = True,
    ) -> None:
        def post(chunk: Sequence[SourceEntry], position: int) -> None:
            post_batch(
                store,
                [s.entry for s in chunk],
                self._clock.now(),
                import_id=import_id,
                open_account=opener,
            )
            if progress is not None:
                progress(offset + position + len(chunk), len(parsed.entries))

        _raise_problems(store, parsed, batch, opener, post=post)
        if check_assertions:
            problems = [
                problem
                for assertion in parsed.assertions
                if (problem := _check_assertion(store, parsed.source, assertion)) is not None
            ]
            if problems:
                raise ImportRejectedError(problems)


def _declare(store: LedgerStore, parsed: ParsedFile) -> None:
    """Add the commodities and accounts the file declares, and ISO currencies it uses."""
    scales = store.scales()
    for commodity in parsed.commodities:
        if commodity.code not in scales:
            store.add_commodity(commodity)
            scales[commodity.code] = commodity.scale
    for code in sorted(_used_commodities(parsed) - scales.keys()):
        iso = iso_currency(code)
        if iso is not None:
            store.add_commodity(iso)
    known = store.accounts()
    for account in parsed.accounts:
        if account.name not in known:
            known[account.name] = (store.add_account(account), account)
        elif account.close_date and not known[account.name][1].close_date:
            store.close_account(account.name, account.close_date)


def _raise_problems(
    store: LedgerStore,
    parsed: ParsedFile,
    entries: Sequence[SourceEntry],
    opener: Callable[[str], Account] | None,
    post: Callable[[Sequence[SourceEntry], int], None] | None,
) -> None:
    """Post (or only validate) ``entries`` chunk by chunk; after the first rejected chunk
    only validate, so that every problem of the file is reported, then raise."""
    problems: list[Problem] = []
    for start in range(0, len(entries), CHUNK):
        chunk = entries[start : start + CHUNK]
        try:
            if post is None or problems:
                validate_batch(store, [s.entry for s in chunk], opener)
            else:
                post(chunk, start)
        except EntriesRejectedError as rejected:
            problems += _problems(parsed.source, chunk, rejected)
    if problems:
        raise ImportRejectedError(problems)


def _used_commodities(parsed: ParsedFile) -> set[str]:
    return {p.commodity for s in parsed.entries for p in s.entry.postings}


def _problems(
    source: str, chunk: Sequence[SourceEntry], rejected: EntriesRejectedError
) -> list[Problem]:
    return [
        Problem(source, chunk[r.index].line, r.error.field, str(r.error))
        for r in rejected.rejections
    ]


def _check_assertion(
    store: LedgerStore, source: str, assertion: BalanceAssertion
) -> Problem | None:
    """Balance of the account and its sub-accounts at the start of the assertion's date."""
    day: date = assertion.date
    scales = store.scales()
    rows = store.balances(day.year * 100 + day.month)
    if day.day > 1:
        rows += store.turnover_between(day.replace(day=1), day - timedelta(days=1))
    total = Decimal(0)
    for row in rows:
        if row.commodity == assertion.commodity and (
            row.account == assertion.account or row.account.startswith(assertion.account + ":")
        ):
            total += from_minor(row.debit_minor - row.credit_minor, scales[row.commodity])
    if total == assertion.amount:
        return None
    return Problem(
        source,
        assertion.line,
        "balance",
        f"{assertion.account} holds {total} {assertion.commodity} on {day.isoformat()}, "
        f"the file asserts {assertion.amount}",
    )
