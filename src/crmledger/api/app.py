"""The ASGI application. For now: health and book status under ``/api/v1``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from crmledger import __version__
from crmledger.bootstrap import App, build
from crmledger.config import Settings


def create_app(app: App) -> FastAPI:
    """Build the FastAPI app around the services of one book."""
    api = FastAPI(title="crmledger", version=__version__, openapi_url="/api/v1/openapi.json")

    @api.get("/api/v1/health", operation_id="health")
    def health() -> dict[str, Any]:
        with app.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @api.get("/api/v1/status", operation_id="status")
    def status() -> dict[str, Any]:
        info = app.ledger.info()
        tb = app.reports.trial_balance()
        return {
            "database": app.engine.url.render_as_string(hide_password=True),
            "base_currency": info.base_currency,
            "lock_date": info.lock_date,
            "accounts": info.accounts,
            "commodities": info.commodities,
            "balanced": not tb.residuals(),
        }

    @api.get("/", include_in_schema=False)
    def root() -> dict[str, str]:
        return {"name": "crmledger", "api": "/api/v1", "docs": "/docs"}

    return api


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn``: the book named by ``CRMLEDGER_DATABASE_URL``."""
    return create_app(build(Settings.load()))
