"""A long walk's drops over minutes: the abductors tire, and the drop grows ("that's why longer
walks can cause pain").  Pure: steps in, a `FatigueTrend` out; time is the stream's.

Per hip, the mean peak drop of its first `TREND_STEPS` steps is held against that of its last
`TREND_STEPS`; a rise above the detectable change (`DETECTABLE_CHANGE_DEG`, 2.7°: the minimal
detectable change of the frontal-plane pelvis angle in Dingenen et al. 2018) is named.  The
trend is shown for a treadmill walk from its first step, and for any other walk once it has lasted
`LONG_WALK_S`.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.core.types import FatigueTrend, Side, StepDrop, StepRecord

DETECTABLE_CHANGE_DEG = 2.7
TREND_STEPS = 20
"""Steps per hip averaged at each end of the walk."""
LONG_WALK_S = 30.0
PLOT_S = 180.0
"""The screen plots the steps of the last three minutes."""


class FatigueTracker:
    """One walk's steps, kept as the trend needs them: the first and last TREND_STEPS of each hip,
    and the last PLOT_S seconds for the plot (bounded, however long the walk)."""

    def __init__(self, always: bool = False) -> None:
        """`always`: show the trend from the first step (treadmill mode)."""
        self._always = always
        self._first: dict[Side, list[float]] = {Side.LEFT: [], Side.RIGHT: []}
        self._last: dict[Side, deque[float]] = {Side.LEFT: deque(maxlen=TREND_STEPS),
                                                Side.RIGHT: deque(maxlen=TREND_STEPS)}
        self._counts = {Side.LEFT: 0, Side.RIGHT: 0}
        self._recent: deque[StepDrop] = deque()
        self._since_s: float | None = None
        self._cached: FatigueTrend | None = None

    def add(self, step: StepRecord) -> None:
        if self._since_s is None:
            self._since_s = step.start_s
        side = step.drop_side
        if len(self._first[side]) < TREND_STEPS:
            self._first[side].append(step.peak_drop_deg)
        self._last[side].append(step.peak_drop_deg)
        self._counts[side] += 1
        self._recent.append(StepDrop(step.end_s, side, step.peak_drop_deg))
        while self._recent and step.end_s - self._recent[0].end_s > PLOT_S:
            self._recent.popleft()
        self._cached = None

    def trend(self, now_s: float) -> FatigueTrend | None:
        """The trend at `now_s`, or None while the walk is too short to show one (made again only
        when a step was added: the screen asks every frame)."""
        since = self._since_s
        if since is None or (not self._always and now_s - since < LONG_WALK_S):
            return None
        if self._cached is None:
            self._cached = self._made(since)
        return self._cached

    def growth_deg(self, side: Side) -> float | None:
        """How much the mean drop of the hip's last TREND_STEPS steps exceeds that of its first
        (None: too few steps of that hip for the two ends not to overlap)."""
        if self._counts[side] < 2 * TREND_STEPS:
            return None
        return statistics.fmean(self._last[side]) - statistics.fmean(self._first[side])

    def _made(self, since: float) -> FatigueTrend:
        grown: tuple[float, Side, float, float] | None = None
        for side in (Side.LEFT, Side.RIGHT):
            growth = self.growth_deg(side)
            if growth is not None and growth > DETECTABLE_CHANGE_DEG and (grown is None or growth > grown[0]):
                grown = (growth, side, statistics.fmean(self._first[side]), statistics.fmean(self._last[side]))
        recent = tuple(self._recent)
        last_s = recent[-1].end_s
        if grown is None:
            return FatigueTrend(recent, since, last_s)
        return FatigueTrend(recent, since, last_s, grown[1], round(grown[2], 1), round(grown[3], 1))


@dataclass(frozen=True, slots=True)
class FatigueFinding:
    """What a whole long walk's steps show about fatigue (for the records' report)."""

    minutes: float
    """The walk's length from its first step's start to its last step's end."""
    per_minute: tuple[tuple[int, Side, float, int], ...]
    """(minute from the start, hip, mean peak drop of its steps ending in that minute, steps)."""
    grown_side: Side | None = None
    first_mean_deg: float = 0.0
    last_mean_deg: float = 0.0
    compared: bool = False
    """At least one hip had the 2 × TREND_STEPS steps its two ends need."""
    onset_min: float | None = None
    """When that hip's mean over its last TREND_STEPS steps first exceeded its first steps' mean by
    more than the detectable change (minutes from the start)."""


def long_walk(steps: Sequence[StepRecord], treadmill: bool = False) -> FatigueFinding | None:
    """The fatigue finding of a recorded walk (its steps' times from the walk's start), or None
    when it is too short for one (under LONG_WALK_S, unless on a treadmill, or no steps)."""
    if not steps:
        return None
    start_s = steps[0].start_s
    minutes = (steps[-1].end_s - start_s) / 60
    if not treadmill and minutes * 60 < LONG_WALK_S:
        return None
    tracker = FatigueTracker(always=True)
    onset: dict[Side, float] = {}
    for step in steps:
        tracker.add(step)
        growth = tracker.growth_deg(step.drop_side)
        if step.drop_side not in onset and growth is not None and growth > DETECTABLE_CHANGE_DEG:
            onset[step.drop_side] = (step.end_s - start_s) / 60
    buckets: dict[tuple[int, Side], list[float]] = {}
    for step in steps:
        buckets.setdefault((int((step.end_s - start_s) // 60), step.drop_side), []).append(step.peak_drop_deg)
    per_minute = tuple((minute, side, round(statistics.fmean(drops), 2), len(drops))
                       for (minute, side), drops in sorted(buckets.items(), key=lambda kv: (kv[0][0], kv[0][1].value)))
    trend = tracker.trend(steps[-1].end_s)
    assert trend is not None
    compared = any(tracker.growth_deg(side) is not None for side in (Side.LEFT, Side.RIGHT))
    if trend.grown_side is None:
        return FatigueFinding(round(minutes, 2), per_minute, compared=compared)
    return FatigueFinding(round(minutes, 2), per_minute, trend.grown_side, trend.first_mean_deg, trend.last_mean_deg,
                          compared, round(onset.get(trend.grown_side, minutes), 1))
