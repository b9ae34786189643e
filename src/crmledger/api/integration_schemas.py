"""Request and response bodies of webhooks, sync connectors and their runs.

::

    POST /webhooks          {"url": "https://erp.example.com/hooks",
                             "event_types": ["invoice.*", "party.created"]}
    POST /sync/connectors   {"name": "shop", "kind": "folder",
                             "config": {"path": "/srv/drop", "objects": {...}}}
    POST /sync/connectors/shop/runs   {"object_type": "customer", "dry_run": true}

A subscription's secret is answered once, when it is created or rotated; a connector's
secrets are never answered (their names are).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from crmledger.api.schemas import NO_NUL, In
from crmledger.core.integration.reconcile import Reconciliation
from crmledger.services.integration_ports import AttemptRow
from crmledger.services.sync import ConflictView, ConnectorView, RunReport
from crmledger.services.sync_apply import RecordResult
from crmledger.services.sync_ports import LogRow, RunRow
from crmledger.services.webhooks import Delivery, Subscription

Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\x00-\x20\x7f]+$", max_length=2000)]
EventType = Annotated[
    str,
    StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$", max_length=60),
]
Description = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$", max_length=200)]
ConnectorName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,49}$")]
ObjectType = Literal["customer", "invoice"]
SecretText = Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=500)]


# -- webhooks -------------------------------------------------------------------------------


class WebhookCreate(In):
    """A subscription: where to send and which event types (``*``, ``invoice.*``)."""

    url: Url
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=50)]
    description: Description = ""


class WebhookUpdate(In):
    """Fields to change; ``status: active`` re-enables a disabled subscription."""

    url: Url | None = None
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=50)] | None = None
    description: Description | None = None
    status: Literal["active", "disabled"] | None = None


class RotateRequest(In):
    """How many hours the old secret keeps signing alongside the new one."""

    overlap_hours: Annotated[int, Field(ge=0, le=720)] = 24


class WebhookPublic(BaseModel):
    """A subscription (never its secret)."""

    id: int
    url: str
    event_types: list[str]
    description: str
    status: str
    disabled_reason: str
    rotating_until: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, sub: Subscription) -> Self:
        return cls(
            id=sub.id,
            url=sub.url,
            event_types=list(sub.event_types),
            description=sub.description,
            status=sub.status,
            disabled_reason=sub.disabled_reason,
            rotating_until=sub.rotating_until,
            version=sub.version,
            created_at=sub.created_at,
            updated_at=sub.updated_at,
        )


class WebhookWithSecret(WebhookPublic):
    """A subscription just created or rotated, with the secret that signs its messages
    (``whsec_...``; shown this once)."""

    secret: str


class AttemptPublic(BaseModel):
    """One HTTP attempt of a delivery."""

    attempted_at: dt.datetime
    status_code: int | None
    error: str
    duration_ms: int

    @classmethod
    def of(cls, row: AttemptRow) -> Self:
        return cls(
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
        )


class DeliveryPublic(BaseModel):
    """One message to one subscription and how its delivery went."""

    id: int
    webhook_id: int
    msg_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_code: int | None
    last_error: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    attempt_log: list[AttemptPublic] | None = None

    @classmethod
    def of(cls, d: Delivery, attempts: list[AttemptRow] | None = None) -> Self:
        return cls(
            id=d.id,
            webhook_id=d.subscription_id,
            msg_id=d.msg_id,
            event_type=d.event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_code=d.last_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            attempt_log=None if attempts is None else [AttemptPublic.of(a) for a in attempts],
        )


# -- sync -----------------------------------------------------------------------------------


class SecretsIn(In):
    """A connector's secrets: a database ``password``, an API ``token``, the secret its
    inbound webhooks are signed with (made up when left out)."""

    password: SecretText | None = None
    token: SecretText | None = None
    inbound_secret: SecretText | None = None

    def given(self) -> dict[str, str]:
        """The secrets sent, by name."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ConnectorCreate(In):
    """A connector: its kind, its configuration (see the sync documentation), its secrets
    (a database ``password``, an ``inbound_secret``) and whether it takes webhooks."""

    name: ConnectorName
    kind: Literal["folder", "sql", "rest", "crmledger", "export"]
    config: dict[str, Any]
    secrets: SecretsIn | None = None
    inbound_scheme: Literal["standard", "stripe"] | None = None


class ConnectorUpdate(In):
    """Fields to change; ``secrets`` are merged into the kept ones."""

    config: dict[str, Any] | None = None
    secrets: SecretsIn | None = None
    status: Literal["active", "paused"] | None = None


