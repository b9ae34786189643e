"""Drafting a mapping from a source's headers and a sample of its values.

Headers are matched against the spellings each canonical field goes by (English, German
and legacy upper-case exports: ``E-Mail``, ``PLZ``, ``KUNDENNR``); columns no header
explains are judged by their values (emails, phones, dates). Dates get the format their
values are written in, numbers with a decimal comma the locale that reads them, and a
country column whose values the cleaner cannot read gets a note listing them::

    draft = suggest(CsvSource("erp", Path("kunden.csv")))
    print(draft.yaml())
    # fields:
    #   external_id: KUNDENNR          # header
    #   birth_date: {from: GEBDAT, date: "%d.%m.%Y"}   # header; dates like 31.12.1970

The draft is a starting point: :func:`crmledger.fusion.mapping.load_mapping` checks it
like any other mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from crmledger.fusion import normalise
from crmledger.fusion.mapping import FIELDS
from crmledger.fusion.normalise import InvalidValueError
from crmledger.fusion.profile import kind_of
from crmledger.fusion.records import SourceRecord
from crmledger.fusion.sources import Source

SAMPLE = 500

#: Field -> the header spellings it goes by (compared without case and punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "id",
        "customer id",
        "customer number",
        "customer no",
        "kundennr",
        "kundennummer",
        "kunden nr",
        "debitor",
        "debitorennr",
        "account number",
        "cust no",
        "custno",
        "client id",
        "number",
    ),
    "kind": ("type", "kind", "party type", "anrede", "salutation", "customer type"),
    "display_name": (
        "company",
        "company name",
        "organisation",
        "organization",
        "firma",
        "firmenname",
        "account name",
        "display name",
    ),
    "legal_name": ("legal name", "registered name"),
    "full_name": (
        "name",
        "name1",
        "full name",
        "customer",
        "customer name",
        "kunde",
        "contact name",
    ),
    "given_name": ("first", "first name", "firstname", "given name", "forename", "vorname"),
    "family_name": ("last", "last name", "lastname", "surname", "family name", "nachname"),
    "email": ("email", "e mail", "mail", "email address", "e mail adresse"),
    "phone": ("phone", "telephone", "tel", "telefon", "phone number", "telefonnummer"),
    "mobile": ("mobile", "cell", "handy", "mobil", "mobile phone"),
    "street": ("street", "address", "strasse", "straße", "address line 1", "street address"),
    "street2": ("address line 2", "street2", "zusatz"),
    "postcode": ("zip", "zip code", "postcode", "postal code", "plz", "postleitzahl"),
    "city": ("city", "town", "ort", "stadt"),
    "region": ("state", "province", "region", "county", "bundesland"),
    "country": ("country", "country code", "land", "staat"),
    "tax_id": (
        "vat",
        "vat id",
        "vat number",
        "tax id",
        "tax number",
        "ustid",
        "ust id",
        "steuernummer",
    ),
    "iban": ("iban", "bank account"),
    "website": ("website", "web", "url", "homepage"),
    "birth_date": ("birthday", "birth date", "date of birth", "dob", "geburtsdatum", "gebdat"),
    "currency": ("currency", "waehrung", "währung"),
    "language": ("language", "lang", "sprache"),
    "payment_terms_days": ("payment terms", "terms", "zahlungsziel", "net days"),
    "credit_limit": ("credit limit", "kreditlimit", "limit"),
    "segment": ("segment", "industry", "branche"),
    "updated_at": (
        "updated",
        "updated at",
        "last modified",
        "changed",
        "aenderung",
        "geaendert",
        "modified",
    ),
}
_NOT_ALNUM = re.compile(r"[^0-9a-zß]+")
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y%m%d", "%d.%m.%y")
_BY_VALUE = {"email": "email", "phone": "phone"}


def header_key(text: str) -> str:
    """``"E-Mail Address"`` -> ``"emailaddress"``."""
    return _NOT_ALNUM.sub("", text.casefold())


@dataclass
class Suggestion:
    """A drafted mapping: rule per field, the reason for each, the columns left out."""

    source: str
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)

    def yaml(self) -> str:
        """The draft as YAML with a comment per field saying why."""
        lines = [f"# mapping drafted for {self.source}; check it before running", "fields:"]
        for name, rule in self.fields.items():
            text = _flow(rule)
            note = self.notes.get(name, "")
            lines.append(f"  {name}: {text}" + (f"  # {note}" if note else ""))
        if self.unmapped:
            lines.append("# not mapped: " + ", ".join(self.unmapped))
        return "\n".join(lines) + "\n"


def _scalar(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _flow(rule: dict[str, Any]) -> str:
    if list(rule) == ["from"]:
        return _scalar(rule["from"])
    parts = []
    for key, value in rule.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in value.items())
            parts.append(f"{key}: {{{inner}}}")
        else:
            parts.append(f"{key}: {_scalar(value)}")
    return "{" + ", ".join(parts) + "}"


def _by_header(header: str) -> str | None:
    key = header_key(header)
    for name, spellings in ALIASES.items():
        if key == header_key(name) or key in (header_key(s) for s in spellings):
            return name
    return None


def date_format(values: Sequence[str]) -> str | None:
    """The first format every sampled value parses in (ISO when they are ISO)."""
    for fmt in DATE_FORMATS:
        try:
            for value in values:
                datetime.strptime(value.strip()[:10], fmt)  # noqa: DTZ007 (shape only)
        except ValueError:
            continue
        return fmt
    return None


def _values(records: Sequence[SourceRecord], column: str) -> list[str]:
    return [v for r in records if (v := r.raw.get(column)) is not None]


def _refine(draft: Suggestion, name: str, column: str, values: list[str]) -> None:
    rule = draft.fields[name]
    kind = FIELDS[name]
    if kind == "date" and values:
        fmt = date_format(values)
        if fmt and fmt != "%Y-%m-%d":
            rule["date"] = fmt
            draft.notes[name] += f"; dates like {values[0].strip()}"
    if kind in ("int", "decimal") and any("," in v and "." not in v for v in values):
        rule["number"] = "de_DE"
    if name == "country":
        unknown = sorted({v.strip() for v in values if not _country_ok(v)})
        if unknown:
            draft.notes[name] += "; map these values: " + ", ".join(unknown[:8])
    if name == "kind" and values:
        found = sorted({v.strip() for v in values})[:8]
        draft.notes[name] += "; map its values to organisation/person: " + ", ".join(found)


def _country_ok(value: str) -> bool:
    try:
        normalise.country(value)
    except InvalidValueError:
        return False
    return True


def _by_values(values: list[str]) -> str | None:
    if len(values) < 3:
        return None
    kinds = [kind_of(v) for v in values]
    for kind, name in _BY_VALUE.items():
        if kinds.count(kind) / len(kinds) >= 0.9:
            return name
    return None


def suggest(source: Source, sample: int = SAMPLE) -> Suggestion:
    """A drafted mapping for ``source`` from its headers and its first ``sample`` rows."""
    records = [r for chunk in islice(source.chunks(sample), 1) for r in chunk]
    return suggest_from(source.name, source.columns(), records)


def suggest_from(name: str, columns: Sequence[str], records: Sequence[SourceRecord]) -> Suggestion:
    """:func:`suggest` on headers and records already read."""
    draft = Suggestion(name)
    for column in columns:
        values = _values(records, column)
        target, why = _by_header(column), "header"
        if target is None:
            target, why = _by_values(values), "values"
        if target is None or target in draft.fields:
            draft.unmapped.append(column)
            continue
        draft.fields[target] = {"from": column}
        draft.notes[target] = why
        _refine(draft, target, column, values)
    if "full_name" in draft.fields and {"given_name", "family_name"} <= set(draft.fields):
        draft.unmapped.append(str(draft.fields.pop("full_name")["from"]))
    return draft
