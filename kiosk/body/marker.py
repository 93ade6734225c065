"""A real ruler the camera reads: a saturated strap or stick worn at the belt line.

The clinical advice is a long ruler laced through the belt loops.  A band of one saturated colour
at the belt line rolls with the pelvis, so its line in the picture is the pelvis' own tilt, where
the pose models place the hips from the whole body and read a pelvis rolling under an upright
trunk only in part.

`read_marker` cuts a small window around the hips that the pose keypoints locate (upright, scaled
to a fixed hip width, so a near and a far person cost the same), weighs each pixel by how close its
colour is to the marker's (hue first: a strap curving round the body is darker at its sides, not
another hue), takes each column's weighted centre, and fits a line through those centres robustly
(columns an arm hides, or where something of the colour lies off the line, lose their weight).
It says nothing unless the result is a band: thin, straight, and running across the body.  Pure
numpy and OpenCV on a window of a few thousand pixels; no per-pixel Python.
"""

from __future__ import annotations

import colorsys
import dataclasses
import functools
import math

import cv2
import numpy as np

from kiosk.core.geometry import facing_sign
from kiosk.core.types import Image, MarkerEvidence, NoVerdict, PelvisReading
from kiosk.settings.config import marker_hsv

WINDOW_HIP_PX = 40
"""The window is scaled so that the hip joints are this many pixels apart."""
WINDOW_HALF_WIDTH = 1.6
"""The window reaches this many hip widths either side of the hips' midpoint: past the body, since
a stick through the belt loops is longer than the hips are wide."""
WINDOW_ABOVE = 1.4
WINDOW_BELOW = 0.6
"""...and this many hip widths above and below the hips' midpoint: a belt sits above the hip
joints (and the pose's hips are often placed higher or lower than the joints)."""
MIN_HIP_WIDTH_PX = 8.0
"""No window smaller than this (frame pixels per hip width, see window_scale_px)."""
COLLAPSED_HIPS = 0.5
"""Hips closer than this share of the window's scale have no line of their own to check the band by."""
TORSO_SCALE = 0.35
"""The window's scale (its "hip width") is at least this share of the torso's length (the hips'
midpoint to the shoulders'): a far walker's hips, which the model now and then places narrow and
low on the thighs, then still leave the belt inside the window and at the belt's height.  People's
hips measure 0.33–0.45 of the torso in the model's keypoints (1st to 75th percentile on the real
walks), so this floor only acts when the hips come out narrow."""
EDGE_BLUR_PX = 1.2
"""The colour weights are blurred by this (Gaussian sigma, window pixels) before the band is fitted."""
HUE_FULL_DEG = 14.0
HUE_NONE_DEG = 28.0
"""A pixel whose hue is within HUE_FULL_DEG of the marker's counts fully, easing to nothing at
HUE_NONE_DEG: light and shade change a paint's brightness and saturation far more than its hue."""
MIN_SATURATION = 0.4
"""Below this share of the marker's own saturation (or 60 of 255) a pixel is grey or skin, whatever
its hue."""
MIN_VALUE = 40
MIN_VALUE_SHARE = 0.35
"""Pixels darker than this share of the marker's own brightness (or MIN_VALUE of 255) are shade or
another, darker thing of the same hue (wood for orange, say), not the marker."""
PARTIAL_COLUMN = 0.6
"""Columns with less than this share of the median column's weight are the band's ends or its
edges behind an arm: left out of the fit."""
MIN_COLUMN_MASS = 0.025
"""A column holds the band when its weight sums to at least this many hip widths' worth of pixels."""
BAND_HIP_WIDTHS = (0.3, 0.45)
"""A band up to the first of these thick (in hip widths, its mean over the columns it crosses)
counts fully, none from the second: a 4–5 cm strap seen a little from above is about a quarter of
the hip joints' distance, a stick half that; a garment of the colour is thicker."""
COVERAGE = (0.4, 0.7)
"""The band must be seen in more than the first of these shares of the columns across the hips
(±0.6 hip widths), fully from the second (an arm may hide some)."""
EVEN = (0.6, 0.35)
"""The band's thickness varies from column to column by at most the second of these shares of its
mean (coefficient of variation) to count fully, not at all from the first: a strap is even, a
hand or a fold is not."""
EDGE_ROWS = 3
EDGE_WEIGHT = (0.3, 0.1)
"""The band's columns weigh at most the second of these per pixel (0..1) in the window's top and
bottom EDGE_ROWS rows to count fully, none from the first: a band that runs out of the window is a
garment or hair, not a strap."""
PEAK = (0.5, 0.85)
"""A band whose columns' strongest weights average less than the first of these is a garment that
merely leans toward the colour, fully a marker from the second."""
BELT_ROWS = ((-1.3, -1.1), (0.4, 0.2))
"""Where the band may cross the hips' middle, in hip widths below the hip joints' line (negative:
above): fully between -1.1 and 0.2, none above -1.3 or below 0.4.  A belt sits above the hip
joints; a table's edge behind the thighs does not."""
RESIDUAL_HIP_WIDTHS = (0.12, 0.06)
"""The columns' centres lie within the second of these (in hip widths, root mean square) of the
fitted line to count fully, none from the first: a strap is nearly straight (seen from above its
sides, further back, bow up a little), a fold or an arm's edge is not."""
MAX_FROM_HIPS_DEG = 25.0
"""A band more than this far from the hip joints' line is not at the belt line."""

