"""Smooths one person's pelvis readings over time and decides level or tilted.

Time comes in as an argument, so the same code serves a live camera, a clip analysed
faster than real time, and tests.  Three pure pieces, each testable alone: a filter for the
tilt (an exponential moving average with a time constant, or a One Euro filter that smooths
hard when the pelvis is still and little when it moves), a hysteresis that keeps the colour
from flickering at the threshold, and a continuity check that starts afresh when the reading
jumps to someone else.  With `pelvis.belt_picture = "fuse"` a fourth piece puts the belt line the
picture shows (kiosk.body.belt) into the tilt before it is smoothed.
"""

from __future__ import annotations

import collections
import dataclasses
import math

import numpy as np

from kiosk.core.geometry import ruler_ends
from kiosk.core.types import NoVerdict, PelvisReading, State, TiltSource, Verdict
from kiosk.settings.config import MARKER_FULL_ABOVE, BeltPicture, MarkerConfig, PelvisConfig

STEADY_READINGS = 128
"""The most picture readings the steadiness window holds (1 s at 120 fps)."""
STEADY_MIN_READINGS = 3
"""Fewer clear readings than this within the steadiness window cannot show that the belt line
holds steady (except in a photo, which has only the one)."""


def _smoothing_weight(dt_s: float, time_constant_s: float) -> float:
    """How much a new sample moves an exponential average with this time constant (1 = replaces it)."""
    if time_constant_s <= 0:
        return 1.0
    return 1.0 - math.exp(-max(dt_s, 0.0) / time_constant_s)


GATE_FULL_SHARE = 2 / 3
"""The picture counts fully within this share of `belt_picture_gate_deg` from its baseline."""


def gate_trust(offset_deg: float, gate_deg: float) -> float:
    """How much a picture this far from its baseline counts: 1 within GATE_FULL_SHARE of the gate,
    easing to 0 at the gate, so that a reading wandering across the gate moves the ruler a little,
    not by the whole offset at once (a hard cut turned a steady 10° offset into 10° jumps)."""
    full_deg = GATE_FULL_SHARE * gate_deg
    return min(max((gate_deg - abs(offset_deg)) / (gate_deg - full_deg), 0.0), 1.0)


SPAN_TRUST = (0.5, 0.75)
"""The picture counts not at all when its edges run across at most the first of these shares of
the window (BeltEvidence.span), fully from the second, easing between: a belt or a hem runs right
across, a hand or a glint on plain cloth is a spot."""


def span_trust(span: float) -> float:
    """How much a picture whose edges run this far across its window counts (SPAN_TRUST)."""
    none, full = SPAN_TRUST
    return min(max((span - none) / (full - none), 0.0), 1.0)


class OneEuroFilter:
    """The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): a low-pass whose cutoff rises with
    the signal's speed, so a still pelvis is smoothed hard and a dropping one is followed quickly.

    `min_cutoff_hz` sets the smoothing at rest, `beta` how fast the cutoff grows with speed (per
    degree per second), `derivative_cutoff_hz` smooths the speed estimate itself.
    """

    def __init__(self, min_cutoff_hz: float, beta: float, derivative_cutoff_hz: float = 1.0) -> None:
        self._min_cutoff_hz = min_cutoff_hz
        self._beta = beta
        self._derivative_cutoff_hz = derivative_cutoff_hz
        self.value: float | None = None
        self._speed = 0.0
        self._t_s = 0.0

    def reset(self) -> None:
        self.value = None
        self._speed = 0.0

    @staticmethod
    def _alpha(cutoff_hz: float, dt_s: float) -> float:
        r = 2.0 * math.pi * cutoff_hz * dt_s
        return r / (r + 1.0)

    def update(self, x: float, t_s: float) -> float:
        if self.value is None:
            self.value, self._t_s = x, t_s
            return x
        dt_s = max(t_s - self._t_s, 1e-6)
        self._t_s = t_s
        speed = (x - self.value) / dt_s
        self._speed += self._alpha(self._derivative_cutoff_hz, dt_s) * (speed - self._speed)
        cutoff = self._min_cutoff_hz + self._beta * abs(self._speed)
        self.value += self._alpha(cutoff, dt_s) * (x - self.value)
        return self.value


