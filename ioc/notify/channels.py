"""How messages leave: email over SMTP, and a generic JSON webhook.

A channel sends one `OutboundMessage` and returns only once the other side accepted it (SMTP
250 for the recipient, HTTP 2xx); anything else raises `DeliveryError` with a reason that
says what to check. The outbox retries; channels never retry on their own.

Both carry the outbox id so that a receiver can drop a repeat (the outbox delivers at least
once; see `ioc.notify.outbox`):

- email: `Message-ID: <ioc-outbox-<id>@<sender domain>>` and `X-IOC-Delivery: <id>`;
- webhook: headers `X-IOC-Delivery: <id>` and `Idempotency-Key: ioc-outbox-<id>`, and
  `delivery_id` in the JSON body. With a secret, `X-IOC-Timestamp: <unix seconds>` says when
  this attempt was sent and `X-IOC-Signature-256: sha256=<hex>` is the HMAC-SHA256 of
  `<timestamp>.<raw body>` (as Stripe and Slack sign theirs). A receiver recomputes it, refuses
  a timestamp older than 5 minutes (a captured request cannot be replayed later) and drops a
  `delivery_id` it has seen (a replay within those minutes, or the outbox's own retry);
  :func:`verify` is the reference check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Final, Protocol, runtime_checkable

import aiosmtplib
import httpx
from pydantic import SecretStr

__all__ = [
    "Attachment",
    "Channel",
    "DeliveryError",
    "OutboundMessage",
    "SmtpChannel",
    "WebhookChannel",
    "signature",
    "verify",
]

USER_AGENT: Final = "ioc-monitor-notifier/1"


class DeliveryError(RuntimeError):
    """A channel could not hand a message over; `reason` says why and what to check."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email (a period report)."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class OutboundMessage:
    """One outbox row, ready to send.

    Attributes:
        id: the outbox id; stable across retries (the receiver's dedupe key).
        recipient: recipient id from the recipients file.
        address: email address or webhook URL.
        subject: the subject line.
        text: the plain-text body.
        payload: the JSON payload (webhooks), `delivery_id` included.
        language: `vi` or `en`.
        attachments: files an email carries (webhooks send only the payload, which names them).
    """

    id: int
    recipient: str
    address: str
    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    language: str = "vi"
    attachments: tuple[Attachment, ...] = ()


@runtime_checkable
class Channel(Protocol):
    """What the outbox sends through. `type` matches the recipients file (`email`, `webhook`)."""

    type: str

    async def send(self, message: OutboundMessage) -> None:
        """Hand `message` over; return only once the other side accepted it.

        Raises:
            DeliveryError: it was not accepted (or it is unknown whether it was).
        """

    async def aclose(self) -> None:
        """Release connections."""


