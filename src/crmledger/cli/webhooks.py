"""``crmledger webhook``: subscriptions to the book's events and their delivery log.

::

    crmledger webhook add https://erp.example.com/hooks --event 'invoice.*' --event party.created
    crmledger webhook list
    crmledger webhook test 3                 # sends a webhook.test message now
    crmledger webhook deliveries 3
    crmledger webhook replay 41
    crmledger webhook rotate 3 --overlap-hours 24
    crmledger webhook disable 3 / enable 3

``crmledger worker`` sends what events queue. Targets on loopback, private or link-local
addresses are refused unless ``CRMLEDGER_WEBHOOKS_ALLOW_PRIVATE=1`` (local development).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.services.webhooks import Delivery, Subscription

webhook_app = typer.Typer(help="Signed webhooks to other systems.", no_args_is_help=True)
SubscriptionId = Annotated[int, typer.Argument(help="The subscription's id.")]


def _row(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "url": sub.url,
        "events": " ".join(sub.event_types),
        "status": sub.status,
        "why": sub.disabled_reason,
        "description": sub.description,
    }


def _delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "message": d.msg_id,
        "event": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "last": d.last_code if d.last_code is not None else "",
        "error": d.last_error,
        "next": d.next_attempt_at,
    }


@webhook_app.command("add")
def webhook_add(
    url: Annotated[str, typer.Argument(help="Where to POST (https://...).")],
    event: Annotated[
        list[str], typer.Option("--event", "-e", help="An event type, a prefix.* or * (repeat).")
    ],
    description: Annotated[str, typer.Option(help="What the subscription is for.")] = "",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Subscribe a URL to event types; prints the signing secret (shown this once)."""
    sub, secret = state.app.webhooks.create(url, event, description)
    if fmt is OutputFormat.json:
        print(dumps(_row(sub) | {"secret": secret}))
        return
    console.print(f"Subscription [bold]{sub.id}[/bold] to {url} for {' '.join(sub.event_types)}")
    console.print(f"Signing secret (keep it; shown once): {secret}")


@webhook_app.command("list")
def webhook_list(fmt: FormatOption = OutputFormat.table) -> None:
    """Every subscription."""
    emit([_row(s) for s in state.app.webhooks.list(None, 1000)], fmt, "Webhooks")


@webhook_app.command("test")
def webhook_test(subscription: SubscriptionId, fmt: FormatOption = OutputFormat.table) -> None:
    """Send a ``webhook.test`` message now and show how it went."""
    delivery = state.app.webhooks.send_test(subscription)
    emit([_delivery(delivery)], fmt, "Test delivery")
    if delivery.status != "delivered":
        raise typer.Exit(1)


@webhook_app.command("deliveries")
def webhook_deliveries(
    subscription: SubscriptionId,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The subscription's delivery log, newest first."""
    found = state.app.webhooks.deliveries(subscription, None, limit)
    emit([_delivery(d) for d in found], fmt, f"Deliveries of webhook {subscription}")


@webhook_app.command("replay")
def webhook_replay(delivery: Annotated[int, typer.Argument(help="The delivery's id.")]) -> None:
    """Send a delivery again (same message id and body) with the next worker round."""
    found = state.app.webhooks.replay(delivery)
    console.print(f"Delivery {found.id} ({found.msg_id}) queued again.")


@webhook_app.command("rotate")
def webhook_rotate(
    subscription: SubscriptionId,
    overlap_hours: Annotated[
        int, typer.Option(min=0, max=720, help="Hours the old secret keeps signing too.")
    ] = 24,
) -> None:
    """A new signing secret; the old one signs alongside it for the overlap."""
    sub, secret = state.app.webhooks.rotate_secret(subscription, timedelta(hours=overlap_hours))
    console.print(f"New signing secret of webhook {sub.id} (shown once): {secret}")
    console.print(f"The old secret signs too until {sub.rotating_until}.")


def _status(subscription: int, status: str) -> None:
    sub = state.app.webhooks.update(subscription, {"status": status}, None)
    console.print(f"Webhook {sub.id} is {sub.status}.")


@webhook_app.command("disable")
def webhook_disable(subscription: SubscriptionId) -> None:
    """Stop sending to the subscription (what is pending fails)."""
    _status(subscription, "disabled")


@webhook_app.command("enable")
def webhook_enable(subscription: SubscriptionId) -> None:
    """Send to the subscription again (events from now on)."""
    _status(subscription, "active")
