"""Signed webhooks: the Standard Webhooks scheme and Stripe's.

Standard Webhooks signs ``{msg id}.{timestamp}.{body}`` with HMAC-SHA256 under a secret
written ``whsec_<base64 of its bytes>`` and sends three headers; during a secret rotation
``webhook-signature`` carries one ``v1,<base64>`` per secret, separated by spaces::

    >>> key = "whsec_" + base64.b64encode(bytes(24)).decode()
    >>> headers = standard_headers([key], "msg_1", 1700000000, b'{"a":1}')
    >>> verify_standard(key, headers, b'{"a":1}', now=1700000100)
    'msg_1'

Stripe signs ``{timestamp}.{body}`` with the secret's text as the key and sends
``Stripe-Signature: t=<timestamp>,v1=<hex>``. Both refuse a timestamp more than
:data:`TOLERANCE` seconds from now, which bounds how long a captured request can be
replayed; the receiver's deduplication by event id covers the window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence

from crmledger.core.access import AuthenticationError
from crmledger.core.errors import LedgerError

#: Seconds a signed timestamp may be away from the receiver's clock.
TOLERANCE = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - the form of a secret, not one
#: Bytes of a new secret (Standard Webhooks asks for 24 to 64).
SECRET_BYTES = 32


class SignatureError(AuthenticationError):
    """A signed request is refused: a header is missing, the signature does not match the
    body under any known secret, or the timestamp is outside the tolerance."""

    field = "signature"

    def __init__(self, reason: str) -> None:
        LedgerError.__init__(self, f"webhook signature refused: {reason}")
        self.reason = reason


def new_secret() -> str:
    """A fresh random secret in the Standard Webhooks form ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the secret is not whsec_ followed by base64") from None


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``{msg_id}.{timestamp}.{body}``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_headers(
    keys: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret in ``keys`` (the new
    one first while the old one is still honoured)."""
    signatures = " ".join(standard_signature(k, msg_id, timestamp, body) for k in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise SignatureError(f"the {name} header is missing")


def _timestamp(text: str, now: int, tolerance: int) -> int:
    if not text.isdigit() or len(text) > 12:
        raise SignatureError("the timestamp is not a number of seconds")
    stamp = int(text)
    if abs(now - stamp) > tolerance:
        raise SignatureError(f"the timestamp is more than {tolerance} s from now")
    return stamp


def verify_standard(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance: int = TOLERANCE,
) -> str:
    """The message id of a request whose Standard Webhooks signature holds; else
    :class:`SignatureError` naming what is wrong."""
    msg_id = _header(headers, "webhook-id")
    stamp = _timestamp(_header(headers, "webhook-timestamp"), now, tolerance)
    expected = standard_signature(secret, msg_id, stamp, body).encode()
    given = _header(headers, "webhook-signature").split()
    if not any(hmac.compare_digest(expected, s.encode()) for s in given if s.startswith("v1,")):
        raise SignatureError("no signature matches the body")
    return msg_id


def stripe_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256>`` of ``{timestamp}.{body}`` (Stripe's form)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_stripe(
    secret: str, header: str | None, body: bytes, now: int, tolerance: int = TOLERANCE
) -> int:
    """The timestamp of a request whose ``Stripe-Signature`` holds; else
    :class:`SignatureError`."""
    if not header:
        raise SignatureError("the stripe-signature header is missing")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    if len(stamps) != 1:
        raise SignatureError("the stripe-signature header has no single t=")
    stamp = _timestamp(stamps[0].strip(), now, tolerance)
    expected = stripe_signature(secret, stamp, body).split(",v1=", 1)[1].encode()
    given = [v.strip().encode() for k, v in parts if k.strip() == "v1"]
    if not any(hmac.compare_digest(expected, g) for g in given):
        raise SignatureError("no signature matches the body")
    return stamp
