"""Tips on real peers on loopback: email (aiosmtpd), a JSON webhook, MQTT (Mosquitto); the ledger."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from sqlmodel import Session, col, select
from tips_fixtures import BASE_URL, HttpReceiver, SmtpReceiver, TipsDB

from edu.db import unit_of_work
from edu.models import Person
from edu.tips import inbox, service
from edu.tips.channels import ChannelError
from edu.tips.links import read_unsubscribe_token
from edu.tips.models import InboxItem, TipChannel, TipDelivery
from edu.tips.run import run_tips

MONDAY_NOON = datetime(2025, 6, 2, 12, 0)
MONDAY_NOON_UTC = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def mia_with_channel(db: TipsDB, url: str) -> tuple[int, int]:
    """A household with a fan, Mia, and one channel for her; return (person id, channel id)."""
    home = db.household()
    db.device(home, "fan", 1001, name="Bedroom fan")
    mia = db.person(home, "Mia")
    with unit_of_work(db.engine) as session:
        person = session.get(Person, mia)
        assert person is not None
        channel = service.add_channel(session, db.settings, person, url)
    return mia, channel.id


def ledger(db: TipsDB, channel_id: int) -> list[TipDelivery]:
    with Session(db.engine) as session:
        query = select(TipDelivery).where(col(TipDelivery.channel_id) == channel_id)
        return list(session.exec(query.order_by(col(TipDelivery.id))))


def service_label(db: TipsDB, channel_id: int) -> str:
    with Session(db.engine) as session:
        stored = session.get(TipChannel, channel_id)
        assert stored is not None
        return stored.label


def body_text(message: Message) -> str:
    part = message.get_payload(decode=True) if not message.is_multipart() else None
    if part is None:
        part = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(
            decode=True
        )
    assert isinstance(part, bytes)
    return part.decode("utf-8")


def test_an_email_tip_carries_the_lesson_link_and_one_click_unsubscribe_headers(
    tips_db: TipsDB, smtp_receiver: SmtpReceiver
) -> None:
    _, channel = mia_with_channel(tips_db, smtp_receiver.mailto("mia@example.com"))
    report = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    assert smtp_receiver.wait_for(1)
    (tip,) = report.tips
    assert set(tip["channels"].values()) == {"sent"}
    (mail,) = smtp_receiver.messages
    assert mail["To"].endswith("mia@example.com>") or mail["To"] == "mia@example.com"
    assert tip["title"] in str(mail["Subject"])
    text = body_text(mail)
    assert f"{BASE_URL}/lessons/{tip['lesson']}" in text
    unsubscribe = " ".join(str(mail["List-Unsubscribe"]).split())
    assert unsubscribe.startswith(f"<{BASE_URL}/tips/unsubscribe?token=") and unsubscribe.endswith(
        ">"
    )
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (row,) = ledger(tips_db, channel)
    assert mail["Idempotency-Key"] == row.idempotency_key and row.status == "sent"
    # The link works without signing in: it turns this channel off, the inbox keeps going.
    token = unsubscribe.strip("<>").split("?token=", 1)[1]
    assert read_unsubscribe_token(tips_db.settings, token).channel_id == channel
    assert unsubscribe.strip("<>") in text
    with unit_of_work(tips_db.engine) as session:
        assert service.unsubscribe(session, tips_db.settings, token)["channel"] is not None
    tuesday = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(days=1))
    assert tuesday.sent == 1 and list(tuesday.tips[0]["channels"]) == ["inbox"]
    assert len(smtp_receiver.messages) == 1


def test_a_json_webhook_tip_carries_an_idempotency_key(
    tips_db: TipsDB, http_receiver: HttpReceiver
) -> None:
    _, channel = mia_with_channel(tips_db, http_receiver.url("/hooks/tips"))
    report = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    (request,) = http_receiver.requests
    (row,) = ledger(tips_db, channel)
    assert request["path"] == "/hooks/tips"
    assert request["headers"]["Idempotency-Key"] == row.idempotency_key
    assert request["body"]["title"].endswith(report.tips[0]["title"])
    assert f"{BASE_URL}/lessons/{row.lesson}" in request["body"]["message"]
    assert row.status == "sent" and row.sent_at == MONDAY_NOON_UTC


def test_an_mqtt_tip_reaches_a_subscriber_on_the_local_broker(tips_db: TipsDB) -> None:
    import paho.mqtt.client as mqtt

    topic = f"edu-test/{uuid.uuid4().hex}"
    received: list[bytes] = []
    arrived = threading.Event()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_subscribe = lambda *args: subscribed.set()

    def on_message(_client: Any, _userdata: Any, message: Any) -> None:
        received.append(message.payload)
        arrived.set()

    client.on_message = on_message
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        client.subscribe(topic, qos=1)
        assert subscribed.wait(5), "the broker did not confirm the subscription"
        _, channel = mia_with_channel(tips_db, f"mqtt://127.0.0.1:1883/{topic}?qos=1")
        report = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
        assert arrived.wait(10), "no tip arrived on the topic"
    finally:
        client.loop_stop()
        client.disconnect()
    text = received[0].decode("utf-8")
    assert report.tips[0]["summary"] in text and f"{BASE_URL}/lessons/" in text
    assert ledger(tips_db, channel)[0].status == "sent"


def test_a_failing_channel_is_retried_with_backoff_then_shown_as_failed(
    tips_db: TipsDB, http_receiver: HttpReceiver
) -> None:
    http_receiver.status = 500
    mia, channel = mia_with_channel(tips_db, http_receiver.url())
    report = run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    label = service_label(tips_db, channel)
    assert report.tips[0]["channels"] == {"inbox": "sent", label: "retry"}
    (row,) = ledger(tips_db, channel)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        "retry",
        1,
        MONDAY_NOON_UTC + timedelta(minutes=1),
    )
    # Not before its time; then each retry waits longer, with the same idempotency key.
    assert (
        run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(seconds=30)).retried
        == []
    )
    now = MONDAY_NOON
    for attempt in range(2, 6):
        now = now + timedelta(hours=2, minutes=5)
        retried = run_tips(tips_db.engine, tips_db.settings, now).retried
        assert [r["attempts"] for r in retried] == [attempt]
    (row,) = ledger(tips_db, channel)
    assert row.status == "failed" and row.attempts == 5 and "500" in row.last_error
    assert len(http_receiver.requests) == 5
    assert len({r["headers"]["Idempotency-Key"] for r in http_receiver.requests}) == 1
    assert run_tips(tips_db.engine, tips_db.settings, now + timedelta(minutes=30)).retried == []
    with unit_of_work(tips_db.engine) as session:
        person = session.get(Person, mia)
        assert person is not None
        (failed,) = inbox.failed_deliveries(session, person)
        assert failed["attempts"] == 5 and failed["channel"].startswith("json://127.0.0.1")
        assert inbox.inbox(session, person)[0]["channels"][failed["channel"]] == "failed"


def test_a_retry_waits_for_the_end_of_quiet_hours(
    tips_db: TipsDB, http_receiver: HttpReceiver
) -> None:
    http_receiver.status = 503
    mia_with_channel(tips_db, http_receiver.url())
    run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 2, 20, 59))
    http_receiver.status = 200
    assert run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 2, 23, 0)).retried == []
    assert run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 3, 7, 59)).retried == []
    retried = run_tips(tips_db.engine, tips_db.settings, datetime(2025, 6, 3, 8, 0)).retried
    assert [r["status"] for r in retried] == ["sent"]


def test_a_channel_url_is_stored_encrypted_and_never_shown_or_logged_whole(
    tips_db: TipsDB, http_receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    http_receiver.status = 500  # a failure first: its error is stored and logged
    url = f"json://coach:hunter2-secret@127.0.0.1:{http_receiver.port}/hook/tok3n-abcdef"
    mia, channel = mia_with_channel(tips_db, url)
    run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    http_receiver.status = 200
    assert [
        r["status"]
        for r in run_tips(
            tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(hours=1)
        ).retried
    ] == ["sent"]
    assert http_receiver.requests[-1]["path"] == "/hook/tok3n-abcdef"
    with Session(tips_db.engine) as session:
        stored = session.get(TipChannel, channel)
        person = session.get(Person, mia)
        assert stored is not None and person is not None
        views = [c.to_dict() for c in service.list_channels(session, person)]
    (row,) = ledger(tips_db, channel)
    shown = json.dumps(views) + stored.label + row.last_error + caplog.text
    assert "500" in caplog.text and "POST /hook/****" in caplog.text  # urllib3's debug line, masked
    for secret in ("hunter2-secret", "tok3n-abcdef"):
        assert secret not in shown
        assert secret not in stored.url_ciphertext
    assert views[0]["kind"] == "JSON" and views[0]["label"].startswith(
        "json://coach:****@127.0.0.1"
    )


def test_adding_a_channel_checks_the_url(tips_db: TipsDB) -> None:
    mia, _ = mia_with_channel(tips_db, "json://127.0.0.1:9/hook")
    with unit_of_work(tips_db.engine) as session:
        person = session.get(Person, mia)
        assert person is not None
        with pytest.raises(ChannelError, match="already has"):
            service.add_channel(session, tips_db.settings, person, "json://127.0.0.1:9/hook")
        with pytest.raises(ChannelError, match=r"nosuchservice://\.\.\.") as caught:
            service.add_channel(session, tips_db.settings, person, "nosuchservice://s3cr3t-value@x")
        assert "s3cr3t" not in str(caught.value)


def test_send_a_test_on_a_channel(tips_db: TipsDB, http_receiver: HttpReceiver) -> None:
    mia, channel = mia_with_channel(tips_db, http_receiver.url())
    result = service.test_channel(tips_db.engine, tips_db.settings, mia, str(channel))
    assert result.ok and len(http_receiver.requests) == 1
    assert "Feature Coach test" in http_receiver.requests[0]["body"]["title"]
    http_receiver.status = 500
    assert not service.test_channel(tips_db.engine, tips_db.settings, mia, f"#{channel}").ok
    with Session(tips_db.engine) as session:
        stored = session.get(TipChannel, channel)
        assert stored is not None and stored.last_test_ok is False


def test_removing_a_channel_cancels_what_it_still_owed(
    tips_db: TipsDB, http_receiver: HttpReceiver
) -> None:
    http_receiver.status = 500
    mia, channel = mia_with_channel(tips_db, http_receiver.url())
    run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON)
    with unit_of_work(tips_db.engine) as session:
        person = session.get(Person, mia)
        assert person is not None
        service.remove_channel(session, tips_db.settings, person, http_receiver.url())
        assert service.list_channels(session, person) == []
    with Session(tips_db.engine) as session:
        rows = session.exec(
            select(TipDelivery).where(col(TipDelivery.channel) == f"channel:{channel}")
        ).all()
        assert [(r.status, r.channel_id) for r in rows] == [("cancelled", None)]
        assert session.exec(select(InboxItem)).one().person_id == mia
    assert (
        run_tips(tips_db.engine, tips_db.settings, MONDAY_NOON + timedelta(hours=1)).retried == []
    )
