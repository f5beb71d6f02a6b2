"""Who is told: the recipients file a province edits, and routing by area, severity and level.

The recipients file (`ioc/data/recipients.yaml` is a commented sample) lists leaders; each has
an `area` (their scope), a severity filter, optional KPI filters and one or more channels.

Routing rules for a transition about area A at escalation level L:

1. **Scope.** A recipient *covers* A when their area is A or an ancestor of A (on the day of
   the transition, in the shape of local government valid that day). A district leader gets
   the alerts of their district and its communes, never another district's; a province
   leader's scope is the whole province.
2. **Normal audience.** Every recipient who covers A, whose severity filter lets the alert's
   severity through and whose KPI filter matches, receives it — at every level, so they also
   hear that it was escalated, acknowledged and resolved.
3. **Escalation.** For L ≥ 1 the alert is escalated to E, the L-th ancestor of A (the top area
   when the chain is shorter). Recipients whose area is exactly E receive it *whatever their
   severity filter* (being escalated to is the reason to be told), if their KPI filter
   matches. So a province chairman who set `min_severity: critical` still receives a warning
   that nobody in a commune acknowledged, once it reaches the province.
4. An alert area missing from the areas file on that day is routed as if it sat directly
   under the province, so the province's leaders still hear of it (and a warning is logged).

The alert engine should send `acknowledged` and `resolved` with the alert's current level, so
the leaders it was escalated to also hear how it ended.

Example:
    >>> from datetime import UTC, datetime
    >>> from ioc.alerts.model import Severity, Transition, TransitionKind
    >>> from ioc.areas import load_areas
    >>> areas = load_areas()
    >>> recipients = load_recipients(areas=areas)        # the shipped sample
    >>> t = Transition(alert_id=1, kind=TransitionKind.FIRED, rule_id="r", area="11986",
    ...     severity=Severity.WARNING, area_name_vi="Xã Như Quỳnh", area_level="commune",
    ...     kpi_id="dvc_on_time_rate", kpi_name_vi="", kpi_name_en="", value=0.9, target=0.95,
    ...     unit="percent", since=datetime(2026, 3, 2, 1, tzinfo=UTC),
    ...     at=datetime(2026, 3, 2, 1, tzinfo=UTC))
    >>> sorted({d.recipient_id for d in route(t, recipients, areas)})
    ['chanh-van-phong-ubnd-tinh', 'chu-tich-xa-nhu-quynh', 'pho-chu-tich-ubnd-tinh-cds', \
'truc-ban-ioc']
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ioc.alerts.model import Severity, Transition
from ioc.areas import DEFAULT_PROVINCE, AreaLevel, AreaRegistry, chosen_province
from ioc.datafile import DataFileError, load_document, read_text
from ioc.kpis.catalogue import PROVINCE_CATALOGUES
from ioc.notify.templates import DEFAULT_TIMEZONE

__all__ = [
    "SEVERITY_ORDER",
    "ChannelSpec",
    "Delivery",
    "Recipient",
    "RecipientsFile",
    "load_recipients",
    "route",
    "webhook_secrets",
]

log = logging.getLogger(__name__)

SEVERITY_ORDER: Final[dict[Severity, int]] = {
    Severity.INFO: 0,
    Severity.WARNING: 1,
    Severity.CRITICAL: 2,
}

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_URL = re.compile(r"^https?://[^/\s]+(/\S*)?$")


class ChannelSpec(BaseModel):
    """One way to reach a recipient: `{type: email, address}` or `{type: webhook, url}`.

    Attributes:
        type: `email` (sent over SMTP) or `webhook` (a JSON POST; a Zalo OA, Telegram or SMS
            gateway sits behind it).
        address: the email address (email only).
        url: the http(s) URL to POST to (webhook only).
        secret_env: name of an environment variable holding the HMAC secret the webhook
            body is signed with (webhook only; optional).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["email", "webhook"]
    address: str | None = None
    url: str | None = None
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")

    @model_validator(mode="after")
    def _fields_of_type(self) -> ChannelSpec:
        if self.type == "email":
            if self.url is not None or self.secret_env is not None:
                raise ValueError(
                    "an email channel takes only 'address' (url/secret_env are for webhooks)"
                )
            if self.address is None or not _EMAIL.match(self.address.strip()):
                raise ValueError(
                    f"an email channel needs 'address: name@domain' (got {self.address!r})"
                )
        else:
            if self.address is not None:
                raise ValueError("a webhook channel takes 'url', not 'address'")
            if self.url is None or not _URL.match(self.url.strip()):
                raise ValueError(
                    f"a webhook channel needs 'url: https://host/path' (got {self.url!r})"
                )
        return self

    @property
    def target(self) -> str:
        """The address or URL messages go to."""
        value = self.address if self.type == "email" else self.url
        return (value or "").strip()


