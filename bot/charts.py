"""Charts as PNG bytes, readable on a phone: 1080 px wide, large Chinese type in the shipped
CJK font, values printed on the bars, high contrast.

Pure functions, no telegram, no database: callers pass figures and get bytes. Rendering takes
tens of milliseconds of CPU, so async callers run them in ``asyncio.to_thread``. matplotlib is
imported lazily (≈0.7 s cold) so the bot starts fast; only the object-oriented API is used
(``Figure`` + ``FigureCanvasAgg``, no pyplot), which keeps no global state and is safe in
threads. Fixed labels (legends, notes) come from the ``stats.chart.*`` catalog keys.
"""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.fonts import cjk_font_path
from bot.i18n import t
from storage.secrecy import MIN_PUBLISHED_VOTES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

WIDTH_PX = 1080
DPI = 120
MIN_HEIGHT_PX = 360
MAX_HEIGHT_PX = 8800
"""Telegram refuses photos whose width + height exceeds 10,000 px."""
SATISFACTION_MIN_ROW_PX = 40
MIN_VOTES = MIN_PUBLISHED_VOTES
"""Results with fewer valid votes stay hidden (the secrecy rule of mass evaluation)."""
MAX_ROWS = 30
"""Bars per image; more rows are cut to the best and the worst with a note."""
LABEL_CHARS = 9
"""Longer names (in Chinese characters; digits count half) are cut with an ellipsis so the
bars keep their room on a phone."""

# Colours: strong, distinguishable for colour-blind readers, dark text on light fills.
GREEN = "#1b7f3b"
BLUE = "#1f5fbf"
AMBER = "#e3a21a"
RED = "#c62828"
GREY = "#9e9e9e"
INK = "#1a1a1a"
GRID = "#d0d0d0"
PARTY_RED = "#b71c1c"

_lock = threading.Lock()


@dataclass(frozen=True)
class _Fonts:
    title: FontProperties
    label: FontProperties
    value: FontProperties
    small: FontProperties


@cache
def _fonts() -> _Fonts:
    from matplotlib.font_manager import FontProperties

    path = str(cjk_font_path())
    return _Fonts(
        title=FontProperties(fname=path, size=22),
        label=FontProperties(fname=path, size=17),
        value=FontProperties(fname=path, size=16),
        small=FontProperties(fname=path, size=13),
    )


@cache
def _charmap() -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(str(cjk_font_path())).get_charmap())


def clean(text: str) -> str:
    """Replace characters the shipped font lacks (emoji, rare hanzi) so nothing draws as tofu.

    Also escapes ``$`` (matplotlib would read it as mathtext)."""
    chars = _charmap()
    out = []
    for ch in text:
        if ch == "$":
            out.append(r"\$")
        elif ord(ch) in chars or ch in " \n":
            out.append(ch)
        elif ch.isprintable() and not ch.isspace():
            out.append("?")
    return "".join(out)


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """Cut a long name to the width of ``limit`` Chinese characters (digits and Latin letters
    count half) with an ellipsis."""
    text = " ".join(text.split())
    budget = 2 * limit
    if sum(_width(ch) for ch in text) <= budget:
        return text
    out, used = [], _width("…")
    for ch in text:
        if used + _width(ch) > budget:
            break
        out.append(ch)
        used += _width(ch)
    return "".join(out) + "…"


def label(text: str, limit: int = LABEL_CHARS) -> str:
    """A bar's label: at most two lines, each shortened, safe for the font."""
    lines = [shorten(line, limit) for line in text.split("\n") if line.strip()][:2]
    return clean("\n".join(lines))


def _percent(value: float) -> str:
    return f"{value:.1f}%" if value % 1 else f"{value:.0f}%"


def _new_figure(height_px: int) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI, facecolor="white")
    return fig


def _to_png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    buf = io.BytesIO()
    canvas.print_png(buf)
    return buf.getvalue()


