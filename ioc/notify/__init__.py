"""Notifications that are never lost: routing, templates, channels and the outbox.

A transition of an alert (`ioc.alerts.model.Transition`) becomes messages in four steps:

1. `route(transition, recipients, areas)` picks recipients by area scope, severity and
   escalation level (`routing`; recipients come from `ioc/data/recipients.yaml`);
2. `enqueue(conn, transition, deliveries)` renders each message (`templates`, Vietnamese or
   English) and stores it in the outbox, inside the caller's transaction, once per
   (transition, recipient, channel);
3. `Notifier` / `deliver_due` send due rows over `SmtpChannel` and `WebhookChannel`
   (`channels`), retrying with backoff until the channel accepts them;
4. `enqueue_digests` adds each leader's daily digest (`digest`).
"""

from ioc.notify.channels import (
    Channel,
    DeliveryError,
    OutboundMessage,
    SmtpChannel,
    WebhookChannel,
)
from ioc.notify.digest import daily_digest, enqueue_digests
from ioc.notify.notifier import Notifier
from ioc.notify.outbox import (
    DeliveryReport,
    OutboxDepth,
    deliver_due,
    enqueue,
    outbox_depth,
    retry_delay,
)
from ioc.notify.routing import (
    ChannelSpec,
    Delivery,
    Recipient,
    load_recipients,
    route,
    webhook_secrets,
)
from ioc.notify.templates import Message, render

__all__ = [
    "Channel",
    "ChannelSpec",
    "Delivery",
    "DeliveryError",
    "DeliveryReport",
    "Message",
    "Notifier",
    "OutboundMessage",
    "OutboxDepth",
    "Recipient",
    "SmtpChannel",
    "WebhookChannel",
    "daily_digest",
    "deliver_due",
    "enqueue",
    "enqueue_digests",
    "load_recipients",
    "outbox_depth",
    "render",
    "retry_delay",
    "route",
    "webhook_secrets",
]
