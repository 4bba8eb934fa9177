"""Store and broker URLs, secrets, and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import cli
from gateway.broker import stable_client_id, subscriptions
from gateway.gateway_cmd import parse_size
from ingest.domain.broker import parse_broker_url
from ingest.domain.errors import UserError
from ingest.url import parse_store_url


def test_store_urls() -> None:
    assert parse_store_url("sqlite:///var/lib/c.db").path == Path("/var/lib/c.db")
    assert parse_store_url("sqlite:obs.db").path == Path("obs.db")
    v1 = parse_store_url("influxdb://reader@db.school.example:8087/classnet")
    assert (v1.kind, v1.base, v1.database, v1.user) == (
        "influxdb1",
        "http://db.school.example:8087",
        "classnet",
        "reader",
    )
    v2 = parse_store_url("influxdb2s://cloud.example/weather?org=asem")
    assert (v2.kind, v2.base, v2.database, v2.org) == (
        "influxdb2",
        "https://cloud.example:8086",
        "weather",
        "asem",
    )


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("postgres://x/y", "sqlite:///path.db"),
        ("influxdb://u:hunter2@h:8086/db", "CLASSNET_INFLUX_PASSWORD"),
        ("influxdb2://h:8086/bucket", "?org="),
        ("influxdb://h:8086/", "database"),
    ],
)
def test_bad_store_urls_say_how_to_fix_them(url: str, hint: str) -> None:
    with pytest.raises(UserError, match=hint.replace("?", r"\?")) as err:
        parse_store_url(url)
    assert "hunter2" not in str(err.value)


def test_secrets_come_from_env_or_file_and_are_never_shown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLASSNET_INFLUX_TOKEN", "tok-secret")
    v2 = parse_store_url("influxdb2://h:8086/b?org=o")
    assert v2.token == "tok-secret"
    assert "tok-secret" not in repr(v2) and "tok-secret" not in str(v2)
    monkeypatch.delenv("CLASSNET_INFLUX_TOKEN")
    secret_file = tmp_path / "pw"
    secret_file.write_text("pw-secret\n")
    monkeypatch.setenv("CLASSNET_MQTT_PASSWORD_FILE", str(secret_file))
    broker = parse_broker_url("mqtts://gw@broker.example")
    assert (broker.port, broker.tls, broker.password) == (8883, True, "pw-secret")
    assert "pw-secret" not in repr(broker) and str(broker) == "mqtts://gw@broker.example:8883"


def test_help_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLASSNET_INFLUX_PASSWORD", "pw-in-env")
    monkeypatch.setenv("CLASSNET_MQTT_PASSWORD", "mqtt-in-env")
    for command in ("gateway", "import", "rejects"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        out = capsys.readouterr().out
        assert "--store" in out
        assert "pw-in-env" not in out and "mqtt-in-env" not in out


def test_client_id_is_stable_and_shared_subscription_covers_obs_only() -> None:
    assert stable_client_id("a", "b") == stable_client_id("a", "b") != stable_client_id("a", "c")
    topics = [t for t, _ in subscriptions("gw")]
    assert topics == ["$share/gw/classnet/v1/+/obs", "classnet/v1/+/status", "classnet/v1/+/meta"]


def test_sizes() -> None:
    assert parse_size("1GiB") == 1 << 30 and parse_size("64m") == 64 << 20