@dataclasses.dataclass(frozen=True, slots=True)
class MarkerColor:
    """The marker's colour in OpenCV's full-range HSV: hue 0–255 for a full turn, saturation and value 0–255."""

    hue: float
    saturation: float
    value: float

    @classmethod
    def from_hex(cls, text: str) -> MarkerColor:
        """"#RRGGBB" (kiosk.settings.config.marker_hsv says what is refused, with ValueError)."""
        hue_deg, saturation, value = marker_hsv(text)
        return cls(hue_deg * 256.0 / 360.0, 255.0 * saturation, 255.0 * value)

    def to_hex(self) -> str:
        r, g, b = colorsys.hsv_to_rgb((self.hue / 256.0) % 1.0, self.saturation / 255.0, self.value / 255.0)
        return "#" + "".join(f"{round(255 * c):02X}" for c in (r, g, b))


def _ramp(x: np.ndarray, none: float, full: float) -> np.ndarray:
    """0 at `none`, 1 at `full`, linear between (either order)."""
    return np.clip((x - none) / (full - none), 0.0, 1.0)


def _share(x: float, none: float, full: float) -> float:
    """_ramp for one number."""
    return min(max((x - none) / (full - none), 0.0), 1.0)


def window_scale_px(left_hip_px: np.ndarray, right_hip_px: np.ndarray, torso_px: float = 0.0) -> float:
    """The length the window is scaled by: the hips' distance, at least TORSO_SCALE of the torso."""
    return max(float(np.hypot(*(left_hip_px - right_hip_px))), TORSO_SCALE * torso_px)


