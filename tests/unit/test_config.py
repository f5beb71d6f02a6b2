import logging
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from ioc.config import (
    ConfigError,
    Settings,
    env_name,
    load_settings,
    mask_url,
    transport_warnings,
)

REPO = Path(__file__).resolve().parents[2]


def _env_names(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _env_names(annotation, (*prefix, name))
        else:
            names.add(env_name(*prefix, name))
    return names


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    documented = set(
        re.findall(r"^#?\s*(IOC_[A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M)
    )
    settings_vars = _env_names(Settings)
    assert settings_vars - documented == set(), "settings missing from .env.example"
    compose = (REPO / "docker-compose.yml").read_text()
    unknown = {name for name in documented - settings_vars if name not in compose}
    assert unknown == set(), "documented variables that nothing reads"


def test_nested_variables_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_KAFKA__SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("IOC_KAFKA__SASL_USERNAME", "ioc")
    monkeypatch.setenv("IOC_KAFKA__SASL_PASSWORD", "s3cret-kafka")
    monkeypatch.setenv("IOC_DATABASE_URL", "postgresql://ioc:s3cret-db@db:5432/ioc")
    settings = load_settings()
    assert settings.kafka.sasl_username == "ioc"
    assert settings.kafka.sasl_password is not None
    assert settings.kafka.sasl_password.get_secret_value() == "s3cret-kafka"
    shown = repr(settings) + str(settings.public_dict())
    assert "s3cret" not in shown
    assert settings.public_dict()["database_url"] == "postgresql://ioc:***@db:5432/ioc"


@pytest.mark.parametrize("value", ["nope", "host:", ":9092", "host:99999", "a:1,b"])
def test_bad_bootstrap_names_the_variable_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("IOC_KAFKA_BOOTSTRAP", value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "IOC_KAFKA_BOOTSTRAP" in str(err.value)
    assert "host:port" in str(err.value)


def test_bootstrap_list_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_KAFKA_BOOTSTRAP", " kafka-1:9092,[::1]:9093 ")
    assert load_settings().kafka_bootstrap == "kafka-1:9092,[::1]:9093"


def test_bad_database_url_does_not_echo_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", "mysql://root:topsecret@db/ioc")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "IOC_DATABASE_URL" in str(err.value)
    assert "topsecret" not in str(err.value)


def test_production_refuses_the_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_ENVIRONMENT", "production")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "IOC_KAFKA_BOOTSTRAP" in str(err.value) and "IOC_DATABASE_URL" in str(err.value)


def test_sasl_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "IOC_KAFKA__SASL_USERNAME" in str(err.value)


def test_port_out_of_range_names_nested_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_EMBEDDED__POSTGRES_PORT", "70000")
    with pytest.raises(ConfigError, match="IOC_EMBEDDED__POSTGRES_PORT"):
        load_settings()


def test_kafka_3_is_refused_for_the_embedded_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    # ioc.embedded.kafka configures Log4j 2 and the slf4j binding of Kafka 4; a 3.x broker
    # would start without its logging set up.
    monkeypatch.setenv("IOC_EMBEDDED__KAFKA_VERSION", "3.9.1")
    with pytest.raises(ConfigError, match="IOC_EMBEDDED__KAFKA_VERSION"):
        load_settings()
    monkeypatch.setenv("IOC_EMBEDDED__KAFKA_VERSION", "4.2.0")
    assert load_settings().embedded.kafka_version == "4.2.0"


def test_unknown_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_TIMEZONE", "Asia/Hanoi-City")
    with pytest.raises(ConfigError, match="IOC_TIMEZONE"):
        load_settings()


def test_the_time_zone_is_no_setting_and_another_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Day roll-ups are binned at +07 (ioc.localtime): another zone cannot be honoured, and
    # ignoring it silently would look as if it worked.
    monkeypatch.setenv("IOC_TIMEZONE", "Asia/Bangkok")
    with pytest.raises(ConfigError, match=r"IOC_TIMEZONE.*Asia/Ho_Chi_Minh"):
        load_settings()
    monkeypatch.setenv("IOC_TIMEZONE", "Asia/Ho_Chi_Minh")  # as old .env files have it
    assert not hasattr(load_settings(), "timezone")


def test_mask_url_keeps_everything_but_the_password() -> None:
    assert mask_url("postgresql://u:p%40ss@h:5432/d?sslmode=require") == (
        "postgresql://u:***@h:5432/d?sslmode=require"
    )
    assert mask_url("postgresql://u@h/d") == "postgresql://u@h/d"


def test_plaintext_transport_outside_local_is_warned_naming_variable_and_fix(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("IOC_ENVIRONMENT", "production")
    monkeypatch.setenv("IOC_KAFKA_BOOTSTRAP", "kafka-1:9092")
    monkeypatch.setenv("IOC_DATABASE_URL", "postgresql://ioc:secret@db:5432/ioc")
    with caplog.at_level(logging.WARNING, logger="ioc.config"):
        settings = load_settings()
    warned = [r.getMessage() for r in caplog.records if r.name == "ioc.config"]
    assert warned == [f"INSECURE TRANSPORT: {w}" for w in transport_warnings(settings)]
    assert len(warned) == 2
    assert "IOC_KAFKA__SECURITY_PROTOCOL=PLAINTEXT" in warned[0] and "SASL_SSL" in warned[0]
    assert "IOC_DATABASE__SSLMODE=prefer" in warned[1] and "verify-full" in warned[1]

    monkeypatch.setenv("IOC_KAFKA__SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("IOC_DATABASE__SSLMODE", "verify-full")
    assert transport_warnings(load_settings()) == []
    monkeypatch.setenv("IOC_ENVIRONMENT", "local")
    monkeypatch.setenv("IOC_DATABASE__SSLMODE", "disable")
    assert transport_warnings(load_settings()) == []
