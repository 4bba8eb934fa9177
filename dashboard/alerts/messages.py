"""Alert e-mails in the teacher's language, with times on the teacher's clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from dashboard.alerts.episodes import Event
from dashboard.i18n import N_, duration, number, t
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
    "outbox": (
        N_("readings are piling up in the station (its outbox is filling)"),
        N_(
            "the Wi-Fi signal where the station stands (a weak signal keeps dropping the link), "
            "and whether the ClassNet server (MQTT broker) is up and reachable from the school."
        ),
    ),
}
# The outbox e-mail's detail line: how full, and how long until readings are lost.
OUTBOX_LEVEL = N_("{waiting} of {capacity} readings wait to be sent.")
OUTBOX_TIME_LEFT = N_(
    "The station takes a reading every {interval}: in about {time_left} its outbox is full and "
    "it starts losing its oldest readings."
)
OUTBOX_FULL = N_("The outbox is full: the station is losing its oldest readings now.")
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


def _detail(event: Event, lang: str) -> str:
    """What the finding measured: in words for the outbox, else as the finding put it."""
    if event.problem != "outbox" or not event.detail:  # a recovery carries no detail
        return ", ".join(f"{k}: {v}" for k, v in event.detail.items())
    waiting, capacity = int(event.detail["waiting"]), int(event.detail["capacity"])
    words = [
        t(OUTBOX_LEVEL, lang).format(
            waiting=number(waiting, lang, 0), capacity=number(capacity, lang, 0)
        )
    ]
    if waiting >= capacity:
        words.append(t(OUTBOX_FULL, lang))
    elif "interval_s" in event.detail:
        interval = timedelta(seconds=int(event.detail["interval_s"]))
        left = interval * (capacity - waiting)
        words.append(
            t(OUTBOX_TIME_LEFT, lang).format(
                interval=duration(interval, lang), time_left=duration(left, lang)
            )
        )
    return " ".join(words)


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
        "detail": _detail(event, lang),
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
