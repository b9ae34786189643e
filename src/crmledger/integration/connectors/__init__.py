"""Sync connectors by kind: ``folder`` (CSV, XLSX and JSON files dropped in a folder) and
``sql`` (tables of any database SQLAlchemy reaches)."""

from __future__ import annotations

from collections.abc import Callable

from crmledger.integration.connectors.folder import FolderConnector
from crmledger.integration.connectors.sql import SqlConnector
from crmledger.services.sync_config import ConnectorSpec
from crmledger.services.sync_ports import Connector

CONNECTORS: dict[str, Callable[[ConnectorSpec], Connector]] = {
    "folder": FolderConnector,
    "sql": SqlConnector,
}