def _title(fig: Figure, text: str, height_px: int, subtitle: str | None = None) -> None:
    f = _fonts()
    fig.text(
        0.5,
        1 - 24 / height_px,
        clean(text),
        ha="center",
        va="top",
        fontproperties=f.title,
        color=INK,
    )
    if subtitle:
        fig.text(
            0.5,
            1 - 72 / height_px,
            clean(subtitle),
            ha="center",
            va="top",
            fontproperties=f.small,
            color="#555555",
        )


def _note(fig: Figure, text: str | None, height_px: int) -> None:
    if text:
        fig.text(
            0.03,
            14 / height_px,
            clean(text),
            ha="left",
            va="bottom",
            fontproperties=_fonts().small,
            color="#555555",
        )


def _hbar_axes(
    fig: Figure, height_px: int, top_px: int, bottom_px: int, left_px: int, right_px: int
) -> Axes:
    left = left_px / WIDTH_PX
    width = 1 - (left_px + right_px) / WIDTH_PX
    bottom = bottom_px / height_px
    height = 1 - (top_px + bottom_px) / height_px
    ax = fig.add_axes((left, bottom, width, height))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="both", length=0, colors=INK)
    return ax


def _style_ticks(ax: Axes, fp: FontProperties) -> None:
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(fp)


def _percent_xaxis(ax: Axes) -> None:
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0", "25%", "50%", "75%", "100%"])
    ax.xaxis.grid(True, color=GRID, linewidth=1)
    ax.set_axisbelow(True)


def _rows_height(n: int, row_px: int, top_px: int, bottom_px: int) -> int:
    return max(MIN_HEIGHT_PX, top_px + bottom_px + max(n, 1) * row_px)


def _empty_note(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        clean(text),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontproperties=_fonts().label,
        color="#555555",
    )
    ax.set_xticks([])
    ax.set_yticks([])


def _render(draw: Any, height_px: int) -> bytes:
    fig = _new_figure(height_px)
    draw(fig)
    # matplotlib does not promise thread safety for its font and text caches, and rendering
    # is CPU-bound under the GIL anyway: renders from worker threads take turns.
    with _lock:
        return _to_png(fig)


# ---- satisfaction of one evaluation (群众评议结果) ------------------------------------------


