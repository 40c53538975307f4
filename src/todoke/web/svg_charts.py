"""Charts drawn on the server as SVG, for pages that must print or become a PDF without
scripts: stacked bars with a labelled value axis and day labels.

Every text that reaches the SVG is escaped here, so a caller may pass any label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: room for the value labels on the left and the day labels below
_LEFT = 56
_RIGHT = 8
_TOP = 28
_BOTTOM = 40
_TICKS = 4
#: the room one day label needs ("04-30" at 10 px), so labels never overlap
_LABEL_WIDTH = 40


@dataclass(frozen=True)
class Series:
    """One stack of the bars: its name for the legend, its colour and a value per label."""

    name: str
    colour: str
    values: Sequence[int]


def nice_ceiling(value: int) -> int:
    """The top of the value axis: the smallest round number at or above `value` whose ticks
    are whole round numbers too (a step of 1, 2, 2.5 or 5 times a power of ten)."""
    step = max(value / _TICKS, 1.0)
    power = 10 ** math.floor(math.log10(step))
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * power
        if candidate >= step and candidate == int(candidate):
            return int(candidate) * _TICKS
    raise AssertionError("unreachable: ten times the power is always at or above the step")


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 720,
    height: int = 240,
) -> str:
    """An SVG of one bar per label, the series stacked bottom to top in the order given."""
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values for {len(labels)}")
        if any(value < 0 for value in one.values):
            raise ValueError(f"series {one.name!r} has a negative value")
    totals = [sum(one.values[index] for one in series) for index in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    plot_w = width - _LEFT - _RIGHT
    plot_h = height - _TOP - _BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        *_legend(series),
        *_value_axis(top, plot_w, plot_h),
    ]
    slot = plot_w / max(len(labels), 1)
    bar = max(slot * 0.7, 1.0)
    for index, label in enumerate(labels):
        x = _LEFT + index * slot + (slot - bar) / 2
        base = float(_TOP + plot_h)
        for one in series:
            value = one.values[index]
            if not value:
                continue
            size = value / top * plot_h
            base -= size
            parts.append(
                f'<rect x="{x:.2f}" y="{base:.2f}" width="{bar:.2f}" height="{size:.2f}" '
                f'fill="{escape(one.colour)}"><title>{escape(label)} {escape(one.name)}: '
                f"{value:,}</title></rect>"
            )
    parts.extend(_label_axis(labels, slot, plot_h))
    parts.append("</svg>")
    return "".join(parts)


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    x = _LEFT
    for one in series:
        parts.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{escape(one.colour)}"/>'
            f'<text x="{x + 14}" y="17" font-size="11">{escape(one.name)}</text>'
        )
        x += 24 + 7 * len(one.name) + 14 * sum(1 for ch in one.name if ord(ch) > 0x2E80)
    return parts


def _value_axis(top: int, plot_w: int, plot_h: int) -> list[str]:
    parts = []
    for tick in range(_TICKS + 1):
        value = top * tick // _TICKS
        y = _TOP + plot_h - plot_h * tick / _TICKS
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.2f}" y2="{y:.2f}" '
            f'stroke="#d0d4da" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.2f}" font-size="10" text-anchor="end">'
            f"{value:,}</text>"
        )
    return parts


def _label_axis(labels: Sequence[str], slot: float, plot_h: int) -> list[str]:
    """Day labels under the bars; with many days every few only, never overlapping."""
    if not labels:
        return []
    every = max(1, math.ceil(_LABEL_WIDTH / slot))
    y = _TOP + plot_h + 16
    parts = []
    for index in range(0, len(labels), every):
        x = _LEFT + index * slot + slot / 2
        parts.append(
            f'<text x="{x:.2f}" y="{y}" font-size="10" text-anchor="middle">'
            f"{escape(labels[index])}</text>"
        )
    return parts
