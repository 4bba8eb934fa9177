"""Alert e-mails in the teacher's language, with times on the teacher's clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from dashboard.alerts.episodes import Event
from dashboard.i18n import N_, t
from dashboard.labels import QUANTITY, name

# Each problem the alerts service notices: its words, and what the teacher should check.
PROBLEMS = {
    "silent": (
        N_("no readings received"),
        N_("power (battery, USB cable), the school Wi-Fi, and whether the station's light blinks."),
    ),
    "qc": (
        N_("the {field} sensor fails quality control"),
        N_(
            "the sensor's cable and connector, water or dirt in the shield; a value that "
            "does not change at all usually means a loose sensor."
        ),
    ),
    "battery": (
        N_("battery low"),
        N_("charge or replace the battery, and that the solar panel is clean and in the sun."),
    ),
    "clock": (
        N_("the station's clock is drifting"),
        N_("that the station reaches the Internet time server (NTP) after a restart; restart it."),
    ),
}
SUBJECT = N_("ClassNet: {station} needs you: {problem}")
SUBJECT_RECOVERED = N_("ClassNet: {station} is fine again: {problem}")
BODY = N_(
    "Hello,\n\nstation {station} ({name}): {problem}, since {since}.\n{detail}\nWhat to "
    "check: {check}\n\nYou get one e-mail when this starts and one when it ends."
)
BODY_RECOVERED = N_(
    "Hello,\n\nstation {station} ({name}) is fine again: {problem} ended at {now} (it "
    "started {since})."
)


def _problem(problem: str, lang: str) -> tuple[str, str]:
    """The problem's words and what to check."""
    base, _, field = problem.partition(":")
    words, check = PROBLEMS[base]
    # The field as students see it on the dashboard ("Temperature"), not its code (temp_c).
    return t(words, lang).format(field=name(QUANTITY, field, lang)), t(check, lang)


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
    message["Subject"] = t(SUBJECT_RECOVERED if recovered else SUBJECT, lang).format(**values)
    message.set_content(t(BODY_RECOVERED if recovered else BODY, lang).format(**values) + "\n")
    return message


def digest(
    open_: Sequence[tuple[str, str, datetime]], lang: str, zone: str, sender: str, to: str
) -> EmailMessage:
    """The coordinator's daily list of open problems (station, problem, since)."""
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = t("ClassNet daily digest: {count} open problem(s)", lang).format(
        count=len(open_)
    )
    lines = [
        f"{station}: {_problem(problem, lang)[0]} ({_when(since, zone)})"
        for station, problem, since in sorted(open_)
    ]
    message.set_content("\n".join(lines or [t("Every station is fine.", lang)]) + "\n")
    return message