def satisfaction_chart(
    title: str,
    rows: Sequence[tuple[str, int, int, int]],
    *,
    pass_percent: float = 90.0,
    subtitle: str | None = None,
    locale: str | None = None,
) -> bytes:
    """Stacked horizontal bars per subject: 满意 / 基本满意 / 不满意 as shares of valid votes,
    the satisfaction rate ((满意 + 基本满意) / valid) printed at the right and a dashed pass line.

    ``rows`` are (subject, satisfied, basically satisfied, dissatisfied). A subject with fewer
    than 5 valid votes is drawn without any figure ("too few votes"), whatever the counts say.
    """
    f = _fonts()
    top, bottom, left, right = 190, 110, 300, 250
    row_px = 104 if any("\n" in r[0] for r in rows) else 78
    # A large branch's members: rows get thinner so the image stays within Telegram's photo
    # limit (width + height ≤ 10,000 px) and every subject keeps its result.
    row_px = max(SATISFACTION_MIN_ROW_PX, min(row_px, (MAX_HEIGHT_PX - 300) // max(len(rows), 1)))
    height = _rows_height(len(rows), row_px, top, bottom)

    def draw(fig: Figure) -> None:
        _title(fig, title, height, subtitle)
        ax = _hbar_axes(fig, height, top, bottom, left, right)
        _percent_xaxis(ax)
        n = len(rows)
        ax.set_ylim(max(n, 1) - 0.5, -0.5)
        labels = [label(r[0]) for r in rows]
        ax.set_yticks(range(n))
        ax.set_yticklabels(labels)
        _style_ticks(ax, f.label)
        names = (
            t(locale, "stats.chart.satisfied"),
            t(locale, "stats.chart.basic"),
            t(locale, "stats.chart.dissatisfied"),
        )
        colours = (GREEN, AMBER, RED)
        text_colours = ("white", INK, "white")
        for y, (_, sat, basic, dis) in enumerate(rows):
            total = sat + basic + dis
            if total < MIN_VOTES:
                ax.text(
                    2,
                    y,
                    clean(t(locale, "stats.chart.too_few", min=MIN_VOTES)),
                    va="center",
                    ha="left",
                    fontproperties=f.value,
                    color="#555555",
                )
                continue
            start = 0.0
            for share_count, colour, ink in zip(
                (sat, basic, dis), colours, text_colours, strict=True
            ):
                share = 100 * share_count / total
                if share > 0:
                    ax.barh(y, share, left=start, height=0.66, color=colour)
                    if share >= 9:
                        ax.text(
                            start + share / 2,
                            y,
                            str(share_count),
                            ha="center",
                            va="center",
                            fontproperties=f.value,
                            color=ink,
                        )
                start += share
            rate = 100 * (sat + basic) / total
            ax.text(
                102,
                y,
                clean(t(locale, "stats.chart.rate_votes", rate=_percent(rate), votes=total)),
                ha="left",
                va="center",
                fontproperties=f.value,
                color=RED if rate < pass_percent else INK,
                clip_on=False,
            )
        ax.axvline(pass_percent, color=PARTY_RED, linestyle="--", linewidth=2)
        handles = [_patch(colour, name) for colour, name in zip(colours, names, strict=True)] + [
            _line(PARTY_RED, t(locale, "stats.chart.pass_line", rate=_percent(pass_percent)))
        ]
        fig.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - 100 / height),
            ncol=4,
            prop=f.small,
            frameon=False,
            handlelength=1.4,
            columnspacing=1.2,
        )
        if not rows:
            _empty_note(ax, t(locale, "stats.chart.no_data"))

    return _render(draw, height)


def _patch(colour: str, label: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, label=clean(label))


def _line(colour: str, label: str) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([0], [0], color=colour, linestyle="--", linewidth=2, label=clean(label))


# ---- fulfilment rate per branch (兑现率) ---------------------------------------------------


def _cut(rows: list[Any], limit: int) -> tuple[list[Any], int]:
    """The best and the worst halves when there are more rows than fit; and how many hidden."""
    if len(rows) <= limit:
        return rows, 0
    head = (limit + 1) // 2
    tail = limit - head
    return [*rows[:head], None, *rows[len(rows) - tail :]], len(rows) - limit


def fulfilment_chart(
    title: str,
    rows: Sequence[tuple[str, int, int]],
    *,
    limit: int = MAX_ROWS,
    subtitle: str | None = None,
    locale: str | None = None,
) -> bytes:
    """Fulfilment rate per branch (or per member): (name, fulfilled, total), best first.

    Names with no items are left out and counted in a note; more than ``limit`` names show the
    best and the worst halves with a gap row saying how many are left out."""
    f = _fonts()
    with_items = [r for r in rows if r[2] > 0]
    no_items = len(rows) - len(with_items)
    ordered = sorted(with_items, key=lambda r: (-r[1] / r[2], -r[2], r[0]))
    shown, hidden = _cut(ordered, limit)
    top, bottom, left, right = 130, 120, 300, 230
    row_px = 66
    height = _rows_height(len(shown), row_px, top, bottom)
    notes = []
    if hidden:
        notes.append(t(locale, "stats.chart.cut", total=len(ordered), hidden=hidden))
    if no_items:
        notes.append(t(locale, "stats.chart.no_items_note", count=no_items))

    def draw(fig: Figure) -> None:
        _title(fig, title, height, subtitle)
        ax = _hbar_axes(fig, height, top, bottom, left, right)
        _percent_xaxis(ax)
        n = len(shown)
        ax.set_ylim(max(n, 1) - 0.5, -0.5)
        ax.set_yticks(range(n))
        ax.set_yticklabels([label(r[0]) if r is not None else "……" for r in shown])
        _style_ticks(ax, f.label)
        for y, row in enumerate(shown):
            if row is None:
                ax.text(
                    50,
                    y,
                    clean(t(locale, "stats.chart.gap", hidden=hidden)),
                    ha="center",
                    va="center",
                    fontproperties=f.small,
                    color="#555555",
                )
                continue
            _, done, total = row
            rate = 100 * done / total
            colour = GREEN if done == total else BLUE
            ax.barh(y, max(rate, 0.6), height=0.66, color=colour)
            ax.text(
                102,
                y,
                f"{_percent(rate)}（{done}/{total}）",
                ha="left",
                va="center",
                fontproperties=f.value,
                color=INK,
                clip_on=False,
            )
        if not shown:
            _empty_note(ax, t(locale, "stats.chart.no_data"))
        _note(fig, "；".join(notes) if notes else None, height)

    return _render(draw, height)