class Recipient(BaseModel):
    """A leader who receives alerts (one entry of the recipients file).

    Attributes:
        id: stable identifier (`a-z 0-9 . _ -`); it is part of the "exactly once" key, so
            renaming it makes pending transitions deliverable again under the new id.
        name: who it is, e.g. "Chủ tịch UBND tỉnh".
        language: `vi` (default) or `en`.
        area: GSO code of the recipient's scope (in quotes): alerts about this area and every
            area below it.
        min_severity: lowest severity received (default: all). Not with `severities`.
        severities: the exact severities received. Not with `min_severity`.
        kpis: KPI id patterns (`dvc_*`, `network_special_availability`); default: every KPI.
        digest: receives the daily digest of their scope.
        reports: `monthly` = receives the previous month's report of their scope (XLSX and
            PDF attached) by email on the 1st of each month; default none.
        channels: one or more, at most one of each type.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=100)
    name: str
    language: Literal["vi", "en"] = "vi"
    area: str
    min_severity: Severity | None = None
    severities: tuple[Severity, ...] | None = None
    kpis: tuple[str, ...] | None = None
    digest: bool = True
    reports: Literal["monthly"] | None = None
    channels: tuple[ChannelSpec, ...]

    @field_validator("area", mode="before")
    @classmethod
    def _area_is_quoted(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            raise ValueError(
                f'area {value!r} must be written in quotes, like "325": without quotes YAML '
                "reads a number and drops leading zeros"
            )
        return value.strip() if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _name_nfc(cls, value: str) -> str:
        value = unicodedata.normalize("NFC", value.strip())
        if not value:
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Recipient:
        if self.min_severity is not None and self.severities is not None:
            raise ValueError("give either min_severity or severities, not both")
        if self.severities is not None and not self.severities:
            raise ValueError("severities is empty: this recipient would receive nothing")
        if not self.channels:
            raise ValueError("channels is empty: add an email or a webhook channel")
        if self.reports is not None and not any(c.type == "email" for c in self.channels):
            raise ValueError(
                f"reports: {self.reports} needs an email channel: reports are sent as attachments"
            )
        types = [c.type for c in self.channels]
        for kind in set(types):
            if types.count(kind) > 1:
                raise ValueError(
                    f"two {kind} channels: a recipient has at most one channel of each type "
                    "(add a second recipient for a second address)"
                )
        return self

    def accepts_severity(self, severity: Severity) -> bool:
        """Tell whether the severity filter lets `severity` through."""
        if self.severities is not None:
            return severity in self.severities
        if self.min_severity is not None:
            return SEVERITY_ORDER[severity] >= SEVERITY_ORDER[self.min_severity]
        return True

    def accepts_kpi(self, kpi_id: str | None, rule_id: str) -> bool:
        """Tell whether the KPI filter matches the alert's KPI (or, without one, its rule)."""
        if self.kpis is None:
            return True
        subject = kpi_id if kpi_id is not None else rule_id
        return any(fnmatch.fnmatchcase(subject, pattern) for pattern in self.kpis)


