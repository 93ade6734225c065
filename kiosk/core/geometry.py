"""Pure geometry: angles, crop squares, screen fitting.  No cameras, no pygame, no state.

Image coordinates: x to the right, y down, in pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


def hip_tilt_deg(left_hip_xy: np.ndarray, right_hip_xy: np.ndarray) -> float:
    """Angle of the hip line against the image horizontal, in [-90, 90].

    Positive when the person's LEFT hip is lower (larger y) than the right one.  Using the
    horizontal distance's magnitude makes the number independent of whether the person faces
    the camera (left hip on the image's right) or turns their back (left hip on the image's left).
    """
    drop_px = float(left_hip_xy[1] - right_hip_xy[1])
    span_px = abs(float(left_hip_xy[0] - right_hip_xy[0]))
    return math.degrees(math.atan2(drop_px, span_px))


def facing_sign(left_hip_xy: np.ndarray, right_hip_xy: np.ndarray) -> int:
    """+1 when the left hip is on the image's right (the person faces the camera), else -1."""
    return 1 if left_hip_xy[0] >= right_hip_xy[0] else -1


def ruler_ends(
    center_xy: np.ndarray, half_length_px: float, tilt_deg: float, facing: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ruler's two ends (person's left end, person's right end) for a given tilt.

    The left end lies toward the left hip (image x direction `facing`) and is lower by `tilt_deg`.
    """
    angle = math.radians(tilt_deg)
    toward_left = np.array([facing * math.cos(angle), math.sin(angle)]) * half_length_px
    center = np.asarray(center_xy, dtype=np.float64)
    return center + toward_left, center - toward_left


def inside_frame(xy: np.ndarray, width_px: int, height_px: int, margin_frac: float = 0.0) -> bool:
    """True when the point lies inside the frame, at least `margin_frac` of its size from each edge."""
    margin_x = margin_frac * width_px
    margin_y = margin_frac * height_px
    x, y = float(xy[0]), float(xy[1])
    return margin_x <= x <= width_px - 1 - margin_x and margin_y <= y <= height_px - 1 - margin_y


@dataclass(frozen=True, slots=True)
class CropSquare:
    """A square region of a frame, in frame pixels; it may reach past the frame's edges."""

    left_px: float
    top_px: float
    side_px: float
    angle_deg: float = 0.0
    """The square turned about its centre by this much, counter-clockwise on screen (an upright
    crop of a person who leans or a camera that rolls); 0: axis-aligned."""


def trunk_lean_deg(hip_mid_xy: npt.NDArray[np.floating], shoulder_mid_xy: npt.NDArray[np.floating]) -> float:
    """The trunk's angle from the picture's vertical (hip midpoint to shoulder midpoint), positive
    when the shoulders are toward the picture's right: turning the picture counter-clockwise by
    this much stands the trunk upright (kept, with CropSquare.angle_deg, for a lying body: #31)."""
    dx = float(shoulder_mid_xy[0] - hip_mid_xy[0])
    dy = float(shoulder_mid_xy[1] - hip_mid_xy[1])
    return math.degrees(math.atan2(dx, -dy))


def full_frame_square(width_px: int, height_px: int) -> CropSquare:
    """The smallest square that holds the whole frame, centred on it (the frame is padded)."""
    side = float(max(width_px, height_px))
    return CropSquare((width_px - side) / 2.0, (height_px - side) / 2.0, side)


def search_squares(width_px: int, height_px: int) -> list[CropSquare]:
    """Where group mode looks for new people, in turn: the whole frame, then squares as tall as a
    landscape frame (as wide as a portrait one) that cover it with some overlap.  In the whole
    frame a person a quarter of the frame tall is only ~30 model pixels; in a square they are
    up to twice that."""
    short, long_side = min(width_px, height_px), max(width_px, height_px)
    squares = [full_frame_square(width_px, height_px)]
    if long_side < 1.3 * short:
        return squares
    count = int(np.ceil((long_side - short) / (0.75 * short))) + 1
    for i in range(count):
        offset = (long_side - short) * i / (count - 1)
        squares.append(CropSquare(offset, 0.0, float(short)) if width_px >= height_px
                       else CropSquare(0.0, offset, float(short)))
    return squares


# Keypoint indices used for the crop, in MoveNet's COCO order.
_SHOULDERS_AND_HIPS = (5, 6, 11, 12)
_HIPS = (11, 12)
_SHOULDERS = (5, 6)


def crop_square_around_person(
    xy_px: np.ndarray,
    scores: np.ndarray,
    width_px: int,
    height_px: int,
    min_score: float = 0.2,
) -> CropSquare:
    """A square around the person for the next frame, in the spirit of MoveNet's "crop region".

    Centred on the hip midpoint and large enough for 1.9× the torso's reach and 1.2× the
    whole body's reach from it, so a step or an arm swing stays inside.  Falls back to the
    whole frame when no torso was found or when the square would be larger than the frame.
    """
    hips_seen = any(scores[i] > min_score for i in _HIPS)
    shoulders_seen = any(scores[i] > min_score for i in _SHOULDERS)
    if not (hips_seen and shoulders_seen):
        return full_frame_square(width_px, height_px)
    center = (xy_px[11] + xy_px[12]) / 2.0
    torso = xy_px[list(_SHOULDERS_AND_HIPS)]
    torso_reach = float(np.max(np.abs(torso - center)))
    visible = scores > min_score
    body_reach = float(np.max(np.abs(xy_px[visible] - center))) if visible.any() else 0.0
    half = max(1.9 * torso_reach, 1.2 * body_reach)
    farthest_edge = max(center[0], width_px - center[0], center[1], height_px - center[1])
    half = min(half, float(farthest_edge))
    if half > max(width_px, height_px) / 2.0 or half < 4.0:
        return full_frame_square(width_px, height_px)
    return CropSquare(float(center[0]) - half, float(center[1]) - half, 2.0 * half)


@dataclass(frozen=True, slots=True)
class Fit:
    """How a frame sits on a screen: scaled by `scale`, its top-left corner at (`left_px`, `top_px`)."""

    scale: float
    left_px: int
    top_px: int
    width_px: int
    height_px: int


def fit_inside(frame_w: int, frame_h: int, screen_w: int, screen_h: int) -> Fit:
    """Scale a frame to fill as much of the screen as possible, keeping its aspect ratio, centred."""
    scale = min(screen_w / frame_w, screen_h / frame_h)
    width = max(1, round(frame_w * scale))
    height = max(1, round(frame_h * scale))
    return Fit(scale, (screen_w - width) // 2, (screen_h - height) // 2, width, height)


def frame_to_screen(xy: np.ndarray, fit: Fit, frame_w: int, mirror: bool) -> tuple[float, float]:
    """A frame pixel's position on the screen, mirrored left-right when `mirror`."""
    x = float(xy[0])
    if mirror:
        x = frame_w - x
    return fit.left_px + x * fit.scale, fit.top_px + float(xy[1]) * fit.scale


ScreenPoint = tuple[float, float]


def rulers_kept_apart(rulers: list[tuple[ScreenPoint, ScreenPoint]], clearance_px: float,
                      gap_px: float) -> list[tuple[ScreenPoint, ScreenPoint]]:
    """Group mode's rulers, shortened about their middles so that no two overlap on the screen.

    Two rulers closer than `clearance_px` in height whose spans overlap side to side are each
    cut back to `gap_px / 2` short of the point halfway between their middles; a ruler keeps its
    middle and its tilt (the tilt is the message), only its length gives way.  Ends are screen
    points; a ruler may be given either end first.
    """
    spans: list[tuple[float, float, float, float, float]] = []  # centre x, centre y, half length, ux, uy
    for a, b in rulers:
        cx, cy = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        half = math.hypot(b[0] - a[0], b[1] - a[1]) / 2
        ux, uy = ((b[0] - a[0]) / (2 * half), (b[1] - a[1]) / (2 * half)) if half > 0 else (1.0, 0.0)
        spans.append((cx, cy, half, ux, uy))
    halves = [s[2] for s in spans]
    for i, (xi, yi, _, uxi, _) in enumerate(spans):
        for j, (xj, yj, *_) in enumerate(spans):
            if j == i or abs(yi - yj) >= clearance_px:
                continue
            room = max(0.0, abs(xi - xj) / 2 - gap_px / 2)  # side to side, from i's middle
            reach = room / max(abs(uxi), 1e-6)  # along i's own (tilted) line
            halves[i] = min(halves[i], reach)
    return [((cx - ux * h, cy - uy * h), (cx + ux * h, cy + uy * h))
            for (cx, cy, _, ux, uy), h in zip(spans, halves, strict=True)]
