"""`/metrics` (Prometheus text format) and `/healthz` on a local port.

A registry per gateway (not prometheus-client's global one), so tests can run several.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "classnet_received_messages", "MQTT messages received", ["kind"], registry=r
        )
        self.stored = Counter(
            "classnet_stored_observations", "observations written to the store", registry=r
        )
        self.rejected = Counter(
            "classnet_rejected",
            "fields, array elements and whole messages rejected, by reason",
            ["reason"],
            registry=r,
        )
        self.spool_batches = Gauge("classnet_spool_batches", "batches in the spool", registry=r)
        self.spool_bytes = Gauge("classnet_spool_bytes", "bytes in the spool", registry=r)
        self.spool_refused = Gauge(
            "classnet_spool_refused_batches",
            "batches the store refused as a whole, kept in SPOOL/refused/ for `classnet spool`",
            registry=r,
        )
        self.spool_full = Gauge(
            "classnet_spool_full",
            "1 while the spool (its bound or its disk) is full and nothing is acknowledged",
            registry=r,
        )
        self.write_seconds = Histogram(
            "classnet_batch_write_seconds",
            "time to write one batch to the store",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.store_errors = Counter(
            "classnet_store_errors", "failed batch writes (then spooled or retried)", registry=r
        )
        self.connected = Gauge("classnet_broker_connected", "1 while connected", registry=r)


def serve(
    metrics: Metrics, health: Callable[[], tuple[bool, str]], host: str, port: int
) -> ThreadingHTTPServer:
    """Start the HTTP endpoint in a daemon thread; `server.server_address` has the real port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, status, ctype = generate_latest(metrics.registry), 200, CONTENT_TYPE_LATEST
            elif self.path == "/healthz":
                ok, text = health()
                body, status, ctype = (text + "\n").encode(), 200 if ok else 503, "text/plain"
            else:
                body, status, ctype = b"/metrics or /healthz\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # scrapes are not events
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
