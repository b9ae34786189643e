"""The audit log: who changed what, when and through which request, hash-chained.

Each record is reduced to canonical JSON (sorted keys, no spaces) that includes the hash of
the record before it; the hash is ``$1$`` + SHA-256 hex, as for the journals. The actor is a
pseudonymous id (``user:7``), never an email, so erasing a person never breaks the chain,
and personal fields in the before/after values are redacted before they are recorded::

    >>> redact({"email": "ann@example.com", "role": "admin"})
    {'email': '[redacted]', 'role': 'admin'}
    >>> from datetime import UTC, datetime
    >>> record = AuditRecord(1, datetime(2026, 1, 5, tzinfo=UTC), "user:1", "admin", "cli",
    ...     "req-1", "user.create", "user", "1", {"after": {"role": "admin"}})
    >>> audit_hash(record, GENESIS)[:3]
    '$1$'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crmledger.core.hashing import GENESIS, chain_hash

__all__ = ["GENESIS", "PERSONAL_FIELDS", "AuditRecord", "audit_hash", "diff", "redact"]

#: Field names whose values never enter the audit log.
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "name",
        "first_name",
        "last_name",
        "display_name",
        "legal_name",
        "given_name",
        "family_name",
        "phone",
        "phones",
        "emails",
        "address",
        "addresses",
        "bank_account",
        "bank_accounts",
        "iban",
        "password",
        "token",
    }
)
REDACTED = "[redacted]"


def redact(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with personal fields replaced by ``[redacted]`` (nested too)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in PERSONAL_FIELDS:
            out[key] = REDACTED
        elif isinstance(value, Mapping):
            out[key] = redact(value)
        else:
            out[key] = value
    return out


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a change did, redacted: ``{"before": ..., "after": ...}`` keeping only the
    fields that differ when both sides are given."""
    if before is not None and after is not None:
        keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        before = {k: before.get(k) for k in keys}
        after = {k: after.get(k) for k in keys}
    changes: dict[str, Any] = {}
    if before is not None:
        changes["before"] = redact(before)
    if after is not None:
        changes["after"] = redact(after)
    return changes


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One write, as the audit log keeps it."""

    seq: int
    at: datetime
    actor: str
    role: str
    via: str
    request_id: str
    action: str
    resource: str
    resource_id: str
    changes: Mapping[str, Any]


def canonical_changes(changes: Mapping[str, Any]) -> str:
    """The stored and hashed text of a change: canonical JSON."""
    return json.dumps(changes, sort_keys=True, separators=(",", ":"), default=str)


def audit_hash(record: AuditRecord, previous_hash: str, changes_text: str | None = None) -> str:
    """The chain hash of ``record`` after ``previous_hash``; ``changes_text`` is
    ``canonical_changes(record.changes)`` when the caller has it already (a writer stores
    the same text it hashes, so it is encoded once)."""
    if changes_text is None:
        changes_text = canonical_changes(record.changes)
    document = {
        "v": 1,
        "seq": record.seq,
        "at": record.at.astimezone(UTC).isoformat(),
        "actor": record.actor,
        "role": record.role,
        "via": record.via,
        "request_id": record.request_id,
        "action": record.action,
        "resource": record.resource,
        "resource_id": record.resource_id,
        "changes": changes_text,
        "previous_hash": previous_hash,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return chain_hash(text.encode())
