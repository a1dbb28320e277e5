"""Pictures drawn on the server as inline SVG: states over time, the last start or stop, backup age.

Every text that reaches the SVG (node names, states, messages) is escaped here; colours
are presentation attributes (no ``style``: the pages' Content-Security-Policy forbids inline
styles). Each picture has a ``role="img"``, a title and a text alternative in the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from exaop.faces.web.live import Change

#: state -> fill colour (each with a contrast of at least 3:1 against the white background)
COLOURS = {
    "Running": "#1b7f3b",
    "running": "#1b7f3b",
    "online": "#1b7f3b",
    "OK": "#1b7f3b",
    "Booting": "#b35c00",
    "Shutting down": "#8a4f00",
    "starting": "#b35c00",
    "stopping": "#8a4f00",
    "Powered off": "#6b6b6b",
    "stopped": "#6b6b6b",
    "setup": "#6b6b6b",
    "none": "#6b6b6b",
    "Crashed": "#b3261e",
    "Suspended": "#6a3fa0",
}
DEFAULT_COLOUR = "#3d5a80"
TRANSITIONAL = frozenset({"Booting", "Shutting down", "starting", "stopping"})


def colour(state: str) -> str:
    return COLOURS.get(state, DEFAULT_COLOUR)


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _svg(width: int, height: int, title: str, body: Iterable[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" class="picture"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _axis(x0: int, width: int, y: int, t0: float, t1: float, ticks: int = 5) -> list[str]:
    span = max(t1 - t0, 1e-9)
    out = [f'<line x1="{x0}" y1="{y}" x2="{x0 + width}" y2="{y}" stroke="#444"/>']
    for i in range(ticks + 1):
        x = x0 + width * i / ticks
        out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#444"/>')
        anchor = "start" if i == 0 else "end" if i == ticks else "middle"
        out.append(
            f'<text x="{x:.1f}" y="{y + 16}" font-size="11" text-anchor="{anchor}" fill="#222">'
            f"+{_duration(span * i / ticks)}</text>"
        )
    return out


def states_over_time(title: str, changes: Sequence[Change], now: float, label: str = "") -> Markup:
    """One strip: each state a coloured stretch from its change to the next (or now)."""
    width, x0, bar = 640, 8, 624
    if not changes:
        return _svg(width, 40, title, [f'<text x="{x0}" y="20" font-size="12" fill="#222">no states recorded</text>'])
    t0 = changes[0].t
    span = max(now - t0, 1.0)
    body: list[str] = []
    for i, ch in enumerate(changes):
        end = changes[i + 1].t if i + 1 < len(changes) else now
        x = x0 + bar * (ch.t - t0) / span
        w = max(bar * (end - ch.t) / span, 1.0)
        text = ch.state + (f" ({ch.detail})" if ch.detail and ch.detail != "None" else "")
        body.append(
            f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="22" fill="{colour(ch.state)}">'
            f"<title>{escape(text)} for {_duration(end - ch.t)}</title></rect>"
        )
    body += _axis(x0, bar, 30, t0, t0 + span)
    legend_x = x0
    for state in dict.fromkeys(ch.state for ch in changes):
        body.append(
            f'<rect x="{legend_x}" y="52" width="10" height="10" fill="{colour(state)}"/>'
            f'<text x="{legend_x + 14}" y="61" font-size="11" fill="#222">{escape(state)}</text>'
        )
        legend_x += 24 + 7 * len(state)
    return _svg(width, 68, title + (f": {label}" if label else ""), body)


@dataclass(frozen=True)
class Bar:
    label: str
    start: float
    end: float
    state: str  # colours the bar
    note: str = ""


def timeline(
    title: str, phases: Sequence[Bar], boots: Sequence[Bar], t0: float, t1: float, more_nodes: int = 0
) -> Markup:
    """Phases against time, then one row per node's boot (or shutdown)."""
    rows = [*phases, *boots]
    label_w, width = 150, 640
    bar = width - label_w - 16
    span = max(t1 - t0, 1.0)
    body: list[str] = []
    y = 4
    for i, row in enumerate(rows):
        if i == len(phases) and boots:
            y += 6
        start, end = min(max(row.start, t0), t1), min(max(row.end, t0), t1)  # within the picture
        x = label_w + bar * (start - t0) / span
        w = max(bar * (end - start) / span, 2.0)
        body.append(
            f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end" fill="#222">'
            f"{escape(row.label[:22])}</text>"
        )
        tip = f"{row.label}: {_duration(row.end - row.start)}" + (f" ({row.note})" if row.note else "")
        body.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="14" fill="{colour(row.state)}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        y += 20
    if more_nodes:
        body.append(f'<text x="{label_w}" y="{y + 12}" font-size="11" fill="#222">and {more_nodes} more nodes</text>')
        y += 18
    body += _axis(label_w, bar, y + 2, t0, t0 + span)
    return _svg(width, y + 24, title, body)


def backup_ages(title: str, backups: Sequence[tuple[str, float, float | None, bool]]) -> Markup:
    """(label, age in seconds, seconds until it expires or None, usable) per backup: one bar each,
    its age, with a mark where it expires."""
    label_w, width = 150, 640
    bar = width - label_w - 70
    if not backups:
        return _svg(width, 30, title, ['<text x="8" y="20" font-size="12" fill="#222">no backups</text>'])
    longest = max(max(age + (left or 0.0), age) for _, age, left, _ in backups) or 1.0
    body: list[str] = []
    y = 4
    for label, age, left, usable in backups:
        w = max(bar * age / longest, 2.0)
        fill = "#1b7f3b" if usable else "#6b6b6b"
        body.append(
            f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end" fill="#222">'
            f"{escape(label[:22])}</text>"
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="14" fill="{fill}">'
            f"<title>{escape(label)}: {_duration(age)} old"
            f"{'' if left is None else f', expires in {_duration(left)}'}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="11" fill="#222">{_duration(age)}</text>'
        )
        if left is not None:
            ex = label_w + bar * (age + left) / longest
            body.append(
                f'<line x1="{ex:.1f}" y1="{y}" x2="{ex:.1f}" y2="{y + 18}" stroke="#b3261e" '
                'stroke-width="2"><title>expires</title></line>'
            )
        y += 20
    return _svg(width, y + 4, title, body)
