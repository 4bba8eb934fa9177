"""Alert e-mails waiting to be sent, kept on disk until the mail server took them.

Each message is a file in the outbox directory, written (temp file, fsync, rename) before any
attempt to send it and removed only after the server accepted it: a mail server that is down,
or a restart of `classnet alerts`, loses no alert. Attempts back off exponentially (capped),
and the counters go to /metrics.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge

log = logging.getLogger(__name__)
SCHEMES = ("smtp", "smtp+starttls", "smtps")


@dataclass(frozen=True)
class Smtp:
    """Where alerts go out. `tls`: "starttls", "ssl" (smtps) or "none" (a relay on localhost).
    The password comes from CLASSNET_SMTP_PASSWORD or the file CLASSNET_SMTP_PASSWORD_FILE."""

    host: str
    port: int
    tls: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 20.0

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.tls == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with client:
            if self.tls == "starttls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.queued = Counter(
            "classnet_alerts_queued", "alert e-mails queued", ["kind"], registry=r
        )
        self.sent = Counter(
            "classnet_alerts_sent", "alert e-mails the mail server accepted", registry=r
        )
        self.failed = Counter(
            "classnet_alerts_send_failures", "attempts to send that failed (retried)", registry=r
        )
        self.checks = Counter("classnet_alerts_checks", "rounds of checking stations", registry=r)
        self.unsent = Gauge(
            "classnet_alerts_unsent", "alert e-mails waiting to be sent", registry=r
        )


class Outbox:
    def __init__(
        self, folder: Path, metrics: Metrics, base_delay_s: float = 5.0, max_delay_s: float = 600
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.metrics = metrics
        self.base_delay_s, self.max_delay_s = base_delay_s, max_delay_s
        self._failures = 0
        self._next_try = 0.0
        metrics.unsent.set(len(self.pending()))

    def pending(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))

    def put(self, message: EmailMessage, kind: str) -> None:
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.folder / (name + ".tmp")
        with tmp.open("wb") as out:
            out.write(message.as_bytes(policy=policy.SMTP))
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(self.folder / name)
        self.metrics.queued.labels(kind).inc()
        self.metrics.unsent.set(len(self.pending()))

    def flush(self, smtp: Smtp, now: float | None = None) -> int:
        """Send what is waiting, oldest first; stop at the first failure and wait (backing off)
        before the next try. Returns how many were sent."""
        now = time.monotonic() if now is None else now
        if now < self._next_try:
            return 0
        sent = 0
        for path in self.pending():
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            try:
                smtp.send(message)
            except (OSError, smtplib.SMTPException) as exc:
                self._failures += 1
                delay = min(self.base_delay_s * 2 ** (self._failures - 1), self.max_delay_s)
                self._next_try = now + delay
                self.metrics.failed.inc()
                log.warning(
                    "alert e-mail to %s not sent (%s: %s); %d waiting, next try in %.0f s",
                    message["To"], smtp.host, exc, len(self.pending()), delay,
                )  # fmt: skip
                break
            path.unlink()
            self._failures = 0
            sent += 1
            self.metrics.sent.inc()
        self.metrics.unsent.set(len(self.pending()))
        return sent