class Hysteresis:
    """Level or tilted with two thresholds and a dwell, so a tilt hovering at the tolerance does not
    flicker: it turns red above tolerance + band, green again below tolerance - band, and only once
    the new side has held for `dwell_s`.  It starts level."""

    def __init__(self, tolerance_deg: float, band_deg: float, dwell_s: float) -> None:
        self._tolerance_deg = tolerance_deg
        self._band_deg = band_deg
        self._dwell_s = dwell_s
        self.state: State | None = None
        self._since_s: float | None = None

    def reset(self) -> None:
        self.state = None
        self._since_s = None

    def update(self, tilt_deg: float, t_s: float) -> State:
        size = abs(tilt_deg)
        if self.state is None:
            # A newcomer starts green and turns red like anybody else, once the tilt has held: the
            # first frames of a person are the noisiest (measured: a standing, level photo read
            # 5.9 degrees on its first frame and showed red for 0.2 s).
            self.state = State.LEVEL
        if self.state is State.LEVEL:
            crossing = size > self._tolerance_deg + self._band_deg
        else:
            crossing = size < self._tolerance_deg - self._band_deg
        if not crossing:
            self._since_s = None
        elif self._since_s is None:
            self._since_s = t_s
        if crossing and self._since_s is not None and t_s - self._since_s >= self._dwell_s:
            self.state = State.TILTED if self.state is State.LEVEL else State.LEVEL
            self._since_s = None
        return self.state


class BeltFusion:
    """One person's tilt from the hip joints and the picture's belt line together.

    The result is the keypoints' tilt plus `belt_picture_weight` × (the picture's angle against
    the hip line − its baseline).  The baseline is a slow average of that angle for this person
    (`belt_picture_baseline_s`), starting at 0 (a belt parallel to the hip joints) or at the
    calibration's belt offset, until this person's clothing says otherwise.

    The picture counts only while its belt line holds steady: its readings over the last
    `belt_picture_steady_s` lie within `belt_picture_steady_deg` of each other, with at least
    STEADY_MIN_READINGS of them (a belt on a person standing or exercising slowly, not folds and a
    hem swinging with each step).  A photo's reading counts on its own: it is all a photo has (in
    a clip or a camera's stream, a person's first frames wait for the next like any other, so that
    a new person's ruler does not start on one unconfirmed reading).  It counts less the further it
    is from its baseline, and not at all beyond `belt_picture_gate_deg` (a thigh when seated;
    gate_trust); kiosk.body.belt.with_picture leaves out a window with faint edges (a plain bodysuit).
    What is left out does not move the baseline."""

    def __init__(self, settings: PelvisConfig, start_deg: float = 0.0) -> None:
        """`start_deg`: where the baseline starts for each person (a calibration's belt offset)."""
        self._settings = settings
        self._start_deg = start_deg
        self._baseline_deg = start_deg
        self._last_t_s: float | None = None
        self._recent: collections.deque[tuple[float, float]] = collections.deque(maxlen=STEADY_READINGS)
        """(t_s, the picture's tilt) of the clear readings within the steadiness window."""
        self.used = 0
        """Frames whose tilt the picture moved (since the start, for the figures)."""
        self.last_used = False
        """Whether the picture moved the last frame's tilt."""

    def reset(self) -> None:
        self._baseline_deg = self._start_deg
        self._last_t_s = None
        self._recent.clear()

    def update(self, reading: PelvisReading, t_s: float, still: bool = False) -> float:
        """The tilt to smooth for this frame, taken at `t_s` seconds; `still`: a photo's."""
        self.last_used = False
        settings = self._settings
        evidence = reading.picture
        if settings.belt_picture is BeltPicture.OFF:
            return reading.raw_tilt_deg
        if evidence is not None:
            self._recent.append((t_s, evidence.tilt_deg))
        while self._recent and self._recent[0][0] < t_s - settings.belt_picture_steady_s:
            self._recent.popleft()
        if evidence is None:
            return reading.raw_tilt_deg
        tilts = [tilt for _, tilt in self._recent]
        if not still and (len(tilts) < STEADY_MIN_READINGS
                          or max(tilts) - min(tilts) > settings.belt_picture_steady_deg):
            return reading.raw_tilt_deg
        offset = evidence.relative_deg - self._baseline_deg
        trust = gate_trust(offset, settings.belt_picture_gate_deg) * span_trust(evidence.span)
        if trust <= 0.0:
            return reading.raw_tilt_deg
        dt = 0.0 if self._last_t_s is None else t_s - self._last_t_s
        self._last_t_s = t_s
        if settings.belt_picture_baseline_s > 0:
            self._baseline_deg += trust * _smoothing_weight(dt, settings.belt_picture_baseline_s) * offset
        self.used += 1
        self.last_used = True
        return reading.raw_tilt_deg + trust * settings.belt_picture_weight * offset


