"""A connector's configuration, checked once when it is saved and compiled for each run.

::

    {"path": "/srv/drop",                                      # a folder connector
     "objects": {"customer": {"source": "customers*.csv", "id": "CustomerNo",
                              "version": "UpdatedAt",
                              "fields": {"name": "Company", "email": "Mail",
                                         "country": "Land"}}},
     "codes": {"country": {"Deutschland": "DE", "Österreich": "AT"}},
     "rules": {"default": "newest", "fields": {"email": "review"}},
     "push": false,
     "schedule": "*/5 * * * *",                                # the worker pulls every 5 min
     "rate_per_second": 50}                                    # at most 50 records a second

``schedule`` is a cron expression in UTC (``every_seconds`` a plain interval instead) and
``rate_per_second`` caps the records a run reads or writes (see
:mod:`crmledger.services.sync_schedule`). ``objects`` maps each object type to where its
records are (a file pattern, a table, an endpoint), which column holds the outside id and
the version (a timestamp or a counter), and which column holds each field. ``codes`` maps
the outside system's codes to the book's before anything is written, so a record with an
unknown code is refused whole, never half created. Secrets (a database password, an API
token, the inbound signing secret) are kept apart, encrypted.

A ``rest`` connector names columns by JSON paths (``billing.address.city``,
``emails[0].value``) and says per object type how its pages go and how it writes::

    {"url": "https://crm.example.com/api", "auth": "api_key", "auth_header": "X-Api-Key",
     "objects": {"customer": {"source": "customers", "id": "id", "version": "updated_at",
                              "fields": {"name": "company.name", "email": "emails[0].value"},
                              "items": "data",
                              "pagination": {"style": "cursor", "next": "meta.next",
                                             "size_param": "limit"},
                              "since_param": "updated_since", "update": "PATCH"}}}

An ``export`` connector writes the whole ledger to a file on its schedule, for Beancount,
ledger-cli or hledger (or as entries CSV), replacing the file in one rename::

    {"path": "/srv/books/book.beancount", "format": "beancount", "schedule": "0 2 * * *"}

A ``crmledger`` connector reaches another crmledger book and needs no columns: its
customers are that book's parties (``fields`` narrows which fields are synced), its
invoices that book's issued invoices (reconciled, never written)::

    {"url": "https://books.example.com", "system": "crmledger-hq", "fields": ["name", "email"]}
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from crmledger.core.errors import InvalidFieldError
from crmledger.core.integration.json_paths import parse_path
from crmledger.core.integration.sync_rules import FieldRules
from crmledger.services.sync_records import CUSTOMER_FIELDS
from crmledger.services.sync_schedule import Schedule, parse_rate, parse_schedule

#: Invoice fields compared by reconciliation (``customer`` is the outside customer id).
INVOICE_FIELDS = ("number", "customer", "currency", "total", "status", "issued_on")
OBJECT_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": CUSTOMER_FIELDS,
    "invoice": INVOICE_FIELDS,
}
KINDS = ("folder", "sql", "rest", "crmledger", "export")
#: The one object an ``export`` connector has: the whole ledger.
LEDGER = "ledger"
#: What an ``export`` connector writes the ledger as.
EXPORT_FORMATS = ("beancount", "ledger", "entries")
CODED = ("country", "currency", "payment_terms_days", "lifecycle", "kind", "segment")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")
_OPTIONS = ("path", "url", "schema", "auth", "auth_header", "system", "format")
#: Pagination styles of a ``rest`` connector and the query parameter each sends.
PAGING = {"page": "page", "cursor": "cursor", "link": ""}
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
_PARAM = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,64}$")
_SYSTEM = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")


@dataclass(frozen=True, slots=True)
class HttpObject:
    """How a ``rest`` connector pages through one object type and writes it back:
    ``items`` is the JSON path of the records in a page (``""``: the body is the list),
    ``paging`` is ``page`` (page numbers in ``param``), ``cursor`` (the cursor at the path
    ``next`` goes back in ``param``) or ``link`` (the ``Link`` header's ``rel="next"``);
    ``size_param`` carries the page size and ``since_param`` the version a run starts
    after (both left out when empty); new records are created by ``POST {source}`` or
    ``PUT {source}/{id}``, changes sent by ``PATCH`` or ``PUT {source}/{id}``."""

    items: str = ""
    paging: str = "page"
    param: str = "page"
    next: str = ""
    size_param: str = ""
    since_param: str = ""
    create: str = "POST"
    update: str = "PATCH"


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """Where one object type's records are and which column holds what."""

    name: str
    source: str
    id: str
    version: str
    fields: Mapping[str, str]
    http: HttpObject | None = None


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """A compiled connector configuration (secrets included when it is run)."""

    name: str
    kind: str
    objects: Mapping[str, ObjectSpec]
    options: Mapping[str, str] = field(default_factory=dict)
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rules: FieldRules = field(default_factory=FieldRules)
    push: bool = False
    push_new: bool = False
    id_prefix: str = "CL-"
    schedule: Schedule | None = None
    rate_per_second: float | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)

    def object(self, name: str) -> ObjectSpec:
        """The spec of object type ``name``; refused when the connector has none."""
        found = self.objects.get(name)
        if found is None:
            raise InvalidFieldError("object_type", f"connector {self.name} syncs no {name}")
        return found


