"""Who is acting, and the audit trail every write leaves in its own transaction.

A service bound to an :class:`Actor` checks the actor's permissions before it reads or
writes, and records each write with :func:`record` inside the unit of work that makes the
write, so a change and its audit record commit together or not at all::

    with uow:
        ...  # the change
        record(uow, actor, clock.now(), "account.close", "account", name, before, after)
        uow.commit()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmledger.core.access import LOCAL_OPERATOR, Principal
from crmledger.core.audit_log import AuditRecord, audit_hash, canonical_changes, diff
from crmledger.services.ports import StoredAudit, UnitOfWork


@dataclass(frozen=True, slots=True)
class Actor:
    """A principal and the request it acts in (``request_id`` ties audit records to logs)."""

    principal: Principal
    request_id: str = "-"

    @property
    def audit_id(self) -> str:
        """The pseudonymous id the audit log keeps (never an email)."""
        p = self.principal
        if p.user_id is None:
            return "operator"
        return f"user:{p.user_id}" + (f"/token:{p.token_id}" if p.token_id else "")

    def require(self, resource: str, action: str) -> None:
        """Raise unless the principal's role allows ``action`` on ``resource``."""
        self.principal.require(resource, action)


#: The CLI's actor: the operator at the machine, with the admin role.
OPERATOR = Actor(LOCAL_OPERATOR, "cli")


@dataclass(frozen=True, slots=True)
class Change:
    """One audited write: what was done to which resource, with its state before and after."""

    action: str
    resource: str
    resource_id: object
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


def record(
    uow: UnitOfWork,
    actor: Actor,
    at: datetime,
    action: str,
    resource: str,
    resource_id: object,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one audit record (personal fields redacted) in ``uow``'s transaction."""
    record_many(uow, actor, at, [Change(action, resource, resource_id, before, after)])


def record_many(uow: UnitOfWork, actor: Actor, at: datetime, changes: Sequence[Change]) -> None:
    """Append an audit record per change, chained in order, in one write (bulk paths)."""
    if not changes:
        return
    seq, previous = uow.audit.head()
    rows = []
    for change in changes:
        seq += 1
        entry = AuditRecord(
            seq=seq,
            at=at,
            actor=actor.audit_id,
            role=actor.principal.role.value,
            via=actor.principal.via,
            request_id=actor.request_id,
            action=change.action,
            resource=change.resource,
            resource_id=str(change.resource_id),
            changes=diff(change.before, change.after),
        )
        text = canonical_changes(entry.changes)
        digest = audit_hash(entry, previous, text)
        rows.append(StoredAudit(entry, previous, digest, text))
        previous = digest
    uow.audit.append(rows)
