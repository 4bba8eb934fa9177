"""A gateway in this process, for driving the real chain in tests (publish with
`tests.mqtt_clients.publish`)."""

from __future__ import annotations

from pathlib import Path

from gateway.service import Gateway, Settings
from ingest.base import Store
from ingest.domain.broker import BrokerURL


def start_gateway(
    port: int, store: Store, spool_dir: Path, client_id: str = "gw-test", **options: int
) -> Gateway:
    settings = Settings(
        broker=BrokerURL("127.0.0.1", port),
        client_id=client_id,
        spool_dir=spool_dir,
        **options,  # type: ignore[arg-type]
    )
    gateway = Gateway(settings, store)
    gateway.start()
    assert gateway.wait_ready(10), "gateway did not subscribe at the test broker"
    return gateway