def check_name(name: str) -> str:
    """A connector name: lower-case letters, digits, ``_`` and ``-``, up to 50."""
    if not _NAME.match(name):
        raise InvalidFieldError("name", "a connector name is a-z, 0-9, _ or -, up to 50")
    return name


def _text(where: str, value: Any, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > 500:
        raise InvalidFieldError(where, "give a text of at most 500 characters")
    return value


def _object(name: str, document: Any, kind: str) -> ObjectSpec:
    where = f"objects.{name}"
    if name not in OBJECT_FIELDS:
        raise InvalidFieldError(where, f"unknown object type (known: {', '.join(OBJECT_FIELDS)})")
    if not isinstance(document, Mapping):
        raise InvalidFieldError(where, "describe the object type as a mapping")
    columns = document.get("fields", {})
    if not isinstance(columns, Mapping) or not columns:
        raise InvalidFieldError(f"{where}.fields", "map at least one field to a column")
    for key in columns:
        if key not in OBJECT_FIELDS[name]:
            raise InvalidFieldError(f"{where}.fields.{key}", f"{name} has no field {key!r}")
    spec = ObjectSpec(
        name=name,
        source=_text(f"{where}.source", document.get("source")),
        id=_text(f"{where}.id", document.get("id")),
        version=_text(f"{where}.version", document.get("version"), required=False),
        fields={str(k): _text(f"{where}.fields.{k}", v) for k, v in columns.items()},
    )
    if kind != "rest":
        return spec
    if "://" in spec.source or spec.source.startswith("//") or "?" in spec.source:
        raise InvalidFieldError(f"{where}.source", "the endpoint's path under the URL, no query")
    parse_path(spec.id, f"{where}.id")
    parse_path(spec.version, f"{where}.version")
    for key, path in spec.fields.items():
        parse_path(path, f"{where}.fields.{key}")
    return replace(spec, http=_http_object(where, document))


def _choice(where: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidFieldError(where, f"{value!r} is not one of {', '.join(choices)}")
    return str(value)


def _param(where: str, value: Any, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not _PARAM.match(value):
        raise InvalidFieldError(where, "a query parameter name: letters, digits, _ . - [ ]")
    return value


def _http_object(where: str, document: Mapping[str, Any]) -> HttpObject:
    paging = document.get("pagination", {})
    if not isinstance(paging, Mapping):
        raise InvalidFieldError(f"{where}.pagination", "describe the pagination as a mapping")
    style = _choice(f"{where}.pagination.style", paging.get("style", "page"), tuple(PAGING))
    if style == "cursor" and not paging.get("next"):
        raise InvalidFieldError(f"{where}.pagination.next", "the JSON path of the next cursor")
    following = _text(f"{where}.pagination.next", paging.get("next"), required=False)
    if following and style != "cursor":
        raise InvalidFieldError(f"{where}.pagination.next", "only cursor pagination reads one")
    items = _text(f"{where}.items", document.get("items", ""), required=False)
    parse_path(items, f"{where}.items")
    parse_path(following, f"{where}.pagination.next")
    return HttpObject(
        items=items,
        paging=style,
        param=_param(f"{where}.pagination.param", paging.get("param"), PAGING[style]),
        next=following,
        size_param=_param(f"{where}.pagination.size_param", paging.get("size_param")),
        since_param=_param(f"{where}.since_param", document.get("since_param")),
        create=_choice(f"{where}.create", document.get("create", "POST"), ("POST", "PUT")),
        update=_choice(f"{where}.update", document.get("update", "PATCH"), ("PATCH", "PUT")),
    )


def _crmledger_objects(document: Mapping[str, Any]) -> dict[str, ObjectSpec]:
    """The object types of a ``crmledger`` connector: the other book's parties (synced),
    and its issued invoices (compared by reconciliation)."""
    if "objects" in document:
        raise InvalidFieldError("objects", 'a crmledger connector syncs its parties: name "fields"')
    names = document.get("fields", list(CUSTOMER_FIELDS))
    if not isinstance(names, list) or not names:
        raise InvalidFieldError("fields", "list the customer fields to sync")
    for index, name in enumerate(names):
        if name not in CUSTOMER_FIELDS:
            raise InvalidFieldError(f"fields[{index}]", f"customer has no field {name!r}")
    fields = {str(n): str(n) for n in names}
    invoices = {n: n for n in INVOICE_FIELDS}
    return {
        "customer": ObjectSpec("customer", "parties", "id", "updated_at", fields),
        "invoice": ObjectSpec("invoice", "invoices", "number", "", invoices),
    }


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidFieldError("url", "give the https:// address of the other system")
    if parts.username or parts.password:
        raise InvalidFieldError("url", "keep the token in the secrets, not in the URL")
    if parts.query or parts.fragment:
        raise InvalidFieldError("url", "the base URL takes no query or fragment")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise InvalidFieldError("url", "use https: a token must not travel in clear")
    return text.rstrip("/")


def _http_options(kind: str, options: dict[str, str]) -> dict[str, str]:
    if "url" not in options:
        raise InvalidFieldError("url", f"a {kind} connector needs the other system's URL")
    options["url"] = _base_url(options["url"])
    if kind == "rest":
        options["auth"] = _choice("auth", options.get("auth", "bearer"), ("bearer", "api_key"))
        header = options.setdefault("auth_header", "X-API-Key")
        if not _HEADER.match(header):
            raise InvalidFieldError("auth_header", f"{header!r} is no HTTP header name")
    else:
        system = options.setdefault("system", "crmledger")
        if not _SYSTEM.match(system):
            raise InvalidFieldError("system", "a system name is a-z, 0-9, _ . or -, up to 50")
    return options


def _codes(document: Any) -> dict[str, dict[str, str]]:
    if not isinstance(document, Mapping):
        raise InvalidFieldError("codes", "map each coded field to its code list")
    found: dict[str, dict[str, str]] = {}
    for name, table in document.items():
        if name not in CODED or not isinstance(table, Mapping):
            raise InvalidFieldError(f"codes.{name}", f"code lists exist for {', '.join(CODED)}")
        found[str(name)] = {str(k): _text(f"codes.{name}.{k}", v) for k, v in table.items()}
    return found


def _export_options(options: dict[str, str]) -> dict[str, str]:
    path = options.get("path", "")
    if not path.startswith("/"):
        raise InvalidFieldError(
            "path", "an export writes to an absolute path, like /srv/book.beancount"
        )
    if options.get("format") not in EXPORT_FORMATS:
        raise InvalidFieldError("format", f"an export writes {', '.join(EXPORT_FORMATS)}")
    return options


def _objects(kind: str, document: Mapping[str, Any]) -> dict[str, ObjectSpec]:
    if kind == "export":
        return {LEDGER: ObjectSpec(LEDGER, "", "", "", {})}
    if kind == "crmledger":
        return _crmledger_objects(document)
    objects = document.get("objects")
    if not isinstance(objects, Mapping) or not objects:
        raise InvalidFieldError("objects", "name at least one object type and its columns")
    return {str(k): _object(str(k), v, kind) for k, v in objects.items()}


def compile_config(name: str, kind: str, document: Mapping[str, Any]) -> ConnectorSpec:
    """The checked spec of a configuration (see the module); secrets come later."""
    if kind not in KINDS:
        raise InvalidFieldError("kind", f"a connector kind is one of {', '.join(KINDS)}")
    objects = _objects(kind, document)
    options = {k: _text(k, document[k]) for k in _OPTIONS if k in document}
    if kind in ("rest", "crmledger"):
        options = _http_options(kind, options)
    if kind == "export":
        options = _export_options(options)
    prefix = _text("id_prefix", document.get("id_prefix", "CL-"))
    return ConnectorSpec(
        name=check_name(name),
        kind=kind,
        objects=objects,
        options=options,
        codes=_codes(document.get("codes", {})),
        rules=FieldRules.parse(document.get("rules", {}), CUSTOMER_FIELDS),
        push=bool(document.get("push", False)),
        push_new=bool(document.get("push_new", False)),
        id_prefix=prefix,
        schedule=parse_schedule(document.get("schedule"), document.get("every_seconds")),
        rate_per_second=parse_rate(document.get("rate_per_second")),
    )


def coded(spec: ConnectorSpec, values: Mapping[str, str]) -> dict[str, str]:
    """``values`` with each coded field translated by the connector's code lists (a value
    the list does not hold passes as it is, and the book's normalisers then refuse it
    unless it is one of the book's own codes)."""
    found = dict(values)
    for name, table in spec.codes.items():
        value = found.get(name)
        if value:
            found[name] = table.get(value, value)
    return found
