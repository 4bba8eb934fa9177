"""Names the dashboard gives to quantities, periods, clocks, station states and regions, marked
for the catalogue (translated where they are shown, with `i18n.t`)."""

from __future__ import annotations

from typing import Final

from dashboard.i18n import N_, t

QUANTITY: Final[dict[str, str]] = {
    "temp_c": N_("Temperature"),
    "apparent_temp_c": N_("Feels like"),
    "rh_pct": N_("Humidity"),
    "sea_level_pressure_hpa": N_("Sea-level pressure"),
    "pressure_hpa": N_("Station pressure"),
    "wind_speed_ms": N_("Wind"),
    "wind_gust_ms": N_("Gusts"),
    "wind_dir_deg": N_("Wind direction"),
    "rain_mm": N_("Rain"),
    "rain_today": N_("Rain today"),
    "light_lux": N_("Light"),
    "uv_index": N_("UV index"),
    "co2_ppm": N_("CO₂"),
    "pm2_5_ugm3": N_("Fine dust PM2.5"),
    "pm10_ugm3": N_("Dust PM10"),
    "battery_v": N_("Battery"),
    "rssi_dbm": N_("Wi-Fi signal"),
}
PERIOD: Final[dict[str, str]] = {
    "day": N_("Last day"),
    "week": N_("Last week"),
    "month": N_("Last month"),
}
CLOCK: Final[dict[str, str]] = {
    "utc": N_("UTC (same instant)"),
    "local": N_("Local clock time"),
    "solar": N_("Local solar time"),
}
AXIS: Final[dict[str, str]] = {
    "utc": N_("Time (UTC)"),
    "local": N_("Local clock time"),
    "solar": N_("Local solar time"),
}
STATE: Final[dict[str, str]] = {
    "online": N_("online"),
    "stale": N_("late"),
    "offline": N_("offline"),
}
REGION: Final[dict[str, str]] = {"asia": N_("Asia"), "europe": N_("Europe")}


def name(table: dict[str, str], key: str, lang: str) -> str:
    """The translated name of `key` in `table` (the key itself when it has none: a new quantity
    shows its field name rather than nothing)."""
    return t(table[key], lang) if key in table else key


# The 16-point compass rose (core.derived.COMPASS_POINTS) as each language abbreviates it.
COMPASS: Final[dict[str, str]] = {
    "N": N_("N"), "NNE": N_("NNE"), "NE": N_("NE"), "ENE": N_("ENE"),
    "E": N_("E"), "ESE": N_("ESE"), "SE": N_("SE"), "SSE": N_("SSE"),
    "S": N_("S"), "SSW": N_("SSW"), "SW": N_("SW"), "WSW": N_("WSW"),
    "W": N_("W"), "WNW": N_("WNW"), "NW": N_("NW"), "NNW": N_("NNW"),
}  # fmt: skip
