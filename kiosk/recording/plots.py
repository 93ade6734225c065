"""The report's plots, drawn headless with matplotlib (Agg) and handed over as PNG bytes.

Each function takes plain numbers (walks, steps, a tilt trace) and returns one PNG; kiosk.app.report
puts them in the HTML.  matplotlib is imported here only, when a report is made.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import itertools
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kiosk.body.fatigue import DETECTABLE_CHANGE_DEG, FatigueFinding
from kiosk.core.types import Pattern, RepVerdict, Side, StepRecord
from kiosk.core.words import PATTERN_WORDS

if TYPE_CHECKING:
    from kiosk.recording.store import StoredSet, WalkRecord

LEFT_COLOUR = "#1f6fb4"
RIGHT_COLOUR = "#d9661f"
LEVEL_BAND = "#2e9e4a"
CHANGE_COLOUR = "#c0182b"
PATTERN_COLOURS = {
    Pattern.LEVEL: "#2e9e4a",
    Pattern.TRENDELENBURG: "#c0182b",
    Pattern.TRUNK_LEAN: "#e0a21b",
    Pattern.HIP_DROP_SHIFT: "#7b3fa6",
}
SIDE_COLOURS = {Side.LEFT: LEFT_COLOUR, Side.RIGHT: RIGHT_COLOUR}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    # Text from the records (a kiosk's name) is text: "$$" or "$\\foo{$" must not be parsed as maths.
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt

    return plt


def _figure(height_in: float = 3.2) -> tuple[Any, Any]:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9.0, height_in), dpi=100, layout="constrained")
    axes.grid(True, color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for spine in ("top", "right"):
        axes.spines[spine].set_visible(False)
    return figure, axes


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    _pyplot().close(figure)
    return buffer.getvalue()


def _day(unix_s: float) -> dt.date:
    return dt.datetime.fromtimestamp(unix_s).date()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _days_axis(axes: Any, first: dt.date, last: dt.date) -> None:
    """Whole days on the x axis, from the first day's midnight to the one after the last day,
    labelled by date (a single day gets a day either side)."""
    mdates: Any = importlib.import_module("matplotlib.dates")  # partly typed: its locators are not
    if first == last:
        first, last = first - dt.timedelta(days=1), last + dt.timedelta(days=1)
    axes.set_xlim(_midnight(first), _midnight(last + dt.timedelta(days=1)))
    axes.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, (last - first).days // 8 + 1)))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def walks_per_day(walks: Sequence[WalkRecord]) -> bytes:
    """Bars: how many walks each day, stacked by kiosk."""
    figure, axes = _figure(2.6)
    kiosks = sorted({walk.kiosk for walk in walks})
    days = sorted({_day(walk.started_unix_s) for walk in walks})
    counts = Counter((walk.kiosk, _day(walk.started_unix_s)) for walk in walks)
    bottom = [0] * len(days)
    noons = [dt.datetime.combine(day, dt.time(12)) for day in days]
    for kiosk in kiosks:
        heights = [counts[(kiosk, day)] for day in days]
        axes.bar(noons, heights, bottom=bottom, label=kiosk, width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_ylabel("walks")
    axes.yaxis.get_major_locator().set_params(integer=True)
    if days:
        _days_axis(axes, days[0], days[-1])
    if len(kiosks) > 1:
        axes.legend(title="kiosk", frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    figure.autofmt_xdate()
    return _png(figure)


def daily_means(walks: Sequence[WalkRecord], side: Side, min_steps: int) -> list[tuple[dt.date, float, int]]:
    """Per day, the mean peak drop on `side` of the walks with at least `min_steps` steps: (day, mean, walks)."""
    by_day: dict[dt.date, list[float]] = {}
    for walk in walks:
        peak = walk.summary.peak_drop_deg(side)
        if peak is not None and walk.summary.steps >= min_steps:
            by_day.setdefault(_day(walk.started_unix_s), []).append(peak)
    return [(day, sum(values) / len(values), len(values)) for day, values in sorted(by_day.items())]


def changes(means: Sequence[tuple[dt.date, float, int]], beyond_deg: float) -> list[tuple[dt.date, float]]:
    """The days whose mean moved by more than `beyond_deg` from the previous day with data: (day, change)."""
    return [(day, mean - before) for (_, before, _), (day, mean, _) in itertools.pairwise(means)
            if abs(mean - before) > beyond_deg]


def peak_drop_over_time(walks: Sequence[WalkRecord], tolerance_deg: float, min_steps: int,
                        change_deg: float) -> bytes:
    """Each walk's peak drop per side (hollow: shorter than `min_steps`), the daily means of the
    longer walks, the tolerance band, and day-to-day changes beyond `change_deg` ringed and labelled."""
    plt = _pyplot()
    figure, axes = _figure(3.6)
    axes.axhspan(0, tolerance_deg, color=LEVEL_BAND, alpha=0.12, linewidth=0,
                 label=f"within tolerance (≤ {tolerance_deg:g}°)")
    for side in (Side.LEFT, Side.RIGHT):
        colour = SIDE_COLOURS[side]
        points = [(dt.datetime.fromtimestamp(w.started_unix_s), w.summary.peak_drop_deg(side), w.summary.steps)
                  for w in walks if w.summary.peak_drop_deg(side) is not None]
        long = [(t, v) for t, v, n in points if n >= min_steps]
        short = [(t, v) for t, v, n in points if n < min_steps]
        if long:
            axes.scatter(*zip(*long, strict=True), s=22, color=colour, alpha=0.7, label=f"{side.value} hip low")
        if short:
            axes.scatter(*zip(*short, strict=True), s=22, facecolors="none", edgecolors=colour, alpha=0.7,
                         label=f"{side.value}, walk under {min_steps} steps")
        means = daily_means(walks, side, min_steps)
        if means:
            # Each day's mean as a bar across that day, joined from day to day.
            noon = [dt.datetime.combine(day, dt.time(12)) for day, _, _ in means]
            axes.plot(noon, [m for _, m, _ in means], color=colour, linewidth=0.8, alpha=0.6)
            axes.hlines([m for _, m, _ in means], [_midnight(d) for d, _, _ in means],
                        [_midnight(d + dt.timedelta(days=1)) for d, _, _ in means], color=colour, linewidth=3,
                        label=f"{side.value}: daily mean of walks of {min_steps}+ steps")
            for day, change in changes(means, change_deg):
                mean = next(m for d, m, _ in means if d == day)
                when = dt.datetime.combine(day, dt.time(12))
                axes.scatter([when], [mean], s=180, facecolors="none", edgecolors=CHANGE_COLOUR, linewidths=2)
                axes.annotate(f"{change:+.1f}°", (when, mean), textcoords="offset points", xytext=(8, 8),
                              color=CHANGE_COLOUR, fontsize=9, fontweight="bold")
    axes.set_ylabel("peak drop per walk (°)")
    axes.set_ylim(bottom=0, top=max([tolerance_deg * 2] + [v for w in walks for v in
                                                         (w.summary.peak_left_drop_deg, w.summary.peak_right_drop_deg)
                                                         if v is not None]) * 1.35)
    if walks:
        _days_axis(axes, _day(walks[0].started_unix_s), _day(walks[-1].started_unix_s))
    axes.legend(frameon=False, fontsize=8, loc="upper left", ncols=3)
    figure.autofmt_xdate()
    plt.setp(axes.get_xticklabels(), fontsize=8)
    return _png(figure)


def drop_over_minutes(finding: FatigueFinding, tolerance_deg: float) -> bytes:
    """A long walk's mean drop per side, minute by minute, with the tolerance band and, when a
    hip's drop grew beyond the detectable change, when it did."""
    figure, axes = _figure(2.8)
    axes.axhspan(0, tolerance_deg, color=LEVEL_BAND, alpha=0.12, linewidth=0,
                 label=f"within tolerance (≤ {tolerance_deg:g}°)")
    for side in (Side.LEFT, Side.RIGHT):
        points = [(minute + 0.5, mean) for minute, s, mean, _ in finding.per_minute if s is side]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", color=SIDE_COLOURS[side], linewidth=2,
                      label=f"{side.value} hip low: mean drop of the minute's steps")
    if finding.grown_side is not None and finding.onset_min is not None:
        axes.axvline(finding.onset_min, color=CHANGE_COLOUR, linewidth=2, linestyle="--",
                     label=f"{finding.grown_side.value} hip: grown by more than {DETECTABLE_CHANGE_DEG:g}°")
    axes.set_xlabel("minutes from the first step")
    axes.set_ylabel("peak drop per step (°)")
    axes.set_xlim(0, max(finding.minutes, 1.0))
    axes.set_ylim(bottom=0, top=max([tolerance_deg * 1.6] + [m for _, _, m, _ in finding.per_minute]) * 1.3)
    axes.legend(frameon=False, fontsize=8, loc="upper left", ncols=2)
    return _png(figure)


