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
     "every_seconds": 300}                                     # the worker pulls every 5 min

``objects`` maps each object type to where its records are (a file pattern, a table),
which column holds the outside id and the version (a timestamp or a counter), and which
column holds each field. ``codes`` maps the outside system's codes to the book's before
anything is written, so a record with an unknown code is refused whole, never half
created. Secrets (a database password, the inbound signing secret) are kept apart,
encrypted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crmledger.core.errors import InvalidFieldError
from crmledger.core.integration.sync_rules import FieldRules
from crmledger.services.sync_records import CUSTOMER_FIELDS

#: Invoice fields compared by reconciliation (``customer`` is the outside customer id).
INVOICE_FIELDS = ("number", "customer", "currency", "total", "status", "issued_on")
OBJECT_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": CUSTOMER_FIELDS,
    "invoice": INVOICE_FIELDS,
}
KINDS = ("folder", "sql")
CODED = ("country", "currency", "payment_terms_days", "lifecycle", "kind", "segment")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")
_OPTIONS = ("path", "url", "schema")


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """Where one object type's records are and which column holds what."""

    name: str
    source: str
    id: str
    version: str
    fields: Mapping[str, str]


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
    every_seconds: int | None = None
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


def _object(name: str, document: Any) -> ObjectSpec:
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
    return ObjectSpec(
        name=name,
        source=_text(f"{where}.source", document.get("source")),
        id=_text(f"{where}.id", document.get("id")),
        version=_text(f"{where}.version", document.get("version"), required=False),
        fields={str(k): _text(f"{where}.fields.{k}", v) for k, v in columns.items()},
    )


def _codes(document: Any) -> dict[str, dict[str, str]]:
    if not isinstance(document, Mapping):
        raise InvalidFieldError("codes", "map each coded field to its code list")
    found: dict[str, dict[str, str]] = {}
    for name, table in document.items():
        if name not in CODED or not isinstance(table, Mapping):
            raise InvalidFieldError(f"codes.{name}", f"code lists exist for {', '.join(CODED)}")
        found[str(name)] = {str(k): _text(f"codes.{name}.{k}", v) for k, v in table.items()}
    return found


def compile_config(name: str, kind: str, document: Mapping[str, Any]) -> ConnectorSpec:
    """The checked spec of a configuration (see the module); secrets come later."""
    if kind not in KINDS:
        raise InvalidFieldError("kind", f"a connector kind is one of {', '.join(KINDS)}")
    objects = document.get("objects")
    if not isinstance(objects, Mapping) or not objects:
        raise InvalidFieldError("objects", "name at least one object type and its columns")
    options = {k: _text(k, document[k]) for k in _OPTIONS if k in document}
    prefix = _text("id_prefix", document.get("id_prefix", "CL-"))
    return ConnectorSpec(
        name=check_name(name),
        kind=kind,
        objects={str(k): _object(str(k), v) for k, v in objects.items()},
        options=options,
        codes=_codes(document.get("codes", {})),
        rules=FieldRules.parse(document.get("rules", {}), CUSTOMER_FIELDS),
        push=bool(document.get("push", False)),
        push_new=bool(document.get("push_new", False)),
        id_prefix=prefix,
        every_seconds=_every(document.get("every_seconds")),
    )


def _every(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 86_400 * 31:
        raise InvalidFieldError("every_seconds", "run every 1 second to 31 days, in seconds")
    return value


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
