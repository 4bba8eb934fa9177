"""Controls several pages share: the quantity, period and clock of a chart over time (Compare,
Asia vs Europe), and the "only well-sited schools" filter with the note on what it left out
(Compare, Asia vs Europe, Leaderboard), built once so they look, read and translate alike."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html

from dashboard.i18n import N_, t, tn
from dashboard.labels import CLOCK, PERIOD, QUANTITY, name
from dashboard.shell import control, explain


def variable_id(page: str) -> str:
    return f"{page}-variable"


def period_id(page: str) -> str:
    return f"{page}-period"


def clock_id(page: str) -> str:
    return f"{page}-clock"


def well_sited_id(page: str) -> str:
    return f"{page}-well-sited"


def siting_note_id(page: str) -> str:
    return f"{page}-siting-note"


# The core's notes on a comparison that mixes sitings (dashboard.core.siting.siting_view).
SITING_NOTES = {
    "roof_mixed": N_(
        "Note: some of these anemometers are on a roof, others at ground level; a roof speeds "
        "the wind up and bends it, so part of the difference is the siting, not the weather."
    ),
}


def well_sited(page: str, lang: str) -> dcc.Checklist:
    """The filter that keeps only schools of WMO siting class 1–3 (id `<page>-well-sited`)."""
    return dcc.Checklist(
        id=well_sited_id(page),
        options=[{"label": t("Only well-sited schools (WMO class 1–3)", lang), "value": "sited"}],
        value=[],
    )


def siting_note(payload: dict, lang: str, name_them: bool) -> str:
    """The siting notes of a computed view (`notes`, `left_out` from `Data`): the schools the
    filter left out by name (`name_them`: a few chosen schools) or by count (a whole network)."""
    parts = [t(SITING_NOTES[note], lang) for note in payload.get("notes") or []]
    left_out = payload.get("left_out") or []
    if left_out and name_them:
        label = t("Left out (siting class 4–5 or not described)", lang)
        parts.append(f"{label}: {', '.join(left_out)}")
    elif left_out:
        parts.append(
            tn(
                "{n} school left out (siting class 4–5 or not described).",
                "{n} schools left out (siting class 4–5 or not described).",
                len(left_out),
                lang,
            )
        )
    return " ".join(parts)


def options(table: dict[str, str], keys: Sequence[str], lang: str) -> list[dict[str, str]]:
    return [{"label": name(table, k, lang), "value": k} for k in keys]


def _radio(component_id: str, choices: list[dict[str, str]], value: str) -> dcc.RadioItems:
    return dcc.RadioItems(
        id=component_id,
        options=choices,
        value=value,
        inline=True,
        inputClassName="radio",
        labelClassName="choice",
    )


def series_controls(
    page: str, lang: str, variables: Sequence[str], period: str, clock: str = "solar"
) -> list[html.Div]:
    """Quantity, period and clock pickers with ids `<page>-variable`, `-period`, `-clock`."""
    return [
        control(
            t("Quantity", lang),
            dcc.Dropdown(
                id=variable_id(page),
                options=options(QUANTITY, variables, lang),
                value=variables[0],
                clearable=False,
                searchable=False,
            ),
            label_for=variable_id(page),
        ),
        control(
            t("Period", lang), _radio(period_id(page), options(PERIOD, list(PERIOD), lang), period)
        ),
        control(
            t("Time axis", lang), _radio(clock_id(page), options(CLOCK, list(CLOCK), lang), clock)
        ),
    ]


def clock_note(lang: str) -> html.Details:
    """What the three time axes mean, beside every chart that offers them."""
    return explain(
        t(
            "UTC shows the same moment everywhere: when it is noon in Manila it is early morning "
            "in Helsinki. Local clock time puts 8 o'clock school start side by side. Local solar "
            "time puts the moment the sun is highest at 12:00 for every school, so the afternoon "
            "temperature peaks line up across continents.",
            lang,
        ),
        lang,
    )
