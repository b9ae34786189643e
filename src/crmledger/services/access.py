"""Users, passwords, API tokens and web sessions.

Emails are personal data: stored encrypted, found by a keyed blind index of the normalised
address. Passwords are Argon2id hashes, upgraded on login when the parameters rise. Tokens
and session ids are random secrets stored as SHA-256 digests::

    users = AccessService(uow, clock, cipher, hasher, OPERATOR)
    users.add_user("ann@example.com", Role.ACCOUNTANT, "correct horse battery")
    principal = users.login("ann@example.com", "correct horse battery", address="10.0.0.1")
    secret = users.create_token("ann@example.com", "ci", expires_days=30).secret
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from crmledger.core.access import AuthenticationError, Principal, Role
from crmledger.services.errors import (
    ConflictError,
    InvalidInputError,
    LoginThrottledError,
    NotFoundError,
    VersionConflictError,
)
from crmledger.services.ports import (
    Clock,
    FieldCipher,
    FieldContext,
    PasswordHasher,
    TokenRow,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRow,
)
from crmledger.services.throttle import LoginThrottle
from crmledger.services.trail import OPERATOR, Actor, record

SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD = 10
TOKEN_PREFIX = "crm_"  # noqa: S105  (a prefix that secret scanners can spot, not a secret)


@dataclass(frozen=True, slots=True)
class User:
    """A user as shown to admins (email decrypted)."""

    id: int
    email: str
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new API token; ``secret`` is shown once and never stored."""

    id: int
    name: str
    secret: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser: who, and the CSRF token its forms must echo."""

    principal: Principal
    csrf_token: str


def digest(secret: str) -> str:
    """The stored form of a random secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased; refused unless it looks like ``local@domain.tld``."""
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or domain.startswith("."):
        raise InvalidInputError("email", f"{email!r} is not an email address")
    return value


class AccessService:
    """Who may sign in, with which role, and how."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        cipher: FieldCipher,
        hasher: PasswordHasher,
        actor: Actor = OPERATOR,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._uow, self._clock, self._cipher, self._hasher = uow, clock, cipher, hasher
        self.actor = actor
        self.throttle = throttle or LoginThrottle()

    def acting_as(self, actor: Actor) -> AccessService:
        """The same service, for another actor (shares the login throttle)."""
        return AccessService(
            self._uow, self._clock, self._cipher, self._hasher, actor, self.throttle
        )

    # -- users ----------------------------------------------------------------------------

    def _email(self, row: UserRow) -> str:
        return self._cipher.decrypt(row.email_enc, FieldContext("users", "email", str(row.id)))

    def _user(self, row: UserRow) -> User:
        return User(
            row.id,
            self._email(row),
            Role(row.role),
            row.disabled,
            row.created_at,
            row.last_login_at,
            row.version,
        )

    def _index(self, email: str) -> str:
        return self._cipher.blind_index(normalise_email(email), "users", "email")

    def add_user(self, email: str, role: Role | str, password: str) -> User:
        """Create a user; the email must be new."""
        self.actor.require("users", "write")
        role = _role(role)
        address = normalise_email(email)
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError("password", f"use at least {MIN_PASSWORD} characters")
        hashed = self._hasher.hash(password)
        with self._uow() as uow:
            store = uow.access
            if store.user_by_index(self._index(address)) is not None:
                raise ConflictError(f"a user with email {address} exists")
            now = self._clock.now()
            user_id = store.add_user(self._index(address), role.value, hashed, now)
            context = FieldContext("users", "email", str(user_id))
            store.update_user(user_id, None, email_enc=self._cipher.encrypt(address, context))
            row = store.user(user_id)
            assert row is not None
            record(uow, self.actor, now, "user.create", "user", user_id, None, _audit(row, address))
            uow.commit()
        return self._user(row)

    def users(self) -> list[User]:
        """Every user, by id."""
        self.actor.require("users", "read")
        with self._uow(readonly=True) as uow:
            return [self._user(r) for r in uow.access.users()]

    def user(self, user_id: int) -> User:
        """One user."""
        self.actor.require("users", "read")
        with self._uow(readonly=True) as uow:
            return self._user(_existing(uow, user_id))

    def find_user(self, email: str) -> User:
        """The user with ``email``."""
        self.actor.require("users", "read")
        with self._uow(readonly=True) as uow:
            row = uow.access.user_by_index(self._index(email))
            if row is None:
                raise NotFoundError(f"no user {normalise_email(email)}")
            return self._user(row)

    def update_user(
        self,
        user_id: int,
        *,
        if_version: int | None,
        role: Role | str | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Change a user's role or disabled flag; ``if_version`` guards against lost
        updates. Disabling ends the user's sessions (tokens stop working at once too)."""
        self.actor.require("users", "write")
        changes: dict[str, object] = {}
        if role is not None:
            changes["role"] = _role(role).value
        if disabled is not None:
            changes["disabled"] = disabled
        with self._uow() as uow:
            before = _existing(uow, user_id)
            if not uow.access.update_user(user_id, if_version, **changes):
                raise VersionConflictError("user", if_version or 0, before.version)
            if disabled:
                uow.access.delete_sessions_of(user_id)
            after = _existing(uow, user_id)
            record(
                uow,
                self.actor,
                self._clock.now(),
                "user.update",
                "user",
                user_id,
                _audit(before, None),
                _audit(after, None),
            )
            uow.commit()
        return self._user(after)

    def disable(self, email: str) -> User:
        """Disable the user with ``email`` (``crmledger user disable``)."""
        found = self.find_user(email)
        return self.update_user(found.id, if_version=None, disabled=True)

    # -- signing in -----------------------------------------------------------------------

    def login(
        self, email: str, password: str, address: str = "-", request_id: str | None = None
    ) -> Principal:
        """Check a password. Unknown users, wrong passwords and disabled users all get the
        same :class:`AuthenticationError`; 10 failures a minute per account or per address
        lead to :class:`LoginThrottledError`."""
        account_key = "email:" + email.strip().lower()
        keys = [account_key, "address:" + address]
        now = self._clock.now()
        wait = self.throttle.retry_after(keys, now)
        if wait:
            raise LoginThrottledError(wait)
        with self._uow() as uow:
            try:
                row = uow.access.user_by_index(self._index(email))
            except InvalidInputError:
                row = None
            if row is None or row.disabled or not self._hasher.verify(row.password_hash, password):
                if row is None:
                    self._hasher.hash(password)  # the same work, so timing tells nothing
                self.throttle.fail(keys, now)
                raise AuthenticationError
            changes: dict[str, object] = {"last_login_at": now}
            if self._hasher.needs_rehash(row.password_hash):
                changes["password_hash"] = self._hasher.hash(password)
            uow.access.update_user(row.id, None, **changes)
            principal = Principal(row.id, f"user:{row.id}", Role(row.role), via="session")
            actor = Actor(principal, request_id or self.actor.request_id)
            record(uow, actor, now, "user.login", "user", row.id)
            uow.commit()
        self.throttle.succeed([account_key])
        return principal

    def start_session(self, principal: Principal) -> tuple[str, WebSession]:
        """A new web session for a signed-in principal: ``(cookie secret, session)``."""
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        assert principal.user_id is not None
        now = self._clock.now()
        with self._uow() as uow:
            uow.access.add_session(
                digest(secret), principal.user_id, csrf, now, now + SESSION_LIFETIME
            )
            uow.commit()
        return secret, WebSession(principal, csrf)

    def session(self, secret: str) -> WebSession | None:
        """The live session behind a cookie, or None (unknown, expired, user disabled)."""
        with self._uow(readonly=True) as uow:
            found = uow.access.session(digest(secret))
            if found is None or found.expires_at <= self._clock.now():
                return None
            row = uow.access.user(found.user_id)
            if row is None or row.disabled:
                return None
        principal = Principal(row.id, f"user:{row.id}", Role(row.role), via="session")
        return WebSession(principal, found.csrf_token)

    def end_session(self, secret: str) -> None:
        """Log out: the session is removed."""
        with self._uow() as uow:
            uow.access.delete_session(digest(secret))
            uow.commit()

    # -- API tokens -----------------------------------------------------------------------

    def create_token(self, email: str, name: str, expires_days: int | None = None) -> IssuedToken:
        """A bearer token acting with the user's role; the secret is returned once."""
        self.actor.require("tokens", "write")
        if not name.strip():
            raise InvalidInputError("name", "a token needs a name")
        if expires_days is not None and expires_days < 1:
            raise InvalidInputError("expires", "a token lives at least one day")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        expires = now + timedelta(days=expires_days) if expires_days else None
        with self._uow() as uow:
            row = uow.access.user_by_index(self._index(email))
            if row is None:
                raise NotFoundError(f"no user {normalise_email(email)}")
            token_id = uow.access.add_token(row.id, name.strip(), digest(secret), now, expires)
            after = {"user": row.id, "name": name.strip(), "expires_at": expires}
            record(uow, self.actor, now, "token.create", "token", token_id, None, after)
            uow.commit()
        return IssuedToken(token_id, name.strip(), secret, expires)

    def login_token(self, principal: Principal) -> IssuedToken:
        """A bearer token for a principal that just signed in with its password (API
        login); it lives as long as a web session."""
        assert principal.user_id is not None
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        expires = now + SESSION_LIFETIME
        with self._uow() as uow:
            token_id = uow.access.add_token(
                principal.user_id, "login", digest(secret), now, expires
            )
            uow.commit()
        return IssuedToken(token_id, "login", secret, expires)

    def token_list(self) -> list[tuple[TokenRow, str]]:
        """Every token (never its secret) with its user's email."""
        self.actor.require("tokens", "read")
        with self._uow(readonly=True) as uow:
            users = {row.id: row for row in uow.access.users()}
            return [(t, self._email(users[t.user_id])) for t in uow.access.tokens(None)]

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token; it stops working at once."""
        self.actor.require("tokens", "write")
        now = self._clock.now()
        with self._uow() as uow:
            if not uow.access.revoke_token(token_id, now):
                raise NotFoundError(f"no live token {token_id}")
            record(uow, self.actor, now, "token.revoke", "token", token_id)
            uow.commit()

    def authenticate_token(self, secret: str) -> Principal:
        """The principal a bearer token acts as; :class:`AuthenticationError` if it is
        unknown, revoked, expired or its user is disabled."""
        with self._uow(readonly=True) as uow:
            token = uow.access.token_by_hash(digest(secret))
            now = self._clock.now()
            if token is None or token.revoked_at is not None:
                raise AuthenticationError
            if token.expires_at is not None and token.expires_at <= now:
                raise AuthenticationError
            row = uow.access.user(token.user_id)
            if row is None or row.disabled:
                raise AuthenticationError
        return Principal(row.id, f"user:{row.id}", Role(row.role), "token", token.id)

    def bootstrap_needed(self) -> bool:
        """Whether the book has no users yet."""
        with self._uow(readonly=True) as uow:
            return uow.access.count_users() == 0

    def bootstrap_admin(self, email: str, password: str) -> User | None:
        """Create the first admin if the book has no users yet (``crmledger init``)."""
        with self._uow(readonly=True) as uow:
            if uow.access.count_users():
                return None
        return replace_actor(self).add_user(email, Role.ADMIN, password)


def replace_actor(service: AccessService) -> AccessService:
    """``service`` acting as the local operator."""
    return service.acting_as(replace(OPERATOR, request_id="init"))


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInputError("role", f"unknown role {role!r}; roles: {known}") from None


def _existing(uow: UnitOfWork, user_id: int) -> UserRow:
    row = uow.access.user(user_id)
    if row is None:
        raise NotFoundError(f"no user {user_id}")
    return row


def _audit(row: UserRow, email: str | None) -> dict[str, object]:
    values: dict[str, object] = {"role": row.role, "disabled": row.disabled}
    if email is not None:
        values["email"] = email  # redacted by the trail
    return values
