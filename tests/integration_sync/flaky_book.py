"""Book B for the tests of two crmledger books: its own SQLite book with a sync user's API
token (:func:`other_book`), served through :class:`FlakyAsgi`, an ASGI app in front of
another that fails a share of its HTTP requests, the way a network between two books does:
some requests never reach the app (answered 503, nothing changed), and some are handled by
the app but their answer is lost on the way back (answered 502, or the connection cut
half-way through the answer), so the caller does not know that the change happened::

    book, token = other_book(tmp_path / "b", template)
    flaky = FlakyAsgi(create_app(book), rate=0.05, seed=7)
    with serving(flaky) as url:      # tests.api.live
        ...
    flaky.refused, flaky.lost        # how many of each it made

Of every ``1 / rate`` requests in a row one fails, at a place drawn from a seeded RNG,
and the kinds take turns (refused, answer replaced, connection cut), so even a short run
meets each kind. A test that wants one failure at one place queues it instead::

    flaky.planned.append(("POST", CUT))   # the next POST is handled, its answer cut off
"""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from crmledger.bootstrap import App, build, migrate
from crmledger.config import Settings
from crmledger.core.access import Role
from crmledger.core.chart import chart
from tests.conftest import FAST_HASHER

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


PASSWORD = "correct horse battery"
#: The kinds of failure, in the order they take turns.
REFUSED, REPLACED, CUT = "refused", "replaced", "cut"
KINDS = (REFUSED, REPLACED, CUT)


class AnswerCutError(Exception):
    """The connection was cut while the answer was on its way."""


def _not_cut(record: logging.LogRecord) -> bool:
    """The server's log without the connections cut on purpose."""
    return not (record.exc_info and isinstance(record.exc_info[1], AnswerCutError))


async def _answer(send: Send, status: int) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"4")],
        }
    )
    await send({"type": "http.response.body", "body": b"oops"})


async def _ignore(message: Message) -> None:
    return


class FlakyAsgi:
    """Fails ``rate`` of the HTTP requests (see the module); ``rate = 0`` fails none."""

    def __init__(self, app: Asgi, rate: float, seed: int) -> None:
        self.app, self.rate, self._rng = app, rate, random.Random(seed)
        #: Requests answered 503 without reaching the app.
        self.refused = 0
        #: Requests the app handled whose answer was replaced (502) or cut off.
        self.lost = 0
        #: Requests that drew for a failure (while ``rate`` is above 0).
        self.seen = 0
        self._failing = 0  # the place of the failing request in the current block
        #: Failures to make first: (method, kind), each on the next request of its method.
        self.planned: list[tuple[str, str]] = []
        logging.getLogger("uvicorn.error").addFilter(_not_cut)

    def _fails(self) -> bool:
        block = max(1, round(1 / self.rate))
        place = self.seen % block
        if place == 0:
            self._failing = self._rng.randrange(block)
        self.seen += 1
        return place == self._failing

    def _kind(self, scope: Scope) -> str | None:
        """How this request fails (``None``: it does not)."""
        for n, (method, kind) in enumerate(self.planned):
            if method == scope["method"]:
                del self.planned[n]
                return kind
        if not self.rate or not self._fails():
            return None
        return KINDS[(self.refused + self.lost) % len(KINDS)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self._kind(scope) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        if kind == REFUSED:
            self.refused += 1
            await _answer(send, 503)
            return
        await self.app(scope, receive, _ignore)
        self.lost += 1
        if kind == REPLACED:
            await _answer(send, 502)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"id": ', "more_body": True})
        raise AnswerCutError("the connection was cut")


def other_book(folder: Path, template: Path) -> tuple[App, str]:
    """Book B in ``folder`` (a copy of the migrated ``template``) and an API token of its
    sync user."""
    folder.mkdir()
    shutil.copyfile(template, folder / "b.db")
    b = build(Settings(f"sqlite:///{folder / 'b.db'}", folder / "b.keys"), None, FAST_HASHER)
    migrate(b)
    b.ledger.init_book(chart("default"), "EUR")
    b.access.add_user("sync@b.example", Role.SALES, PASSWORD)
    return b, b.access.create_token("sync@b.example", "book A").secret