def cut_window(image: Image, left_hip_px: np.ndarray, right_hip_px: np.ndarray,
               torso_px: float = 0.0) -> tuple[Image, np.ndarray] | None:
    """The window around the hips, upright and scaled to WINDOW_HIP_PX, and the map from its pixels
    to the frame's (2×3, OpenCV's convention: pixel i sits at i); None when the hips are too close
    together or the window is outside the frame."""
    hip_width = window_scale_px(left_hip_px, right_hip_px, torso_px)
    if hip_width < MIN_HIP_WIDTH_PX:
        return None
    mid = (left_hip_px + right_hip_px) / 2  # keypoints are continuous: a pixel spans [i, i + 1]
    frame_height, frame_width = image.shape[:2]
    x0 = max(math.floor(mid[0] - WINDOW_HALF_WIDTH * hip_width), 0)
    x1 = min(math.ceil(mid[0] + WINDOW_HALF_WIDTH * hip_width), frame_width)
    y0 = max(math.floor(mid[1] - WINDOW_ABOVE * hip_width), 0)
    y1 = min(math.ceil(mid[1] + WINDOW_BELOW * hip_width), frame_height)
    scale = hip_width / WINDOW_HIP_PX  # frame pixels per window pixel
    # a near person's window shrinks by a whole factor first (by area: every pixel counts, and no
    # aliasing; OpenCV's fast path), then by what is left (less than 2) linearly
    factor = max(math.floor(scale), 1)
    x1, y1 = x0 + factor * ((x1 - x0) // factor), y0 + factor * ((y1 - y0) // factor)
    width, height = round((x1 - x0) / scale), round((y1 - y0) / scale)
    if width < 8 or height < 8:
        return None
    crop: np.ndarray = image[y0:y1, x0:x1]
    if factor > 1:
        crop = np.asarray(cv2.resize(crop, ((x1 - x0) // factor, (y1 - y0) // factor),
                                     interpolation=cv2.INTER_AREA))
    patch: Image = np.asarray(cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR), np.uint8)
    # both steps map pixel centres linearly, so a window pixel i sits at sx (i + 1/2) - 1/2 in the crop
    sx, sy = (x1 - x0) / width, (y1 - y0) / height
    return patch, np.array([[sx, 0.0, x0 + 0.5 * sx - 0.5], [0.0, sy, y0 + 0.5 * sy - 0.5]])


def colour_weight(window_rgb: Image, color: MarkerColor) -> np.ndarray:
    """0..1 per pixel: how much it looks like the marker (hue first, then enough colour and light)."""
    hue, saturation, value = cv2.split(cv2.LUT(cv2.cvtColor(window_rgb, cv2.COLOR_RGB2HSV_FULL), _colour_table(color)))
    # the three factors in 1/255ths, multiplied by OpenCV in whole bytes (a lookup and two products
    # per pixel: floating-point arithmetic per pixel cost the Pi several times more)
    weight: np.ndarray = cv2.multiply(cv2.multiply(hue, saturation, scale=1 / 255), value, scale=1 / 255 ** 2,
                                      dtype=cv2.CV_32F)
    return weight


@functools.lru_cache(maxsize=16)
def _colour_table(color: MarkerColor) -> np.ndarray:
    """colour_weight's three factors (0..255) for each of the 256 levels of hue, saturation and
    value, as a three-channel lookup table."""
    levels = np.arange(256, dtype=np.float32)
    hue_distance = np.abs(levels - np.float32(color.hue))
    hue_distance = np.minimum(hue_distance, 256.0 - hue_distance) * np.float32(360.0 / 256.0)
    least = max(60.0, MIN_SATURATION * color.saturation)
    darkest = max(float(MIN_VALUE), MIN_VALUE_SHARE * color.value)
    factors = np.stack([_ramp(hue_distance, HUE_NONE_DEG, HUE_FULL_DEG), _ramp(levels, least, least + 80.0),
                        _ramp(levels, darkest, darkest + 30.0)], axis=-1)
    table = np.round(255 * factors).astype(np.uint8).reshape(256, 1, 3)
    table.flags.writeable = False
    return table


@dataclasses.dataclass(frozen=True, slots=True)
class Band:
    """A straight band fitted through a weight map (window pixels)."""

    slope: float
    middle_row: float
    """Where the line crosses the window's middle column."""
    coverage: float
    """The share of the columns across the hips that hold it."""
    thickness: float
    """Its mean thickness (the columns' weight), in rows."""
    unevenness: float
    """The columns' thickness' coefficient of variation."""
    residual: float
    """The columns' centres' distance from the line (root mean square), in rows."""
    edge_weight: float
    """Its columns' mean weight per pixel in the window's top or bottom EDGE_ROWS rows, the larger."""
    peak: float
    """Its columns' strongest weight (0..1), their mean: a marker's core is its colour outright."""


def fit_band(weight: np.ndarray, hip_px: float, sharp: np.ndarray | None = None) -> Band | None:
    """The straight band through a weight map; None when no column holds one.  `sharp`: the same
    map before any blur, for the band's peak weight (a thin stick's is lowered by the blur)."""
    height, width = weight.shape
    mass = weight.sum(axis=0)
    held = mass >= MIN_COLUMN_MASS * hip_px
    if np.count_nonzero(held) < 3:
        return None
    # a column the band only partly crosses (its end, the edge of an arm in front) has a centre
    # pulled off the line: only the columns holding most of a full band's weight are fitted
    ordered = np.sort(mass[held])  # its median, without np.median's overhead (a few dozen columns)
    median = 0.5 * float(ordered[(ordered.size - 1) // 2] + ordered[ordered.size // 2])
    held &= mass >= PARTIAL_COLUMN * median
    if np.count_nonzero(held) < 3:
        return None
    columns = np.flatnonzero(held)
    held_mass = mass[columns].astype(np.float64)
    centre = (np.arange(height, dtype=np.float32) @ weight[:, columns]).astype(np.float64) / held_mass
    x = columns.astype(np.float64) - (width - 1) / 2
    # each column counts by its mass, up to a band's worth (a blob of the colour does not outvote a
    # long thin band), tapering at the window's sides so that a column entering the window moves
    # the line by little
    capped = np.minimum(held_mass, 0.3 * hip_px) * np.minimum(
        np.maximum((width / 2 - np.abs(x)) / (0.15 * width), 0.0), 1.0)
    w = capped
    cut = max(0.12 * hip_px, 1.0)
    slope = intercept = 0.0
    residual = centre
    for _ in range(3):  # iteratively reweighted least squares (Tukey's biweight on the residuals)
        total = float(w.sum())
        if total <= 0:
            return None
        xm, ym = float(w @ x) / total, float(w @ centre) / total
        dx = x - xm
        sxx = float(w @ (dx * dx))
        if sxx <= 0:
            return None
        slope = float(w @ (dx * (centre - ym))) / sxx
        intercept = ym - slope * xm
        residual = centre - (intercept + slope * x)
        w = capped * np.square(np.maximum(1 - np.square(residual / cut), 0.0))
    kept = w > 0
    if not kept.any():
        return None
    columns_across = _columns_across(width, hip_px)
    coverage = int(np.count_nonzero(kept & (np.abs(x) <= 0.6 * hip_px))) / max(columns_across, 1)
    kept_mass = held_mass[kept]
    count = kept_mass.size
    thickness = float(kept_mass.sum()) / count
    spread = math.sqrt(float(np.square(kept_mass - thickness).sum()) / count)
    rms = math.sqrt(float(w[kept] @ np.square(residual[kept])) / float(w[kept].sum()))
    columns = columns[kept]
    edge_pixels = EDGE_ROWS * count
    edge_weight = max(float(weight[:EDGE_ROWS, columns].sum()), float(weight[-EDGE_ROWS:, columns].sum())) / edge_pixels
    peak = float((weight if sharp is None else sharp)[:, columns].max(axis=0).sum()) / count
    return Band(slope, float(intercept), coverage, thickness, spread / max(thickness, 1e-9), rms, edge_weight, peak)


@functools.lru_cache(maxsize=8)
def _columns_across(width: int, hip_px: float) -> int:
    """How many of a window's columns lie within ±0.6 hip widths of its middle."""
    return int(np.count_nonzero(np.abs(np.arange(width) - (width - 1) / 2) <= 0.6 * hip_px))


def _belt_row_share(below_hips: float) -> float:
    """How much a band crossing the hips' middle this many hip widths below their line counts (BELT_ROWS)."""
    (top_none, top_full), (bottom_none, bottom_full) = BELT_ROWS
    return min(_share(below_hips, top_none, top_full), _share(below_hips, bottom_none, bottom_full))


def read_marker(image: Image, left_hip_px: np.ndarray, right_hip_px: np.ndarray,
                color: MarkerColor, torso_px: float = 0.0) -> MarkerEvidence | None:
    """The marker's line around these hips in an RGB frame, with how sure the reading is; None when
    the window leaves the frame or holds no band of the marker's colour."""
    left = np.asarray(left_hip_px, np.float64)
    right = np.asarray(right_hip_px, np.float64)
    window = cut_window(image, left, right, torso_px)
    if window is None:
        return None
    patch, transform = window
    # a little blur spreads each edge over a few window pixels, so that the column centres move with
    # the edge continuously rather than by whole pixels (at shallow slopes, whole-pixel steps bias
    # the fitted line toward level)
    blurred: Image = np.asarray(cv2.GaussianBlur(patch, (1, 0), 1e-3, sigmaY=EDGE_BLUR_PX), np.uint8)
    band = fit_band(colour_weight(blurred, color), WINDOW_HIP_PX, colour_weight(patch, color))
    if band is None:
        return None
    width = patch.shape[1]
    centre_px = transform @ np.array([(width - 1) / 2, band.middle_row, 1.0]) + 0.5
    below_hips = float(centre_px[1] - (left[1] + right[1]) / 2) / window_scale_px(left, right, torso_px)
    facing = facing_sign(left_hip_px, right_hip_px)
    image_deg = math.degrees(math.atan(band.slope * transform[1, 1] / transform[0, 0]))
    tilt = facing * image_deg
    keypoints_dx = abs(float(left_hip_px[0] - right_hip_px[0]))
    # the band runs near the hips' line; hips the model collapsed together (a far walker's left and
    # right swapped and averaged) have no line, and the band need only be near level
    keypoints_tilt = 0.0 if keypoints_dx < COLLAPSED_HIPS * window_scale_px(left, right, torso_px) else \
        math.degrees(math.atan2(float(left_hip_px[1] - right_hip_px[1]), keypoints_dx))
    thick_full, thick_none = (share * WINDOW_HIP_PX for share in BAND_HIP_WIDTHS)
    confidence = (_share(band.coverage, *COVERAGE) * _share(band.thickness, thick_none, thick_full)
                  * _share(band.unevenness, *EVEN) * _share(band.edge_weight, *EDGE_WEIGHT)
                  * _belt_row_share(below_hips) * _share(band.peak, *PEAK)
                  * _share(band.residual, *(share * WINDOW_HIP_PX for share in RESIDUAL_HIP_WIDTHS))
                  * _share(abs(tilt - keypoints_tilt), MAX_FROM_HIPS_DEG, 0.6 * MAX_FROM_HIPS_DEG))
    scale = float(transform[1, 1])
    return MarkerEvidence(tilt_deg=tilt, image_deg=image_deg, confidence=confidence, centre_px=centre_px,
                          coverage=band.coverage, thickness_px=band.thickness * scale,
                          residual_px=band.residual * scale)


def with_marker(reading: PelvisReading | NoVerdict, image: Image,
                color: MarkerColor | None) -> PelvisReading | NoVerdict:
    """The reading with the marker's line attached, when a marker colour is set and a band of it
    is found at the belt line."""
    if color is None or isinstance(reading, NoVerdict):
        return reading
    evidence = read_marker(image, reading.left_hip_px, reading.right_hip_px, color, reading.torso_px)
    if evidence is None or evidence.confidence <= 0.0:
        return reading
    return dataclasses.replace(reading, marker=evidence)


LEARN_MIN_SATURATION = 120
LEARN_MIN_VALUE = 80
"""Pixels that may be a marker while its colour is learned (of 255): strongly coloured and lit."""
LEARN_CONFIDENCE = 0.8
"""A colour is learned only where the band it makes is this sure a marker."""


def find_marker(image: Image, left_hip_px: np.ndarray, right_hip_px: np.ndarray,
                torso_px: float = 0.0) -> MarkerEvidence | None:
    """A marker of any strong colour at the belt line (for learning its colour while a person
    stands still to calibrate): the strongest hues of the window around the hips, each tried as a
    marker colour, the surest band that passes LEARN_CONFIDENCE; None when there is none.  Its
    colour is `MarkerEvidence.color`."""
    left = np.asarray(left_hip_px, np.float64)
    right = np.asarray(right_hip_px, np.float64)
    window = cut_window(image, left, right, torso_px)
    if window is None:
        return None
    hsv = cv2.cvtColor(window[0], cv2.COLOR_RGB2HSV_FULL)
    strong = (hsv[..., 1] >= LEARN_MIN_SATURATION) & (hsv[..., 2] >= LEARN_MIN_VALUE)
    if np.count_nonzero(strong) < 0.05 * WINDOW_HIP_PX * WINDOW_HIP_PX:
        return None
    hues = hsv[..., 0][strong].astype(np.int64)
    counts = np.bincount(hues // 8, minlength=32)
    best: MarkerEvidence | None = None
    for peak in np.argsort(counts)[::-1][:3]:
        if counts[peak] == 0:
            break
        near = strong & (np.abs(((hsv[..., 0].astype(np.int64) - (8 * peak + 4) + 128) % 256) - 128) <= 12)
        if not near.any():
            continue
        color = MarkerColor(float(np.median(hsv[..., 0][near])), float(np.median(hsv[..., 1][near])),
                            float(np.median(hsv[..., 2][near])))
        evidence = read_marker(image, left, right, color, torso_px)
        if evidence is not None and evidence.confidence >= LEARN_CONFIDENCE and (
                best is None or evidence.confidence > best.confidence):
            best = dataclasses.replace(evidence, color=color.to_hex())
    return best
