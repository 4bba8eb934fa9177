"""The school picker shared by pages: a dropdown mirrored into the app-wide selection store."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc

from dashboard.i18n import t, tn


def dropdown(component_id: str, lang: str) -> dcc.Dropdown:
    # value=None, not []: on page load Dash reports the dropdown as the trigger, and None (never
    # touched) is how that differs from [] (the student cleared it).
    return dcc.Dropdown(
        id=component_id,
        multi=True,
        value=None,
        placeholder=t("Pick schools…", lang),
        labels=labels(0, lang),
        className="pick",
    )


def labels(selected: int, lang: str) -> Any:
    """The dropdown's own texts in `lang`; its count of chosen schools in the plural form that
    `selected` takes (Dash fills in {num_selected})."""
    count = tn("{n} school selected", "{n} schools selected", selected, lang)
    return {
        "select_all": t("Select all", lang),
        "deselect_all": t("Deselect all", lang),
        "selected_count": count.replace(str(selected), "{num_selected}", 1),
        "search": t("Search", lang),
        "clear_search": t("Clear search", lang),
        "clear_selection": t("Clear selection", lang),
        "no_options_found": t("No schools found", lang),
    }


def options(registry: pd.DataFrame) -> list[dict[str, Any]]:
    # Labels are plain strings: the dropdown renders them as text, never as HTML.
    outdoor = registry[registry["exposure"] == "outdoor"].sort_values(["region", "country", "name"])
    return [
        {"label": f"{row['name']} ({row['country']})", "value": station}
        for station, row in outdoor.iterrows()
    ]


def default(registry: pd.DataFrame) -> list[str]:
    """A first-visit selection: one school from each side, so Compare shows both continents."""
    outdoor = registry[registry["exposure"] == "outdoor"].sort_index()
    picks = []
    for side in ("asia", "europe"):
        side_rows = outdoor[outdoor["region"] == side]
        online = side_rows[side_rows["status"] == "online"]
        chosen = online if len(online) else side_rows
        if len(chosen):
            picks.append(str(chosen.index[0]))
    return picks


def from_query(query: dict[str, str]) -> list[str] | None:
    """Schools named in the page address (`?schools=fi-tampere-01,ph-manila-01`), so a teacher
    can share exactly what the class looks at."""
    text = query.get("schools")
    return [s for s in text.split(",") if s] if text else None


def sync(
    trigger: str | None,
    picked: list[str] | None,
    stored: list[str] | None,
    registry: pd.DataFrame,
    clicked: str | None = None,
    linked: list[str] | None = None,
) -> list[str]:
    """The selection after an event: the dropdown changed, the map was clicked, or page load.
    Schools named in the address (`linked`, used once) win over the remembered ones."""
    known = set(registry.index)
    if linked:
        chosen = list(linked)
    elif trigger == "pick" and picked is not None:
        chosen = list(picked)
    elif trigger == "map" and clicked:
        chosen = list(stored or [])
        chosen = [s for s in chosen if s != clicked] if clicked in chosen else [*chosen, clicked]
    elif stored is None:
        chosen = default(registry)
    else:
        chosen = list(stored)
    return [s for s in chosen if s in known]