class RecipientsFile(BaseModel):
    """The whole recipients file: `recipients:` followed by a list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class Delivery:
    """One message to send: a recipient, over one channel, in their language."""

    recipient_id: str
    channel_type: str
    address: str
    language: str


def _shipped() -> tuple[str, str] | None:
    """The example shipped for the chosen province (``IOC_PROVINCE``), None if it has none.

    Hưng Yên, the default, keeps ``ioc/data/recipients.yaml``; Cần Thơ and Hải Phòng have
    ``ioc/data/provinces/<slug>/recipients.yaml``. Another province's areas are named in no
    shipped file, so it starts with no recipients rather than refusing to start.
    """
    province = chosen_province()
    data = resources.files("ioc") / "data"
    if province == DEFAULT_PROVINCE:
        resource = data / "recipients.yaml"
    elif province in PROVINCE_CATALOGUES:
        resource = data / "provinces" / PROVINCE_CATALOGUES[province] / "recipients.yaml"
    else:
        return None
    return str(resource), resource.read_text(encoding="utf-8")


def load_recipients(
    path: Path | str | None = None, areas: AreaRegistry | None = None
) -> tuple[Recipient, ...]:
    """Read and check a recipients file.

    Args:
        path: the file; None reads the example shipped for the chosen province (Hưng Yên's
            `ioc/data/recipients.yaml`, Cần Thơ's and Hải Phòng's under
            `ioc/data/provinces/`), and none for a province without one (a warning says so).
        areas: when given, every recipient's area must exist in it (in some period).

    Returns:
        The recipients, in file order.

    Raises:
        DataFileError: listing every problem as `file:line: field: reason`.
    """
    if path is None:
        shipped = _shipped()
        if shipped is None:
            log.warning(
                "no recipients: IOC_PROVINCE=%s has no shipped example; alerts reach no one "
                "until IOC_ALERTS__RECIPIENTS_FILE names the province's file",
                chosen_province(),
            )
            return ()
        source, text = shipped
    else:
        source, text = str(path), read_text(Path(path))
    parsed, doc = load_document(source, text, RecipientsFile)
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, recipient in enumerate(parsed.recipients):
        if recipient.id in seen:
            problems.append(
                doc.problem(
                    ["recipients", i, "id"],
                    f"{recipient.id!r} is already used by recipients[{seen[recipient.id]}]; "
                    "ids must be unique",
                )
            )
        seen.setdefault(recipient.id, i)
        if areas is not None and not areas.versions(recipient.area):
            problems.append(
                doc.problem(
                    ["recipients", i, "area"],
                    f"no area with code {recipient.area!r} in {areas.source}; use a code from "
                    "the areas file",
                )
            )
    if problems:
        raise DataFileError(source, problems)
    return parsed.recipients


def webhook_secrets(
    recipients: Iterable[Recipient], environ: Mapping[str, str] | None = None
) -> dict[str, SecretStr]:
    """The HMAC secret of each webhook URL whose channel names a `secret_env`.

    Args:
        recipients: the recipients.
        environ: where to read the variables (default: the process environment).

    Returns:
        URL → secret, for `WebhookChannel(secrets=...)`.

    Raises:
        ValueError: a named variable is not set; the message names it and the recipient.
    """
    env = os.environ if environ is None else environ
    found: dict[str, SecretStr] = {}
    missing: list[str] = []
    for recipient in recipients:
        for channel in recipient.channels:
            if channel.type != "webhook" or channel.secret_env is None:
                continue
            value = env.get(channel.secret_env)
            if not value:
                missing.append(f"{channel.secret_env} (recipient {recipient.id})")
            else:
                found[channel.target] = SecretStr(value)
    if missing:
        raise ValueError(
            "webhook secrets not set: "
            + ", ".join(missing)
            + "; export them, or remove secret_env from the recipients file"
        )
    return found


def _chain(area: str, areas: AreaRegistry, day: date) -> list[str]:
    """The alert area and its ancestors, nearest first, as valid on `day`."""
    try:
        return [area, *(a.code for a in areas.ancestors(area, on=day))]
    except KeyError:
        provinces = [p.code for p in areas.by_level(AreaLevel.PROVINCE, on=day) if p.code != area]
        log.warning(
            "alert area %s is not in %s on %s; routing it to the province's leaders",
            area,
            areas.source,
            day,
        )
        return [area, *provinces]


def route(
    transition: Transition,
    recipients: Iterable[Recipient],
    areas: AreaRegistry,
    tz: str = DEFAULT_TIMEZONE,
) -> list[Delivery]:
    """Decide who receives a transition, and over which channels.

    Args:
        transition: the alert transition.
        recipients: everyone in the recipients file.
        areas: the areas file; the shape valid on the transition's (local) day is used.
        tz: the province's time zone, which decides that day.

    Returns:
        One delivery per (recipient, channel), in recipient order; empty if nobody matches.
    """
    day = transition.at.astimezone(ZoneInfo(tz)).date()
    chain = _chain(transition.area, areas, day)
    escalated_to = chain[min(transition.level, len(chain) - 1)] if transition.level > 0 else None
    deliveries: list[Delivery] = []
    for recipient in recipients:
        if not recipient.accepts_kpi(transition.kpi_id, transition.rule_id):
            continue
        normal = recipient.area in chain and recipient.accepts_severity(transition.severity)
        if not (normal or recipient.area == escalated_to):
            continue
        deliveries.extend(
            Delivery(recipient.id, channel.type, channel.target, recipient.language)
            for channel in recipient.channels
        )
    return deliveries
