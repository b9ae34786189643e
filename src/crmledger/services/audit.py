"""The verifier of the hash chain and of the running balances (``crmledger audit verify``).

For each journal it walks the posted entries in number order and checks, per entry, that
the number is the next one of its fiscal year, that the entry links to the hash of the one
before it, and that the hash recomputed from the stored content equals the stored hash.
The journal's head must be the last entry's hash (so a removed tail shows too). The first
entry that fails is named; running balances, and the monthly sums of conversions into the
base currency the financial statements read (``statement_base_conversions``), are compared
with a full recomputation. The audit log's own chain is checked the same way, as the
journal ``audit-log``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crmledger.core.audit_log import AuditRecord, audit_hash
from crmledger.core.entries import JournalEntry
from crmledger.core.hashing import GENESIS, canonical_record, chain_hash
from crmledger.services.ports import AuditStore, LedgerStore, UnitOfWork, UnitOfWorkFactory
from crmledger.services.trail import OPERATOR, Actor

AUDIT_LOG = "audit-log"


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One thing that no longer matches."""

    journal: str
    reference: str
    reason: str

    def __str__(self) -> str:
        return f"{self.reference}: {self.reason}"


@dataclass(slots=True)
class AuditReport:
    """What the verifier checked and the first failure per journal."""

    entries_checked: int = 0
    records_checked: int = 0
    journals: list[str] = field(default_factory=list)
    findings: list[AuditFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.findings


class AuditService:
    """Verifies the ledger's and the audit log's integrity; browses the audit log."""

    def __init__(self, uow: UnitOfWorkFactory, actor: Actor = OPERATOR) -> None:
        self._uow = uow
        self.actor = actor

    def acting_as(self, actor: Actor) -> AuditService:
        """The same service, for another actor."""
        return AuditService(self._uow, actor)

    def log(
        self, before_seq: int | None = None, limit: int = 50, filters: dict[str, str] | None = None
    ) -> list[AuditRecord]:
        """Audit records, newest first, below ``before_seq``, matching ``filters``."""
        self.actor.require("audit", "read")
        with self._uow(readonly=True) as uow:
            return [s.record for s in uow.audit.page(before_seq, limit, filters or {})]

    def verify(self, progress: Callable[[int], None] | None = None) -> AuditReport:
        """Walk every journal's chain and the audit log's, and compare balances with a
        recomputation."""
        self.actor.require("audit", "read")
        report = AuditReport()
        with self._uow(readonly=True) as uow:
            store = uow.ledger
            heads = store.journal_state()
            for journal in store.journal_codes():
                report.journals.append(journal)
                finding = _verify_journal(store, journal, heads.get(journal), report, progress)
                if finding is not None:
                    report.findings.append(finding)
            report.findings.extend(_verify_balances(store))
            report.findings.extend(_verify_base_conversions(uow))
            report.journals.append(AUDIT_LOG)
            finding = _verify_audit_log(uow.audit, report)
            if finding is not None:
                report.findings.append(finding)
        return report


def _verify_audit_log(store: AuditStore, report: AuditReport) -> AuditFinding | None:
    previous, seq, last_ref = GENESIS, 0, f"{AUDIT_LOG} (start)"
    for stored in store.iter_records():
        report.records_checked += 1
        record = stored.record
        ref = f"{AUDIT_LOG} #{record.seq} ({record.action})"
        if record.seq != seq + 1:
            reason = f"record {record.seq} where {seq + 1} was expected (a record is missing)"
            return AuditFinding(AUDIT_LOG, ref, reason)
        if stored.previous_hash != previous:
            return AuditFinding(AUDIT_LOG, ref, "link to the previous record's hash is broken")
        if audit_hash(record, previous) != stored.hash:
            reason = "content does not match its hash (a recorded field was changed)"
            return AuditFinding(AUDIT_LOG, ref, reason)
        previous, seq, last_ref = stored.hash, record.seq, ref
    if store.head(lock=False) != (seq, previous):
        reason = "the log's head does not match its last record: records were removed"
        return AuditFinding(AUDIT_LOG, last_ref, reason)
    return None


def _verify_journal(
    store: LedgerStore,
    journal: str,
    head: tuple[str, int] | None,
    report: AuditReport,
    progress: Callable[[int], None] | None,
) -> AuditFinding | None:
    scales = store.scales()
    previous = GENESIS
    expected: dict[int, int] = {}
    last_ref = f"{journal} (start)"
    for entry in store.iter_chain(journal):
        report.entries_checked += 1
        if progress is not None and report.entries_checked % 10000 == 0:
            progress(report.entries_checked)
        ref = f"{journal}/{entry.fiscal_year}/{entry.number} (id {entry.id})"
        reason = _check_entry(entry, scales, previous, expected)
        if reason:
            return AuditFinding(journal, ref, reason)
        previous, last_ref = entry.hash or "", ref
    if head is not None and head[0] != previous:
        return AuditFinding(
            journal,
            last_ref,
            "journal head does not match the last entry: entries after it "
            "were removed or the head was altered",
        )
    return None


def _check_entry(
    entry: JournalEntry, scales: dict[str, int], previous: str, expected: dict[int, int]
) -> str | None:
    year = entry.fiscal_year
    want = expected.get(year, 0) + 1
    if entry.number != want:
        return f"number {entry.number} where {want} was expected (an entry is missing or inserted)"
    expected[year] = want
    if entry.previous_hash != previous:
        return "link to the previous entry's hash is broken"
    try:
        recomputed = chain_hash(canonical_record(entry, scales, previous))
    except (KeyError, ValueError) as exc:
        return f"content cannot be read back: {exc}"
    if recomputed != entry.hash:
        return "content does not match its hash (a hashed field was changed)"
    if not entry.postings:
        return "entry has no postings"
    return None


def _verify_balances(store: LedgerStore) -> list[AuditFinding]:
    stored = {
        (r.account, r.commodity): (r.debit_minor, r.credit_minor)
        for r in store.stored_balance_rows()
    }
    actual = {
        (r.account, r.commodity): (r.debit_minor, r.credit_minor)
        for r in store.recompute_balances()
    }
    if stored == actual:
        return _verify_conversions(store)
    key = sorted(set(stored) ^ set(actual) | {k for k in stored if stored[k] != actual.get(k)})[0]
    return [
        AuditFinding(
            "*",
            f"balance {key[0]} {key[1]}",
            f"running balance {stored.get(key)} differs from recomputation {actual.get(key)}",
        )
    ]


def _verify_conversions(store: LedgerStore) -> list[AuditFinding]:
    stored, actual = store.stored_conversions(), store.recompute_conversions()
    if stored == actual:
        return []
    key = sorted(set(stored) | set(actual), key=lambda k: (stored.get(k) == actual.get(k), k))[0]
    return [
        AuditFinding(
            "*",
            f"conversions {key[0]} {key[1]}",
            f"running total {stored.get(key)} differs from recomputation {actual.get(key)}",
        )
    ]


def _verify_base_conversions(uow: UnitOfWork) -> list[AuditFinding]:
    """The statements' monthly sums of conversions into the base currency against a
    recomputation from the postings; the first row that differs is named."""
    base = uow.ledger.get_setting("base_currency")
    if base is None:
        return []
    statements = uow.statements
    stored = statements.stored_base_conversions()
    actual = statements.recompute_base_conversions(base)
    if stored == actual:
        return []
    key = sorted(set(stored) | set(actual), key=lambda k: (stored.get(k) == actual.get(k), k))[0]
    names = {i: name for name, (i, _) in uow.ledger.accounts().items()}
    account, commodity, period = key
    name = names.get(account, f"account {account}")
    where = f"{name} {commodity} {period // 100}-{period % 100:02d}"
    return [
        AuditFinding(
            "*",
            f"statement conversions {where}",
            f"running sums (amount, weight) {stored.get(key)} differ from recomputation "
            f"{actual.get(key)}",
        )
    ]
