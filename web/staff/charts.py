"""Server-drawn SVG charts for the dashboard: grouped bars, lines, horizontal bars and
stacked bars, as markup ready for a page (no script, no CDN, no inline style: colours come
from ``series-N`` classes in ``staff.css``). Every label is escaped; missing values
(``None``) leave a gap and never make ``NaN``; a zero draws no bar (its value is still
written where the chart writes values); empty data draws an empty frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 480
HEIGHT = 220
LEFT = 40
RIGHT = 12
TOP = 36
BOTTOM = 40
ROW = 26
LABEL_WIDTH = 150
LEGEND_CHAR = 11
"""Room per legend character (Korean characters are about as wide as the font size)."""
FONT = '"Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans KR", sans-serif'
MAX_TICKS = 12


@dataclass(frozen=True, slots=True)
class Series:
    """One named row of values, one per category (None: no value)."""

    name: str
    values: Sequence[float | None]


def number(value: float | None, digits: int = 0) -> str:
    """A figure with thousands separators (``—`` for none)."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _svg(title: str, height: int, body: list[str], legend: Sequence[str] = ()) -> Markup:
    keys, x = [], LEFT
    for n, name in enumerate(legend):
        keys.append(f'<text class="legend series-{n}" x="{x}" y="14">■ {escape(name)}</text>')
        x += LEGEND_CHAR * (len(name) + 3)
    label = escape(title)
    drawn = "".join(keys) + "".join(body)
    return Markup(
        f'<svg class="chart" role="img" aria-label="{label}" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" font-family=\'{FONT}\' font-size="12"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{label}</title>{drawn}</svg>'
    )


def _top(values: Sequence[float | None]) -> float:
    found = [v for v in values if v is not None and v > 0]
    return max(found) if found else 1.0


def _axis(categories: Sequence[str], top: float, digits: int) -> list[str]:
    """The frame, the zero and top values, and every n-th category label."""
    bottom = HEIGHT - BOTTOM
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{bottom}" text-anchor="end">0</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">'
        f"{number(top, digits)}</text>",
    ]
    step = max(1, -(-len(categories) // MAX_TICKS))
    slot = _slot(len(categories))
    for n, name in enumerate(categories):
        if n % step == 0:
            x = LEFT + slot * (n + 0.5)
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">'
                f"{escape(name)}</text>"
            )
    return parts


def _slot(count: int) -> float:
    return (WIDTH - LEFT - RIGHT) / max(count, 1)


def _y(value: float, top: float) -> float:
    return (HEIGHT - BOTTOM) - (HEIGHT - BOTTOM - TOP) * (value / top)


def bar_chart(
    title: str, categories: Sequence[str], series: Sequence[Series], digits: int = 0
) -> Markup:
    """Grouped vertical bars: one group per category, one bar per series."""
    top = _top([v for s in series for v in s.values])
    slot = _slot(len(categories))
    width = slot * 0.8 / max(len(series), 1)
    body = _axis(categories, top, digits)
    for n, one in enumerate(series):
        for i, value in enumerate(one.values):
            if value is None or value <= 0:
                continue
            x = LEFT + slot * i + slot * 0.1 + width * n
            y = _y(max(value, 0.0), top)
            body.append(
                f'<rect class="series-{n}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}"'
                f' height="{HEIGHT - BOTTOM - y:.1f}"><title>{escape(one.name)} '
                f"{escape(categories[i])}: {number(value, digits)}</title></rect>"
            )
    return _svg(title, HEIGHT, body, [s.name for s in series])


def line_chart(
    title: str, categories: Sequence[str], series: Sequence[Series], digits: int = 1
) -> Markup:
    """Lines through each series' values (a gap where one is missing), with the values."""
    top = _top([v for s in series for v in s.values])
    slot = _slot(len(categories))
    body = _axis(categories, top, digits)
    for n, one in enumerate(series):
        points = [
            (LEFT + slot * (i + 0.5), _y(max(value, 0.0), top), value)
            for i, value in enumerate(one.values)
            if value is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            body.append(f'<polyline class="line series-{n}" points="{path}"/>')
        for x, y, value in points:
            body.append(
                f'<circle class="series-{n}" cx="{x:.1f}" cy="{y:.1f}" r="3"/>'
                f'<text class="value" x="{x:.1f}" y="{y - 6:.1f}" text-anchor="middle">'
                f"{number(value, digits)}</text>"
            )
    return _svg(title, HEIGHT, body, [s.name for s in series])


def hbar(title: str, items: Sequence[tuple[str, float]], digits: int = 0) -> Markup:
    """Horizontal bars, one a row: the label, the bar and its value."""
    top = _top([value for _, value in items])
    span = WIDTH - LABEL_WIDTH - RIGHT - 60
    body = []
    for n, (name, value) in enumerate(items):
        y = TOP + ROW * n
        length = span * max(value, 0.0) / top
        body.append(
            f'<text class="tick" x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">'
            f"{escape(name)}</text>"
        )
        if length > 0:
            body.append(
                f'<rect class="series-0" x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}"'
                f' height="{ROW - 8}"/>'
            )
        body.append(
            f'<text class="value" x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 14}">'
            f"{number(value, digits)}</text>"
        )
    return _svg(title, TOP + ROW * max(len(items), 1) + 8, body)


def stacked_bars(
    title: str,
    items: Sequence[tuple[str, Mapping[str, int]]],
    parts: Sequence[str],
    legend: Sequence[str] = (),
) -> Markup:
    """Horizontal bars split into ``parts`` (in that order, one colour each, named in the
    legend by ``legend`` or the parts themselves), one a row, with the row's total."""
    top = _top([float(sum(split.values())) for _, split in items])
    span = WIDTH - LABEL_WIDTH - RIGHT - 60
    body = []
    for n, (name, split) in enumerate(items):
        y = TOP + ROW * n
        x = float(LABEL_WIDTH)
        body.append(
            f'<text class="tick" x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">'
            f"{escape(name)}</text>"
        )
        for k, part in enumerate(parts):
            count = split.get(part, 0)
            if count <= 0:
                continue
            length = span * count / top
            body.append(
                f'<rect class="series-{k}" x="{x:.1f}" y="{y + 3}" width="{length:.1f}"'
                f' height="{ROW - 8}"><title>{escape(name)} {escape(part)}: {number(count)}'
                "</title></rect>"
            )
            x += length
        body.append(
            f'<text class="value" x="{x + 4:.1f}" y="{y + 14}">{number(sum(split.values()))}</text>'
        )
    return _svg(title, TOP + ROW * max(len(items), 1) + 8, body, legend or parts)
