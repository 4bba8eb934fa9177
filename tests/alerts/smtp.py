"""A real SMTP server for the tests (aiosmtpd, on a loopback port), keeping what it received."""

from __future__ import annotations

import email
import threading
import time
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout_s: float = 60.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while len(self.received()) < count:
            if time.monotonic() > deadline:
                subjects = [m["Subject"] for m in self.received()]
                raise AssertionError(f"expected {count} e-mails in {timeout_s} s, got {subjects}")
            time.sleep(0.1)
        return self.received()


def start_smtp(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox
