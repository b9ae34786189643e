"""32 concurrent clients post 2,000 entries, each request sent twice with the same
``Idempotency-Key`` (the two copies race each other): exactly 2,000 entries land, the trial
balance is zero, the chains verify and every replay equals its first response."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from crmledger.core.access import Role
from crmledger.services.ports import EntryQuery
from tests.api.conftest import Api, entry_body
from tests.api.live import serving_process

ENTRIES = 2000
CLIENTS = 32


def _send(client: httpx.Client, token: str, n: int) -> tuple[int, bytes]:
    body = entry_body(f"{n % 97 + 1}.{n % 100:02d}", f"Sale {n}", f"2026-{n % 12 + 1:02d}-15")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"sale-{n}"}
    while True:
        answer = client.post("/api/v1/journal-entries", json=body, headers=headers)
        if answer.status_code != 409:  # 409: the twin is still running; retry
            return answer.status_code, answer.content
        time.sleep(0.005 * random.random())


def test_concurrent_retried_posts_land_exactly_once(api: Api) -> None:
    token = api.tokens[Role.ADMIN]
    jobs = [n for n in range(ENTRIES) for _ in range(2)]  # twins side by side
    with (
        serving_process(api.book.settings.database_url, str(api.book.settings.keyring)) as base,
        httpx.Client(
            base_url=base, timeout=60, limits=httpx.Limits(max_connections=CLIENTS)
        ) as client,
        ThreadPoolExecutor(CLIENTS) as pool,
    ):
        answers = list(pool.map(lambda n: (n, _send(client, token, n)), jobs))
    by_key: dict[int, list[tuple[int, bytes]]] = {}
    for n, answer in answers:
        by_key.setdefault(n, []).append(answer)
    assert all(first == second for first, second in by_key.values())
    assert {status for pair in by_key.values() for status, _ in pair} == {201}
    ids = {httpx.Response(201, content=pair[0][1]).json()["id"] for pair in by_key.values()}
    assert len(ids) == ENTRIES
    # The book itself, not the API, is the witness.
    assert len(api.book.ledger.entries(EntryQuery(limit=ENTRIES + 10))) == ENTRIES
    trial = api.book.reports.trial_balance()
    assert not trial.residuals()
    assert all(total.balance == 0 for total in trial.totals().values())
    assert api.book.audit.verify().ok
