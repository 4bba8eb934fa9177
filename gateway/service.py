"""The running gateway: MQTT messages in, batches made safe, acknowledgements out.

Threads and hand-offs:
- paho's network thread runs `_on_incoming` (gateway/broker.py: IntakeClient), which only
  appends (topic, payload, mid) to the open batch: decoding there would hold up the socket.
  When the batch reaches `batch_size` observations it is cut and queued for the decoder; when
  `queued_batches` are queued the network thread waits, which stops reading from the broker
  (backpressure, nothing dropped).
- the decoder thread cuts the open batch once the writer can take another one and either the
  stream has paused (`quiet_ms`, 200 ms, without a message: the end of a burst, or a station's
  single message) or the batch is `batch_ms` old, and decodes it (gateway/decode_batch.py) while
  the writer stores the one before. So the last messages of a burst are stored about 0.2 s after
  they arrived, while a steady stream still makes few large writes: decoding and encoding a batch
  costs about 2 ms of CPU whatever its size (plus 8 µs per observation), and InfluxDB has its
  own cost per write. The pause is long enough that a publisher or broker kept off the CPU for a
  moment by a busy machine does not cut a batch: at 50 ms such cuts cost the gateway and
  InfluxDB 2 CPU s more per 200,000 observations in the peer benchmark, more than the 0.25 s
  they saved at the end of the burst (docs/gateway.md, "Measuring"). While the store is failing
  (batches go to the spool) only age counts, so an outage makes few large spool files.
- the writer thread writes each decoded batch to the store or else the spool, and only then acks
  its messages. When the spool holds anything, new batches go behind it so the store sees them
  in order; the spool drains with backoff and jitter, honouring Retry-After. The store's own
  work (InfluxDB's parsing, SQLite's page writes and fsync) runs without the GIL.

Ready means subscribed: `/healthz` and `wait_ready()` say so once the broker's SUBACK has granted
QoS 1 on every subscription, not at the CONNACK of a new session, before which nothing would be
routed here. A resumed session is ready at the CONNACK: its subscriptions are the broker's already.

A batch's acks are sent only on the connection its messages arrived on: after a reconnect the
broker redelivers them (new packet ids), and acking old ids could acknowledge other messages.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

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
# How often an idle gateway sums up the reject log (gateway/reject_log.py).
REJECT_LOG_EVERY_S = 5.0
# The store's bins are rolled between batches, a slice of this long at a time, never inside a
# burst's write.
ROLL_BUDGET_S = 0.25


@dataclass
class Settings:
    broker: BrokerURL
    client_id: str
    spool_dir: Path
    share_group: str | None = None
    batch_size: int = 5000
    batch_ms: int = 500  # the open batch's longest wait (see the module docstring)
    quiet_ms: int = 200  # a pause in the stream this long cuts the open batch
    spool_max_bytes: int = 1 << 30
    queued_batches: int = 4  # full batches waiting for the decoder before intake pauses
    # The store's bins follow new readings this long after a write. Each roll recomputes about two
    # hours of a live station's readings (QC's reach), so rolling every minute costs a twelfth of
    # rolling every 5 s; pages lose nothing meanwhile (a store computes unrolled spans on read).
    roll_every_s: float = 60.0


@dataclass
class _Open:
    """The batch being filled by the network thread."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    mids: list[int] = field(default_factory=list)  # QoS 1 messages' packet ids (QoS 0 has none)
    observations: int = 0
    opened: float = 0.0  # monotonic time of the first message
    last: float = 0.0  # and of the latest


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
        client = make_client(settings.broker, settings.client_id, client_class=broker.IntakeClient)
        self.client = cast(broker.IntakeClient, client)
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_incoming = self._on_incoming
        # One lock for the hand-offs (open batch -> full batches -> decoder -> writer), and its
        # condition wakes whichever thread can move on.
        self._lock = threading.Condition()
        self._open = _Open()
        self._full: deque[_Cut] = deque()
        self._decoded: _Decoded | None = None  # waiting for the writer
        self._decoder_done = False
        self._generation = 0
        self._ack_lock = threading.Lock()
        self._subscribe_mid: int | None = None
        self._ready = threading.Event()
        self._not_ready = f"not connected to broker {settings.broker}"
        self._stopping = threading.Event()
        self._accepting = True
        self._backoff = Backoff()
        self._retry_at = 0.0  # monotonic; the store is not tried again before this
        self._spooling = False  # new batches go to the spool (it holds some, or the store failed)
        self._spool_full = False
        # When the store's bins are next brought up to date (monotonic; None: nothing written
        # since the last roll). At start: marks an earlier run or an older release left.
        self._roll_at: float | None = time.monotonic()
        # Monotonic time of the last batch written. Start counts as one: an earlier run's last
        # marks may still be settling at the first roll (InfluxDB's), so one more roll follows.
        self._written_at = time.monotonic()
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

    def wait_ready(self, timeout: float) -> bool:
        """True once subscribed (the broker's SUBACK granted QoS 1), False after `timeout` s."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking messages, make every received batch safe, ack, then disconnect. Messages
        that arrive meanwhile are left unacked: the broker redelivers them next time."""
        with self._lock:
            self._accepting = False
            self._stopping.set()
            self._lock.notify_all()
        deadline = time.monotonic() + timeout
        self._decoder.join(timeout)
        self._writer.join(max(0.0, deadline - time.monotonic()))
        if self._ready.is_set():
            broker.flush(self.client, max(1.0, deadline - time.monotonic()))
        self.client.disconnect()
        self.client.loop_stop()
        self.store.close()

    def health(self) -> tuple[bool, str]:
        if not self._ready.is_set():
            return False, self._not_ready
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
        self._subscribe_mid = client.subscribe(broker.subscriptions(self.settings.share_group))[1]
        self._not_ready = f"subscribing at broker {self.settings.broker}"
        resumed = bool(flags.session_present)
        log.info(
            "connected to %s (session %s); subscribing",
            self.settings.broker,
            "resumed" if resumed else "new",
        )
        if resumed:
            # The broker kept the session's subscriptions and routes to it already; the SUBACK
            # may come only after the backlog it queued while we were away (megabytes).
            self._set_ready("the resumed session's subscriptions stand")

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, granted: list[Any], props: Any
    ) -> None:
        if mid != self._subscribe_mid:
            return
        topics = [topic for topic, _qos in broker.subscriptions(self.settings.share_group)]
        refused = broker.refused(topics, granted)
        if refused:
            self._ready.clear()
            self.metrics.connected.set(0)
            self._not_ready = f"broker {self.settings.broker} {refused}"
            log.error("%s", self._not_ready)
            return
        self._set_ready(f"subscribed to {', '.join(topics)}")

    def _set_ready(self, why: str) -> None:
        if not self._ready.is_set():
            self._ready.set()
            self.metrics.connected.set(1)
            log.info("%s; ready", why)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        # paho calls this inside its `except OSError:` and passes no exception: the active one
        # says why (a refused port, a certificate that failed the check).
        log.error("%s; retrying", connect_failure(self.settings.broker, sys.exc_info()[1]))

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._ack_lock:
            self._generation += 1
        self._ready.clear()
        self._not_ready = f"not connected to broker {self.settings.broker}"
        self.metrics.connected.set(0)
        if not self._stopping.is_set():
            log.warning("lost broker %s (%s); reconnecting", self.settings.broker, reason)
        # What was received on the lost connection will be redelivered: don't store it twice.
        with self._lock:
            self._open = _Open()

    def _on_incoming(self, topic: str, payload: bytes, qos: int, mid: int) -> None:
        with self._lock:
            if not self._accepting:
                return
            batch = self._open
            batch.last = time.monotonic()
            if not batch.messages:
                batch.opened = batch.last
                self._lock.notify_all()  # an idle decoder starts timing it
            batch.messages.append((topic, payload))
            if qos:
                batch.mids.append(mid)
            batch.observations += observation_count(payload)
            if batch.observations >= self.settings.batch_size:
                self._full.append(self._cut_locked())
                self._lock.notify_all()
                # The decoder is behind: stop reading from the broker until it catches up.
                while len(self._full) >= self.settings.queued_batches and self._accepting:
                    self._lock.wait()

    def _cut_locked(self) -> _Cut:
        batch = self._open
        self._open = _Open()
        return _Cut(batch.messages, batch.mids, self._generation, batch.opened)

    # --- decoder and writer threads -------------------------------------------------------

    def _decode_loop(self) -> None:
        while (cut := self._next_cut()) is not None:
            try:
                batch = self._decode(cut)
            except Exception:  # a bug must not stop the gateway; the batch stays unacked
                log.exception("batch of %d messages failed; left unacked", len(cut.mids))
                continue
            with self._lock:
                self._decoded = _Decoded(cut, batch)  # _next_cut waited until the slot was free
                self._lock.notify_all()
        with self._lock:
            self._decoder_done = True
            self._lock.notify_all()

    def _next_cut(self) -> _Cut | None:
        """Wait until the writer has taken the last decoded batch, then return the next batch to
        decode: a full one, else the open one (see the module docstring for when). None once
        stopping with nothing left."""
        with self._lock:
            while True:
                hold: float | None = None  # None: until notified
                if self._decoded is None:
                    if self._full:
                        self._lock.notify_all()  # room for the network thread
                        return self._full.popleft()
                    if self._open.messages:
                        hold = self._hold_s()
                        if hold <= 0 or self._stopping.is_set():
                            return self._cut_locked()
                    elif self._stopping.is_set():
                        return None
                # Idle, the wait still ends now and then to sum up the reject log's minutes.
                self._lock.wait(REJECT_LOG_EVERY_S if hold is None else hold)
                REJECTS.flush()  # "N more rejects from STATION in the last minute"

    def _hold_s(self) -> float:
        """How much longer the open batch waits, the writer being free: until the stream pauses
        for `quiet_ms` or the batch is `batch_ms` old; only the latter while batches go to the
        spool."""
        batch = self._open
        due = batch.opened + self.settings.batch_ms / 1000
        if not self._spooling and time.monotonic() >= self._retry_at:
            due = min(due, batch.last + self.settings.quiet_ms / 1000)
        return due - time.monotonic()

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                if self._decoded is None and not self._decoder_done:
                    # A spool to drain is tried every 50 ms, bins rolled when due; otherwise the
                    # decoder wakes us.
                    self._lock.wait(self._idle_s())
                item, self._decoded = self._decoded, None
                if item is not None:
                    self._lock.notify_all()  # the decoder may cut the next batch now
                elif self._decoder_done:
                    break
            if item is not None:
                try:
                    if self._make_safe(item.batch):
                        self._ack(item.cut)
                except Exception:  # a bug must not stop the gateway; the batch stays unacked
                    log.exception("batch of %d messages failed; left unacked", len(item.cut.mids))
            # Two spooled batches per new one, so a backlog shrinks even under a steady stream.
            for _ in range(2):
                self._drain_one()
            if item is not None:
                self._written_at = time.monotonic()
                if self._roll_at is None:
                    self._roll_at = time.monotonic() + self.settings.roll_every_s
            if self._roll_at is not None and time.monotonic() >= self._roll_at:
                self._roll()
        if len(self.spool):
            log.info(
                "stopping with %d batches in the spool; they drain on next start", len(self.spool)
            )

    def _idle_s(self) -> float | None:
        """How long the idle writer may sleep: 50 ms with a spool to drain, until the next roll."""
        waits = [0.05] if len(self.spool) else []
        if self._roll_at is not None:
            waits.append(max(0.0, self._roll_at - time.monotonic()))
        return min(waits) if waits else None

    def _roll(self) -> None:
        """Update the store's bins for a moment between batches (`Store.roll`); a long backlog of
        them (a store from before bins) goes a slice per batch, so ingest never stalls."""
        try:
            more = self.store.roll(ROLL_BUDGET_S)
        except StoreError as exc:  # the marks stay in the store: the next roll retries them
            log.warning("updating the store's bins failed (%s); trying again", exc)
            self._roll_at = time.monotonic() + self.settings.roll_every_s
            return
        if more:
            self._roll_at = time.monotonic()
        elif time.monotonic() - self._written_at < self.settings.roll_every_s:
            # One roll more after the last write: a store may leave the newest writes to a later
            # roll (InfluxDB's marks settle first, ingest/influx_bins.py).
            self._roll_at = time.monotonic() + self.settings.roll_every_s
        else:
            self._roll_at = None

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
        self._spooling = len(self.spool) > 0
        self.metrics.spool_batches.set(len(self.spool))
        self.metrics.spool_refused.set(self.spool.refused)
        self.metrics.spool_bytes.set(self.spool.bytes)
