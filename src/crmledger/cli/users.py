"""``crmledger user``, ``token`` and ``keys``: who may sign in, API tokens, the key ring.

The CLI acts as the local operator (admin): whoever can open the database and its key ring
can change the book anyway. Passwords are read from a prompt or ``--password-stdin``, never
from the command line, where other users of the machine could see them.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, emit, errors
from crmledger.cli.state import state
from crmledger.core.access import Role

user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (Authorization: Bearer).", no_args_is_help=True)
keys_app = typer.Typer(help="The key ring that encrypts personal data.", no_args_is_help=True)

RoleOption = Annotated[
    Role, typer.Option("--role", help="admin, accountant, sales, support, auditor or viewer.")
]


def read_password(from_stdin: bool) -> str:
    """One line of stdin, or a prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The user's email (their login).")],
    role: RoleOption = Role.VIEWER,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Add a user with a role (the password is asked for, or read from stdin)."""
    user = state.app.access.add_user(email, role, read_password(password_stdin))
    console.print(f"User {user.id} [bold]{user.email}[/bold] added as {user.role.value}.")


@user_app.command("list")
def user_list(fmt: FormatOption = OutputFormat.table) -> None:
    """Every user with role and state."""
    rows = [
        {
            "id": u.id,
            "email": u.email,
            "role": u.role.value,
            "disabled": u.disabled,
            "last_login": u.last_login_at,
        }
        for u in state.app.access.users()
    ]
    emit(rows, fmt, title="Users")


@user_app.command("disable")
def user_disable(email: Annotated[str, typer.Argument(help="The user's email.")]) -> None:
    """Disable a user: sessions end and tokens stop working at once."""
    user = state.app.access.disable(email)
    console.print(f"User {user.id} {user.email} disabled.")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="The user the token acts for.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    expires: Annotated[
        int | None, typer.Option("--expires", help="Days until it expires (default: never).")
    ] = None,
) -> None:
    """Create an API token; it is printed once and only its hash is kept."""
    issued = state.app.access.create_token(email, name, expires)
    errors.print(f"Token {issued.id} ({issued.name}) for {email}; it is shown only once:")
    print(issued.secret)


@token_app.command("list")
def token_list(fmt: FormatOption = OutputFormat.table) -> None:
    """Every token (never the secret)."""
    rows = [
        {
            "id": t.id,
            "user": email,
            "name": t.name,
            "expires": t.expires_at,
            "revoked": t.revoked_at,
        }
        for t, email in state.app.access.token_list()
    ]
    emit(rows, fmt, title="Tokens")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="Token id.")]) -> None:
    """Revoke a token."""
    state.app.access.revoke_token(token_id)
    console.print(f"Token {token_id} revoked.")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new key, make it current and re-encrypt every personal field and expense
    receipt with it, while the server keeps running (old keys still decrypt until retired)."""
    rotation = state.app.keys.rotate()
    console.print(
        f"Key {rotation.version} is current; {rotation.reencrypted} value(s) re-encrypted, "
        f"{rotation.receipts} of them receipt file(s)."
    )
    _env_hint()


@keys_app.command("retire")
def keys_retire(version: Annotated[int, typer.Argument(help="Key version to remove.")]) -> None:
    """Remove an old key; refused while any value or receipt still uses it."""
    state.app.keys.retire(version)
    console.print(f"Key {version} removed from the ring.")
    _env_hint()


@keys_app.command("status")
def keys_status(fmt: FormatOption = OutputFormat.table) -> None:
    """Key versions and how many values each encrypts ('receipts': the expense receipt
    files among them); every value and file is decrypted as a check."""
    usage = state.app.keys.usage()
    files = state.app.keys.receipt_usage()
    checked = state.app.keys.check()
    current = state.app.keyring.current_version()
    rows = [
        {
            "version": v,
            "current": v == current,
            "values": usage.get(v, 0),
            "receipts": files.get(v, 0),
        }
        for v in state.app.keys.versions()
    ]
    emit(rows, fmt, title=f"Key ring ({checked} value(s) decrypt)")


def _env_hint() -> None:
    if not state.app.keyring.store.persistent:
        errors.print("The ring comes from CRMLEDGER_MASTER_KEY; set it to the new value:")
        print(state.app.keyring.store.env_value())


def first_admin() -> None:
    """Create the first admin during ``init``: from ``CRMLEDGER_ADMIN_EMAIL`` and
    ``CRMLEDGER_ADMIN_PASSWORD``, else by asking when run at a terminal."""
    email = os.environ.get("CRMLEDGER_ADMIN_EMAIL")
    password = os.environ.get("CRMLEDGER_ADMIN_PASSWORD")
    if not email and sys.stdin.isatty():
        if not typer.confirm("No users yet. Create the first admin now?", default=True):
            return
        email = str(typer.prompt("Admin email"))
        password = read_password(False)
    if not email or not password:
        if state.app.access.bootstrap_needed():
            errors.print(
                "No users yet: add the first admin with `crmledger user add EMAIL --role admin`."
            )
        return
    created = state.app.access.bootstrap_admin(email, password)
    if created is not None:
        console.print(f"First admin [bold]{created.email}[/bold] created.")
