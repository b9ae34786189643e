"""The REST connector: any JSON API that lists records page by page and takes them back by
``POST`` / ``PATCH`` / ``PUT``, mapped field by field with small JSON paths.

A run asks ``GET {url}/{source}`` for the records changed since the highest version it saw
last (``since_param``), follows the pages (page numbers, a cursor read from the body, or
the ``Link: <...>; rel="next"`` header) and keeps, as its cursor, that version and the ids
seen at it, so the record at the boundary is not applied twice. The token comes from the
connector's secrets and goes out as ``Authorization: Bearer ...`` or in a header of its
own (``auth: api_key``); a redirect to another host is refused before anything is sent::

    {"url": "https://crm.example.com/api", "auth": "bearer",
     "objects": {"customer": {"source": "customers", "id": "id", "version": "updated_at",
                              "fields": {"name": "company", "email": "emails[0].value",
                                         "city": "billing.address.city"},
                              "items": "data", "since_param": "updated_since",
                              "pagination": {"style": "page", "size_param": "per_page"}}},
     "push": true, "push_new": true}

    connector = RestConnector(spec)              # spec.secrets["token"] = "..."
    page = connector.fetch("customer", "", 100)  # GET /api/customers?per_page=100&page=1

Pushing a change reads the record (``GET {source}/{id}``), sets the changed fields at their
paths (numbers and booleans keep their JSON type) and sends it back: ``PATCH`` with the
changed top-level members, or ``PUT`` with the whole record, with ``If-Match`` when the
record came with an ``ETag``. A new record is ``POST``-ed with an ``Idempotency-Key`` made of
the connector, the record and a hash of the body (a retry after a crash is answered with
the record the first attempt made, where the API honours the key), or ``PUT`` to
``{source}/{id}`` under the id crmledger gave it (``"create": "PUT"``). Each record's result
comes from its status code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from crmledger.core.errors import InvalidFieldError
from crmledger.core.integration.json_paths import MISSING, parse_path, value_at, with_value
from crmledger.services.read_ahead import ReadAhead
from crmledger.services.sync_config import ConnectorSpec, HttpObject, ObjectSpec
from crmledger.services.sync_ports import OutboundChange, Page, PushResult, RemoteChange

#: Seconds to connect, and to wait for each read or write.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
#: Bytes read at once from a streamed answer.
LINE_BLOCK = 1 << 16
#: Blocks of a streamed answer read ahead at most (64 MiB).
AHEAD_BLOCKS = 1024
#: Ids kept in the cursor that were seen at its version (the boundary of the next run).
SEEN_AT_TOP = 200


def text_of(value: Any) -> str:
    """A JSON value as the text the sync compares (``""`` for null or no value)."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _typed(current: Any, text: str) -> Any:
    """``text`` as the JSON type the record holds at that place now."""
    if text == "":
        return None
    try:
        if isinstance(current, bool):
            return text.lower() in ("true", "1", "yes")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
    except ValueError:
        return text
    return text


