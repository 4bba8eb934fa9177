"""Who hears about a station's trouble: the `[<station>.contact]` table of stations.toml.

    [fi-tampere-01.contact]
    email = "weather.club@hervanta.example.fi"
    language = "fi"                 # en, fi, fil: the language of the alert e-mails
    timezone = "Europe/Helsinki"    # optional: times in the e-mails (default: the station's)

Contacts are read only by `classnet alerts`; they are never part of the station registry, so no
page, export or API can show them.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.domain.errors import UserError
from ingest.domain.station_file import read_stations_file

KEY = "contact"
# The dashboard's languages (dashboard.i18n.LANGUAGES, which this layer cannot import; a test
# keeps the two the same): an alert is written in any of them.
LANGUAGES = ("en", "fi", "fil", "zh_Hans", "ja", "ko", "vi", "th", "id", "de", "fr")
# Deliberately loose: the mail server is the judge; this catches a missing @ or a typo'd space.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Contact:
    email: str
    language: str = "en"
    timezone: str | None = None


def parse_contact(table: Any, where: str) -> tuple[Contact | None, list[str]]:
    """A `[<station>.contact]` table and every problem in it (None when unusable)."""
    if not isinstance(table, Mapping):
        return None, [f"{where}: contact must be a table with email (and language, timezone)"]
    errors = []
    email, language, zone = table.get("email"), table.get("language", "en"), table.get("timezone")
    if not (isinstance(email, str) and _EMAIL.match(email)):
        errors.append(f"{where} contact.email={email!r} is not an e-mail address")
    if language not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        errors.append(f"{where} contact.language={language!r} must be one of {known}")
    if zone is not None:
        try:
            zoneinfo.ZoneInfo(str(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors.append(f"{where} contact.timezone={zone!r} is not an IANA time zone")
    unknown = set(table) - {"email", "language", "timezone"}
    if unknown:
        errors.append(f"{where} contact: unknown key(s) {', '.join(sorted(unknown))}")
    if errors:
        return None, errors
    return Contact(str(email), str(language), None if zone is None else str(zone)), []


def load_contacts(path: Path | None) -> dict[str, Contact]:
    """Every station's contact in a stations file; UserError naming every problem."""
    if path is None:
        return {}
    doc = read_stations_file(path)
    found: dict[str, Contact] = {}
    errors: list[str] = []
    for station, table in doc.items():
        if isinstance(table, Mapping) and KEY in table:
            contact, problems = parse_contact(table[KEY], f"{path} [{station}]")
            errors.extend(problems)
            if contact is not None:
                found[station] = contact
    if errors:
        raise UserError("invalid contact:\n  " + "\n  ".join(errors))
    return found
