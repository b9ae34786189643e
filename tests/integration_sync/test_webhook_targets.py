"""Server-side request forgery: a webhook never reaches loopback, private, link-local or
reserved addresses, however the target is written, because the rule is applied to what the
host resolves to and the connection goes to the address checked. A real HTTP server
listens on 127.0.0.1 and must receive nothing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from crmledger.bootstrap import App
from crmledger.core.integration.targets import (
    UnsafeTargetError,
    parse_target,
    refusal,
)
from crmledger.integration.bus import InProcessBus
from crmledger.integration.webhook_sender import HttpWebhookSender
from crmledger.persistence.uow import SqlUnitOfWorkFactory
from crmledger.services.webhooks import WebhookService
from tests.conftest import FixedClock
from tests.integration_sync.helpers import HookServer, customer, relay_for


@pytest.fixture
def server() -> Iterator[HookServer]:
    hook = HookServer()
    yield hook
    hook.close()


def _resolving_to(*addresses: str):
    def resolve(host: str, port: int, type: int = 0) -> list[tuple[object, ...]]:
        del host, type
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


REFUSED = [
    ("http://127.0.0.1:{port}/hook", "loopback"),
    ("http://localhost:{port}/hook", "loopback"),
    ("http://127.1:{port}/hook", "loopback"),
    ("http://2130706433:{port}/hook", "loopback"),
    ("http://0x7f000001:{port}/hook", "loopback"),
    ("http://0.0.0.0:{port}/hook", "reserved"),
    ("http://[::1]:{port}/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/hook", "loopback"),
    ("http://[64:ff9b::7f00:1]:{port}/hook", "loopback"),
    ("http://10.0.0.1/hook", "private"),
    ("http://172.16.5.4/hook", "private"),
    ("http://192.168.1.10/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[fd00::5]/hook", "private"),
    ("http://100.64.0.1/hook", "reserved"),
    ("http://224.0.0.1/hook", "reserved"),
]


@pytest.mark.parametrize(("template", "why"), REFUSED)
def test_targets_inside_are_refused_before_any_request(
    server: HookServer, template: str, why: str
) -> None:
    url = template.format(port=server.port)
    result = HttpWebhookSender(timeout=2).send(url, {}, b"{}")
    assert result.status is None
    assert result.error.startswith("refused:"), result.error
    assert f"({why})" in result.error
    assert server.requests == []


@pytest.mark.parametrize(
    "addresses",
    [("10.0.0.7",), ("93.184.216.34", "127.0.0.1"), ("169.254.0.9",), ("::1",)],
)
def test_a_name_resolving_inside_is_refused(server: HookServer, addresses: tuple[str, ...]) -> None:
    sender = HttpWebhookSender(resolve=_resolving_to(*addresses))
    result = sender.send(f"http://hooks.example.com:{server.port}/hook", {}, b"{}")
    assert result.status is None
    assert result.error.startswith("refused: hooks.example.com resolves to")
    assert server.requests == []


def test_a_public_address_passes_and_is_the_one_connected_to() -> None:
    sender = HttpWebhookSender(resolve=_resolving_to("93.184.216.34"))
    assert sender.address(parse_target("https://hooks.example.com/in")) == "93.184.216.34"
    assert refusal("2606:4700:4700::1111") is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "http://user:secret@example.com/hook",
        "https://example.com/hook#part",
        "javascript:alert(1)",
        "http:///hook",
        "https://example.com/ho ok",
        "http://example.com:99999/",
    ],
)
def test_urls_that_are_not_plain_http_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTargetError):
        parse_target(url)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_subscription_inside_never_sends(app: App, clock: FixedClock, server: HookServer) -> None:
    clock.current = datetime.now(UTC)
    uow = SqlUnitOfWorkFactory(app.engine)
    hooks = WebhookService(uow, clock, app.keyring, HttpWebhookSender(timeout=2))
    with pytest.raises(UnsafeTargetError, match="loopback"):
        hooks.create(server.url(), ["*"])
    with pytest.raises(UnsafeTargetError, match="link-local"):
        hooks.create("http://169.254.169.254/latest/meta-data", ["*"])
    sub, _ = hooks.create(server.url(host="localhost"), ["*"])  # a name: judged when sent
    customer(app)
    bus = InProcessBus()
    bus.subscribe("webhooks", hooks.fan_out)
    relay_for(app, clock, bus, "w").drain()
    hooks.deliver_due()
    [delivery] = hooks.deliveries(sub.id)
    assert delivery.status == "pending"
    assert delivery.last_error == "refused: localhost resolves to 127.0.0.1 (loopback)"
    assert server.requests == []
