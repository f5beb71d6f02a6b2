"""Every Kafka client is built from the same options, so security settings reach all of them."""

from pathlib import Path

import pytest

from ioc.config import load_settings
from ioc.kafka import client_options, make_admin, make_consumer, make_producer, project_topics


async def test_sasl_settings_reach_every_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_KAFKA__SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("IOC_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("IOC_KAFKA__SASL_USERNAME", "ioc")
    monkeypatch.setenv("IOC_KAFKA__SASL_PASSWORD", "pw")
    settings = load_settings(kafka_bootstrap="k:9092")
    options = client_options(settings)
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_password"] == "pw"
    producer, consumer, admin = (
        make_producer(settings),
        make_consumer(settings, "t"),
        make_admin(settings),
    )
    try:
        for client in (producer, consumer, admin):
            inner = client.client if hasattr(client, "client") else client._client
            assert inner._security_protocol == "SASL_PLAINTEXT"
            assert inner._sasl_plain_username == "ioc"
    finally:
        await producer.stop()
        await consumer.stop()
        await admin.close()


def test_ssl_context_is_built_from_the_ca_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    ca = tmp_path / "ca.pem"
    # The system bundle is a valid PEM file of CA certificates.
    system_ca = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    ca.write_bytes(system_ca.read_bytes())
    monkeypatch.setenv("IOC_KAFKA__SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("IOC_KAFKA__SSL_CAFILE", str(ca))
    options = client_options(load_settings(kafka_bootstrap="k:9093"))
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_project_topics_keep_backfills_alive() -> None:
    specs = project_topics(load_settings(kafka_bootstrap="k:9092"))
    names = {s.name for s in specs}
    assert {
        "ioc.events.camera",
        "ioc.events.dvc",
        "ioc.events.payment",
        "ioc.events.network",
        "ioc.events.feedback",
        "ioc.events.air",  # declared by the test plug-in (tests/plugins/ioc-test-airquality)
        "ioc.dlq",
        "ioc.late",
    } == names
    assert all(s.config["message.timestamp.type"] == "LogAppendTime" for s in specs)


def test_production_topics_need_two_copies_and_keep_dead_letters() -> None:
    one = {s.name: s for s in project_topics(load_settings(kafka_bootstrap="k:9092"))}
    three = {
        s.name: s
        for s in project_topics(
            load_settings(kafka_bootstrap="k:9092", kafka={"replication_factor": 3})
        )
    }
    # With one replica, requiring two would refuse every write.
    assert all("min.insync.replicas" not in s.config for s in one.values())
    assert all(s.config["min.insync.replicas"] == "2" for s in three.values())
    for specs in (one, three):
        assert specs["ioc.dlq"].config["retention.ms"] == "-1", "dead letters are never dropped"
        assert specs["ioc.events.dvc"].config["retention.ms"] == str(7 * 24 * 3_600_000)
