"""Sync connectors by kind: ``folder`` (CSV, XLSX and JSON files dropped in a folder),
``sql`` (tables of any database SQLAlchemy reaches), ``rest`` (a JSON API) and
``crmledger`` (another crmledger book)."""

from __future__ import annotations

from collections.abc import Callable

from crmledger.integration.connectors.crmledger import CrmledgerConnector
from crmledger.integration.connectors.folder import FolderConnector
from crmledger.integration.connectors.rest import RestConnector
from crmledger.integration.connectors.sql import SqlConnector
from crmledger.services.sync_config import ConnectorSpec
from crmledger.services.sync_ports import Connector

CONNECTORS: dict[str, Callable[[ConnectorSpec], Connector]] = {
    "folder": FolderConnector,
    "sql": SqlConnector,
    "rest": RestConnector,
    "crmledger": CrmledgerConnector,
}