# ---- items by status (事项状态) ------------------------------------------------------------


def status_chart(
    title: str,
    *,
    fulfilled: int,
    in_progress: int,
    overdue: int,
    claimed: int,
    subtitle: str | None = None,
    locale: str | None = None,
) -> bytes:
    """Items by status as horizontal bars with count and share: 已兑现, 待核实, 进行中, 逾期."""
    f = _fonts()
    rows = [
        (t(locale, "stats.chart.status.fulfilled"), fulfilled, GREEN),
        (t(locale, "stats.chart.status.claimed"), claimed, AMBER),
        (t(locale, "stats.chart.status.in_progress"), in_progress, BLUE),
        (t(locale, "stats.chart.status.overdue"), overdue, RED),
    ]
    total = fulfilled + in_progress + overdue + claimed
    top, bottom, left, right = 150, 110, 220, 250
    row_px = 100
    height = _rows_height(len(rows), row_px, top, bottom)

    def draw(fig: Figure) -> None:
        _title(fig, title, height, subtitle)
        ax = _hbar_axes(fig, height, top, bottom, left, right)
        n = len(rows)
        ax.set_ylim(max(n, 1) - 0.5, -0.5)
        ax.set_yticks(range(n))
        ax.set_yticklabels([clean(r[0]) for r in rows])
        top_count = max((r[1] for r in rows), default=0)
        ax.set_xlim(0, max(top_count, 1))
        ax.xaxis.grid(True, color=GRID, linewidth=1)
        ax.set_axisbelow(True)
        ax.xaxis.set_major_locator(_int_locator())
        for y, (_, count, colour) in enumerate(rows):
            ax.barh(y, count, height=0.62, color=colour)
            share = 100 * count / total if total else 0.0
            ax.text(
                max(top_count, 1) * 1.02,
                y,
                clean(t(locale, "stats.chart.count_share", count=count, share=_percent(share))),
                ha="left",
                va="center",
                fontproperties=f.value,
                color=INK,
                clip_on=False,
            )
        _style_ticks(ax, f.label)
        _note(fig, t(locale, "stats.chart.total_items", total=total), height)

    return _render(draw, height)


def _int_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=5, integer=True)


# ---- monthly progress activity (月度进展) --------------------------------------------------


