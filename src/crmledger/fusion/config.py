"""Run configurations: which sources a fusion run reads, how it matches and what survives.

::

    name: customers 2026
    region: DE                      # phones without a country code are read as German
    match: {accept: 0.95, review: 0.70, train: auto, seed: 42}
    survivorship:
      default: [source_priority, most_complete]
      fields: {email: [most_recent], phone: [most_frequent, source_priority]}
    book: {include: true, priority: 1000}
    sources:
      - {name: crm, kind: csv, path: crm.csv, priority: 1, mapping: crm.mapping.yml}
      - name: erp
        kind: sql
        url: mysql+pymysql://reader@db/erp
        table: KUNDEN
        priority: 2
        mapping: {fields: {external_id: KUNDENNR, full_name: NAME1}}

:func:`load_config` checks everything that can be checked without reading a record
(unknown keys, thresholds out of range, unknown rules, duplicate source names) and names
the line of each problem; :func:`prepare` then opens every source and compiles its mapping
against the source's real columns, so a misspelt column fails before the run starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmledger.fusion.mapping import (
    Mapping,
    MappingError,
    compile_mapping,
    load_yaml,
    yaml_line,
)
from crmledger.fusion.match import MatchSettings
from crmledger.fusion.records import BOOK_SOURCE
from crmledger.fusion.sources import (
    TEXT_KINDS,
    Opener,
    Source,
    SourceError,
    SourceSpec,
    open_source,
    text_source,
)
from crmledger.fusion.survive import RULES, SURVIVING, Survivorship

_TOP_KEYS = frozenset({"name", "region", "match", "survivorship", "book", "sources"})
_SOURCE_KEYS = frozenset({"name", "kind", "system", "priority", "mapping"})
_SOURCE_OPTIONS = frozenset(
    {"path", "delimiter", "encoding", "sheet", "lines", "url", "table", "query", "schema"}
)
_SYSTEM = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")


class ConfigError(MappingError):
    """A run configuration that cannot run (``errors`` as for :class:`MappingError`)."""


def redact(text: str) -> str:
    """A URL with its password masked::

    >>> redact("postgresql://ann:secret@db/erp")
    'postgresql://ann:***@db/erp'
    """
    return _PASSWORD.sub(r"\1***@", text)


def _stored_option(key: str, value: object) -> str:
    """An option as a run keeps it: uploaded text only by its size, URLs without password."""
    if key == "text":
        return f"uploaded, {len(str(value))} characters"
    return redact(str(value))


@dataclass
class RunConfig:
    """A checked run configuration."""

    name: str
    sources: list[SourceSpec]
    where: str = ""
    base: Path = field(default_factory=Path.cwd)
    region: str | None = None
    match: MatchSettings = field(default_factory=MatchSettings)
    survivorship: Survivorship = field(default_factory=Survivorship)
    include_book: bool = True
    book_priority: int = 1000

    def as_stored(self) -> dict[str, Any]:
        """The configuration as a run keeps it (passwords masked, mappings by name)."""
        return {
            "name": self.name,
            "region": self.region,
            "match": {
                "accept": self.match.accept,
                "review": self.match.review,
                "train": self.match.train,
                "seed": self.match.seed,
            },
            "survivorship": {
                "default": list(self.survivorship.default),
                "fields": {k: list(v) for k, v in self.survivorship.fields.items()},
            },
            "book": {"include": self.include_book, "priority": self.book_priority},
            "sources": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "system": s.system,
                    "priority": s.priority,
                    "options": {k: _stored_option(k, v) for k, v in s.options.items()},
                    "mapping": s.mapping if isinstance(s.mapping, str) else "inline",
                }
                for s in self.sources
            ],
        }


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where
        self.errors: list[tuple[int, str]] = []

    def error(self, line: int, text: str) -> None:
        self.errors.append((line, text))

    def number(self, node: Any, key: str, default: float, low: float, high: float) -> float:
        value = node.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            self.error(yaml_line(node, key), f"{key} must be a number from {low} to {high}")
            return default
        return float(value)

    def match(self, node: Any) -> MatchSettings:
        if node is None:
            return MatchSettings()
        if not isinstance(node, MappingType):
            self.error(yaml_line(node), "match is a map (accept, review, train, seed)")
            return MatchSettings()
        for key in sorted(set(map(str, node)) - {"accept", "review", "train", "seed"}):
            self.error(yaml_line(node, key), f"match: unknown key {key!r}")
        accept = self.number(node, "accept", 0.95, 0.5, 1.0)
        review = self.number(node, "review", 0.70, 0.0, 1.0)
        if review > accept:
            self.error(yaml_line(node, "review"), "match: review must not be above accept")
        train = str(node.get("train", "auto"))
        if train not in ("auto", "always", "never"):
            self.error(yaml_line(node, "train"), "match: train is auto, always or never")
        seed = int(self.number(node, "seed", 42, 0, 2**31))
        return MatchSettings(accept, review, train, seed)

    def rules(self, node: Any, key: object, where: Any) -> tuple[str, ...]:
        given = node if isinstance(node, list) else [node]
        for rule in given:
            if rule not in RULES:
                self.error(
                    yaml_line(where, key),
                    f"unknown survivorship rule {rule!r} (known: {', '.join(RULES)})",
                )
        return tuple(str(r) for r in given)

    def survivorship(self, node: Any) -> Survivorship:
        if node is None:
            return Survivorship()
        if not isinstance(node, MappingType):
            self.error(yaml_line(node), "survivorship is a map (default, fields)")
            return Survivorship()
        default = Survivorship().default
        if "default" in node:
            default = self.rules(node["default"], "default", node)
        fields: dict[str, tuple[str, ...]] = {}
        given = node.get("fields") or {}
        for name in given:
            if name not in SURVIVING:
                self.error(yaml_line(given, name), f"survivorship: unknown field {name!r}")
            fields[str(name)] = self.rules(given[name], name, given)
        return Survivorship(default, fields)

    def source(self, node: Any, index: int, where: Any) -> SourceSpec | None:
        line = yaml_line(where, index)
        if not isinstance(node, MappingType):
            self.error(line, "a source is a map with name, kind and its options")
            return None
        for key in sorted(set(map(str, node)) - _SOURCE_KEYS - _SOURCE_OPTIONS):
            self.error(yaml_line(node, key), f"source: unknown key {key!r}")
        name, kind = str(node.get("name", "")), str(node.get("kind", ""))
        if not name or not kind:
            self.error(line, "a source needs a name and a kind")
        system = str(node.get("system", name)).lower()
        if not _SYSTEM.match(system) or system == BOOK_SOURCE:
            self.error(
                yaml_line(node, "system" if "system" in node else "name"),
                f"{system!r} cannot name a system: a short lower-case name, not {BOOK_SOURCE!r}",
            )
        priority = int(self.number(node, "priority", 100, 1, 10_000))
        if "mapping" not in node:
            self.error(line, f"source {name!r} has no mapping")
        options = {k: node[k] for k in node if k in _SOURCE_OPTIONS}
        return SourceSpec(name, kind, options, system, priority, node.get("mapping"), line)

    def sources(self, node: Any) -> list[SourceSpec]:
        if not isinstance(node, list) or not node:
            self.error(yaml_line(node), "sources is a list of at least one source")
            return []
        specs = [s for i, item in enumerate(node) if (s := self.source(item, i, node)) is not None]
        seen: set[str] = set()
        for spec in specs:
            if spec.name in seen:
                self.error(spec.line, f"two sources are named {spec.name!r}")
            seen.add(spec.name)
        return specs


def parse_config(node: Any, where: str, base: Path) -> RunConfig:
    """The configuration ``node`` (parsed YAML) holds, or :class:`ConfigError`."""
    reader = _Reader(where)
    if not isinstance(node, MappingType):
        raise ConfigError(where, [(1, "a run configuration is a YAML map with 'sources'")])
    for key in sorted(set(map(str, node)) - _TOP_KEYS):
        reader.error(
            yaml_line(node, key), f"unknown key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})"
        )
    book = node.get("book") or {}
    config = RunConfig(
        name=str(node.get("name") or Path(where).stem),
        sources=reader.sources(node.get("sources")),
        where=where,
        base=base,
        region=str(node["region"]) if node.get("region") else None,
        match=reader.match(node.get("match")),
        survivorship=reader.survivorship(node.get("survivorship")),
        include_book=bool(book.get("include", True)) if isinstance(book, MappingType) else True,
        book_priority=int(book.get("priority", 1000)) if isinstance(book, MappingType) else 1000,
    )
    if reader.errors:
        raise ConfigError(where, sorted(reader.errors))
    return config


def load_config(path: Path) -> RunConfig:
    """The configuration in the YAML file ``path`` (relative paths in it are relative to
    its folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [(0, f"cannot read: {exc.strerror}")]) from None
    return parse_config(load_yaml(text, str(path)), str(path), path.parent)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A source opened, with its compiled mapping."""

    spec: SourceSpec
    source: Source
    mapping: Mapping


def _mapping(spec: SourceSpec, config: RunConfig, columns: list[str]) -> Mapping:
    given = spec.mapping
    if isinstance(given, str):
        path = Path(given) if Path(given).is_absolute() else config.base / given
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                config.where, [(spec.line, f"mapping {given}: {exc.strerror}")]
            ) from None
        return compile_mapping(load_yaml(text, str(path)), str(path), columns)
    where = f"{spec.name} mapping" if "text" in spec.options else config.where
    return compile_mapping(given, where, columns)


def prepare(config: RunConfig, openers: MappingType[str, Opener]) -> list[Prepared]:
    """Open every source and compile its mapping against its columns; every problem of
    every source is reported at once."""
    ready: list[Prepared] = []
    errors: list[MappingError] = []
    for spec in config.sources:
        try:
            source = open_source(spec, config.base, openers)
            ready.append(Prepared(spec, source, _mapping(spec, config, source.columns())))
        except SourceError as exc:
            errors.append(ConfigError(config.where, [(spec.line, str(exc))]))
        except MappingError as exc:
            errors.append(exc)
    if errors:
        if len(errors) == 1:
            raise errors[0]
        lines = [(0, str(e)) for e in errors]
        raise ConfigError(config.where, lines)
    return ready


# ------------------------------------------------------------------------------ uploads


@dataclass(frozen=True, slots=True)
class Upload:
    """A source given as text (a file uploaded to the web UI or the REST API) with its
    mapping as YAML (or JSON) text."""

    name: str
    kind: str
    text: str
    mapping: str
    priority: int = 100
    system: str = ""


def _open_upload(spec: SourceSpec, base: Path) -> Source:
    del base
    return text_source(spec.name, spec.kind, str(spec.options["text"]))


#: The only openers an upload gets: no file paths, no database URLs.
UPLOAD_OPENERS: dict[str, Opener] = dict.fromkeys(TEXT_KINDS, _open_upload)


def upload_config(
    name: str,
    uploads: list[Upload],
    region: str | None = None,
    match: MatchSettings | None = None,
) -> RunConfig:
    """A run over uploaded sources (run it with :data:`UPLOAD_OPENERS`)."""
    errors: list[tuple[int, str]] = []
    specs: list[SourceSpec] = []
    for index, upload in enumerate(uploads):
        system = (upload.system or upload.name).lower()
        if not _SYSTEM.match(system) or system == BOOK_SOURCE:
            errors.append((0, f"sources[{index}]: {system!r} cannot name a system"))
        if upload.kind not in TEXT_KINDS:
            errors.append((0, f"sources[{index}]: an upload is csv, json or jsonl"))
        node = load_yaml(upload.mapping, f"{upload.name} mapping")
        options = {"text": upload.text}
        specs.append(SourceSpec(upload.name, upload.kind, options, system, upload.priority, node))
    if len({s.name for s in specs}) != len(specs):
        errors.append((0, "two sources have the same name"))
    if not specs:
        errors.append((0, "a run needs at least one source"))
    if errors:
        raise ConfigError(name, errors)
    return RunConfig(
        name=name, sources=specs, where=name, region=region, match=match or MatchSettings()
    )
