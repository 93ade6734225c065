"""Smooths one person's pelvis readings over time and decides level or tilted.

Time comes in as an argument, so the same code serves a live camera, a clip analysed
faster than real time, and tests.
"""

from __future__ import annotations

import math

import numpy as np

from kiosk.config import PelvisConfig
from kiosk.geometry import ruler_ends
from kiosk.types import NoVerdict, PelvisReading, State, Verdict


class PelvisTracker:
    """Exponential smoothing with a time constant, so the feel does not depend on the frame rate."""

    def __init__(self, settings: PelvisConfig) -> None:
        self._settings = settings
        self._tilt_deg: float | None = None
        self._center_px: np.ndarray | None = None
        self._half_length_px = 0.0
        self._last_seen_s: float | None = None

    def reset(self) -> None:
        self._tilt_deg = None
        self._center_px = None
        self._last_seen_s = None

    def update(self, reading: PelvisReading | NoVerdict, t_s: float) -> Verdict:
        """Fold in one frame taken at `t_s` seconds and say what the ruler shows."""
        if isinstance(reading, NoVerdict):
            if self._last_seen_s is not None and t_s - self._last_seen_s > self._settings.forget_after_s:
                self.reset()
            return Verdict(State.NONE, reading, None, None)

        weight = self._weight_of_new(t_s)
        if self._tilt_deg is None or self._center_px is None:
            self._tilt_deg = reading.raw_tilt_deg
            self._center_px = reading.belt_center_px.copy()
            self._half_length_px = reading.ruler_half_length_px
        else:
            self._tilt_deg += weight * (reading.raw_tilt_deg - self._tilt_deg)
            self._center_px += weight * (reading.belt_center_px - self._center_px)
            self._half_length_px += weight * (reading.ruler_half_length_px - self._half_length_px)
        self._last_seen_s = t_s

        tilt = self._tilt_deg
        state = State.LEVEL if abs(tilt) <= self._settings.tolerance_deg else State.TILTED
        left_end, right_end = ruler_ends(self._center_px, self._half_length_px, tilt, reading.facing_sign)
        return Verdict(state, None, tilt, reading, left_end, right_end)

    def _weight_of_new(self, t_s: float) -> float:
        """How much this frame moves the smoothed values (1 = replaces them)."""
        if self._last_seen_s is None:
            return 1.0
        if t_s - self._last_seen_s > self._settings.forget_after_s:
            return 1.0
        if self._settings.smoothing_s <= 0:
            return 1.0
        dt = max(t_s - self._last_seen_s, 0.0)
        return 1.0 - math.exp(-dt / self._settings.smoothing_s)
