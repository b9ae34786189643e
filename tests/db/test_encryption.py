"""Personal data at rest: no plaintext in the database files, the WAL or a dump; a
ciphertext moved to another row does not decrypt; key rotation re-encrypts everything so
the old key can be removed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crmledger.bootstrap import App
from crmledger.core.access import Role
from crmledger.server import create_app
from crmledger.services.errors import ConflictError, DecryptionError

CANARIES = ["canary-q7x2@example.com", "canary-z9k4@example.org"]


def _seed(app: App) -> None:
    for email in CANARIES:
        app.access.add_user(email, Role.VIEWER, "correct horse battery")
    # A create through the API keeps its response for replays: it holds the email too.
    app.access.add_user("admin@example.com", Role.ADMIN, "correct horse battery")
    token = app.access.create_token("admin@example.com", "t").secret
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"}
    body = {"email": "canary-api-m3@example.net", "role": "viewer", "password": "x" * 12}
    with TestClient(create_app(app)) as client:
        assert client.post("/api/v1/users", json=body, headers=headers).status_code == 201


def _raw_bytes(app: App) -> bytes:
    url = make_url(app.settings.database_url)
    if url.get_backend_name() == "sqlite":
        files = [Path(f"{url.database}{suffix}") for suffix in ("", "-wal", "-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    options = url.query.get("options", "")
    schema = str(options).removeprefix("-csearch_path=") or "public"
    plain = url.set(drivername="postgresql", query={})
    dump = subprocess.run(
        [pg_dump, "--schema", schema, "--data-only", plain.render_as_string(hide_password=False)],
        capture_output=True,
        check=True,
    )
    return dump.stdout


def test_no_plaintext_personal_data_in_files_wal_or_dump(app: App) -> None:
    _seed(app)
    raw = _raw_bytes(app).lower()
    for canary in [*CANARIES, "canary-api-m3@example.net"]:
        assert canary.encode() not in raw
        assert canary.split("@")[0].encode() not in raw
    assert {u.email for u in app.access.users()} >= set(CANARIES)


def test_a_ciphertext_swapped_between_rows_does_not_decrypt(app: App) -> None:
    _seed(app)
    with app.engine.begin() as conn:
        rows = conn.execute(text("SELECT id, email_enc FROM users ORDER BY id")).all()
        (a, a_enc), (b, b_enc) = rows[0], rows[1]
        conn.execute(text("UPDATE users SET email_enc = :v WHERE id = :i"), {"v": b_enc, "i": a})
        conn.execute(text("UPDATE users SET email_enc = :v WHERE id = :i"), {"v": a_enc, "i": b})
    with pytest.raises(DecryptionError, match=f"users.email row {a}"):
        app.access.users()


def test_rotation_reencrypts_everything_and_the_old_key_can_go(app: App) -> None:
    _seed(app)
    before = sorted(u.email for u in app.access.users())
    old = app.keyring.current_version()
    with pytest.raises(ConflictError):
        app.keys.retire(old)  # still in use
    rotation = app.keys.rotate()
    assert rotation.version == old + 1
    assert rotation.reencrypted == len(before)
    assert app.keys.usage() == {rotation.version: len(before)}
    app.keys.retire(old)
    assert app.keys.versions() == [rotation.version]
    assert sorted(u.email for u in app.access.users()) == before
    assert app.keys.check() == len(before)
    # The ring file on disk was updated: a fresh process sees the same keys.
    assert app.settings.keyring.stat().st_mode & 0o077 == 0
    assert [e.action for e in app.audit.log(filters={"resource": "key"})] == [
        "keys.retire",
        "keys.rotate",
    ]
