"""Webhook signatures cover the time of sending: a captured request cannot be replayed later."""

from __future__ import annotations

from pydantic import SecretStr

from ioc.notify.channels import SIGNATURE_MAX_AGE, signature, verify

SECRET = SecretStr("bí-mật-chung")
BODY = '{"text": "Mạng chuyên dùng mất kết nối", "delivery_id": 7}'.encode()
SENT = 1_796_000_000


def test_a_fresh_signed_request_is_accepted() -> None:
    header = signature(SECRET, SENT, BODY)
    assert header.startswith("sha256=")
    assert verify(SECRET, BODY, str(SENT), header, now=SENT + 2)


def test_a_replay_after_the_max_age_is_refused() -> None:
    header = signature(SECRET, SENT, BODY)
    assert not verify(SECRET, BODY, str(SENT), header, now=SENT + SIGNATURE_MAX_AGE + 1)


def test_the_timestamp_is_signed_so_a_replay_cannot_refresh_it() -> None:
    header = signature(SECRET, SENT, BODY)
    later = SENT + 3600
    assert not verify(SECRET, BODY, str(later), header, now=later)
    assert signature(SECRET, later, BODY) != header


def test_another_body_or_secret_or_a_malformed_timestamp_is_refused() -> None:
    header = signature(SECRET, SENT, BODY)
    assert not verify(SECRET, BODY + b" ", str(SENT), header, now=SENT)
    assert not verify(SecretStr("khác"), BODY, str(SENT), header, now=SENT)
    for bad in ("", "-1", "1e9", "9" * 40):
        assert not verify(SECRET, BODY, bad, header, now=SENT)
