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

    def _made(self, since: float) -> FatigueTrend:
        grown: tuple[float, Side, float, float] | None = None
        for side in (Side.LEFT, Side.RIGHT):
            if self._counts[side] < 2 * TREND_STEPS:
                continue  # the two ends would overlap
            first, last = statistics.fmean(self._first[side]), statistics.fmean(self._last[side])
            if last - first > DETECTABLE_CHANGE_DEG and (grown is None or last - first > grown[0]):
                grown = (last - first, side, first, last)
        recent = tuple(self._recent)
        last_s = recent[-1].end_s
        if grown is None:
            return FatigueTrend(recent, since, last_s)
        return FatigueTrend(recent, since, last_s, grown[1], round(grown[2], 1), round(grown[3], 1))
