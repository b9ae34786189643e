"""The crmledger connector: another crmledger book, reached through its REST API with an API
token of that book (``crmledger token create ...`` there).

Its customers are its parties. A run reads ``GET /api/v1/parties?sort=updated`` from the
time of the last party it applied (``updated_since``), following ``next_cursor``, and keeps
that time and party id as its cursor; each party becomes the flat customer record of
:mod:`crmledger.services.sync_records` (first email, first phone, first address)::

    {"url": "https://hq.example.com", "system": "crmledger-branch",
     "fields": ["name", "email", "phone", "city", "country"], "push": true, "push_new": true}

    connector = CrmledgerConnector(spec)          # spec.secrets["token"] = "clt_..."
    page = connector.fetch("customer", "", 500)   # that book's parties, oldest change first

Reconciliation reads the other book's customers and issued invoices in one streamed
request each (``GET /api/v1/sync/export/customers`` and ``.../invoices``, one JSON line per
record with only the compared fields); invoices are compared, never pulled.

Each side knows the other's id. This book links the other's party id to its own party
(the sync's external-id map); a party this book creates there carries the external id
``(system, <this book's party id>)``. Pushing a new party first looks for that external id
there (``?external=system:id``), so a push that died after the other book made the party,
and is retried with different values, finds it and updates it instead of making a second;
the ``POST`` carries an ``Idempotency-Key`` made of the connector, the record and a hash of
what is sent, and a ``POST`` whose answer is lost looks at once for the party it may have
made. A change is read first and sent by ``PATCH`` with ``If-Match`` (lists, such as the
emails, go back whole with only the first entry changed); a party changed there between
the read and the write is read again once. A party's kind is set when it is created and
never changed there. When the other book cannot be reached, the changes sent before keep
their results and the rest wait for the next push.

Neither side's change is overwritten by the other. A party changed there since the last
sync (its change time is not the one the sync last saw), or made there by an earlier push
and changed there since, is not written: its push waits, and the next pull merges both
sides field by field by the connector's rules. A pull links a party that carries this
book's external id to the party it was made from, so a pull that comes before a push's
answer never copies it back (that first merge has no common base: the rules decide).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from crmledger.core.errors import InvalidFieldError
from crmledger.integration.connectors.rest import HttpSession, why
from crmledger.services.sync_config import ConnectorSpec
from crmledger.services.sync_ports import OutboundChange, Page, PushResult, RemoteChange

PARTIES = "api/v1/parties"
#: Where the other book streams each object type for reconciliation.
EXPORTS = {"customer": "api/v1/sync/export/customers", "invoice": "api/v1/sync/export/invoices"}
NDJSON = "application/x-ndjson"
#: The largest page the other book's API answers.
MOST = 500
_ADDRESS = ("street", "postcode", "city", "country")
_MOVED = "changed in the other book since the last sync: the next pull merges both sides first"
_PLAIN = ("website", "segment", "lifecycle")


def customer_of(party: Mapping[str, Any]) -> dict[str, str]:
    """The flat customer record of a party as the API answers it."""

    def first(key: str, attribute: str) -> str:
        found = party.get(key) or []
        return str(found[0].get(attribute, "")) if found else ""

    address = (party.get("addresses") or [{}])[0]
    terms = party.get("payment_terms_days")
    return {
        "name": str(party.get("display_name", "")),
        "kind": str(party.get("kind", "")),
        "email": first("emails", "address"),
        "phone": first("phones", "number"),
        "website": str(party.get("website", "")),
        **{n: str(address.get(n, "")) for n in _ADDRESS},
        "currency": str(party.get("currency") or ""),
        "payment_terms_days": "" if terms is None else str(terms),
        "credit_limit": str(party.get("credit_limit") or ""),
        "lifecycle": str(party.get("lifecycle", "")),
        "segment": str(party.get("segment", "")),
    }


def _first(items: list[dict[str, Any]], key: str, value: str) -> list[dict[str, Any]]:
    """``items`` with the first one's ``key`` set to ``value`` (dropped when empty)."""
    if not value:
        return items[1:]
    if not items:
        return [{key: value}]
    return [{**items[0], key: value}, *items[1:]]


def _address(current: list[dict[str, Any]], values: Mapping[str, str]) -> list[dict[str, Any]]:
    first = {**(current[0] if current else {}), **{n: values[n] for n in _ADDRESS if n in values}}
    if not any(first.get(n) for n in _ADDRESS):
        return current[1:]
    return [first, *current[1:]]


