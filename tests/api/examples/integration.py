"""Examples for webhooks and sync connectors.

A connector example is a drop folder of its own (a temporary folder holding one customer
file) that also takes Standard Webhooks; ``{conflict_id}`` is a field both sides changed,
held for review.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path
from typing import Any

_n = itertools.count(1)


def folder_config(rules: dict[str, Any] | None = None) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="crmledger-drop-"))
    (folder / "customers-1.csv").write_text(
        "CustomerNo,Company,Mail,Changed\n"
        f"C-1,Example {next(_n)} GmbH,ap@example.com,2026-06-01T00:00:00+00:00\n",
        encoding="utf-8",
    )
    os.utime(folder / "customers-1.csv", ns=(1_000, 1_000))
    return {
        "path": str(folder),
        "objects": {
            "customer": {
                "source": "customers*.csv",
                "id": "CustomerNo",
                "version": "Changed",
                "fields": {"name": "Company", "email": "Mail"},
            }
        },
        "rules": rules or {"default": "newest"},
    }


def webhook(api: Any) -> int:
    sub, _ = api.book.webhooks.create("https://hooks.example.com/in", ["party.*"])
    return int(sub.id)


def delivery(api: Any) -> int:
    return int(api.book.webhooks.queue_test(webhook(api)).id)


def connector(api: Any, rules: dict[str, Any] | None = None) -> str:
    name = f"example{next(_n)}"
    api.book.sync.add(name, "folder", folder_config(rules), inbound_scheme="standard")
    return name


def run(api: Any) -> int:
    return int(api.book.sync.run(connector(api)).run_id)


def conflict(api: Any) -> int:
    """A connector whose email field is held for review, and one conflict on it."""
    from crmledger.core.crm.parties import Email

    name = connector(api, {"default": "newest", "fields": {"email": "review"}})
    api.book.sync.run(name)
    folder = Path(api.book.sync.get(name).config["path"])
    party = api.book.parties.find_external(name, "C-1")
    api.book.parties.update(party, {"emails": (Email("local@example.com"),)}, None)
    (folder / "customers-2.csv").write_text(
        "CustomerNo,Company,Mail,Changed\nC-1,Example,remote@example.com,2030-01-01T00:00:00\n",
        encoding="utf-8",
    )
    os.utime(folder / "customers-2.csv", ns=(2_000, 2_000))
    api.book.sync.run(name)
    return int(api.book.sync.conflicts(name)[0].id)


BODIES: dict[str, Any] = {
    "createWebhook": lambda api: {
        "url": f"https://hooks.example.com/in/{next(_n)}",
        "event_types": ["invoice.*", "party.created"],
    },
    "updateWebhook": lambda api: {"description": "Matrix"},
    "rotateWebhookSecret": lambda api: {"overlap_hours": 1},
    "createConnector": lambda api: {
        "name": f"matrix{next(_n)}",
        "kind": "folder",
        "config": folder_config(),
    },
    "updateConnector": lambda api: {"status": "paused"},
    "runConnector": lambda api: {"object_type": "customer", "dry_run": True},
    "reconcileConnector": lambda api: {"object_type": "customer"},
    "resolveSyncConflict": lambda api: {"keep": "local"},
}

PATHS: dict[str, Any] = {
    "{webhook_id}": webhook,
    "{delivery_id}": delivery,
    "{connector}": connector,
    "{run_id}": run,
    "{conflict_id}": conflict,
}