def _order(version: str) -> tuple[int, float, str]:
    """A sort key of a version: counters by number, timestamps by time, else by text."""
    if version.isdigit():
        return 0, float(version), ""
    try:
        stamp = datetime.fromisoformat(version)
    except ValueError:
        return 2, 0.0, version
    return 1, (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp(), ""


def why(response: httpx.Response) -> str:
    """A short reason from a refused request: its status and the body's own words."""
    detail = response.text[:300]
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        found = body.get("detail") or body.get("message") or body.get("error") or ""
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            found = f"{first.get('field', '')}: {first.get('message', '')}".strip(": ")
        detail = text_of(found) or detail
    return f"{response.status_code} {response.reason_phrase}: {detail}".rstrip(": ")


class HttpSession:
    """An HTTP client held to one origin (a base URL checked by
    :func:`~crmledger.services.sync_config.compile_config`): timeouts and the auth header on
    every request, redirects followed only within the origin, and failures turned into
    errors that name the field to fix (``url``, ``token``)."""

    def __init__(self, base_url: str, headers: Mapping[str, str]) -> None:
        if not base_url:
            raise InvalidFieldError("url", "give the https:// address of the other system")
        self.base = base_url.rstrip("/")
        self._origin = httpx.URL(self.base).copy_with(path="/", query=None, fragment=None)
        self._headers = dict(headers)
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                headers=self._headers,
                timeout=TIMEOUT,
                follow_redirects=True,
                max_redirects=5,
                event_hooks={"request": [self._same_origin]},
            )
        return self._client

    def _same_origin(self, request: httpx.Request) -> None:
        url = request.url
        if (url.scheme, url.host, url.port) != (
            self._origin.scheme,
            self._origin.host,
            self._origin.port,
        ):
            raise InvalidFieldError(
                "url", f"{self.base} sent the request on to {url.scheme}://{url.host}; refused"
            )

    def url(self, path: str, ident: str = "") -> str:
        """The address of ``path`` under the base URL, and of the record ``ident`` there."""
        found = f"{self.base}/{quote(path.strip('/'), safe='/')}"
        return f"{found}/{quote(ident, safe='')}" if ident else found

    def send(self, method: str, url: str, **options: Any) -> httpx.Response:
        """One request; a refused token or an unreachable system is an error."""
        try:
            response = self.client.request(method, url, **options)
        except httpx.TimeoutException:
            raise InvalidFieldError("url", f"{url} did not answer in time") from None
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            raise InvalidFieldError("url", f"cannot reach {url}: {reason}") from None
        if response.status_code == 401:
            raise InvalidFieldError(
                "token", f"{self.base} refused the token ({why(response)}); set the right one"
            )
        return response

    def json(self, method: str, url: str, **options: Any) -> tuple[Any, httpx.Response]:
        """The JSON body of a request that must succeed, and its response."""
        response = self.send(method, url, **options)
        if not response.is_success:
            raise InvalidFieldError("url", f"{method} {url}: {why(response)}")
        try:
            return response.json(), response
        except ValueError:
            raise InvalidFieldError("url", f"{method} {url} answered no JSON") from None

    def lines(self, url: str, **options: Any) -> Iterator[bytes]:
        """The lines of a ``GET`` that must succeed (newline-delimited JSON), never held
        whole: a thread reads up to :data:`AHEAD_BLOCKS` blocks ahead of the reader, so the
        other system goes on sending while the reader does something else."""
        try:
            with self.client.stream("GET", url, **options) as response:
                if response.status_code == 401 or not response.is_success:
                    response.read()
                    self._refused("GET", url, response)
                rest = b""
                with ReadAhead(response.iter_bytes(LINE_BLOCK), AHEAD_BLOCKS, batch=1) as blocks:
                    for block in blocks:
                        *done, rest = (rest + block).split(b"\n")
                        yield from (line for line in done if line)
                if rest.strip():
                    yield rest
        except httpx.TimeoutException:
            raise InvalidFieldError("url", f"{url} did not answer in time") from None
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            raise InvalidFieldError("url", f"cannot reach {url}: {reason}") from None

    def _refused(self, method: str, url: str, response: httpx.Response) -> None:
        if response.status_code == 401:
            raise InvalidFieldError(
                "token", f"{self.base} refused the token ({why(response)}); set the right one"
            )
        raise InvalidFieldError("url", f"{method} {url}: {why(response)}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@dataclass(frozen=True, slots=True)
class _Walk:
    """Where a pull is: the version it starts after and the ids seen at that version, and
    while it walks the pages, the next page and the highest version met so far."""

    since: str = ""
    seen: tuple[str, ...] = ()
    next: str = ""
    top: str = ""
    at_top: tuple[str, ...] = ()

    @classmethod
    def of(cls, cursor: str) -> _Walk:
        if not cursor:
            return cls()
        try:
            found = json.loads(cursor)
            walk = cls(
                str(found["since"]),
                tuple(str(i) for i in found["seen"]),
                str(found.get("next", "")),
                str(found.get("top", "")),
                tuple(str(i) for i in found.get("at_top", ())),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidFieldError(
                "cursor", f"not a cursor of a rest connector: {cursor[:60]!r}"
            ) from None
        return walk if walk.next else replace(walk, top=walk.since, at_top=walk.seen)

    def met(self, change: RemoteChange) -> _Walk:
        if not change.version:
            return self
        if not self.top or _order(change.version) > _order(self.top):
            return replace(self, top=change.version, at_top=(change.external_id,))
        if change.version == self.top and len(self.at_top) < SEEN_AT_TOP:
            return replace(self, at_top=(*self.at_top, change.external_id))
        return self

    def done(self, following: str) -> _Walk:
        if following:
            return replace(self, next=following)
        return _Walk(since=self.top, seen=self.at_top)

    def text(self) -> str:
        body: dict[str, Any] = {"since": self.since, "seen": list(self.seen)}
        if self.next:
            body |= {"next": self.next, "top": self.top, "at_top": list(self.at_top)}
        return json.dumps(body, sort_keys=True)


@dataclass(frozen=True, slots=True)
class _Fetched:
    """The records of one page, and the next page (``""``: the last)."""

    records: list[Any]
    following: str


class RestConnector:
    """A :class:`~crmledger.services.sync_ports.Connector` over a JSON API."""

    def __init__(self, spec: ConnectorSpec) -> None:
        token = spec.secrets.get("token")
        if not token:
            raise InvalidFieldError("token", "a rest connector needs the API token in its secrets")
        if spec.options.get("auth", "bearer") == "bearer":
            header = {"Authorization": f"Bearer {token}"}
        else:
            header = {spec.options.get("auth_header", "X-API-Key"): token}
        self._http = HttpSession(
            spec.options.get("url", ""), header | {"Accept": "application/json"}
        )
        self._spec = spec

    def _object(self, object_type: str) -> tuple[ObjectSpec, HttpObject]:
        spec = self._spec.object(object_type)
        assert spec.http is not None  # compiled for a rest connector
        return spec, spec.http

    def _change(self, spec: ObjectSpec, record: Any) -> RemoteChange:
        values = {}
        for name, path in spec.fields.items():
            found = value_at(record, parse_path(path))
            if found is not MISSING:
                values[name] = text_of(found)
        ident = text_of(value_at(record, parse_path(spec.id)))
        version = text_of(value_at(record, parse_path(spec.version))) if spec.version else ""
        return RemoteChange(ident, version, values)

    def _page(self, spec: ObjectSpec, http: HttpObject, walk: _Walk, limit: int) -> _Fetched:
        params: dict[str, str | int] = {}
        url = self._http.url(spec.source)
        if http.paging == "link" and walk.next:
            url = walk.next
        else:
            if http.size_param:
                params[http.size_param] = limit
            if http.since_param and walk.since:
                params[http.since_param] = walk.since
            if http.paging == "page":
                params[http.param] = int(walk.next or 1)
            elif walk.next:
                params[http.param] = walk.next
        body, response = self._http.json("GET", url, params=params or None)
        records = value_at(body, parse_path(http.items))
        if not isinstance(records, list):
            where = http.items or "the top"
            raise InvalidFieldError("items", f"{url} answered no list of records at {where}")
        return _Fetched(records, self._following(http, walk, body, response, len(records), limit))

    @staticmethod
    def _following(
        http: HttpObject, walk: _Walk, body: Any, response: httpx.Response, count: int, limit: int
    ) -> str:
        if http.paging == "page":
            full = count >= limit if http.size_param else count > 0
            return str(int(walk.next or 1) + 1) if full else ""
        if count == 0:
            return ""
        if http.paging == "cursor":
            found = text_of(value_at(body, parse_path(http.next)))
            return "" if found == walk.next else found
        link = response.links.get("next", {}).get("url")
        return str(response.url.join(link)) if link else ""

    def fetch(self, object_type: str, cursor: str, limit: int) -> Page:
        spec, http = self._object(object_type)
        walk = _Walk.of(cursor)
        fetched = self._page(spec, http, walk, limit)
        changes = []
        for record in fetched.records:
            change = self._change(spec, record)
            if change.version == walk.since and change.external_id in walk.seen:
                continue  # applied by the run that left the cursor here
            changes.append(change)
            walk = walk.met(change)
        after = walk.done(fetched.following)
        if not changes and after == _Walk.of(cursor):
            return Page((), cursor)
        return Page(tuple(changes), after.text(), more=bool(fetched.following))

    def snapshot(self, object_type: str) -> Iterator[RemoteChange]:
        spec, http = self._object(object_type)
        walk = _Walk()
        while True:
            fetched = self._page(spec, replace(http, since_param=""), walk, 500)
            for record in fetched.records:
                yield self._change(spec, record)
            if not fetched.following:
                return
            walk = replace(walk, next=fetched.following)

    # -- push ----------------------------------------------------------------------------

    def _body(self, spec: ObjectSpec, current: Any, values: Mapping[str, str]) -> Any:
        body = current
        for name, text in values.items():
            path = parse_path(spec.fields[name])
            body = with_value(body, path, _typed(value_at(current, path), text))
        return body

    def _create(self, spec: ObjectSpec, http: HttpObject, change: OutboundChange) -> PushResult:
        body = self._body(spec, {}, {k: v for k, v in change.values.items() if v})
        if http.create == "PUT":
            body = with_value(body, parse_path(spec.id), change.external_id)
            url = self._http.url(spec.source, change.external_id)
            response = self._http.send("PUT", url, json=body)
        else:
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            key = f"crmledger-{self._spec.name}-{change.external_id}-{digest[:16]}"
            headers = {"Idempotency-Key": key}
            response = self._http.send(
                "POST", self._http.url(spec.source), json=body, headers=headers
            )
        return self._answer(spec, change, response)

    def _update(self, spec: ObjectSpec, http: HttpObject, change: OutboundChange) -> PushResult:
        url = self._http.url(spec.source, change.external_id)
        read = self._http.send("GET", url)
        if read.status_code == 404:
            return PushResult(change.external_id, False, error="no such record outside")
        if not read.is_success:
            return PushResult(change.external_id, False, error=why(read))
        try:
            current = read.json()
        except ValueError:
            current = None
        if not isinstance(current, dict):
            return PushResult(change.external_id, False, error=f"GET {url} answered no record")
        after = self._body(spec, current, change.values)
        if http.update == "PATCH":
            after = {k: v for k, v in after.items() if current.get(k, MISSING) != v}
        headers = {"If-Match": read.headers["ETag"]} if "ETag" in read.headers else {}
        response = self._http.send(http.update, url, json=after, headers=headers)
        return self._answer(spec, change, response)

    def _answer(
        self, spec: ObjectSpec, change: OutboundChange, response: httpx.Response
    ) -> PushResult:
        if response.status_code == 412:
            return PushResult(
                change.external_id, False, error=f"changed outside meanwhile: {why(response)}"
            )
        if not response.is_success:
            return PushResult(change.external_id, False, error=why(response))
        try:
            record = response.json()
        except ValueError:
            record = None
        ident = change.external_id
        if change.new and isinstance(record, dict):
            ident = text_of(value_at(record, parse_path(spec.id))) or ident
        elif change.new and "Location" in response.headers:
            ident = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1] or ident
        version = ""
        if spec.version and isinstance(record, dict):
            version = text_of(value_at(record, parse_path(spec.version)))
        return PushResult(ident, True, version=version)

    def push(self, object_type: str, changes: Sequence[OutboundChange]) -> list[PushResult]:
        spec, http = self._object(object_type)
        results = []
        for change in changes:
            if change.new:
                results.append(self._create(spec, http, change))
            else:
                results.append(self._update(spec, http, change))
        return results

    def close(self) -> None:
        self._http.close()