def _terms(values: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if "currency" in values:
        found["currency"] = values["currency"] or None
    if "payment_terms_days" in values:
        text = values["payment_terms_days"]
        found["payment_terms_days"] = int(text) if text.isdigit() else (text or None)
    if "credit_limit" in values:
        found["credit_limit"] = values["credit_limit"] or None
    return found


def party_changes(current: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """The party fields to send so that a party (``current``: as the API answers it, or
    empty for a new one) carries the customer ``values``."""
    body: dict[str, Any] = {n: values[n] for n in _PLAIN if n in values}
    if "name" in values:
        body["display_name"] = values["name"]
    if "email" in values:
        body["emails"] = _first(list(current.get("emails", [])), "address", values["email"])
    if "phone" in values:
        body["phones"] = _first(list(current.get("phones", [])), "number", values["phone"])
    if any(n in values for n in _ADDRESS):
        body["addresses"] = _address(list(current.get("addresses", [])), values)
    return body | _terms(values)


def _stamp(text: str) -> datetime:
    found = datetime.fromisoformat(text)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _moved(party: Mapping[str, Any], version: str) -> bool:
    """Whether the party changed there after ``version`` (its change time at the last
    sync; empty: no sync yet)."""
    if not version:
        return False
    try:
        return _stamp(str(party["updated_at"])) != _stamp(version)
    except ValueError:
        return str(party["updated_at"]) != version


def _idempotency_key(connector: str, record: str, body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"crmledger-sync-{connector}-{record}-{digest[:24]}"


class CrmledgerConnector:
    """A :class:`~crmledger.services.sync_ports.Connector` to another crmledger book."""

    def __init__(self, spec: ConnectorSpec) -> None:
        token = spec.secrets.get("token")
        if not token:
            raise InvalidFieldError(
                "token", "a crmledger connector needs an API token of the other book"
            )
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._http = HttpSession(spec.options.get("url", ""), headers)
        self._spec, self._system = spec, spec.options.get("system", "crmledger")

    def _change(self, party: Mapping[str, Any]) -> RemoteChange:
        fields = self._spec.object("customer").fields
        record = customer_of(party)
        values = {name: record[name] for name in fields}
        ours = [e for e in party.get("external_ids") or [] if e.get("system") == self._system]
        made_from = str(ours[0].get("id", "")) if ours else ""
        return RemoteChange(str(party["id"]), str(party["updated_at"]), values, made_from)

    def _page(self, limit: int, since: str, cursor: str) -> tuple[list[Any], str]:
        params: dict[str, str | int] = {"sort": "updated", "limit": max(1, min(limit, MOST))}
        if cursor:
            params["cursor"] = cursor
        elif since:
            params["updated_since"] = since
        body, _ = self._http.json("GET", self._http.url(PARTIES), params=params)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise InvalidFieldError("url", f"{self._http.base} answered no list of parties")
        return items, str(body.get("next_cursor") or "")

    def fetch(self, object_type: str, cursor: str, limit: int) -> Page:
        self._spec.object(object_type)
        if object_type != "customer":
            raise InvalidFieldError(
                "object_type", f"{object_type} records of another book are reconciled, not pulled"
            )
        at = _position(cursor)
        following = at["next"]
        while True:
            items, following = self._page(limit, at["since"], following)
            after = (_stamp(at["since"]), int(at["id"])) if at["since"] else None
            fresh = [
                p for p in items if after is None or (_stamp(p["updated_at"]), p["id"]) > after
            ]
            if items:
                at = {"since": str(items[-1]["updated_at"]), "id": str(items[-1]["id"])}
            at["next"] = following
            if fresh or not following:
                break
        changes = tuple(self._change(p) for p in fresh)
        text = json.dumps(at, sort_keys=True)
        if not changes and at == _position(cursor):
            return Page((), cursor)
        return Page(changes, text, more=bool(following))

    def snapshot(self, object_type: str) -> Iterator[RemoteChange]:
        """Every customer or issued invoice of the other book, streamed from its export
        (one request, one JSON line per record, only the compared fields)."""
        spec = self._spec.object(object_type)
        url = self._http.url(EXPORTS[object_type])
        change = self._exported_customer if object_type == "customer" else _exported_invoice
        for line in self._http.lines(url, headers={"Accept": NDJSON}):
            try:
                record = change(orjson.loads(line), spec.fields)
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                why_not = f"{type(exc).__name__}: {exc}"
                raise InvalidFieldError(
                    "url", f"{url} answered a line that is no {object_type} ({why_not})"
                ) from None
            yield record

    def _exported_customer(self, found: Any, fields: Iterable[str]) -> RemoteChange:
        record = found["record"]
        values = {name: str(record.get(name, "")) for name in fields}
        ours = [e for e in found["external_ids"] if e.get("system") == self._system]
        made_from = str(ours[0].get("id", "")) if ours else ""
        return RemoteChange(str(found["id"]), str(found["updated_at"]), values, made_from)

    # -- push ----------------------------------------------------------------------------

    def _made(self, own: str) -> dict[str, Any] | None:
        """The party an earlier push made there for ours (``None``: none yet)."""
        params = {"external": f"{self._system}:{own}", "limit": 1}
        body, _ = self._http.json("GET", self._http.url(PARTIES), params=params)
        items = body.get("items") if isinstance(body, dict) else None
        return dict(items[0]) if items else None

    def _create(self, change: OutboundChange) -> PushResult:
        own = change.external_id.removeprefix(self._spec.id_prefix)
        made = self._made(own)
        if made is not None:  # a push died after the other book made it: bring it up to date
            if made.get("version") != 1:
                return PushResult(change.external_id, False, error=_MOVED)
            ident, version = str(made["id"]), str(made["updated_at"])
            return self._update(replace(change, external_id=ident, new=False, version=version))
        body: dict[str, Any] = {"kind": change.values.get("kind") or "organisation"}
        body |= party_changes({}, change.values)
        body["external_ids"] = [{"system": self._system, "id": own}]
        key = _idempotency_key(self._spec.name, change.external_id, body)
        try:
            answer = self._http.send(
                "POST", self._http.url(PARTIES), json=body, headers={"Idempotency-Key": key}
            )
        except InvalidFieldError as exc:
            if exc.field != "url":
                raise
            return self._lost(change, own, str(exc))
        if answer.status_code != 201:
            return self._lost(change, own, why(answer))
        party = answer.json()
        return PushResult(str(party["id"]), True, version=str(party["updated_at"]))

    def _lost(self, change: OutboundChange, own: str, error: str) -> PushResult:
        """A create without its answer: the party it made, if it made one (untouched since,
        so it holds what was sent)."""
        made = self._made(own)
        if made is None or made.get("version") != 1:
            return PushResult(change.external_id, False, error=error)
        return PushResult(str(made["id"]), True, version=str(made["updated_at"]))

    def _patch(self, change: OutboundChange, url: str) -> PushResult | httpx.Response:
        read = self._http.send("GET", url)
        if read.status_code == 404:
            return PushResult(change.external_id, False, error="no such party in the other book")
        if read.status_code != 200:
            return PushResult(change.external_id, False, error=why(read))
        party = read.json()
        if _moved(party, change.version):
            return PushResult(change.external_id, False, error=_MOVED)
        if "kind" in change.values and change.values["kind"] != party["kind"]:
            why_not = f"the other book keeps this party's kind ({party['kind']}); change it there"
            return PushResult(change.external_id, False, error=why_not)
        values = {k: v for k, v in change.values.items() if k != "kind"}
        if all(customer_of(party)[k] == v for k, v in values.items()):
            return PushResult(change.external_id, True, version=str(party["updated_at"]))
        body = party_changes(party, values)
        key = _idempotency_key(self._spec.name, f"{change.external_id}-v{party['version']}", body)
        headers = {"If-Match": read.headers.get("ETag", ""), "Idempotency-Key": key}
        return self._http.send("PATCH", url, json=body, headers=headers)

    def _update(self, change: OutboundChange) -> PushResult:
        url = self._http.url(PARTIES, change.external_id)
        done = self._patch(change, url)
        if not isinstance(done, PushResult) and done.status_code == 412:
            done = self._patch(change, url)  # changed there in between: read again, once
        if isinstance(done, PushResult):
            return done
        if done.status_code != 200:
            return PushResult(change.external_id, False, error=why(done))
        return PushResult(change.external_id, True, version=str(done.json()["updated_at"]))

    def push(self, object_type: str, changes: Sequence[OutboundChange]) -> list[PushResult]:
        """One result per change; when the other book cannot be reached, the results of the
        changes sent so far, and the rest failed (they go with the next push)."""
        self._spec.object(object_type)
        results: list[PushResult] = []
        for change in changes:
            try:
                results.append(self._create(change) if change.new else self._update(change))
            except InvalidFieldError as exc:
                if exc.field != "url":
                    raise
                left = changes[len(results) :]
                return results + [PushResult(c.external_id, False, error=str(exc)) for c in left]
        return results

    def close(self) -> None:
        self._http.close()


def _exported_invoice(found: Any, fields: Iterable[str]) -> RemoteChange:
    values = {name: str(found.get(name, "")) for name in fields}
    return RemoteChange(str(found["number"]), "", values)


def _position(cursor: str) -> dict[str, str]:
    """The last party applied (its change time and id) and the next page, if a page of
    the same walk follows."""
    if not cursor:
        return {"since": "", "id": "0", "next": ""}
    try:
        found = json.loads(cursor)
        return {"since": str(found["since"]), "id": str(found["id"]), "next": str(found["next"])}
    except (ValueError, KeyError, TypeError):
        raise InvalidFieldError(
            "cursor", f"not a cursor of a crmledger connector: {cursor[:60]!r}"
        ) from None
