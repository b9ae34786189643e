"""An API client on a fresh book, with one user and token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from crmledger.bootstrap import App
from crmledger.core.access import Role
from crmledger.server import create_app

PASSWORD = "correct horse battery"


@dataclass
class Api:
    """A test client and a bearer header per role."""

    client: TestClient
    book: App
    tokens: dict[Role, str]

    def auth(self, role: Role = Role.ADMIN) -> dict[str, str]:
        """The ``Authorization`` header of ``role``'s user."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def entry_body(amount: str = "10.00", narration: str = "Sale", day: str = "2026-01-05") -> dict:
    """A balanced cash sale as the API takes it."""
    return {
        "date": day,
        "narration": narration,
        "postings": [
            {"account": "Assets:Cash", "amount": amount, "commodity": "EUR"},
            {"account": "Income:Sales:Products", "amount": f"-{amount}", "commodity": "EUR"},
        ],
    }


def add_role_users(book: App) -> dict[Role, str]:
    """A user and token for every role; returns the tokens."""
    tokens = {}
    for role in Role:
        email = f"{role.value}@example.com"
        book.access.add_user(email, role, PASSWORD)
        tokens[role] = book.access.create_token(email, "tests").secret
    return tokens


@pytest.fixture
def api(app: App) -> Iterator[Api]:
    """The whole server app on the ``app`` book, with a user per role."""
    tokens = add_role_users(app)
    with TestClient(create_app(app), raise_server_exceptions=True) as client:
        yield Api(client, app, tokens)
