"""Tables that turn into cards on a phone: each cell carries its column's heading, which the
stylesheet shows beside the value when the columns no longer fit (nothing scrolls sideways)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html


def card_table(heads: Sequence[str], rows: Sequence[Sequence[Any]], **kwargs: Any) -> html.Table:
    """A table of `rows` under `heads`; a cell may be text or a component, or a (content,
    className) pair to style it."""

    def cell(head: str, value: Any) -> html.Td:
        content, cls = value if isinstance(value, tuple) else (value, None)
        label: dict[str, Any] = {"data-label": head}
        return html.Td(content, className=cls, **label)

    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h, scope="col") for h in heads])),
            html.Tbody(
                [html.Tr([cell(h, v) for h, v in zip(heads, r, strict=True)]) for r in rows]
            ),
        ],
        className="table cards-on-phone",
        **kwargs,
    )
