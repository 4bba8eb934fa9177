"""`classnet simulate` against a real Mosquitto: the broker delivers what the record says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import EXIT_USER_ERROR, main
from ingest.domain.broker import parse_broker_url
from ingest.domain.errors import UserError
from simulators.simulate_cmd import load_record
from tests.mqtt_clients import Subscriber
from tests.waiting import hold


@pytest.fixture
def subscriber(mosquitto):
    sub = Subscriber(mosquitto.port)
    yield sub
    sub.close()


NOW = 1761955200


def test_broker_receives_exactly_what_the_record_says(mosquitto, subscriber, tmp_path: Path):
    record = tmp_path / "sent.jsonl"
    argv = [
        "simulate",
        "--broker",
        f"mqtt://127.0.0.1:{mosquitto.port}",
        "--count",
        "12",
        "--towns",
        "tampere,lisbon,berlin,manila,sydney,tokyo",
        "--start",
        "1h",
        "--duration",
        "30m",
        "--fast",
        "--now",
        str(NOW),
        "--record",
        str(record),
        "--duplicates",
        "ph-manila-01=0.3",
        "--malformed",
        "fi-tampere-01=0.3",
        "--wrong-topic",
        "pt-lisbon-01=0.3",
        "--offline",
        "de-berlin-01@5m+10m",
    ]
    assert main(argv) == 0
    sent = [r for r in load_record(record) if r["action"] == "publish"]
    subscriber.wait_for(len(sent))
    got = subscriber.messages
    assert len(got) == len(sent)

    def key(topic: str, payload: bytes) -> tuple[str, bytes]:
        return topic, payload

    expected = sorted(
        key(
            r["topic"], r["payload"].encode() if "payload" in r else bytes.fromhex(r["payload_hex"])
        )
        for r in sent
    )
    assert sorted(key(t, p) for t, p, _ in got) == expected
    # QoS 1 keeps order per connection, so one station's messages arrive in the order sent.
    berlin = [p for t, p, _ in got if t == "classnet/v1/de-berlin-01/obs"]
    assert berlin == [
        r["payload"].encode() for r in sent if r["topic"] == "classnet/v1/de-berlin-01/obs"
    ]
    faults = {f["fault"] for r in sent for f in r.get("faults", [])}
    assert {"duplicate", "malformed", "wrong_topic", "offline"} <= faults


def test_retained_birth_and_clean_offline(mosquitto, tmp_path: Path):
    argv = [
        "simulate",
        "--broker",
        f"mqtt://127.0.0.1:{mosquitto.port}",
        "--count",
        "3",
        "--start",
        "10m",
        "--duration",
        "5m",
        "--fast",
        "--now",
        str(NOW),
    ]
    assert main(argv) == 0
    late = Subscriber(mosquitto.port)  # joins after the run: sees only what is retained
    try:
        late.wait_for(6, timeout=5)
        retained = {t: json.loads(p) for t, p, r in late.messages if r}
    finally:
        late.close()
    assert retained["classnet/v1/fi-tampere-01/status"] == {"state": "offline"}
    assert retained["classnet/v1/fi-tampere-01/meta"]["timezone"] == "Europe/Helsinki"


def test_dropped_will_makes_the_broker_publish_the_will(mosquitto, subscriber, tmp_path: Path):
    record = tmp_path / "sent.jsonl"
    argv = [
        "simulate",
        "--broker",
        f"mqtt://127.0.0.1:{mosquitto.port}",
        "--count",
        "2",
        "--start",
        "20m",
        "--duration",
        "10m",
        "--fast",
        "--now",
        str(NOW),
        "--dropped-will",
        "pt-lisbon-01@2m+5m",
        "--record",
        str(record),
    ]
    assert main(argv) == 0
    subscriber.wait_for(10)
    hold(0.5, "the will, if it came twice, would arrive now")
    status = [
        json.loads(p)["state"]
        for t, p, _ in subscriber.messages
        if t == "classnet/v1/pt-lisbon-01/status"
    ]
    # birth, the broker's will when the connection was cut, birth again, clean stop
    assert status == ["online", "offline", "online", "offline"]
    # The simulator itself published only the final "offline": the first came from the broker.
    mine = [
        r["payload"]
        for r in load_record(record)
        if r["topic"] == "classnet/v1/pt-lisbon-01/status" and r["action"] == "publish"
    ]
    assert [json.loads(p)["state"] for p in mine] == ["online", "online", "offline"]


def test_unreachable_broker_is_a_sentence_not_a_traceback(capsys) -> None:
    from tests.servers import free_port

    code = main(
        [
            "simulate",
            "--broker",
            f"mqtt://127.0.0.1:{free_port()}",
            "--count",
            "1",
            "--duration",
            "1m",
            "--fast",
        ]
    )
    assert code == EXIT_USER_ERROR
    assert "cannot reach broker" in capsys.readouterr().err


def test_broker_url_refuses_an_inline_password() -> None:
    with pytest.raises(UserError, match="carries a password"):
        parse_broker_url("mqtt://user:secret@host:1883")
