"""The running gateway: MQTT messages in, batches made safe, acknowledgements out.

Threads and hand-offs:
- paho's network thread runs `_on_message`, which only appends (topic, payload, mid) to the open
  batch: decoding there would hold up the socket. When the batch reaches `batch_size`
  observations it is cut and queued for the writer; if the writer's queue is full the network
  thread waits, which stops reading from the broker (backpressure, nothing dropped).
- the decoder thread cuts the open batch when it is `batch_ms` old and decodes whole batches
  (gateway/decode_batch.py), handing them to the writer in order.
- the writer thread writes each decoded batch to the store or else the spool, and only then acks
  its messages. When the spool holds anything, new batches go behind it so the store sees them
  in order; the spool drains with backoff and jitter, honouring Retry-After. Decoding the next
  batch while the store takes this one keeps both busy: the store's own work (InfluxDB's
  parsing, SQLite's page writes and fsync) runs without the GIL.

A batch's acks are sent only on the connection its messages arrived on: after a reconnect the
broker redelivers them (new packet ids), and acking old ids could acknowledge other messages.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from gateway import broker
from gateway.decode_batch import decode_messages, observation_count
from gateway.metrics import Metrics
from gateway.reject_log import REJECTS
from gateway.spool import Spool, SpoolFull
from ingest.base import Store, StoreError
from ingest.batch import Batch
from ingest.domain.broker import BrokerURL, connect_failure, make_client
from ingest.domain.contract import Reason
from ingest.retry import Backoff

log = logging.getLogger("classnet.gateway")


@dataclass
class Settings:
    broker: BrokerURL
    client_id: str
    spool_dir: Path
    share_group: str | None = None
    batch_size: int = 5000
    batch_ms: int = 1000
    spool_max_bytes: int = 1 << 30
    queued_batches: int = 4  # cut batches waiting for the writer before intake pauses


@dataclass
class _Open:
    """The batch being filled by the network thread."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    mids: list[int] = field(default_factory=list)
    observations: int = 0
    opened: float = 0.0  # monotonic time of the first message


@dataclass
class _Cut:
    messages: list[tuple[str, bytes]]
    mids: list[int]
    generation: int
    opened: float


@dataclass
class _Decoded:
    cut: _Cut
    batch: Batch