def step_drop_distribution(steps: Sequence[StepRecord], tolerance_deg: float) -> bytes:
    """Histograms of every step's peak drop, one per side, with the tolerance marked."""
    figure, axes = _figure(3.0)
    top = max([step.peak_drop_deg for step in steps] + [tolerance_deg * 2])
    bins = [i * 0.5 for i in range(int(top / 0.5) + 2)]
    for side in (Side.LEFT, Side.RIGHT):
        values = [step.peak_drop_deg for step in steps if step.drop_side is side]
        if values:
            axes.hist(values, bins=bins, alpha=0.55, color=SIDE_COLOURS[side],
                      label=f"{side.value} hip low ({len(values)} steps)")
    axes.axvline(tolerance_deg, color=LEVEL_BAND, linewidth=2, linestyle="--", label=f"tolerance {tolerance_deg:g}°")
    axes.set_xlabel("peak drop within the step (°)")
    axes.set_ylabel("steps")
    axes.legend(frameon=False, fontsize=9)
    return _png(figure)


def pattern_shares(steps: Sequence[StepRecord]) -> bytes:
    """One horizontal bar: the share of steps with each pattern."""
    figure, axes = _figure(1.9)
    counts = Counter(step.pattern for step in steps)
    total = sum(counts.values()) or 1
    left = 0.0
    for pattern in Pattern:
        share = counts.get(pattern, 0) / total
        if share:
            axes.barh([0], [share * 100], left=[left], color=PATTERN_COLOURS[pattern],
                          label=PATTERN_WORDS[pattern])
            if share >= 0.06:
                axes.text(left + share * 50, 0, f"{share:.0%}", ha="center", va="center", color="white",
                          fontweight="bold", fontsize=10)
            left += share * 100
    axes.set_xlim(0, 100)
    axes.set_yticks([])
    axes.set_xlabel("share of steps (%)")
    axes.grid(False)
    if counts:
        figure.legend(frameon=False, ncols=2, fontsize=9, loc="outside upper center")
    return _png(figure)