def marker_trust(confidence: float, min_confidence: float) -> float:
    """How much of the ruler a marker reading this sure takes: none at `min_confidence` or below,
    all of it from MARKER_FULL_ABOVE more, easing between (a marker coming into view, or half hidden
    by an arm, moves the ruler over a few frames, not by a jump)."""
    return min(max((confidence - min_confidence) / MARKER_FULL_ABOVE, 0.0), 1.0)


FACING_PRIOR = 1.0
"""Where the facing vote starts for a new person: facing the camera (+1), as a person at a mirror does."""
MARKER_MIN_CUTOFF_HZ = 3.0
MARKER_BETA = 0.3
"""The marker's own One Euro filter: a marker's line is read to a tenth of a degree, so it needs
far less smoothing than the pose's hips (which take `pelvis.one_euro_*`), and a drop within a
step (a few tenths of a second) is followed rather than flattened."""


class PelvisTracker:
    """One person's smoothed tilt and ruler, and the colour it shows."""

    def __init__(self, settings: PelvisConfig, baseline_deg: float = 0.0, belt_offset_deg: float = 0.0,
                 marker: MarkerConfig | None = None) -> None:
        """`baseline_deg`: the calibrated standing tilt, subtracted before level or tilted is decided;
        `belt_offset_deg`: the calibrated belt line's angle against the hip joints' line; `marker`:
        how a worn marker's reading (PelvisReading.marker) is taken."""
        self._settings = settings
        self._min_marker_confidence = (marker or MarkerConfig()).min_confidence
        self._marker_filter = OneEuroFilter(MARKER_MIN_CUTOFF_HZ, MARKER_BETA)
        self._marker_share = 0.0
        self._marker_tilt_deg = 0.0
        self._marker_centre_px: np.ndarray | None = None
        self._marker_seen_s: float | None = None
        self._facing_vote = FACING_PRIOR
        self._facing_s: float | None = None
        self._baseline_deg = baseline_deg
        self._tilt = OneEuroFilter(settings.one_euro_min_cutoff_hz, settings.one_euro_beta)
        self._hysteresis = Hysteresis(settings.tolerance_deg, settings.hysteresis_deg, settings.min_dwell_s)
        self.belt = BeltFusion(settings, belt_offset_deg)
        self._center_px: np.ndarray | None = None
        self._half_length_px = 0.0
        self._last_seen_s: float | None = None
        self._last_hip_mid: np.ndarray | None = None
        self._last_verdict: Verdict | None = None
        self.resets = 0

    def reset(self) -> None:
        self._tilt.reset()
        self._marker_filter.reset()
        self._marker_share, self._marker_centre_px, self._marker_seen_s = 0.0, None, None
        self._facing_vote, self._facing_s = FACING_PRIOR, None
        self._hysteresis.reset()
        self.belt.reset()
        self._center_px = None
        self._last_seen_s = None
        self._last_hip_mid = None
        self._last_verdict = None

    def update(self, reading: PelvisReading | NoVerdict, t_s: float, still: bool = False) -> Verdict:
        """Fold in one frame taken at `t_s` seconds and say what the ruler shows; `still`: the
        frame is a photo (Frame.still)."""
        if isinstance(reading, NoVerdict):
            if self._last_seen_s is not None and t_s - self._last_seen_s > self._settings.forget_after_s:
                self.reset()
            if (self._last_verdict is not None and self._last_seen_s is not None
                    and 0 <= t_s - self._last_seen_s <= self._settings.hold_s):
                # One doubtful frame (a crop that made the torso look side-on): keep the ruler up.
                return dataclasses.replace(self._last_verdict, reason=reading)
            return Verdict(State.NONE, reading, None, None)

        if self._is_someone_else(reading, t_s):
            self.reset()
            self.resets += 1
        weight = 1.0
        if self._center_px is not None and self._last_seen_s is not None:
            weight = _smoothing_weight(t_s - self._last_seen_s, self._settings.smoothing_s)
        markerless = self.belt.update(reading, t_s, still)
        source = TiltSource.PICTURE if self.belt.last_used else TiltSource.POSE
        tilt = self._tilt.update(markerless, t_s)
        trust, marker_tilt, marker_centre = self._marker_update(reading, t_s, weight)
        centre = reading.belt_center_px
        if trust > 0.0 and marker_centre is not None:
            # the worn marker is the pelvis' own line: it takes the ruler (its line and where it lies)
            tilt = trust * marker_tilt + (1.0 - trust) * tilt
            centre = trust * marker_centre + (1.0 - trust) * centre
            if trust >= 0.5:
                source = TiltSource.MARKER
        if self._center_px is None:
            self._center_px = np.array(centre, np.float64)
            self._half_length_px = reading.ruler_half_length_px
        else:
            self._center_px += weight * (centre - self._center_px)
            self._half_length_px += weight * (reading.ruler_half_length_px - self._half_length_px)
        self._last_seen_s = t_s
        self._last_hip_mid = reading.hip_mid_px

        # The ruler lies along the belt as the camera sees it; the number and the colour are the
        # tilt from the person's calibrated level, and the guide line shows that level.
        shown = tilt - self._baseline_deg
        state = self._hysteresis.update(shown, t_s)
        left_end, right_end = ruler_ends(self._center_px, self._half_length_px, tilt, reading.facing_sign)
        level_left, level_right = ruler_ends(self._center_px, self._half_length_px * 1.25, self._baseline_deg,
                                             reading.facing_sign)
        self._last_verdict = Verdict(state, None, shown, reading, left_end, right_end, level_left, level_right,
                                     source)
        return self._last_verdict

    def _marker_update(self, reading: PelvisReading, t_s: float,
                       weight: float) -> tuple[float, float, np.ndarray | None]:
        """The marker's share of the ruler (eased over `pelvis.smoothing_s`, so that a marker an
        arm hides for a moment hands over without a jump), its filtered tilt and its centre."""
        marker = reading.marker
        now = 0.0 if marker is None else marker_trust(marker.confidence, self._min_marker_confidence)
        # Which way the person faces, by a vote over the last second that starts from facing the
        # mirror: far away the pose model now and then swaps a walker's left and right for a few
        # frames (at the start of a walk too), which would turn the marker's reading over; a person
        # who turns their back outvotes the start within a second.
        if self._facing_s is not None:
            self._facing_vote += min(max(t_s - self._facing_s, 0.0), 1.0) * (reading.facing_sign - self._facing_vote)
        self._facing_s = t_s
        facing = 1 if self._facing_vote >= 0 else -1
        if marker is not None and now > 0.0:
            self._marker_tilt_deg = self._marker_filter.update(facing * marker.image_deg, t_s)
            self._marker_centre_px = marker.centre_px
            self._marker_seen_s = t_s
        elif self._marker_seen_s is not None and t_s - self._marker_seen_s > self._settings.forget_after_s:
            self._marker_filter.reset()
            self._marker_seen_s, self._marker_centre_px = None, None
        self._marker_share = 0.0 if self._marker_centre_px is None else (
            self._marker_share + weight * (now - self._marker_share))
        return self._marker_share, self._marker_tilt_deg, self._marker_centre_px

    def _is_someone_else(self, reading: PelvisReading, t_s: float) -> bool:
        """A reading far from the last one, or after a long gap, is not the same person moving."""
        if self._last_seen_s is None or self._last_hip_mid is None:
            return False
        if t_s - self._last_seen_s > self._settings.forget_after_s:
            return True
        jump = float(np.hypot(*(reading.hip_mid_px - self._last_hip_mid)))
        return jump > self._settings.max_jump_hip_widths * max(reading.hip_width_px, 1.0)
