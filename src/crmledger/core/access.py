"""Who may do what: roles are fixed sets of ``(resource, action)`` permissions.

The services check a :class:`Principal` against this table before every read and write, so
the REST API, the web UI and the CLI obey the same rules::

    >>> clerk = Principal(user_id=7, label="sam@example.com", role=Role.SALES)
    >>> clerk.can("journal", "post")
    False
    >>> Principal(user_id=1, label="ann@example.com", role=Role.ACCOUNTANT).can("journal", "post")
    True

Resources and actions are a closed vocabulary written here, never built from configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crmledger.core.errors import LedgerError


class Role(StrEnum):
    """The jobs people do in crmledger."""

    ADMIN = "admin"
    ACCOUNTANT = "accountant"
    SALES = "sales"
    SUPPORT = "support"
    AUDITOR = "auditor"
    VIEWER = "viewer"


#: Every resource and the actions it knows.
RESOURCES: dict[str, tuple[str, ...]] = {
    "accounts": ("read", "write"),
    "journal": ("read", "post"),
    "reports": ("read",),
    "audit": ("read",),
    "users": ("read", "write"),
    "tokens": ("read", "write"),
    "keys": ("write",),
    # The CRM: parties and their contacts, the timeline, the pipeline, the catalogue,
    # quotes / orders / contracts ("sales"), and NPS / CSAT responses.
    "parties": ("read", "write"),
    "interactions": ("read", "write"),
    "deals": ("read", "write"),
    "pipelines": ("write",),
    "products": ("read", "write"),
    "sales": ("read", "write"),
    "satisfaction": ("read", "write"),
    # Invoices, credit notes, bills, payments, rates; ``override`` passes a credit limit.
    "billing": ("read", "write", "override"),
    # Expense claims: staff claim what they paid for the company (``write``); ``approve``
    # approves, rejects and reimburses the claims of others.
    "expenses": ("read", "write", "approve"),
    # Webhook subscriptions, sync connectors and their runs, logs and conflicts.
    "integrations": ("read", "write"),
}

_EVERYTHING = frozenset((r, a) for r, actions in RESOURCES.items() for a in actions)
_READ_ALL = frozenset(p for p in _EVERYTHING if p[1] == "read")
_LEDGER_READ = frozenset({("accounts", "read"), ("journal", "read"), ("reports", "read")})
_CRM = ("parties", "interactions", "deals", "products", "sales", "satisfaction")
_CRM_READ = frozenset((r, "read") for r in _CRM)
_CLAIMS = frozenset({("expenses", "read"), ("expenses", "write")})


def _writes(*resources: str) -> frozenset[tuple[str, str]]:
    return frozenset((r, "write") for r in resources)


#: The default permissions of each role.
ROLE_PERMISSIONS: dict[Role, frozenset[tuple[str, str]]] = {
    Role.ADMIN: _EVERYTHING,
    # Finance keeps billing details, the catalogue and the orders and contracts it invoices.
    Role.ACCOUNTANT: _LEDGER_READ
    | _CRM_READ
    | {("accounts", "write"), ("journal", "post"), ("audit", "read")}
    | _writes("parties", "products", "sales", "billing")
    | {("billing", "read"), ("billing", "override")}
    | _CLAIMS
    | {("expenses", "approve")},
    # Sales sees the chart (for customer balances) but never posts or reads journals.
    Role.SALES: _CRM_READ
    | {("accounts", "read"), ("billing", "read")}
    | _writes("parties", "interactions", "deals", "sales", "satisfaction")
    | _CLAIMS,
    # Support works the timeline and complaints and does not see the ledger.
    Role.SUPPORT: _CRM_READ
    | {("billing", "read")}
    | _writes("parties", "interactions", "satisfaction")
    | _CLAIMS,
    # The auditor reads everything, the audit log included, and changes nothing.
    Role.AUDITOR: _READ_ALL,
    Role.VIEWER: _LEDGER_READ | _CRM_READ | {("billing", "read")},
}


class PermissionDeniedError(LedgerError, PermissionError):
    """The principal's role does not allow this action on this resource."""

    field = "role"

    def __init__(self, principal: Principal, resource: str, action: str) -> None:
        self.resource, self.action = resource, action
        super().__init__(f"{principal.role.value} may not {action} {resource}")


class AuthenticationError(LedgerError):
    """No valid credentials: unknown user, wrong password, disabled user, bad token.

    The message never says which, so nobody learns which accounts exist.
    """

    field = "credentials"

    def __init__(self) -> None:
        super().__init__("invalid credentials")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a user (through a session or a token) or the local operator.

    ``label`` is what the audit log shows (an email for users); ``via`` names the channel.
    """

    user_id: int | None
    label: str
    role: Role
    via: str = "session"
    token_id: int | None = None

    def can(self, resource: str, action: str) -> bool:
        """Whether the role allows ``action`` on ``resource``."""
        if action not in RESOURCES.get(resource, ()):
            raise ValueError(f"unknown permission {resource}:{action}")
        return (resource, action) in ROLE_PERMISSIONS[self.role]

    def require(self, resource: str, action: str) -> None:
        """Raise :class:`PermissionDeniedError` unless the role allows it."""
        if not self.can(resource, action):
            raise PermissionDeniedError(self, resource, action)


#: The operator at the machine: whoever can open the database file runs the CLI as admin.
LOCAL_OPERATOR = Principal(user_id=None, label="local operator", role=Role.ADMIN, via="cli")
