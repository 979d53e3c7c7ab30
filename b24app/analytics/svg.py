"""Charts as inline SVG, drawn on the server (no script, no asset from a CDN).

Every chart carries its numbers as text next to the bars and a ``<title>`` per bar, so it reads
without the table; the table under it holds the same numbers. All text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#2fc6f6", "#55d0e0", "#47e4c2", "#9dcf00", "#ffa900", "#ff5752", "#7bd500", "#39a8ef")
WIDTH = 640
ROW_H = 26
LABEL_W = 210
VALUE_W = 110


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bars(items: Sequence[tuple[str, float | None]], *, title: str, fmt: Callable[[float], str] = str,
         chart_id: str = "chart") -> str:
    """Horizontal bars, one per (label, value); negative values go left of the zero line."""
    data = [(label, float(v)) for label, v in items if v is not None]
    height = 34 + ROW_H * max(1, len(data))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
             f'viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="16" class="chart-title" font-size="14" font-weight="600">{escape(title)}</text>']
    if not data:
        parts.append(f'<text x="0" y="{height - 8}" font-size="12" fill="#888">—</text></svg>')
        return "".join(parts)
    lo = min(0.0, *(v for _, v in data))
    hi = max(0.0, *(v for _, v in data))
    span = (hi - lo) or 1.0
    plot_w = WIDTH - LABEL_W - VALUE_W
    zero_x = LABEL_W + plot_w * (-lo / span)
    for i, (label, value) in enumerate(data):
        y = 28 + i * ROW_H
        w = plot_w * abs(value) / span
        x = zero_x if value >= 0 else zero_x - w
        color = PALETTE[i % len(PALETTE)] if value >= 0 else "#ff5752"
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {escape(fmt(value))}</title>'
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" font-size="12">{escape(_short(label))}</text>'
            f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 1.0):.1f}" height="{ROW_H - 8}" fill="{color}" rx="2"/>'
            f'<text x="{LABEL_W + plot_w + 6}" y="{y + 15}" font-size="12" class="value">{escape(fmt(value))}</text></g>'
        )
    parts.append(f'<line x1="{zero_x:.1f}" y1="26" x2="{zero_x:.1f}" y2="{height - 4}" stroke="#bbb"/>')
    parts.append("</svg>")
    return "".join(parts)


def funnel(items: Sequence[tuple[str, float]], *, title: str, fmt: Callable[[float], str] = str,
           chart_id: str = "funnel") -> str:
    """A funnel: centred bars as wide as their share of the first (largest) value."""
    data = [(label, float(v or 0)) for label, v in items]
    height = 34 + (ROW_H + 4) * max(1, len(data))
    top = max([v for _, v in data] + [1.0])
    plot_w = WIDTH - LABEL_W - VALUE_W
    centre = LABEL_W + plot_w / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
             f'viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="600">{escape(title)}</text>']
    for i, (label, value) in enumerate(data):
        y = 28 + i * (ROW_H + 4)
        w = max(plot_w * value / top, 2.0)
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {escape(fmt(value))}</title>'
            f'<text x="{LABEL_W - 6}" y="{y + 16}" text-anchor="end" font-size="12">{escape(_short(label))}</text>'
            f'<rect x="{centre - w / 2:.1f}" y="{y + 2}" width="{w:.1f}" height="{ROW_H - 4}" '
            f'fill="{PALETTE[i % len(PALETTE)]}" rx="2"/>'
            f'<text x="{LABEL_W + plot_w + 6}" y="{y + 16}" font-size="12" class="value">{escape(fmt(value))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
