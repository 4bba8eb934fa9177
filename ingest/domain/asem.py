"""The ASEM partner countries and the side each sits on; a station's region comes from here,
never from its payload.

51 countries (the EU and the ASEAN Secretariat are partners too, but not countries). ASEM groups
its members into an Asian and a European side; Australia, New Zealand and Russia sit on the Asian
side. Source: ASEM InfoBoard, "ASEM Partners" (aseminfoboard.org), membership as of 2018
(Croatia joined in 2014, Kazakhstan in 2014; the UK stayed a partner after leaving the EU).
"""

from __future__ import annotations

from typing import Final, Literal

Region = Literal["asia", "europe"]

# ISO 3166-1 alpha-2 code: (English short name, ASEM side)
COUNTRIES: Final[dict[str, tuple[str, Region]]] = {
    "AU": ("Australia", "asia"),
    "BD": ("Bangladesh", "asia"),
    "BN": ("Brunei Darussalam", "asia"),
    "KH": ("Cambodia", "asia"),
    "CN": ("China", "asia"),
    "IN": ("India", "asia"),
    "ID": ("Indonesia", "asia"),
    "JP": ("Japan", "asia"),
    "KZ": ("Kazakhstan", "asia"),
    "KR": ("Republic of Korea", "asia"),
    "LA": ("Lao PDR", "asia"),
    "MY": ("Malaysia", "asia"),
    "MN": ("Mongolia", "asia"),
    "MM": ("Myanmar", "asia"),
    "NZ": ("New Zealand", "asia"),
    "PK": ("Pakistan", "asia"),
    "PH": ("Philippines", "asia"),
    "RU": ("Russia", "asia"),
    "SG": ("Singapore", "asia"),
    "TH": ("Thailand", "asia"),
    "VN": ("Viet Nam", "asia"),
    "AT": ("Austria", "europe"),
    "BE": ("Belgium", "europe"),
    "BG": ("Bulgaria", "europe"),
    "HR": ("Croatia", "europe"),
    "CY": ("Cyprus", "europe"),
    "CZ": ("Czechia", "europe"),
    "DK": ("Denmark", "europe"),
    "EE": ("Estonia", "europe"),
    "FI": ("Finland", "europe"),
    "FR": ("France", "europe"),
    "DE": ("Germany", "europe"),
    "GR": ("Greece", "europe"),
    "HU": ("Hungary", "europe"),
    "IE": ("Ireland", "europe"),
    "IT": ("Italy", "europe"),
    "LV": ("Latvia", "europe"),
    "LT": ("Lithuania", "europe"),
    "LU": ("Luxembourg", "europe"),
    "MT": ("Malta", "europe"),
    "NL": ("Netherlands", "europe"),
    "NO": ("Norway", "europe"),
    "PL": ("Poland", "europe"),
    "PT": ("Portugal", "europe"),
    "RO": ("Romania", "europe"),
    "SK": ("Slovakia", "europe"),
    "SI": ("Slovenia", "europe"),
    "ES": ("Spain", "europe"),
    "SE": ("Sweden", "europe"),
    "CH": ("Switzerland", "europe"),
    "GB": ("United Kingdom", "europe"),
}

# Greece's ISO code is GR, but schools (and the EU) often write EL; the UK is often written UK.
_ALIASES: Final = {"EL": "GR", "UK": "GB"}


def country_of(station: str) -> str:
    """The ISO country code a station id starts with, upper case: `fi-tampere-01` → `FI`."""
    code = station[:2].upper()
    return _ALIASES.get(code, code)


def region_of(country: str) -> Region | None:
    """The ASEM side of a country code, or None for a country outside ASEM.

    >>> region_of("RU"), region_of("fi"), region_of("US")
    ('asia', 'europe', None)
    """
    entry = COUNTRIES.get(_ALIASES.get(country.upper(), country.upper()))
    return entry[1] if entry else None