class ConnectorPublic(BaseModel):
    """A connector (its secrets by name only)."""

    id: int
    name: str
    kind: str
    config: dict[str, Any]
    secrets: list[str]
    inbound_scheme: str | None
    status: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, c: ConnectorView) -> Self:
        return cls(
            id=c.id,
            name=c.name,
            kind=c.kind,
            config=dict(c.config),
            secrets=list(c.secrets),
            inbound_scheme=c.inbound_scheme,
            status=c.status,
            version=c.version,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


class ConnectorCreated(ConnectorPublic):
    """A new connector; ``inbound_secret`` signs the webhooks it takes (shown this once)."""

    inbound_secret: str | None = None


class RunRequest(In):
    """What to pull: one object type, in pages of ``limit``; ``dry_run`` writes nothing."""

    object_type: Literal["customer"] = "customer"
    dry_run: StrictBool = False
    limit: Annotated[int, Field(ge=1, le=10_000)] = 500


class ReconcileRequest(In):
    """Which object type to compare."""

    object_type: ObjectType = "customer"


class ResolveRequest(In):
    """Keep crmledger's value (``local``) or take the outside one (``remote``)."""

    keep: Literal["local", "remote"]


class RecordPublic(BaseModel):
    """One record's outcome; ``diff`` (field: [crmledger, outside]) only in a run's answer."""

    external_id: str
    local_id: int | None
    outcome: str
    reason: str
    fields: list[str]
    diff: dict[str, list[str]] = {}

    @classmethod
    def of(cls, r: RecordResult) -> Self:
        return cls(
            external_id=r.external_id,
            local_id=r.local_id,
            outcome=r.outcome,
            reason=r.reason,
            fields=list(r.fields),
            diff={k: list(v) for k, v in r.diff.items()},
        )

    @classmethod
    def logged(cls, r: LogRow) -> Self:
        return cls(
            external_id=r.external_id,
            local_id=r.local_id,
            outcome=r.outcome,
            reason=r.reason,
            fields=list(r.fields),
        )


class RunPublic(BaseModel):
    """A sync run and its counts by outcome."""

    id: int
    connector_id: int
    object_type: str
    mode: str
    status: str
    counts: dict[str, int]
    cursor_from: str
    cursor_to: str
    message: str
    started_at: dt.datetime
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, r: RunRow) -> Self:
        return cls(
            id=r.id,
            connector_id=r.connector_id,
            object_type=r.object_type,
            mode=r.mode,
            status=r.status,
            counts=dict(r.counts),
            cursor_from=r.cursor_from,
            cursor_to=r.cursor_to,
            message=r.message,
            started_at=r.started_at,
            finished_at=r.finished_at,
        )


class RunReportPublic(BaseModel):
    """What a run just did, with (up to 1,000) per-record results."""

    run_id: int
    connector: str
    object_type: str
    mode: str
    status: str
    counts: dict[str, int]
    results: list[RecordPublic]

    @classmethod
    def of(cls, r: RunReport) -> Self:
        return cls(
            run_id=r.run_id,
            connector=r.connector,
            object_type=r.object_type,
            mode=r.mode,
            status=r.status,
            counts=dict(r.counts),
            results=[RecordPublic.of(x) for x in r.results],
        )


class DifferencePublic(BaseModel):
    """One disagreement found by a reconciliation."""

    key: str
    kind: str
    field: str
    local: str
    remote: str


class ReconciliationPublic(BaseModel):
    """Whether both sides agree, and where not (the first 1,000 differences)."""

    object_type: str
    agree: bool
    local_count: int
    remote_count: int
    matched: int
    missing_local: int
    missing_remote: int
    differing: int
    totals: dict[str, list[str]]
    differences: list[DifferencePublic]

    @classmethod
    def of(cls, r: Reconciliation) -> Self:
        return cls(
            object_type=r.object_type,
            agree=r.agree,
            local_count=r.local_count,
            remote_count=r.remote_count,
            matched=r.matched,
            missing_local=r.missing_local,
            missing_remote=r.missing_remote,
            differing=r.differing,
            totals={k: [format(a, "f"), format(b, "f")] for k, (a, b) in r.totals.items()},
            differences=[
                DifferencePublic(
                    key=d.key, kind=d.kind, field=d.field, local=d.local, remote=d.remote
                )
                for d in r.differences
            ],
        )


class ConflictPublic(BaseModel):
    """A field held for review, with both values."""

    id: int
    connector: str
    object_type: str
    external_id: str
    local_id: int
    field: str
    local_value: str
    remote_value: str
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None

    @classmethod
    def of(cls, c: ConflictView) -> Self:
        return cls(
            id=c.id,
            connector=c.connector,
            object_type=c.object_type,
            external_id=c.external_id,
            local_id=c.local_id,
            field=c.field,
            local_value=c.local_value,
            remote_value=c.remote_value,
            status=c.status,
            created_at=c.created_at,
            decided_at=c.decided_at,
            decided_by=c.decided_by,
        )


class InboundPublic(BaseModel):
    """What became of an inbound event: ``duplicate`` when it was applied before."""

    event_id: str
    duplicate: bool
    object_type: str
    results: list[RecordPublic]
