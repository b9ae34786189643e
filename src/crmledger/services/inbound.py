"""Inbound webhooks: an outside system announces a change, signed, and the book applies it.

A connector that takes webhooks has a scheme and a secret: ``standard`` (Standard
Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) or ``stripe``
(``Stripe-Signature: t=...,v1=...``); either refuses a timestamp more than 300 s away. The
event's id (``webhook-id``, or the body's ``id`` for Stripe) is recorded in the same
transaction as its effect, so the same event delivered again, however often and in
whatever order, changes nothing a second time::

    inbound.receive("shop", headers, body)   # {"type": "customer.updated",
                                             #  "data": {"CustomerNo": "C-7", ...}}

The body carries the record in the connector's own column names (``data``, or Stripe's
``data.object``); the event type's first word names the object type (``customer.updated``
-> ``customer``). A change older than the one last applied to the same record is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmledger.core.errors import InvalidFieldError
from crmledger.core.integration.signatures import SignatureError, verify_standard, verify_stripe
from crmledger.services.integration_ports import IntegrationUnitOfWorkFactory
from crmledger.services.ports import Clock, FieldCipher
from crmledger.services.sync import counted, secrets_context
from crmledger.services.sync_apply import Applier, RecordResult
from crmledger.services.sync_config import ConnectorSpec, ObjectSpec, compile_config
from crmledger.services.sync_ports import ConnectorRow, LogRow, RemoteChange, RunRow
from crmledger.services.trail import OPERATOR, Actor

MAX_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class InboundResult:
    """What became of one inbound event."""

    event_id: str
    duplicate: bool
    object_type: str
    results: tuple[RecordResult, ...] = ()


def _document(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise InvalidFieldError("body", f"an inbound event has at most {MAX_BODY} bytes")
    try:
        found = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidFieldError("body", "the body is not JSON") from None
    if not isinstance(found, dict):
        raise InvalidFieldError("body", "the body is a JSON object")
    return found


def _record(document: Mapping[str, Any], stripe: bool) -> Mapping[str, Any]:
    data = document.get("data")
    if stripe and isinstance(data, Mapping):
        data = data.get("object")
    if not isinstance(data, Mapping):
        raise InvalidFieldError("data", "the event carries its record under data")
    return data


def change_of(spec: ObjectSpec, record: Mapping[str, Any], fallback_version: str) -> RemoteChange:
    """The change a record in the connector's column names describes."""

    def text(value: Any) -> str:
        return "" if value is None else str(value).strip()

    values = {f: text(record.get(c)) for f, c in spec.fields.items() if c in record}
    version = text(record.get(spec.version)) if spec.version else ""
    return RemoteChange(text(record.get(spec.id)), version or fallback_version, values)


class InboundService:
    """Verifies and applies inbound webhooks (see the module)."""

    def __init__(
        self,
        uow: IntegrationUnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        actor: Actor = OPERATOR,
    ) -> None:
        self._uow, self._clock, self._cipher, self._actor = uow, clock, cipher, actor

    def _connector(self, name: str) -> tuple[ConnectorRow, ConnectorSpec, str]:
        with self._uow(readonly=True) as uow:
            row = uow.sync.connector_named(name)
        if row is None or row.inbound_scheme is None or row.status != "active":
            raise SignatureError("no inbound webhooks are taken here")
        secrets = json.loads(self._cipher.decrypt(row.secrets_enc, secrets_context(row.id)))
        spec = compile_config(row.name, row.kind, json.loads(row.config))
        return row, spec, str(secrets.get("inbound_secret", ""))

    def _verify(self, scheme: str, secret: str, headers: Mapping[str, str], body: bytes) -> str:
        now = int(self._clock.now().timestamp())
        if scheme == "stripe":
            lowered = {k.lower(): v for k, v in headers.items()}
            verify_stripe(secret, lowered.get("stripe-signature"), body, now)
            ident = _document(body).get("id")
            if not isinstance(ident, str) or not ident:
                raise InvalidFieldError("id", "a Stripe event carries its id")
            return ident
        return verify_standard(secret, headers, body, now)

    def receive(self, name: str, headers: Mapping[str, str], body: bytes) -> InboundResult:
        """Verify one event and apply it once (see the module)."""
        row, spec, secret = self._connector(name)
        assert row.inbound_scheme is not None
        event_id = self._verify(row.inbound_scheme, secret, headers, body)
        document = _document(body)
        kind = str(document.get("type", ""))
        object_type = kind.split(".", 1)[0]
        stamp = str(headers.get("webhook-timestamp") or document.get("created") or "")
        changes: tuple[RemoteChange, ...] = ()
        if object_type in spec.objects:
            record = _record(document, row.inbound_scheme == "stripe")
            changes = (change_of(spec.objects[object_type], record, stamp),)
        return self._apply(row, spec, event_id, object_type, changes)

    def _apply(
        self,
        row: ConnectorRow,
        spec: ConnectorSpec,
        event_id: str,
        object_type: str,
        changes: tuple[RemoteChange, ...],
    ) -> InboundResult:
        at = self._clock.now()
        outcome = "applied" if changes else "ignored"
        with self._uow() as uow:
            if not uow.integration.add_inbound(row.id, event_id[:200], at, outcome):
                return InboundResult(event_id, True, object_type)
            results: list[RecordResult] = []
            if changes:
                applier = Applier(uow, self._clock, self._cipher, self._actor, spec, row.id)
                results = applier.apply(object_type, changes)
                run = RunRow(
                    0,
                    row.id,
                    object_type,
                    "inbound",
                    "done",
                    dict(counted(results)),
                    "",
                    event_id[:200],
                    "",
                    self._actor.audit_id,
                    at,
                    at,
                )
                run_id = uow.sync.add_run(run)
                uow.sync.add_log(
                    [
                        LogRow(run_id, r.external_id, r.local_id, r.outcome, r.reason, r.fields)
                        for r in results
                    ]
                )
            uow.commit()
        return InboundResult(event_id, False, object_type, tuple(results))
