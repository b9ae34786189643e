"""Declarative mappings: which source column feeds which canonical field, and how.

A mapping is YAML, one per source, checked before any record is read::

    fields:
      external_id: KUNDENNR
      kind: {value: organisation}
      display_name: {from: NAME1, transforms: [trim, title]}
      street: {from: [STRASSE, HAUSNR], join: " "}
      given_name: {from: NAME, split: " ", part: 0}
      country: {from: LAND, map: {Deutschland: DE, Schweiz: CH}, default: DE}
      birth_date: {from: GEBDAT, date: "%d.%m.%Y"}
      credit_limit: {from: LIMIT, number: de_DE}
      payment_terms_days: {from: ZAHLZIEL, map: {"14 Tage netto": 14, sofort: 0}}

A rule is a column name, or a map with ``from`` (a column or a list joined with ``join``,
default one space) or ``value`` (a constant), then in this order: ``split`` / ``part``,
``transforms`` (:data:`TRANSFORMS`), ``map`` (master data: the cell, trimmed and
case-folded, to a value; ``map_default`` for cells the map lacks), ``default`` (for empty
cells) and the field's type: ``date`` (a ``strftime`` format, or ``{locale: de_DE}`` for
the locale's short form; ISO without one), ``number`` (a locale, ``de_DE`` reads
``1.234,50``) for whole-number and decimal fields.

:func:`compile_mapping` refuses unknown fields, transforms and keys, casts a field's type
cannot take (a date format on an email, a map value that is no number for a number
field), columns the source lacks, and mappings without ``external_id`` or a name, each
:class:`MappingError` naming the line of the YAML. :meth:`Mapping.apply` then turns a
:class:`~crmledger.fusion.records.SourceRecord` into a
:class:`~crmledger.fusion.records.FusedRecord` plus an
:class:`~crmledger.fusion.records.Issue` for every cell it could not read.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from babel.core import Locale, UnknownLocaleError
from babel.dates import parse_date
from babel.numbers import NumberFormatError, parse_decimal
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from crmledger.fusion.records import FusedRecord, Issue, SourceRecord, Value

FieldType = Literal["text", "date", "int", "decimal", "kind"]

#: Every canonical field and its type.
FIELDS: dict[str, FieldType] = {
    "external_id": "text",
    "kind": "kind",
    "display_name": "text",
    "legal_name": "text",
    "full_name": "text",
    "given_name": "text",
    "family_name": "text",
    "email": "text",
    "phone": "text",
    "mobile": "text",
    "street": "text",
    "street2": "text",
    "postcode": "text",
    "city": "text",
    "region": "text",
    "country": "text",
    "tax_id": "text",
    "iban": "text",
    "website": "text",
    "birth_date": "date",
    "currency": "text",
    "language": "text",
    "payment_terms_days": "int",
    "credit_limit": "decimal",
    "segment": "text",
    "updated_at": "date",
}
NAME_FIELDS = ("display_name", "legal_name", "full_name", "given_name", "family_name")
REQUIRED = ("external_id",)
KINDS = ("organisation", "person")

_RULE_KEYS = frozenset(
    {"from", "value", "join", "split", "part", "transforms", "map", "map_default", "default"}
    | {"date", "number"}
)


def _title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:].lower() if w.isalpha() else w for w in text.split())


#: Transforms by name: each takes and gives text.
TRANSFORMS: dict[str, Callable[[str], str]] = {
    "trim": str.strip,
    "collapse": lambda s: " ".join(s.split()),
    "lower": str.lower,
    "upper": str.upper,
    "title": _title,
    "digits": lambda s: "".join(c for c in s if c.isdigit()),
    "nfkc": lambda s: unicodedata.normalize("NFKC", s),
}
#: Transforms with an argument: ``{replace: [old, new]}``, ``{prefix: "+49"}``,
#: ``{strip: "0"}`` (leading characters), ``{regex: "pattern"}`` (the first group, or the
#: whole match).
ARG_TRANSFORMS = ("replace", "prefix", "strip", "regex")


class MappingError(ValueError):
    """A mapping that cannot run; ``errors`` holds ``(line, message)`` pairs (line 1-based,
    0 when unknown) and ``str(exc)`` lists them as ``where:line: message``."""

    def __init__(self, where: str, errors: Sequence[tuple[int, str]]) -> None:
        self.where = where
        self.errors = list(errors)
        super().__init__("\n".join(f"{where}:{line}: {text}" for line, text in self.errors))


# ---------------------------------------------------------------------------- YAML nodes


def yaml_line(node: Any, key: object = None) -> int:
    """The 1-based line of ``node`` (or of ``key`` in it), 0 when ruamel did not keep it."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return 0
    try:
        if key is None:
            return int(lc.line) + 1
        if isinstance(key, int) and isinstance(node, list):
            return int(lc.item(key)[0]) + 1
        return int(lc.key(key)[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return int(lc.line) + 1


def load_yaml(text: str, where: str) -> Any:
    """``text`` parsed with line numbers kept; a syntax error names its line."""
    try:
        return YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError(where, [(line, f"not valid YAML: {problem}")]) from None


# --------------------------------------------------------------------------- value casts


def _date_from(text: str, fmt: str | None, locale: str | None) -> date:
    if locale is not None:
        return parse_date(text, locale=locale)
    if fmt is not None:
        return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date)
    head = text[:10] if len(text) > 10 and text[10] in "T " else text
    return date.fromisoformat(head)


@dataclass(frozen=True, slots=True)
class Cast:
    """How a field's text becomes its typed value."""

    kind: FieldType
    date_format: str | None = None
    date_locale: str | None = None
    number_locale: str | None = None

    def __call__(self, text: str) -> Value:
        """The typed value, or :class:`ValueError` with the reason."""
        if self.kind == "date":
            return self._date(text)
        if self.kind in ("int", "decimal"):
            return self._number(text)
        if self.kind == "kind":
            found = text.strip().lower()
            if found not in KINDS:
                raise ValueError(f"{text.strip()!r} is not organisation or person")
            return found
        return text

    def _date(self, text: str) -> date:
        try:
            return _date_from(text.strip(), self.date_format, self.date_locale)
        except (ValueError, IndexError):
            wanted = (
                f"in the format {self.date_format}"
                if self.date_format
                else (
                    f"a {self.date_locale} date" if self.date_locale else "an ISO date (YYYY-MM-DD)"
                )
            )
            raise ValueError(
                f"is not a date {wanted}" if self.date_format else f"is not {wanted}"
            ) from None

    def _number(self, text: str) -> Value:
        cleaned = text.strip().replace("\u00a0", " ")
        try:
            if self.number_locale is not None:
                number = parse_decimal(cleaned, locale=self.number_locale, strict=False)
            else:
                number = Decimal(cleaned.replace(" ", ""))
        except (InvalidOperation, NumberFormatError):
            raise ValueError("is not a number") from None
        if not number.is_finite():
            raise ValueError("is not a number")
        if self.kind == "int":
            if number != number.to_integral_value():
                raise ValueError("is not a whole number")
            return int(number)
        return number


# ------------------------------------------------------------------------------ rules


Step = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Rule:
    """One field's recipe, compiled."""

    field: str
    columns: tuple[str, ...] = ()
    value: str | None = None
    join: str = " "
    split: str | None = None
    part: int = 0
    steps: tuple[Step, ...] = ()
    lookup: dict[str, str] | None = None
    lookup_default: str | None = None
    default: str | None = None
    cast: Cast = dataclass_field(default_factory=lambda: Cast("text"))

    def text(self, raw: MappingType[str, str | None]) -> str | None:
        """The field's text before the cast, or ``None`` when the record has none."""
        if self.value is not None:
            return self.value
        parts = [raw.get(c) for c in self.columns]
        present = [p for p in parts if p is not None and p.strip()]
        text = self.join.join(p.strip() for p in present) if len(self.columns) > 1 else None
        if len(self.columns) == 1:
            text = parts[0]
        if text is not None and self.split is not None:
            pieces = [p for p in text.split(self.split) if p.strip()]
            text = pieces[self.part] if -len(pieces) <= self.part < len(pieces) else None
        for step in self.steps:
            if text is None:
                break
            text = step(text)
        if text is not None and self.lookup is not None:
            text = self.lookup.get(text.strip().casefold(), self.lookup_default or text)
        if text is None or not text.strip():
            return self.default
        return text


@dataclass(frozen=True, slots=True)
class Mapping:
    """A compiled mapping: :meth:`apply` it to each record of its source."""

    rules: tuple[Rule, ...]
    system: str = ""
    where: str = ""

    @property
    def fields(self) -> list[str]:
        return [r.field for r in self.rules]

    def apply(
        self, record: SourceRecord, system: str, priority: int = 100
    ) -> tuple[FusedRecord | None, list[Issue]]:
        """The record in canonical fields (``None`` when it lacks its external id or any
        name) and the issues of the cells that could not be read (those are left out)."""
        issues: list[Issue] = []
        values: dict[str, Value] = {}
        for rule in self.rules:
            text = rule.text(record.raw)
            if text is None:
                continue
            try:
                values[rule.field] = rule.cast(text)
            except ValueError as exc:
                issues.append(Issue(record.source, record.row, rule.field, "problem", str(exc)))
        external = values.pop("external_id", None)
        if external is None or not str(external).strip():
            reason = "the record has no external id, so it cannot be kept apart or linked"
            issues.append(Issue(record.source, record.row, "external_id", "problem", reason))
            return None, issues
        if not any(values.get(n) for n in NAME_FIELDS):
            reason = "the record has no name (display, legal, full, given or family name)"
            issues.append(Issue(record.source, record.row, "display_name", "problem", reason))
            return None, issues
        fused = FusedRecord(
            record.source, record.row, system, str(external).strip(), values, priority
        )
        return fused, issues


# ---------------------------------------------------------------------------- compiling


class _Compiler:
    """Collects every error of a mapping instead of stopping at the first."""

    def __init__(self, where: str, columns: Sequence[str] | None) -> None:
        self.where = where
        self.columns = None if columns is None else list(columns)
        self.errors: list[tuple[int, str]] = []

    def error(self, line: int, text: str) -> None:
        self.errors.append((line, text))

    def mapping(self, node: Any) -> Mapping:
        if not isinstance(node, MappingType):
            self.error(yaml_line(node), "a mapping is a YAML map with a 'fields' map")
            raise MappingError(self.where, self.errors)
        unknown = sorted(set(map(str, node)) - {"fields", "system"})
        for key in unknown:
            self.error(yaml_line(node, key), f"unknown key {key!r} (known: fields, system)")
        fields = node.get("fields")
        if not isinstance(fields, MappingType) or not fields:
            self.error(yaml_line(node, "fields"), "'fields' must map canonical fields to columns")
            raise MappingError(self.where, self.errors)
        rules = [self.rule(fields, str(name)) for name in fields]
        self.required(fields, [r for r in rules if r is not None])
        if self.errors:
            raise MappingError(self.where, sorted(self.errors))
        system = str(node.get("system") or "")
        return Mapping(tuple(r for r in rules if r is not None), system, self.where)

    def required(self, node: Any, rules: list[Rule]) -> None:
        names = {r.field for r in rules}
        line = yaml_line(node)
        for name in REQUIRED:
            if name not in names:
                self.error(max(line - 1, 1), f"required field {name!r} is not mapped")
        if not names & set(NAME_FIELDS):
            listed = ", ".join(NAME_FIELDS)
            self.error(max(line - 1, 1), f"no name is mapped: map one of {listed}")

    def rule(self, fields: Any, name: str) -> Rule | None:
        line = yaml_line(fields, name)
        if name not in FIELDS:
            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.error(line, f"unknown field {name!r}{hint}")
            return None
        spec = fields[name]
        if isinstance(spec, str):
            spec = {"from": spec}
        if not isinstance(spec, MappingType):
            self.error(line, f"{name}: give a column name or a map with 'from' or 'value'")
            return None
        return self.rule_of(name, spec, line)

    def rule_of(self, name: str, spec: Any, line: int) -> Rule | None:
        for key in sorted(set(map(str, spec)) - _RULE_KEYS):
            known = ", ".join(sorted(_RULE_KEYS))
            self.error(yaml_line(spec, key), f"{name}: unknown key {key!r} (known: {known})")
        columns = self.columns_of(name, spec, line)
        cast = self.cast_of(name, spec)
        steps = tuple(self.steps_of(name, spec))
        lookup = self.lookup_of(name, spec, cast)
        value = self.constant(name, spec, "value", cast)
        default = self.constant(name, spec, "default", cast)
        split = spec.get("split")
        part = spec.get("part", 0)
        if not isinstance(part, int):
            self.error(yaml_line(spec, "part"), f"{name}: 'part' must be a whole number")
            part = 0
        return Rule(
            field=name,
            columns=columns,
            value=value,
            join=str(spec.get("join", " ")),
            split=None if split is None else str(split),
            part=part,
            steps=steps,
            lookup=lookup,
            lookup_default=self.constant(name, spec, "map_default", cast),
            default=default,
            cast=cast,
        )

    def columns_of(self, name: str, spec: Any, line: int) -> tuple[str, ...]:
        given = spec.get("from")
        if given is None:
            if "value" not in spec:
                self.error(line, f"{name}: give the column in 'from' (or a constant 'value')")
            return ()
        columns = [str(c) for c in given] if isinstance(given, list) else [str(given)]
        if self.columns is not None:
            for index, column in enumerate(columns):
                if column not in self.columns:
                    at = (
                        yaml_line(given, index)
                        if isinstance(given, list)
                        else yaml_line(spec, "from")
                    )
                    at = at or line
                    close = difflib.get_close_matches(column, self.columns, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.error(at, f"{name}: the source has no column {column!r}{hint}")
        return tuple(columns)

    def cast_of(self, name: str, spec: Any) -> Cast:
        kind = FIELDS[name]
        fmt: str | None = None
        date_locale: str | None = None
        number: str | None = None
        if "date" in spec:
            at = yaml_line(spec, "date")
            if kind != "date":
                self.error(at, f"{name}: a {kind} field cannot be read as a date")
            given = spec["date"]
            if isinstance(given, MappingType) and "locale" in given:
                date_locale = self.locale(name, str(given["locale"]), at)
            elif isinstance(given, str) and "%" in given:
                fmt = given
            else:
                self.error(at, f"{name}: 'date' is a strftime format or {{locale: de_DE}}")
        if "number" in spec:
            at = yaml_line(spec, "number")
            if kind not in ("int", "decimal"):
                self.error(at, f"{name}: a {kind} field cannot be read as a number")
            number = self.locale(name, str(spec["number"]), at)
        return Cast(kind, fmt, date_locale, number)

    def locale(self, name: str, given: str, line: int) -> str | None:
        try:
            Locale.parse(given)
        except (UnknownLocaleError, ValueError):
            self.error(line, f"{name}: unknown locale {given!r}")
            return None
        return given

    def steps_of(self, name: str, spec: Any) -> list[Step]:
        given = spec.get("transforms", [])
        if not isinstance(given, list):
            self.error(yaml_line(spec, "transforms"), f"{name}: 'transforms' is a list")
            return []
        steps: list[Step] = []
        for index, item in enumerate(given):
            step = self.step(name, item, yaml_line(given, index))
            if step is not None:
                steps.append(step)
        return steps

    def step(self, name: str, item: Any, line: int) -> Step | None:
        if isinstance(item, str) and item in TRANSFORMS:
            return TRANSFORMS[item]
        if isinstance(item, MappingType) and len(item) == 1:
            ((kind, arg),) = item.items()
            made = _arg_step(str(kind), arg)
            if made is not None:
                return made
        known = ", ".join([*TRANSFORMS, *ARG_TRANSFORMS])
        self.error(line, f"{name}: unknown transform {item!r} (known: {known})")
        return None

    def lookup_of(self, name: str, spec: Any, cast: Cast) -> dict[str, str] | None:
        given = spec.get("map")
        if given is None:
            return None
        if not isinstance(given, MappingType):
            self.error(yaml_line(spec, "map"), f"{name}: 'map' maps source values to values")
            return None
        out: dict[str, str] = {}
        for key, value in given.items():
            text = self.constant_text(name, value, cast, yaml_line(given, key))
            if text is not None:
                out[str(key).strip().casefold()] = text
        return out

    def constant(self, name: str, spec: Any, key: str, cast: Cast) -> str | None:
        if key not in spec:
            return None
        return self.constant_text(name, spec[key], cast, yaml_line(spec, key))

    def constant_text(self, name: str, value: object, cast: Cast, line: int) -> str | None:
        text = _constant(value)
        try:
            cast(text)
        except ValueError as exc:
            self.error(line, f"{name}: cannot cast {text!r} to {cast.kind}: {exc}")
            return None
        return text


def _constant(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _arg_step(kind: str, arg: object) -> Step | None:
    if kind == "replace" and isinstance(arg, list) and len(arg) == 2:
        old, new = str(arg[0]), str(arg[1])
        return lambda s: s.replace(old, new)
    if kind == "prefix" and isinstance(arg, str | int):
        pre = str(arg)
        return lambda s: s if s.startswith(pre) else pre + s
    if kind == "strip" and isinstance(arg, str | int):
        chars = str(arg)
        return lambda s: s.lstrip(chars)
    if kind == "regex" and isinstance(arg, str):
        try:
            pattern = re.compile(arg)
        except re.error:
            return None

        def extract(s: str) -> str:
            found = pattern.search(s)
            if found is None:
                return ""
            return found.group(1) if pattern.groups else found.group(0)

        return extract
    return None


def compile_mapping(node: Any, where: str, columns: Sequence[str] | None = None) -> Mapping:
    """The mapping ``node`` (parsed YAML) describes, checked against the source's
    ``columns`` when known; :class:`MappingError` lists every problem with its line."""
    return _Compiler(where, columns).mapping(node)


def load_mapping(text: str, where: str, columns: Sequence[str] | None = None) -> Mapping:
    """:func:`compile_mapping` of YAML text (``where`` names it in errors)."""
    return compile_mapping(load_yaml(text, where), where, columns)


def identity_mapping(columns: Sequence[str] = tuple(FIELDS)) -> Mapping:
    """Every canonical field from the column of the same name (the book's own parties);
    the book's party id is the external id."""
    rules = [Rule(f, (f,), cast=Cast(FIELDS[f])) for f in columns if f in FIELDS]
    rules.append(Rule("external_id", ("party_id",)))
    return Mapping(tuple(rules), "", "book")
