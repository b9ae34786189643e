"""Sending one webhook: resolve, check every address, connect to the one checked, POST once.

The target's host is resolved first and every address it resolves to must be public
(:func:`crmledger.core.integration.targets.refusal`); the connection then goes to that very
address (TLS still checks the certificate against the host name), so a name that resolves
to something else a moment later (DNS rebinding) gets nowhere. Redirects are answers like
any other: never followed. Each network step has a time limit and at most 64 KiB of the
answer is read::

    sender = HttpWebhookSender()                      # public targets only
    sender.send("https://erp.example.com/hooks", headers, body)
    HttpWebhookSender(allow_private=True)              # local development: 127.0.0.1 too
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

from crmledger.core.integration.targets import Target, UnsafeTargetError, parse_target, refusal
from crmledger.services.integration_ports import SendResult

Resolver = Callable[..., list[tuple[Any, ...]]]
TIMEOUT = 10.0
MAX_ANSWER = 64 * 1024
USER_AGENT = "crmledger-webhooks/1"


class _Pinned(http.client.HTTPConnection):
    """Plain HTTP to an address checked beforehand."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTls(http.client.HTTPSConnection):
    """HTTPS to an address checked beforehand; the certificate must name the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class HttpWebhookSender:
    """A :class:`~crmledger.services.integration_ports.WebhookSender` over ``http.client``."""

    def __init__(
        self,
        allow_private: bool = False,
        timeout: float = TIMEOUT,
        resolve: Resolver = socket.getaddrinfo,
    ) -> None:
        self.allow_private = allow_private
        self._timeout, self._resolve = timeout, resolve

    def address(self, target: Target) -> str:
        """The address to connect to; :class:`UnsafeTargetError` when any address the host
        resolves to is one the server must not reach."""
        try:
            found = self._resolve(target.host, target.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeTargetError(f"{target.host} does not resolve: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if not addresses:
            raise UnsafeTargetError(f"{target.host} resolves to no address")
        if not self.allow_private:
            for address in addresses:
                why = refusal(address)
                if why is not None:
                    raise UnsafeTargetError(f"{target.host} resolves to {address} ({why})")
        return addresses[0]

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> SendResult:
        started = time.monotonic()
        try:
            target = parse_target(url)
            status = self._post(target, self.address(target), headers, body)
        except UnsafeTargetError as exc:
            return SendResult(None, f"refused: {exc}", _ms(started))
        except (OSError, http.client.HTTPException) as exc:
            return SendResult(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))
        error = "" if 200 <= status[0] < 300 else status[1]
        return SendResult(status[0], error, _ms(started))

    def _post(
        self, target: Target, address: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, str]:
        pinned = _PinnedTls if target.tls else _Pinned
        conn = pinned(target.host, target.port, address, self._timeout)
        try:
            sent = {
                **headers,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Connection": "close",
            }
            conn.request("POST", target.path, body=body, headers=sent)
            answer = conn.getresponse()
            answer.read(MAX_ANSWER)
            return answer.status, _why(answer)
        finally:
            conn.close()


def _why(answer: http.client.HTTPResponse) -> str:
    if 300 <= answer.status < 400:
        where = answer.getheader("Location", "")
        return f"redirect to {where[:200]!r} not followed"
    if answer.status >= 400:
        return f"answered {answer.status} {answer.reason}"[:200]
    return ""


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