class Gateway:
    def __init__(self, settings: Settings, store: Store, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics or Metrics()
        self.spool = Spool(settings.spool_dir, settings.spool_max_bytes)
        self.client = make_client(settings.broker, settings.client_id)
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._open = _Open()
        self._open_lock = threading.Lock()
        self._queue: queue.Queue[_Cut] = queue.Queue(maxsize=settings.queued_batches)
        self._generation = 0
        self._ack_lock = threading.Lock()
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._accepting = True
        self._backoff = Backoff()
        self._retry_at = 0.0  # monotonic; the store is not tried again before this
        self._spool_full = False
        # One decoded batch waits while the writer stores the previous one: enough to overlap
        # decoding with writing, and little held in memory when the store is slow.
        self._decoded: queue.Queue[_Decoded | None] = queue.Queue(maxsize=1)
        self._decoder = threading.Thread(target=self._decode_loop, name="decoder", daemon=True)
        self._writer = threading.Thread(target=self._write_loop, name="writer", daemon=True)
        self._update_spool_gauges()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        b = self.settings.broker
        log.info(
            "gateway %s: broker %s, store %s, spool %s",
            self.settings.client_id,
            b,
            self.store.url,
            self.settings.spool_dir,
        )
        self._decoder.start()
        self._writer.start()
        self.client.connect_async(b.host, b.port, keepalive=broker.KEEPALIVE_S)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking messages, make every received batch safe, ack, then disconnect. Messages
        that arrive meanwhile are left unacked: the broker redelivers them next time."""
        with self._open_lock:
            self._accepting = False
        self._stopping.set()
        deadline = time.monotonic() + timeout
        self._decoder.join(timeout)
        self._writer.join(max(0.0, deadline - time.monotonic()))
        # The network thread may be waiting to queue a batch nobody will write now: make room
        # (those messages are unacked, so the broker keeps them), or loop_stop would wait forever.
        while not self._queue.empty():
            self._queue.get_nowait()
        self.client.disconnect()  # queued after the last acks, so they reach the broker first
        self.client.loop_stop()
        self.store.close()

    def health(self) -> tuple[bool, str]:
        if not self._connected.is_set():
            return False, f"not connected to broker {self.settings.broker}"
        if self._spool_full:
            return False, f"spool full ({self.spool.bytes} bytes); not acknowledging"
        return True, f"ok; spool {len(self.spool)} batches"

    # --- network thread -------------------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker %s refused the connection: %s", self.settings.broker, reason)
            return
        client.subscribe(broker.subscriptions(self.settings.share_group))
        self._connected.set()
        self.metrics.connected.set(1)
        log.info(
            "connected to %s (session %s)",
            self.settings.broker,
            "resumed" if flags.session_present else "new",
        )

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        # paho calls this inside its `except OSError:` and passes no exception: the active one
        # says why (a refused port, a certificate that failed the check).
        log.error("%s; retrying", connect_failure(self.settings.broker, sys.exc_info()[1]))

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._ack_lock:
            self._generation += 1
        self._connected.clear()
        self.metrics.connected.set(0)
        if not self._stopping.is_set():
            log.warning("lost broker %s (%s); reconnecting", self.settings.broker, reason)
        # What was received on the lost connection will be redelivered: don't store it twice.
        with self._open_lock:
            self._open = _Open()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        payload = bytes(msg.payload)  # paho types it bytes | bytearray; it is bytes already
        with self._open_lock:
            if not self._accepting:
                return
            batch = self._open
            if not batch.messages:
                batch.opened = time.monotonic()
            batch.messages.append((msg.topic, payload))
            batch.mids.append(msg.mid)
            batch.observations += observation_count(payload)
            cut = self._cut_locked() if batch.observations >= self.settings.batch_size else None
        if cut is not None:
            self._queue.put(cut)  # blocks when the writer is behind: backpressure to the broker

    def _cut_locked(self) -> _Cut | None:
        batch = self._open
        if not batch.messages:
            return None
        self._open = _Open()
        return _Cut(batch.messages, batch.mids, self._generation, batch.opened)

    # --- decoder and writer threads -------------------------------------------------------

    def _decode_loop(self) -> None:
        while True:
            cut = self._next_cut()
            if cut is not None:
                try:
                    batch = self._decode(cut)
                except Exception:  # a bug must not stop the gateway; the batch stays unacked
                    log.exception("batch of %d messages failed; left unacked", len(cut.mids))
                    continue
                self._decoded.put(_Decoded(cut, batch))
            elif self._stopping.is_set():
                self._decoded.put(None)  # tells the writer no more batches will come
                return
            else:
                REJECTS.flush()  # "N more rejects from STATION in the last minute"

    def _write_loop(self) -> None:
        while True:
            try:
                item = self._decoded.get(timeout=0.05)
            except queue.Empty:
                pass
            else:
                if item is None:
                    break
                try:
                    if self._make_safe(item.batch):
                        self._ack(item.cut)
                except Exception:  # a bug must not stop the gateway; the batch stays unacked
                    log.exception("batch of %d messages failed; left unacked", len(item.cut.mids))
            # Two spooled batches per new one, so a backlog shrinks even under a steady stream.
            for _ in range(2):
                self._drain_one()
        if len(self.spool):
            log.info(
                "stopping with %d batches in the spool; they drain on next start", len(self.spool)
            )

    def _next_cut(self) -> _Cut | None:
        """The next batch to decode: a full one from the queue, else the open one once it is old
        enough (or at once when stopping)."""
        try:
            return self._queue.get(timeout=min(0.05, self.settings.batch_ms / 4000))
        except queue.Empty:
            pass
        with self._open_lock:
            due = self._open.messages and (
                self._stopping.is_set()
                or time.monotonic() - self._open.opened >= self.settings.batch_ms / 1000
            )
            return self._cut_locked() if due else None

    def _decode(self, cut: _Cut) -> Batch:
        decoded = decode_messages(cut.messages, time.time(), int(time.time() * 1000))
        batch = decoded.batch
        for kind, n in Counter(topic.rsplit("/", 1)[-1] for topic, _ in cut.messages).items():
            self.metrics.received.labels(kind).inc(n)
        for (_station, reason), n in batch.reject_counts.items():
            self.metrics.rejected.labels(reason).inc(n)
        try:
            self.store.prepare(batch)
        except Exception:  # a bug there must not cost the batch: write() encodes it again
            log.exception("preparing a batch of %d observations for the store failed", len(batch))
            batch.prepared = None
        return batch

    def _make_safe(self, batch: Batch) -> bool:
        """Write the batch to the store, or else to the spool; False only when stopping with
        neither possible (the batch stays unacked with the broker)."""
        while True:
            if not len(self.spool) and time.monotonic() >= self._retry_at and self._write(batch):
                self._set_spool_full(None)
                return True
            try:
                path = self.spool.append(batch)
            except SpoolFull as exc:
                self._set_spool_full(exc)
                if self._stopping.is_set():
                    return False
                time.sleep(max(0.05, min(1.0, self._retry_at - time.monotonic())))
                self._drain_one()
                continue
            self._set_spool_full(None)
            self._update_spool_gauges()
            log.debug("spooled %s (%d observations)", path.name, len(batch))
            return True

    def _set_spool_full(self, exc: SpoolFull | None) -> None:
        """Say so, once, when the spool starts or stops refusing batches."""
        full = exc is not None
        if full == self._spool_full:
            return
        self._spool_full = full
        self.metrics.spool_full.set(int(full))
        if full:
            log.error("%s; not acknowledging until the store takes batches again", exc)
        else:
            log.warning("spool has room again; acknowledging")

    def _write(self, batch: Batch) -> bool:
        """One attempt at the store. A batch the store refuses for good is kept in the spool's
        refused/ folder (and counted), so it is never lost, and True is returned."""
        started = time.perf_counter()
        received = len(batch)
        try:
            self.store.write(batch)  # takes out the points the store refuses for good
        except StoreError as exc:
            self.metrics.store_errors.inc()
            if not exc.retryable:
                self.spool.set_aside(self.spool.append(batch), str(exc))
                self._update_spool_gauges()
                return True
            delay = self._backoff.next_delay(exc.retry_after)
            self._retry_at = time.monotonic() + delay
            log.warning("store write failed (%s); spooling, next try in %.1f s", exc, delay)
            return False
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        refused = received - len(batch)
        if refused:
            self.metrics.rejected.labels(Reason.STORE_REFUSED).inc(refused)
            for d in batch.dead_letters:
                if d.reason == Reason.STORE_REFUSED:
                    REJECTS.reject(d.station, "store refused %s: %s", d.station, d.detail)
        self.metrics.stored.inc(len(batch))
        self._backoff.reset()
        return True

    def _drain_one(self) -> None:
        if not len(self.spool) or time.monotonic() < self._retry_at:
            return
        oldest = self.spool.oldest()
        if oldest is None:
            return
        path, batch = oldest
        if self._write(batch):
            if path.exists():
                self.spool.remove(path)
            if not len(self.spool):
                log.info("spool drained; writing straight to %s again", self.store.url)
        self._update_spool_gauges()

    def _ack(self, cut: _Cut) -> None:
        with self._ack_lock:
            if cut.generation != self._generation:
                log.debug("not acking %d messages from a lost connection", len(cut.mids))
                return
            broker.ack_all(self.client, cut.mids)

    def _update_spool_gauges(self) -> None:
        self.metrics.spool_batches.set(len(self.spool))
        self.metrics.spool_refused.set(self.spool.refused)
        self.metrics.spool_bytes.set(self.spool.bytes)
