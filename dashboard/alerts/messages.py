"""Alert e-mails in the teacher's language, with times on the teacher's clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from dashboard.alerts.episodes import Event
from dashboard.i18n import t


def _problem(problem: str, lang: str) -> tuple[str, str]:
    """The problem's words and what to check."""
    base, _, field = problem.partition(":")
    return t(f"alert.problem.{base}", lang).format(field=field), t(f"alert.check.{base}", lang)


def _when(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def compose(
    event: Event, name: str, lang: str, zone: str, now: datetime, sender: str, to: str
) -> EmailMessage:
    """One alert or recovery e-mail.

    >>> from datetime import UTC
    >>> e = Event("alert", "fi-tampere-01", "silent", datetime(2026, 12, 1, 6, tzinfo=UTC))
    >>> m = compose(e, "Hervanta", "fi", "Europe/Helsinki", e.since, "a@x.fi", "b@x.fi")
    >>> m["Subject"]
    'ClassNet: fi-tampere-01 tarvitsee sinua: lukemia ei ole tullut'
    >>> "alkaen 2026-12-01 08:00 (Europe/Helsinki)" in m.get_content()
    True
    """
    words, check = _problem(event.problem, lang)
    values = {
        "station": event.station,
        "name": name,
        "problem": words,
        "check": check,
        "since": _when(event.since, zone),
        "now": _when(now, zone),
        "detail": ", ".join(f"{k}: {v}" for k, v in event.detail.items()),
    }
    recovered = event.kind == "recovery"
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = t(
        "alert.subject_recovered" if recovered else "alert.subject", lang
    ).format(**values)
    message.set_content(
        t("alert.body_recovered" if recovered else "alert.body", lang).format(**values) + "\n"
    )
    return message


def digest(
    open_: Sequence[tuple[str, str, datetime]], lang: str, zone: str, sender: str, to: str
) -> EmailMessage:
    """The coordinator's daily list of open problems (station, problem, since)."""
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = t("alert.digest_subject", lang).format(count=len(open_))
    lines = [
        f"{station}: {_problem(problem, lang)[0]} ({_when(since, zone)})"
        for station, problem, since in sorted(open_)
    ]
    message.set_content("\n".join(lines or [t("alert.digest_none", lang)]) + "\n")
    return message
