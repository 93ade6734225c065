"""The values that flow between Beltline's stages.

Every coordinate is in pixels of the frame as the camera saw it (never mirrored; mirroring is
the view's business), with x to the right and y *down*.  Angles are degrees.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


class Keypoint(enum.IntEnum):
    """COCO keypoint order used by MoveNet.  "Left" is the person's own left."""

    NOSE = 0
    LEFT_EYE = 1
    RIGHT_EYE = 2
    LEFT_EAR = 3
    RIGHT_EAR = 4
    LEFT_SHOULDER = 5
    RIGHT_SHOULDER = 6
    LEFT_ELBOW = 7
    RIGHT_ELBOW = 8
    LEFT_WRIST = 9
    RIGHT_WRIST = 10
    LEFT_HIP = 11
    RIGHT_HIP = 12
    LEFT_KNEE = 13
    RIGHT_KNEE = 14
    LEFT_ANKLE = 15
    RIGHT_ANKLE = 16


KEYPOINT_COUNT = len(Keypoint)


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture from a frame source."""

    image: np.ndarray
    """(H, W, 3) uint8, RGB, as the camera saw it (not mirrored)."""
    index: int
    """0-based position in the stream (counts repeats of a still image and loops of a clip)."""
    t_s: float
    """Seconds on the stream's clock: media time for clips, monotonic capture time for cameras."""
    captured_s: float = 0.0
    """time.monotonic() when the picture arrived, for measuring latency."""
    model_image: np.ndarray | None = None
    """(h, w, 3) uint8 RGB: the same picture, already scaled down by the camera (the Pi's lores
    stream), for the model; None to use `image`."""
    return_buffer: Callable[[], None] | None = field(default=None, compare=False, repr=False)
    """Gives `image` back to its source's buffer pool; called through `release()`."""

    def release(self) -> None:
        """Say that nobody will read `image` any more, so the source may reuse its buffer."""
        if self.return_buffer is not None:
            self.return_buffer()

    @property
    def width_px(self) -> int:
        return int(self.image.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class Pose:
    """17 keypoints of one person, as the pose model found them."""

    xy_px: np.ndarray
    """(17, 2) float32: x, y of each keypoint in source-frame pixels, in `Keypoint` order."""
    scores: np.ndarray
    """(17,) float32 confidence in [0, 1], in `Keypoint` order."""
    frame_width_px: int
    frame_height_px: int

    def xy(self, keypoint: Keypoint) -> np.ndarray:
        """(2,) x, y of one keypoint in source-frame pixels."""
        return self.xy_px[keypoint]

    def score(self, keypoint: Keypoint) -> float:
        return float(self.scores[keypoint])

    @property
    def finite(self) -> bool:
        """False for a broken model output (NaN or infinite keypoints or scores)."""
        return bool(np.isfinite(self.xy_px).all() and np.isfinite(self.scores).all())


class State(enum.Enum):
    """What the ruler shows."""

    LEVEL = "level"
    TILTED = "tilted"
    NONE = "none"


class NoVerdict(enum.Enum):
    """Why there is no verdict; the view turns each into a calm instruction."""

    NO_PERSON = "no_person"
    HIPS_OUT_OF_FRAME = "hips_out_of_frame"
    NOT_FACING = "not_facing"


@dataclass(frozen=True, slots=True)
class PelvisReading:
    """One frame's hip line, before any smoothing.  Made only for a pose that passed the gates."""

    left_hip_px: np.ndarray
    """(2,) x, y of the person's left hip."""
    right_hip_px: np.ndarray
    """(2,) x, y of the person's right hip."""
    hip_score: float
    """The lower of the two hip scores."""
    raw_tilt_deg: float
    """Hip-line angle against the image horizontal in [-90, 90]; positive when the LEFT hip is lower."""
    belt_center_px: np.ndarray
    """(2,) where the ruler crosses the body: the hip midpoint raised toward the shoulders."""
    ruler_half_length_px: float
    """Half the ruler's length: well past both hips."""
    facing_sign: int
    """+1 when the person's left hip is on the image's right (facing the camera), -1 from behind."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the screen shows and what `analyze` records for one frame."""

    state: State
    reason: NoVerdict | None
    """Why there is no verdict when `state` is NONE; with a verdict, why this frame was refused
    while the last verdict is held up for a moment (`pelvis.hold_s`)."""
    tilt_deg: float | None
    """Smoothed tilt the ruler shows; positive when the LEFT hip is lower."""
    reading: PelvisReading | None
    """This frame's unsmoothed reading (None when the gates refused the pose)."""
    ruler_left_end_px: np.ndarray | None = None
    """(2,) the ruler's end on the person's left side, in source-frame pixels."""
    ruler_right_end_px: np.ndarray | None = None
    """(2,) the ruler's end on the person's right side, in source-frame pixels."""
    level_left_end_px: np.ndarray | None = None
    """(2,) the level guide's end on the person's left: the ruler's line at the calibrated level
    (the picture's horizontal without a calibration), a little longer than the ruler."""
    level_right_end_px: np.ndarray | None = None

    @property
    def raw_tilt_deg(self) -> float | None:
        return None if self.reading is None else self.reading.raw_tilt_deg


@dataclass(frozen=True, slots=True)
class ShowTiming:
    """Where showing one frame spent its time, in seconds."""

    render_s: float
    """Scaling, mirroring and drawing the ruler and words."""
    flip_s: float
    """Handing the finished picture to the display."""


def no_verdict(reason: NoVerdict) -> Verdict:
    return Verdict(State.NONE, reason, None, None)


@dataclass(frozen=True, slots=True)
class PersonVerdict:
    """One person's verdict in one frame (group mode; single mode has one, numbered 0)."""

    person_id: int
    """Stable while the person stays in view; never reused within a session."""
    pose: Pose
    verdict: Verdict
    steps: int
    """Steps counted in this person's current walk."""
    fresh: bool = True
    """False when the model did not look at this person in this frame (more people than its
    budget, or a moment where they were not found): the verdict is from an earlier frame."""
