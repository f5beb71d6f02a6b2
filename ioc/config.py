"""Settings: one typed object read from `IOC_*` environment variables (and `.env`).

Nested groups use a double underscore: `IOC_KAFKA__SASL_USERNAME` sets
`Settings().kafka.sasl_username`. Every variable is listed in `.env.example`.

Example:
    >>> from ioc.config import get_settings
    >>> get_settings().kafka_bootstrap is None  # unset: `ioc up` starts an embedded broker
    True
"""

from __future__ import annotations

import functools
import logging
import os
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from ioc.localtime import ZONE_NAME

__all__ = [
    "AlertSettings",
    "ApiSettings",
    "ConfigError",
    "ConnectorSettings",
    "DatabaseSettings",
    "EmbeddedSettings",
    "Environment",
    "GrafanaSettings",
    "KafkaSettings",
    "NotifySettings",
    "RetentionSettings",
    "Settings",
    "StreamSettings",
    "env_name",
    "get_settings",
    "load_settings",
    "mask_url",
    "parse_bootstrap",
    "transport_warnings",
]

log = logging.getLogger(__name__)

ENV_PREFIX = "IOC_"
NESTED_DELIMITER = "__"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the variable and the fix."""


class Environment(StrEnum):
    """Where the product runs; unsafe defaults are refused outside `local`."""

    LOCAL = "local"
    STAGING = "staging"
    PRODUCTION = "production"


def env_name(*loc: str | int) -> str:
    """The environment variable that sets the field at `loc`, e.g. `IOC_KAFKA__SASL_USERNAME`."""
    return ENV_PREFIX + NESTED_DELIMITER.join(str(part) for part in loc).upper()


def parse_bootstrap(value: str) -> list[tuple[str, int]]:
    """Split a Kafka bootstrap list `host:port[,host:port…]` into (host, port) pairs.

    Raises:
        ValueError: an entry has no host, no port, or a port outside 1-65535.
    """
    servers: list[tuple[str, int]] = []
    for raw in value.split(","):
        entry = raw.strip()
        host, sep, port = entry.rpartition(":")
        host = host.strip("[]")  # IPv6 literals are written [::1]:9092
        if not entry or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"{entry!r} is not host:port; write e.g. kafka-1:9092,kafka-2:9092 "
                "(or unset it to let `ioc up` start the embedded broker)"
            )
        servers.append((host, int(port)))
    return servers


def mask_url(url: str) -> str:
    """Return `url` with its password replaced by `***`, for logs and `ioc config`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class KafkaSettings(BaseModel):
    """How the project's Kafka clients connect; every client is built from these.

    The broker address itself is `IOC_KAFKA_BOOTSTRAP` (top level), so that a single variable
    switches from the embedded broker to an external one.
    """

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_check_hostname: bool = True
    topic_prefix: str = Field(default="ioc", pattern=r"^[A-Za-z0-9._-]+$")
    client_id: str = "ioc-monitor"
    partitions: int = Field(default=6, ge=1, description="per event topic; bounds parallelism")
    replication_factor: int = Field(default=1, ge=1, description="3 on a production cluster")
    retention_hours: int = Field(default=7 * 24, ge=1, description="on broker append time")

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                f"security_protocol={self.security_protocol} needs "
                f"{env_name('kafka', 'sasl_username')} and {env_name('kafka', 'sasl_password')}"
            )
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{env_name('kafka', name)}={path} is not a readable file")
        return self


class DatabaseSettings(BaseModel):
    """How the project's PostgreSQL connections are made (the address is `IOC_DATABASE_URL`)."""

    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    sslrootcert: Path | None = None
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    command_timeout_seconds: float = Field(default=60.0, gt=0)
    statement_cache_size: int = Field(
        default=100, ge=0, description="0 for poolers and the TimescaleDB WASM tier"
    )
    # A migration cannot know a password: `ioc dashboards db-role` sets this one on the
    # read-only role `ioc_grafana` that migration 0006 creates without a login.
    grafana_password: SecretStr | None = Field(
        default=None, description="password of the read-only role ioc_grafana (Grafana's login)"
    )