class SmtpChannel:
    """Email over SMTP (aiosmtplib), UTF-8 subject and body, one connection per message.

    Args:
        host: SMTP server.
        port: 587 for STARTTLS submission, 465 with `use_tls`, 25 for a relay.
        sender: the From address, optionally with a name: `"IOC Hưng Yên <ioc@example.vn>"`.
        username: login, if the server asks for one.
        password: its password.
        starttls: upgrade the connection with STARTTLS (required when set).
        timeout: seconds for connecting and for each command.
        use_tls: implicit TLS from the first byte (port 465).
    """

    type = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
        use_tls: bool = False,
    ) -> None:
        _, address = parseaddr(sender)
        if "@" not in address:
            raise ValueError(
                f"sender {sender!r} has no email address; write e.g. 'IOC <ioc@example.vn>'"
            )
        if starttls and use_tls:
            raise ValueError("choose STARTTLS (port 587) or implicit TLS (port 465), not both")
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.use_tls = use_tls
        self._domain = address.rpartition("@")[2]

    def build(self, message: OutboundMessage) -> EmailMessage:
        """The email for `message` (also used by tests and previews)."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.address
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = f"<ioc-outbox-{message.id}@{self._domain}>"
        email["X-IOC-Delivery"] = str(message.id)
        email["Content-Language"] = message.language
        email.set_content(message.text, charset="utf-8")
        for file in message.attachments:
            maintype, _, subtype = file.media_type.partition("/")
            email.add_attachment(
                file.content, maintype=maintype, subtype=subtype, filename=file.filename
            )
        return email

    async def send(self, message: OutboundMessage) -> None:
        """Send one email; return once the server accepted its recipient and data.

        Raises:
            DeliveryError: connection, login, TLS or the server refused; the reason names
                the server and what to check.
        """
        email = self.build(message)
        where = f"SMTP {self.host}:{self.port}"
        try:
            refused, _ = await aiosmtplib.send(
                email,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password.get_secret_value() if self.password else None,
                start_tls=self.starttls,
                use_tls=self.use_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as err:
            codes = "; ".join(f"{r.code} {r.message}" for r in err.recipients)
            raise DeliveryError(
                f"{where} refused {message.address} ({codes}); check the address in the "
                "recipients file"
            ) from err
        except aiosmtplib.SMTPAuthenticationError as err:
            raise DeliveryError(
                f"{where} rejected the login ({err.code} {err.message}); check "
                "IOC_NOTIFY__SMTP_USERNAME and IOC_NOTIFY__SMTP_PASSWORD"
            ) from err
        except aiosmtplib.SMTPResponseException as err:
            raise DeliveryError(f"{where} answered {err.code} {err.message}") from err
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
            raise DeliveryError(
                f"{where} unreachable ({type(err).__name__}: {err}); is the mail server up? "
                "check IOC_NOTIFY__SMTP_HOST / _PORT / _STARTTLS"
            ) from err
        if refused:
            raise DeliveryError(f"{where} refused {message.address}: {refused}")

    async def aclose(self) -> None:
        """Nothing to release: each message uses its own connection."""


SIGNATURE_MAX_AGE: Final = 300  # seconds a receiver should accept a signed request for


def signature(secret: SecretStr, timestamp: int, body: bytes) -> str:
    """The `X-IOC-Signature-256` value: `sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.get_secret_value().encode(), signed, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: SecretStr,
    body: bytes,
    timestamp: str,
    header: str,
    now: float | None = None,
    max_age: int = SIGNATURE_MAX_AGE,
) -> bool:
    """A receiver's check of a webhook: signed with `secret`, and sent at most `max_age` ago.

    Args:
        secret: the shared secret.
        body: the raw request body, as received.
        timestamp: the `X-IOC-Timestamp` header.
        header: the `X-IOC-Signature-256` header.
        now: the receiver's clock, unix seconds (default: now).
        max_age: seconds a request stays acceptable, either way (clocks drift).

    Returns:
        True if genuine and fresh; the receiver should still drop a `delivery_id` it has seen.
    """
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    at = int(timestamp)
    if abs((time.time() if now is None else now) - at) > max_age:
        return False
    return hmac.compare_digest(signature(secret, at, body), header)


class WebhookChannel:
    """A JSON POST to the recipient's URL (httpx); any 2xx answer means accepted.

    Redirects are not followed (a 3xx is a failure to look at, not a place to resend to).

    Args:
        timeout: seconds for the whole request.
        secret: HMAC secret signing every body, unless `secrets` has one for the URL.
        secrets: URL → secret, from `ioc.notify.routing.webhook_secrets`.
        client: an httpx client to use (tests); by default one is made and closed here.
    """

    type = "webhook"

    def __init__(
        self,
        timeout: float = 10.0,
        secret: SecretStr | None = None,
        secrets: Mapping[str, SecretStr] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.timeout = timeout
        self.secret = secret
        self.secrets = dict(secrets or {})
        self._client = client
        self._own_client = client is None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}
            )
        return self._client

    async def send(self, message: OutboundMessage) -> None:
        """POST the payload; return once the receiver answered 2xx.

        Raises:
            DeliveryError: no answer in time, connection refused, or a non-2xx status.
        """
        body = json.dumps(
            {**message.payload, "delivery_id": message.id}, ensure_ascii=False
        ).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-IOC-Delivery": str(message.id),
            "Idempotency-Key": f"ioc-outbox-{message.id}",
        }
        secret = self.secrets.get(message.address, self.secret)
        if secret is not None:
            # Each attempt signs its own time: a retry is fresh, a captured copy goes stale.
            now = int(time.time())
            headers["X-IOC-Timestamp"] = str(now)
            headers["X-IOC-Signature-256"] = signature(secret, now, body)
        try:
            response = await self._http().post(message.address, content=body, headers=headers)
        except httpx.HTTPError as err:
            raise DeliveryError(
                f"webhook {message.address} unreachable ({type(err).__name__}: {err}); is the "
                "gateway up and the URL in the recipients file right?"
            ) from err
        if not response.is_success:
            excerpt = response.text[:200].replace("\n", " ")
            raise DeliveryError(
                f"webhook {message.address} answered HTTP {response.status_code}: {excerpt}"
            )

    async def aclose(self) -> None:
        """Close the HTTP client if this channel made it."""
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None