VERDICT_COLOURS = {RepVerdict.CLEAN.value: "#2e9e4a", RepVerdict.PELVIS_HIKED.value: "#c0182b",
                   RepVerdict.TRUNK_LEANED.value: "#e0a21b"}
VERDICT_WORDS = {RepVerdict.CLEAN.value: "clean: pelvis level, trunk upright",
                 RepVerdict.PELVIS_HIKED.value: "pelvis hiked", RepVerdict.TRUNK_LEANED.value: "trunk leaned"}


def exercise_sets(sets: Sequence[StoredSet]) -> bytes:
    """Per set, a bar per leg: its reps, coloured by verdict; the share of clean reps above each set."""
    figure, axes = _figure(3.2)
    labels = []
    for number, stored in enumerate(sets):
        for offset, side in ((-0.2, Side.LEFT), (0.2, Side.RIGHT)):
            bottom = 0
            for verdict, colour in VERDICT_COLOURS.items():
                count = sum(rep.side is side and rep.verdict == verdict for rep in stored.reps)
                if count:
                    axes.bar([number + offset], [count], bottom=[bottom], width=0.38, color=colour,
                             edgecolor="white", linewidth=0.8)
                    bottom += count
            axes.text(number + offset, bottom, "left" if side is Side.LEFT else "right", ha="center", va="bottom",
                      fontsize=9, color="#222222")
        total = len(stored.reps)
        clean = sum(rep.verdict == RepVerdict.CLEAN.value for rep in stored.reps)
        labels.append(f"{dt.datetime.fromtimestamp(stored.started_unix_s):%d %b %H:%M}\n"
                      f"{clean}/{total} clean")
    axes.set_xticks(range(len(sets)), labels, fontsize=8)
    axes.set_ylabel("reps per leg")
    axes.yaxis.get_major_locator().set_params(integer=True)
    tallest = max((max(s.reps_left, s.reps_right) for s in sets), default=1)
    axes.set_ylim(0, tallest * 1.2 + 1)
    from matplotlib.patches import Patch  # imported with pyplot, when a report is made

    axes.legend([Patch(color=c) for c in VERDICT_COLOURS.values()], list(VERDICT_WORDS.values()),
                frameon=False, fontsize=9, loc="upper left", ncols=3)
    return _png(figure)


def tilt_over_time(t_s: Sequence[float], tilt_deg: Sequence[float | None], steps: Sequence[StepRecord],
                   tolerance_deg: float) -> bytes:
    """One clip: the ruler's tilt (positive: the left hip low) against time, the tolerance band,
    and each step shaded by the side of its low hip and labelled with it and its peak drop (the
    same side the step table's "low hip" names)."""
    figure, axes = _figure(3.6)
    axes.axhspan(-tolerance_deg, tolerance_deg, color=LEVEL_BAND, alpha=0.12, linewidth=0,
                 label=f"level: within ±{tolerance_deg:g}°")
    for step in steps:
        axes.axvspan(step.start_s, step.end_s, color=SIDE_COLOURS[step.drop_side], alpha=0.08, linewidth=0)
        axes.axvline(step.start_s, color="#999999", linewidth=0.6)
        label = f"{step.drop_side.value}\n{step.peak_drop_deg:.1f}°"
        axes.text((step.start_s + step.end_s) / 2, 0.98, label, transform=axes.get_xaxis_transform(),
                  ha="center", va="top", fontsize=7, color="#444444")
    values = [float("nan") if v is None else v for v in tilt_deg]
    axes.plot(t_s, values, color="#222222", linewidth=1.3, label="tilt shown by the ruler")
    axes.axhline(0, color="#777777", linewidth=0.6)
    axes.set_xlabel("time in the clip (s); one band per step: blue when the left hip was low, orange the right")
    axes.set_ylabel("tilt (°), + left hip low")
    finite = [abs(v) for v in values if v == v]
    limit = max([tolerance_deg * 2, *finite]) * 1.15
    axes.set_ylim(-limit, limit)
    axes.legend(frameon=False, fontsize=8, loc="lower left")
    return _png(figure)