def monthly_activity_chart(
    title: str,
    months: Sequence[tuple[int, int, int]],
    *,
    subtitle: str | None = None,
    locale: str | None = None,
) -> bytes:
    """Progress entries per month as vertical bars, the count above each bar.

    ``months`` are (year, month, count) in order, typically the last 12 months; the year is
    written under January and under the first month."""
    f = _fonts()
    height = 720
    top, bottom, left, right = 150, 150, 90, 40

    def draw(fig: Figure) -> None:
        _title(fig, title, height, subtitle)
        ax = _hbar_axes(fig, height, top, bottom, left, right)
        n = len(months)
        xs = list(range(n))
        counts = [m[2] for m in months]
        peak = max(counts, default=0)
        ax.bar(xs, counts, width=0.68, color=BLUE)
        ax.set_ylim(0, max(peak, 1) * 1.18)
        ax.yaxis.set_major_locator(_int_locator())
        ax.yaxis.grid(True, color=GRID, linewidth=1)
        ax.set_axisbelow(True)
        ax.set_xlim(-0.6, max(n, 1) - 0.4)
        ax.set_xticks(xs)
        labels = []
        for i, (year, month, _) in enumerate(months):
            label = t(locale, "stats.chart.month", month=month)
            if i == 0 or month == 1:
                label += "\n" + t(locale, "stats.chart.year", year=year)
            labels.append(clean(label))
        ax.set_xticklabels(labels)
        _style_ticks(ax, f.small)
        for x, count in zip(xs, counts, strict=True):
            if count:
                ax.text(
                    x,
                    count + max(peak, 1) * 0.02,
                    str(count),
                    ha="center",
                    va="bottom",
                    fontproperties=f.value,
                    color=INK,
                )
        if not any(counts):
            _empty_note(ax, t(locale, "stats.chart.no_data"))
        _note(fig, t(locale, "stats.chart.total_entries", total=sum(counts)), height)

    return _render(draw, height)


# ---- satisfaction per evaluation (历次评议满意率) ------------------------------------------


def evaluations_chart(
    title: str,
    rows: Sequence[tuple[str, int, int]],
    *,
    pass_percent: float = 90.0,
    limit: int = MAX_ROWS,
    subtitle: str | None = None,
    locale: str | None = None,
) -> bytes:
    """Satisfaction rate per closed evaluation: (label, satisfied + basically satisfied, valid
    votes), oldest first, bars red under the pass line. Fewer than 5 votes: no figure."""
    f = _fonts()
    shown = list(rows[-limit:])
    older = len(rows) - len(shown)
    top, bottom, left, right = 170, 120, 300, 230
    row_px = 100 if any("\n" in r[0] for r in shown) else 70
    height = _rows_height(len(shown), row_px, top, bottom)

    def draw(fig: Figure) -> None:
        _title(fig, title, height, subtitle)
        ax = _hbar_axes(fig, height, top, bottom, left, right)
        _percent_xaxis(ax)
        n = len(shown)
        ax.set_ylim(max(n, 1) - 0.5, -0.5)
        ax.set_yticks(range(n))
        ax.set_yticklabels([label(r[0]) for r in shown])
        _style_ticks(ax, f.label)
        for y, (_, good, votes) in enumerate(shown):
            if votes < MIN_VOTES:
                ax.text(
                    2,
                    y,
                    clean(t(locale, "stats.chart.too_few", min=MIN_VOTES)),
                    va="center",
                    fontproperties=f.value,
                    color="#555555",
                )
                continue
            rate = 100 * good / votes
            ax.barh(y, max(rate, 0.6), height=0.62, color=GREEN if rate >= pass_percent else RED)
            ax.text(
                102,
                y,
                clean(t(locale, "stats.chart.rate_votes", rate=_percent(rate), votes=votes)),
                ha="left",
                va="center",
                fontproperties=f.value,
                color=RED if rate < pass_percent else INK,
                clip_on=False,
            )
        ax.axvline(pass_percent, color=PARTY_RED, linestyle="--", linewidth=2)
        fig.legend(
            handles=[
                _line(PARTY_RED, t(locale, "stats.chart.pass_line", rate=_percent(pass_percent)))
            ],
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - 100 / height),
            prop=f.small,
            frameon=False,
        )
        if not shown:
            _empty_note(ax, t(locale, "stats.chart.no_data"))
        if older:
            _note(fig, t(locale, "stats.chart.older", count=older), height)

    return _render(draw, height)
