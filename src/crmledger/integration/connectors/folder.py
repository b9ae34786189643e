"""The drop-folder connector: CSV, XLSX or JSON files that another system leaves in a folder.

Files matching an object type's ``source`` pattern are read oldest first (by modification
time, then name); the cursor names the last file and row applied, so a run reads only
what arrived since. A file changed after it was read counts as new and is read again
from its top (its records are matched to the parties they made, so nothing doubles)::

    connector = FolderConnector(spec)            # spec.options["path"] = "/srv/drop"
    page = connector.fetch("customer", "", 500)  # the first 500 records of the oldest file

The folder is read, never written: a drop folder only brings changes in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from crmledger.core.errors import InvalidFieldError
from crmledger.fusion.records import SourceRecord
from crmledger.fusion.sources import SourceError, file_source
from crmledger.services.sync_config import ConnectorSpec, ObjectSpec
from crmledger.services.sync_ports import OutboundChange, Page, PushResult, RemoteChange

Position = tuple[int, str, int]  # modification time (ns), file name, last row applied
_START: Position = (-1, "", 0)


def _position(cursor: str) -> Position:
    if not cursor:
        return _START
    try:
        found = json.loads(cursor)
        return int(found["m"]), str(found["f"]), int(found["r"])
    except (ValueError, KeyError, TypeError):
        raise InvalidFieldError(
            "cursor", f"not a cursor of a folder connector: {cursor[:60]!r}"
        ) from None


def _cursor(position: Position) -> str:
    m, f, r = position
    return json.dumps({"m": m, "f": f, "r": r}, sort_keys=True)


class FolderConnector:
    """A :class:`~crmledger.services.sync_ports.Connector` over a folder of files."""

    def __init__(self, spec: ConnectorSpec) -> None:
        path = spec.options.get("path")
        if not path:
            raise InvalidFieldError("path", "a folder connector needs the folder's path")
        if spec.push:
            raise InvalidFieldError("push", "a drop folder only brings changes in")
        self.folder = Path(path)
        if not self.folder.is_dir():
            raise InvalidFieldError("path", f"{path} is not a folder")
        self._spec = spec

    def _files(self, spec: ObjectSpec) -> list[tuple[int, str, Path]]:
        found = []
        for path in self.folder.glob(spec.source):
            if path.is_file() and not path.name.startswith("."):
                found.append((path.stat().st_mtime_ns, path.name, path))
        return sorted(found)

    def _records(self, path: Path) -> Iterator[SourceRecord]:
        try:
            for chunk in file_source(path).chunks(1000):
                yield from chunk
        except SourceError as exc:
            raise InvalidFieldError("file", str(exc)) from None

    def _change(self, spec: ObjectSpec, name: str, record: SourceRecord) -> RemoteChange:
        raw = record.raw
        ident = (raw.get(spec.id) or "").strip()
        version = (raw.get(spec.version) or "").strip() if spec.version else ""
        values = {
            field: (raw.get(column) or "").strip()
            for field, column in spec.fields.items()
            if column in raw
        }
        return RemoteChange(ident, version or f"{name}:{record.row}", values)

    def fetch(self, object_type: str, cursor: str, limit: int) -> Page:
        spec = self._spec.object(object_type)
        position = _position(cursor)
        changes: list[RemoteChange] = []
        for mtime, name, path in self._files(spec):
            if (mtime, name) < position[:2]:
                continue
            last = position[2] if (mtime, name) == position[:2] else 0
            for record in self._records(path):
                if record.row <= last:
                    continue
                changes.append(self._change(spec, name, record))
                last = record.row
                if len(changes) >= limit:
                    return Page(tuple(changes), _cursor((mtime, name, last)), more=True)
            position = (mtime, name, last)
        return Page(tuple(changes), cursor if position == _START else _cursor(position))

    def push(self, object_type: str, changes: Sequence[OutboundChange]) -> list[PushResult]:
        del object_type
        return [
            PushResult(c.external_id, False, error="a drop folder takes no changes")
            for c in changes
        ]

    def snapshot(self, object_type: str) -> Iterator[RemoteChange]:
        spec = self._spec.object(object_type)
        latest: dict[str, RemoteChange] = {}
        for _, name, path in self._files(spec):
            for record in self._records(path):
                change = self._change(spec, name, record)
                latest[change.external_id] = change
        yield from latest.values()

    def close(self) -> None:
        """Nothing to release."""