class EmbeddedSettings(BaseModel):
    """The embedded stack `ioc up` starts when no external broker or database is configured."""

    kafka_version: str = Field(
        default="4.1.1",
        pattern=r"^4\.\d+\.\d+$",
        description="Apache Kafka 4.x from Maven Central (KRaft only, logs through Log4j 2)",
    )
    kafka_port: int = Field(default=9092, ge=0, le=65535, description="0 picks a free port")
    kafka_controller_port: int = Field(default=0, ge=0, le=65535)
    kafka_heap: str = "512m"
    postgres_port: int = Field(default=5432, ge=0, le=65535, description="0 picks a free port")
    postgres_database: str = Field(default="ioc", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    start_timeout_seconds: float = Field(default=120.0, gt=0)
    stop_grace_seconds: float = Field(
        default=10.0, gt=0, description="SIGTERM, then SIGKILL after this long"
    )
    restart_backoff_max_seconds: float = Field(default=30.0, gt=0)


class ConnectorSettings(BaseModel):
    """How connectors publish, and which simulated feeds `ioc up` runs."""

    run: list[str] = Field(
        default=["camera-sim", "dvc-sim", "payment-sim", "network-sim", "feedback-sim"],
        description="connectors `ioc up` starts, one process each",
    )
    rate: float = Field(default=1.0, gt=0, le=1000, description="volume multiplier, 1 = a province")
    history_hours: float = Field(
        default=6.0, ge=0, description="on first start, simulate this much history first"
    )
    spool_max_mb: int = Field(default=256, ge=1, description="disk spool while Kafka is away")
    linger_ms: int = Field(default=20, ge=0, le=5000)
    delivery_timeout_seconds: float = Field(
        default=15.0, gt=0, description="unacknowledged this long = broker away, spool"
    )


class StreamSettings(BaseModel):
    """How stream workers window, dedupe and write events.

    The design is in the README, "Streams: events into exact windows".
    """

    group: str = Field(
        default="ioc-streams",
        pattern=r"^[A-Za-z0-9._-]+$",
        description="consumer group; workers in one group split the partitions",
    )
    workers: int = Field(default=1, ge=0, description="worker processes `ioc up` starts")
    window_seconds: int = Field(default=60, ge=1, le=3600, description="tumbling window width")
    allowed_lateness_seconds: int = Field(
        default=300, ge=0, description="a window still takes events this long after it closes"
    )
    # The store recognises every event it holds, so reading all that the topics retain is
    # safe: nothing is counted twice, and nothing the topics hold is skipped.
    start_from: Literal["earliest", "latest"] | AwareDatetime = Field(
        default="earliest",
        description=(
            "where a group with no stored position starts: earliest, latest, or a time "
            "(ISO 8601 with offset, e.g. 2026-12-01T00:00:00+07:00)"
        ),
    )
    # As long as the window rows (400 days on TimescaleDB): every figure on a board can be
    # traced to its events, and a repeat of any event behind it is recognised.
    event_retention_days: int = Field(
        default=400,
        ge=1,
        le=36_500,
        description="the event store keeps events this long; older ones are refused (expired)",
    )
    flush_interval_ms: int = Field(
        default=500, ge=10, le=60_000, description="write window deltas at least this often"
    )
    max_batch: int = Field(default=20_000, ge=1, description="records per database transaction")
    session_timeout_ms: int = Field(
        default=10_000,
        ge=6_000,
        le=300_000,
        description="a dead worker's partitions move after this",
    )

    @field_validator("window_seconds")
    @classmethod
    def _divides_an_hour(cls, value: int) -> int:
        if 3600 % value:
            raise ValueError(
                "must divide an hour (e.g. 10, 60, 300), so hourly and daily roll-ups add "
                "whole windows"
            )
        return value


class AlertSettings(BaseModel):
    """The KPI catalogue, the alert rules, the recipients, and how often rules are evaluated."""

    kpis_file: Path | None = Field(default=None, description="unset = shipped catalogue")
    rules_file: Path | None = Field(default=None, description="unset = shipped alert rules")
    calendar_file: Path | None = Field(
        default=None, description="feeds' office hours and holidays; unset = shipped calendar"
    )
    recipients_file: Path | None = Field(default=None, description="unset = shipped sample")
    grace_seconds: float = Field(
        default=15.0, ge=0, description="a window is judged this long after it ends"
    )
    evaluate_every_seconds: float = Field(default=5.0, gt=0, le=3600)


class NotifySettings(BaseModel):
    """How alert notifications are sent (email over SMTP, JSON webhooks).

    Attributes:
        smtp_host: SMTP server; unset = no email is sent (emails wait in the outbox).
        smtp_port: 587 (STARTTLS), 465 (`smtp_use_tls`) or 25 (relay).
        smtp_sender: the From of every email, e.g. "IOC Hưng Yên <ioc@hungyen.gov.vn>".
        smtp_username: SMTP login, if the server wants one.
        smtp_password: its password.
        smtp_starttls: require STARTTLS.
        smtp_use_tls: implicit TLS (port 465).
        smtp_timeout_seconds: per connection and command.
        webhook_timeout_seconds: per request.
        webhook_secret: default HMAC secret for webhook bodies (per-URL ones come from the
            recipients file's `secret_env`).
        poll_seconds: how often the outbox is polled.
        batch: rows per poll.
        digest_at: local time after which yesterday's digest is enqueued, and on the 1st of
            a month last month's report for `reports: monthly` recipients; None = neither.
        stale_after_minutes: an alert message whose transition is older than this when it
            could be sent (a long SMTP outage, an evaluator catching up) is folded into one
            summary per recipient and channel instead of being sent on its own; 0 = never.
    """

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_sender: str = "IOC <ioc@localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_use_tls: bool = False
    smtp_timeout_seconds: float = 30.0
    webhook_timeout_seconds: float = 10.0
    webhook_secret: SecretStr | None = None
    poll_seconds: float = 1.0
    batch: int = 50
    digest_at: time | None = time(7, 0)
    stale_after_minutes: float = Field(
        default=60.0, ge=0, description="older alert messages go out as one summary; 0 = never"
    )


class ApiSettings(BaseModel):
    """The API and live board (`ioc api`); its address is `IOC_API_HOST` / `IOC_API_PORT`.

    Attributes:
        requests_per_minute: per key; a request over it gets 429 with Retry-After.
        burst: requests a key may make at once before the per-minute rate applies.
        failed_auth_per_minute: per client address; stops guessing keys.
        trusted_proxies: addresses of reverse proxies whose X-Forwarded-For names the client
            (audit lines and per-address limits); empty = use the connection's address.
        live_every_seconds: how often the live stream looks for new KPI values and alerts.
        pool_size: database connections of one API process.
        area_silence_max_minutes: the longest silence a key limited to an area may set (a
            province-wide key: a week). Such a silence never holds an escalation above the
            key's area either.
        stream_recheck_seconds: how often an open live stream checks that its key is still
            valid; a revoked key's stream ends within this (plus the key cache period).
        basemap_url: tiles for the board map's background, with ``{z}``, ``{x}`` and ``{y}``
            (e.g. a site's own tile server); unset = no basemap, the map draws the areas alone
            and the board loads nothing from elsewhere. When set, its origin is allowed for
            images in the Content-Security-Policy.
        basemap_attribution: the credit the tiles' licence asks for, shown under the map.
    """

    requests_per_minute: int = Field(default=600, ge=1)
    burst: int = Field(default=60, ge=1)
    failed_auth_per_minute: int = Field(default=20, ge=1)
    trusted_proxies: list[str] = Field(default_factory=list)
    live_every_seconds: float = Field(default=2.0, gt=0, le=60)
    pool_size: int = Field(default=10, ge=1, le=100)
    area_silence_max_minutes: int = Field(default=12 * 60, ge=1, le=7 * 24 * 60)
    stream_recheck_seconds: float = Field(default=30.0, gt=0, le=3600)
    basemap_url: str | None = None
    basemap_attribution: str | None = Field(default=None, max_length=300)

    @field_validator("basemap_url")
    @classmethod
    def _tile_template(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError(f"must be an http(s) URL: {value!r}")
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in value]
        if missing:
            raise ValueError(
                f"must contain {', '.join(missing)}, e.g. https://tiles.example/{{z}}/{{x}}/{{y}}.png"
            )
        return value.strip()


class RetentionSettings(BaseModel):
    """How long the tables that grow with time keep their rows; 0 keeps them forever.

    `ioc alerts run` deletes older rows every `every_minutes` (`ioc.db.retention`).

    Attributes:
        kpi_minute_days: `kpi_values` at 1m (about 2 million rows a day for a province); the
            hourly and daily values are kept, and an hour whose minutes are gone is computed
            from the window rows again when late data reaches it.
        kpi_hour_days: `kpi_values` at 1h.
        kpi_day_days: `kpi_values` at 1d.
        audit_days: `audit_log` lines.
        alert_history_days: transitions of alerts resolved that long ago (the alerts stay).
        outbox_delivered_days: delivered notifications (undelivered ones are never deleted,
            nor those of an alert still open).
        every_minutes: how often the deletion runs; each run deletes a bounded number of rows
            per table, so a first run on a large table spreads over several.
    """

    kpi_minute_days: int = Field(default=35, ge=0)
    kpi_hour_days: int = Field(default=0, ge=0)
    kpi_day_days: int = Field(default=0, ge=0)
    audit_days: int = Field(default=400, ge=0)
    alert_history_days: int = Field(default=400, ge=0)
    outbox_delivered_days: int = Field(default=30, ge=0)
    every_minutes: float = Field(default=60.0, gt=0, le=24 * 60)


class GrafanaSettings(BaseModel):
    """How `ioc dashboards push` reaches Grafana, and how Grafana reaches the database.

    Attributes:
        url: Grafana's address, e.g. http://grafana:3000 (a sub-path is kept).
        token: a service account token (Editor or Admin role); preferred to a password.
        username: basic-auth user, when no token is given.
        password: basic-auth password.
        timeout_seconds: per HTTP request.
        database_host: host:port at which Grafana reaches the database; unset = the host and
            port of IOC_DATABASE_URL (right when Grafana runs next to the product).
        timescaledb: the datasource's TimescaleDB switch (Grafana's `$__timeGroup` then uses
            `time_bucket`); false for plain PostgreSQL.
    """

    url: str = "http://127.0.0.1:3000"
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    database_host: str | None = None
    timescaledb: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected Grafana's address, e.g. http://grafana:3000")
        return value.strip()


class Settings(BaseSettings):
    """Every setting of the product. Build with `get_settings()`; never at import time."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    environment: Environment = Environment.LOCAL
    kafka_bootstrap: str | None = Field(
        default=None, description="host:port list of an external broker; unset = embedded"
    )
    database_url: SecretStr | None = Field(
        default=None, description="postgresql://user:password@host:port/db; unset = embedded"
    )
    state_dir: Path = Field(default=Path(".ioc"), description="broker and database data, logs")
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "ioc-monitor", description="downloaded Kafka jars"
    )
    province: str | None = Field(
        default=None,
        description='GSO code or name of one of the 34 provinces ("33", "Hải Phòng"); '
        "unset = Hưng Yên (33)",
    )
    areas_file: Path | None = Field(
        default=None,
        description="an overlay (figures: on the national data) or a full areas file; "
        "unset = the shipped data of IOC_PROVINCE",
    )
    feeds_dir: Path | None = Field(
        default=None,
        description="a folder of the province's own feed declarations (*.yaml), read once at "
        "start by ioc.feeds; unset = the shipped feeds and those of installed plugins",
    )
    feeds_plugins: str = Field(
        default="all",
        description="which installed plug-ins' feeds to read: all, none, or their entry point "
        "names separated by commas (read once at start by ioc.feeds)",
    )
    indicators_file: Path | None = Field(
        default=None,
        description="the periodic indicators' catalogue (a full file, or one that extends "
        "the national one); unset = the shipped one of IOC_PROVINCE",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=0, le=65535)
    health_port: int | None = Field(
        default=None, ge=0, le=65535, description="/healthz /readyz /metrics of each process"
    )

    kafka: KafkaSettings = KafkaSettings()
    database: DatabaseSettings = DatabaseSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    connectors: ConnectorSettings = ConnectorSettings()
    streams: StreamSettings = StreamSettings()
    alerts: AlertSettings = AlertSettings()
    notify: NotifySettings = NotifySettings()
    grafana: GrafanaSettings = GrafanaSettings()
    api: ApiSettings = ApiSettings()
    retention: RetentionSettings = RetentionSettings()

    @field_validator("kafka_bootstrap")
    @classmethod
    def _valid_bootstrap(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_bootstrap(value)
            return value.strip()
        return None

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        parts = urlsplit(value.get_secret_value().strip())
        if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
            raise ValueError(
                "expected postgresql://user:password@host:port/database "
                "(or unset it to let `ioc up` start the embedded PostgreSQL)"
            )
        try:
            parts.port  # noqa: B018 - urlsplit validates the port lazily
        except ValueError as err:
            raise ValueError(f"bad port: {err}") from None
        return value

    @model_validator(mode="after")
    def _store_outlives_topics(self) -> Settings:
        # A record still on Kafka can be read again (a new consumer group, an offset reset):
        # the store must still hold its event to recognise it.
        if self.streams.event_retention_days * 24 < self.kafka.retention_hours:
            raise ValueError(
                f"{env_name('streams', 'event_retention_days')}="
                f"{self.streams.event_retention_days} keeps events for less than the topics keep "
                f"records ({env_name('kafka', 'retention_hours')}={self.kafka.retention_hours}): "
                "a record read again would be counted twice; raise the first or lower the second"
            )
        return self

    @model_validator(mode="after")
    def _no_unsafe_defaults_outside_local(self) -> Settings:
        if self.environment is Environment.LOCAL:
            return self
        missing = [
            env_name(name)
            for name in ("kafka_bootstrap", "database_url")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(
                f"{env_name('environment')}={self.environment.value} runs on real services, "
                f"not the embedded stack: set {' and '.join(missing)}"
            )
        return self

    @model_validator(mode="after")
    def _warn_about_transport_outside_local(self) -> Settings:
        # Warned, not refused: the shipped docker compose runs `production` on one host's
        # private container network, where plaintext never leaves the machine; refusing
        # would stop it. A deployment across a network must act on these lines.
        for warning in transport_warnings(self):
            log.warning("INSECURE TRANSPORT: %s", warning)
        return self

    def public_dict(self) -> dict[str, Any]:
        """Settings as plain values with every secret masked, for `ioc config`."""
        data = self.model_dump(mode="json")
        if self.database_url is not None:
            data["database_url"] = mask_url(self.database_url.get_secret_value())
        return data


def transport_warnings(settings: Settings) -> list[str]:
    """What crosses the network unencrypted or to an unverified server, outside `local`.

    Each line names the variable and the fix; empty in `local` (the embedded stack listens on
    127.0.0.1) and when both Kafka and PostgreSQL use verified TLS.
    """
    if settings.environment is Environment.LOCAL:
        return []
    warnings = []
    protocol = settings.kafka.security_protocol
    if not protocol.endswith("SSL"):
        warnings.append(
            f"{env_name('kafka', 'security_protocol')}={protocol}: events, and with SASL the "
            "password, cross the network in clear text; set it to SASL_SSL (or SSL) and "
            f"{env_name('kafka', 'ssl_cafile')} to the broker's CA"
        )
    sslmode = settings.database.sslmode
    if sslmode not in ("verify-ca", "verify-full"):
        warnings.append(
            f"{env_name('database', 'sslmode')}={sslmode}: the database server is not "
            "verified (a machine in the middle sees passwords and data); set it to "
            f"verify-full and {env_name('database', 'sslrootcert')} to the server's CA"
        )
    return warnings


def _explain(err: ValidationError) -> ConfigError:
    lines = []
    for problem in err.errors():
        loc = [str(part) for part in problem["loc"]]
        name = env_name(*loc) if loc else "settings"
        message = str(problem["msg"]).removeprefix("Value error, ")
        given = problem.get("input")
        secret = any(word in name.lower() for word in ("password", "url", "secret", "token"))
        shown = "" if isinstance(given, dict) or secret else f"={given!r}"
        lines.append(f"  {name}{shown}: {message}")
    return ConfigError("Invalid configuration:\n" + "\n".join(lines))


def _refuse_other_timezone() -> None:
    """Refuse an `IOC_TIMEZONE` naming another zone than the province's.

    The setting is gone: times are always Asia/Ho_Chi_Minh (`ioc.localtime`), because the day
    roll-ups of migration 0002 are binned at +07 and Vietnam has one zone without daylight
    saving. Ignored silently, another value would look as if it worked.
    """
    name = f"{ENV_PREFIX}TIMEZONE"
    given = os.environ.get(name)
    if given is None and Path(".env").is_file():
        given = dotenv_values(".env").get(name)
    if given is not None and given.strip() not in ("", ZONE_NAME):
        raise ConfigError(
            f"Invalid configuration:\n  {name}={given!r}: times are always {ZONE_NAME} "
            "(UTC+7, no daylight saving; the day roll-ups are binned at +07); "
            f"remove {name}"
        )


def load_settings(**overrides: Any) -> Settings:
    """Build `Settings` from the environment, turning validation errors into `ConfigError`."""
    _refuse_other_timezone()
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise _explain(err) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call `get_settings.cache_clear()`."""
    return load_settings()
