"""The v2 write request (InfluxDB 2.x, 3.x, Cloud), checked against a local http.server.

No InfluxDB 2 or 3 server runs in this project's CI (only the 1.x package installs here), so
this test checks what the real 1.x tests cannot: the request's path, org and bucket, token
header, precision and gzip body, and the handling of 429 with Retry-After.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from ingest import StoreError, open_store
from ingest.batch import Batch, empty_obs


class Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, str, dict[str, str], bytes]]] = []
    answer: ClassVar[tuple[int, dict[str, str]]] = (204, {})

    def do_GET(self) -> None:  # /ping
        self.send_response(204)
        self.send_header("X-Influxdb-Version", "v2.7.11")
        self.end_headers()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.requests.append((self.command, self.path, dict(self.headers), body))
        status, headers = Recorder.answer
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Recorder.requests = []
    Recorder.answer = (204, {})
    yield httpd.server_address[1]
    httpd.shutdown()


def one_obs() -> Batch:
    obs = empty_obs().reindex(range(1))
    obs["station"] = ["fi-v2-01"]
    obs["ts_ms"] = np.array([1763884800123])
    obs["temp_c"] = [21.5]
    return Batch(obs=obs)


def test_v2_write_request_shape(server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLASSNET_INFLUX_TOKEN", "t0ken")
    store = open_store(f"influxdb2://127.0.0.1:{server}/weather?org=asem-schools")
    store.write(one_obs())
    store.close()
    method, path, headers, body = Recorder.requests[0]
    url = urlsplit(path)
    assert (method, url.path) == ("POST", "/api/v2/write")
    assert parse_qs(url.query) == {
        "org": ["asem-schools"],
        "bucket": ["weather"],
        "precision": ["ms"],
    }
    assert headers["Authorization"] == "Token t0ken"
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (
        b"obs,country=FI,region=europe,station=fi-v2-01 temp_c=21.5 1763884800123"
    )


def test_v2_429_is_retryable_with_the_servers_retry_after(server: int) -> None:
    Recorder.answer = (429, {"Retry-After": "7"})
    store = open_store(f"influxdb2://127.0.0.1:{server}/weather?org=o")
    with pytest.raises(StoreError) as err:
        store.write(one_obs())
    assert err.value.retryable and err.value.retry_after == 7.0
    Recorder.answer = (400, {})
    with pytest.raises(StoreError) as err:
        store.write(one_obs())
    assert not err.value.retryable


def test_v2_url_against_a_1x_server_says_which_url_to_use(server: int) -> None:

    class OneX(Recorder):
        def do_GET(self) -> None:
            self.send_response(204)
            self.send_header("X-Influxdb-Version", "1.6.7")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), OneX)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        store = open_store(f"influxdb2://127.0.0.1:{httpd.server_address[1]}/b?org=o")
        with pytest.raises(StoreError, match="use influxdb://"):
            store.write(one_obs())
    finally:
        httpd.shutdown()
