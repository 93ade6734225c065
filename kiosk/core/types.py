"""The values that flow between Beltline's stages.

Every coordinate is in pixels of the frame as the camera saw it (never mirrored; mirroring is
the view's business), with x to the right and y *down*.  Angles are degrees.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]
"""Coordinates and scores: float32 from the model, float64 once derived."""
Image = npt.NDArray[np.uint8]
"""(H, W, 3) uint8 RGB pixels."""


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


class Side(enum.Enum):
    """The person's own left or right (never the picture's)."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> Side:
        return Side.RIGHT if self is Side.LEFT else Side.LEFT


class Pattern(enum.Enum):
    """What the pelvis did in a step (heuristics, not a diagnosis; kiosk.body.gait)."""

    LEVEL = "level"
    TRENDELENBURG = "trendelenburg"
    """The pelvis drops on the swing side (weak hip abductors of the stance leg)."""
    TRUNK_LEAN = "trunk_lean"
    """A level pelvis bought by leaning the trunk over the stance leg (quadratus lumborum)."""
    HIP_DROP_SHIFT = "hip_drop_shift"
    """A drop with a large sideways shift of the pelvis (the "runway" walk)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture from a frame source."""

    image: Image
    """(H, W, 3) uint8, RGB, as the camera saw it (not mirrored)."""
    index: int
    """0-based position in the stream (counts repeats of a still image and loops of a clip)."""
    t_s: float
    """Seconds on the stream's clock: media time for clips, monotonic capture time for cameras."""
    captured_s: float = 0.0
    """time.monotonic() when the picture arrived, for measuring latency."""
    model_image: Image | None = None
    """(h, w, 3) uint8 RGB: the same picture, already scaled down by the camera (the Pi's lores
    stream), for the model; None to use `image`."""
    return_buffer: Callable[[], None] | None = field(default=None, compare=False, repr=False)
    """Gives `image` back to its source's buffer pool; called through `release()`."""
    still: bool = False
    """A photo (kiosk.camera.sources.StillImageSource): no later frame can confirm what this one shows."""

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

    xy_px: FloatArray
    """(17, 2) float32: x, y of each keypoint in source-frame pixels, in `Keypoint` order."""
    scores: FloatArray
    """(17,) float32 confidence in [0, 1], in `Keypoint` order."""
    frame_width_px: int
    frame_height_px: int

    def xy(self, keypoint: Keypoint) -> FloatArray:
        """(2,) x, y of one keypoint in source-frame pixels."""
        point: FloatArray = self.xy_px[keypoint]
        return point

    def score(self, keypoint: Keypoint) -> float:
        return float(self.scores[keypoint])

    @property
    def hip_mid_px(self) -> FloatArray:
        """(2,) the midpoint of the hips."""
        mid: FloatArray = (self.xy_px[Keypoint.LEFT_HIP] + self.xy_px[Keypoint.RIGHT_HIP]) / 2.0
        return mid

    @property
    def shoulder_mid_px(self) -> FloatArray:
        """(2,) the midpoint of the shoulders."""
        mid: FloatArray = (self.xy_px[Keypoint.LEFT_SHOULDER] + self.xy_px[Keypoint.RIGHT_SHOULDER]) / 2.0
        return mid

    @property
    def hip_width_px(self) -> float:
        return float(np.hypot(*(self.xy_px[Keypoint.LEFT_HIP] - self.xy_px[Keypoint.RIGHT_HIP])))

    @property
    def shoulder_width_px(self) -> float:
        return float(np.hypot(*(self.xy_px[Keypoint.LEFT_SHOULDER] - self.xy_px[Keypoint.RIGHT_SHOULDER])))

    @property
    def torso_length_px(self) -> float:
        """From the hip midpoint to the shoulder midpoint."""
        return float(np.hypot(*(self.shoulder_mid_px - self.hip_mid_px)))

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
    HIPS_ABOVE_FRAME = "hips_above_frame"
    """Treadmill mode: the legs are there, the hips above the picture (the camera sits too low)."""


@dataclass(frozen=True, slots=True)
class BeltEvidence:
    """The belt line the picture shows around the hips (kiosk.body.belt), beside the hip joints' line."""

    tilt_deg: float
    """The picture's belt line in the ruler's sign (as `PelvisReading.raw_tilt_deg`)."""
    relative_deg: float
    """The same line against the hip joints' line: `tilt_deg` minus the keypoints' tilt."""
    coherence: float
    """0..1: how much the near-horizontal edges agree on one direction."""
    edge_energy: float
    """Mean squared gradient of those edges per window pixel, in grey levels², with the window
    scaled to a fixed hip width (so a near and a far person compare)."""
    span: float
    """0..1: how far across the window those edges run, against a line right across it (their
    energy's effective width, column by column along the hip line, over a full-width line's): a belt
    or a hem near 1, a hand on plain cloth under a half (the dark suit's: 0.39–0.45)."""


@dataclass(frozen=True, slots=True)
class MarkerEvidence:
    """A worn marker's line (a strap or a stick at the belt line) read from the picture (kiosk.body.marker)."""

    tilt_deg: float
    """The marker's line in the ruler's sign (as `PelvisReading.raw_tilt_deg`), as this frame's
    keypoints say which way the person faces."""
    image_deg: float
    """The same line in the picture's own terms: positive when it descends toward the picture's
    right (which way the person faces does not enter)."""
    confidence: float
    """0..1: how surely the band is a marker (thin, straight, across the body); 0 is never attached."""
    centre_px: FloatArray
    """(2,) where the marker's line crosses the middle of the hips, in frame pixels."""
    coverage: float
    """The share of the columns across the hips where the band was seen (an arm hides some)."""
    thickness_px: float
    """The band's mean thickness in frame pixels."""
    residual_px: float
    """How far the band's column centres lie from its line (root mean square), in frame pixels."""
    color: str = ""
    """The colour looked for (#RRGGBB) when it was found by kiosk.body.marker.find_marker, else empty."""


class TiltSource(enum.Enum):
    """Which reading the ruler shows (the view marks it; `analyze` writes it)."""

    MARKER = "marker"
    """A worn strap or stick (kiosk.body.marker)."""
    PICTURE = "picture"
    """The belt line the picture shows, fused with the hip joints (kiosk.body.belt)."""
    POSE = "pose"
    """The hip joints alone: an estimate (the pose models read a pelvis rolling under an upright trunk only in part)."""


@dataclass(frozen=True, slots=True)
class PelvisReading:
    """One frame's hip line, before any smoothing.  Made only for a pose that passed the gates."""

    left_hip_px: FloatArray
    """(2,) x, y of the person's left hip."""
    right_hip_px: FloatArray
    """(2,) x, y of the person's right hip."""
    hip_score: float
    """The lower of the two hip scores."""
    raw_tilt_deg: float
    """Hip-line angle against the image horizontal in [-90, 90]; positive when the LEFT hip is lower."""
    belt_center_px: FloatArray
    """(2,) where the ruler crosses the body: the hip midpoint raised toward the shoulders."""
    ruler_half_length_px: float
    """Half the ruler's length: well past both hips."""
    facing_sign: int
    """+1 when the person's left hip is on the image's right (facing the camera), -1 from behind."""
    picture: BeltEvidence | None = None
    """The belt line read from the picture around these hips (`pelvis.belt_picture`), else None."""
    marker: MarkerEvidence | None = None
    """A worn marker's line around these hips (`[marker] color`), else None."""
    torso_px: float = 0.0
    """The hips' midpoint to the shoulders' midpoint (0: not known)."""

    @property
    def hip_mid_px(self) -> FloatArray:
        return (self.left_hip_px + self.right_hip_px) / 2

    @property
    def hip_width_px(self) -> float:
        return float(np.hypot(*(self.left_hip_px - self.right_hip_px)))


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
    ruler_left_end_px: FloatArray | None = None
    """(2,) the ruler's end on the person's left side, in source-frame pixels."""
    ruler_right_end_px: FloatArray | None = None
    """(2,) the ruler's end on the person's right side, in source-frame pixels."""
    level_left_end_px: FloatArray | None = None
    """(2,) the level guide's end on the person's left: the ruler's line at the calibrated level
    (the picture's horizontal without a calibration), a little longer than the ruler."""
    level_right_end_px: FloatArray | None = None
    source: TiltSource | None = None
    """Which reading the ruler shows (None without a verdict)."""

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


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step of a walk toward the camera (kiosk.body.gait)."""

    index: int
    start_s: float
    end_s: float
    stance_side: Side
    """The leading foot's side: the leg the person stands on during this step."""
    peak_drop_deg: float
    """The largest |tilt| within the step."""
    drop_side: Side
    """Which hip was low at the peak."""
    trunk_lean_deg: float
    """Mean lean of the trunk toward the stance side (negative: away from it)."""
    lateral_shift_hip_widths: float
    """How far the pelvis travelled sideways within the step, in hip widths."""
    pattern: Pattern


@dataclass(frozen=True, slots=True)
class WalkSummary:
    """What one walk showed: its steps, the drops per side and the dominant pattern."""

    steps: int
    peak_left_drop_deg: float | None
    """The largest peak drop of the steps with the left hip low (None: no such step)."""
    peak_right_drop_deg: float | None
    mean_left_drop_deg: float
    """Mean peak drop of the steps with the left hip low (0 without one)."""
    mean_right_drop_deg: float
    asymmetry_deg: float
    """Mean left drop minus mean right drop."""
    level_step_fraction: float
    """Share of steps whose peak drop is within the tolerance."""
    patterns: tuple[tuple[Pattern, int], ...]
    """How many steps showed each pattern, in the order first seen."""
    dominant_pattern: Pattern
    drop_deg: float
    """The tolerance the steps were judged against."""

    def peak_drop_deg(self, side: Side) -> float | None:
        return self.peak_left_drop_deg if side is Side.LEFT else self.peak_right_drop_deg

    def as_dict(self) -> dict[str, object]:
        """The `walk` section of `analyze`'s summary JSON."""
        if not self.steps:
            return {"steps": 0}
        return {
            "steps": self.steps,
            "peak_drop_deg": {"left": self.peak_left_drop_deg, "right": self.peak_right_drop_deg},
            "mean_drop_deg": {"left": self.mean_left_drop_deg, "right": self.mean_right_drop_deg},
            "asymmetry_deg": self.asymmetry_deg,
            "level_step_fraction": self.level_step_fraction,
            "patterns": {pattern.value: count for pattern, count in self.patterns},
            "dominant_pattern": self.dominant_pattern.value,
            "thresholds": {"drop_deg": self.drop_deg},
        }


@dataclass(frozen=True, slots=True)
class FinishedWalk:
    """A walk that ended: its summary and its steps, on the stream's clock (kiosk.body.gait)."""

    summary: WalkSummary
    steps: tuple[StepRecord, ...]
    """This walk's steps, numbered from 0, their times on the stream's clock."""
    start_s: float
    """When its first step began."""
    end_s: float
    """When its walker was last seen."""
    closed_s: float
    """The stream time at which it was closed (the walker had been gone a while, or the run ended)."""
    judged_share: float | None = None
    """The share of the camera's frames, from the walk's first verdict to its last, that were judged
    (under 1 when the loop let frames go); None when the frames' places in the stream were not known."""


@dataclass(frozen=True, slots=True)
class StepMark:
    """One step (or an exercise rep) on the replay's timeline (kiosk.flow.replay)."""

    position: float
    """Where the step ends, 0 to 1 along the replay."""
    drop_side: Side
    """The hip that dropped (a rep: the lifted leg)."""
    peak_drop_deg: float
    """The step's drop (a rep: its pelvis hike)."""
    dropped: bool
    """Its drop reached the tolerance (a rep: it was not clean)."""


@dataclass(frozen=True, slots=True)
class ReplayScreen:
    """One picture of a walk's slow-motion replay, for the mirror to draw (kiosk.flow.replay)."""

    image: Image
    """The kept picture, scaled down, as the camera saw it (the mirror mirrors it as it mirrors the camera)."""
    frame_width_px: int
    """The camera frame's size, in which the verdict's coordinates are."""
    frame_height_px: int
    verdict: Verdict
    """The verdict the mirror showed with this picture: the ruler is drawn again as it was."""
    position: float
    """How far along the replay is, 0 to 1."""
    steps: tuple[StepMark, ...]
    speed: float
    """The replay's speed against real time."""
    frozen_words: str | None = None
    """While the replay stands still on the step with the largest drop (or the worst rep's highest
    hike): that drop in words."""
    frozen_state: State = State.LEVEL
    """The words' colour: TILTED when that drop reached the tolerance (the rep was not clean)."""


@dataclass(frozen=True, slots=True)
class StepDrop:
    """One step's drop on the fatigue trend's plot."""

    end_s: float
    drop_side: Side
    peak_drop_deg: float


@dataclass(frozen=True, slots=True)
class FatigueTrend:
    """A long walk's drops over time (kiosk.body.fatigue): what the screen plots, and whether one
    hip's drop has grown by more than the detectable change."""

    recent: tuple[StepDrop, ...]
    """The steps of the last few minutes, oldest first."""
    since_s: float
    """When the walk's first step began (stream seconds)."""
    now_s: float
    """When its last step ended."""
    grown_side: Side | None = None
    """The hip whose mean drop over its last steps exceeds that over its first by more than the
    detectable change (None: neither)."""
    first_mean_deg: float = 0.0
    """That hip's mean drop over its first steps."""
    last_mean_deg: float = 0.0
    """... and over its last."""


@dataclass(frozen=True, slots=True)
class WalkStatus:
    """What the screen may show about the walk in progress or just finished."""

    steps: int
    last_step: StepRecord | None
    finished: FinishedWalk | None = None
    """The walk just finished, once, on the frame where the walker left (with enough steps to mean something)."""
    trend: FatigueTrend | None = None
    """A long walk (over `LONG_WALK_S`, or any treadmill walk): its drops over time."""


@dataclass(frozen=True, slots=True)
class CalibrationProgress:
    """A calibration started in `run` (by the gesture): how far the still stand has got."""

    progress: float
    """0 to 1."""
    seconds_left_s: float


# ---- the exercise coach's values (kiosk.body.exercise makes them; the screen, records and CSVs read them)


class RepVerdict(enum.Enum):
    CLEAN = "clean"
    PELVIS_HIKED = "pelvis_hiked"
    TRUNK_LEANED = "trunk_leaned"


@dataclass(frozen=True, slots=True)
class Rep:
    index: int
    side: Side
    """The lifted leg."""
    start_s: float
    end_s: float
    peak_angle_deg: float
    """The range: the thigh's largest angle against the trunk's axis (the hip's own abduction)."""
    peak_leg_deg: float
    """The leg's largest angle out from the picture's vertical (a trunk lean adds to this, not to the range)."""
    hold_s: float
    """How long the leg stayed within `hold_band_deg` of its peak."""
    pelvis_hike_deg: float
    """The largest tilt of the belt line up toward the lifted leg, against the standing level before the rep."""
    trunk_lean_deg: float
    """The largest lean of the trunk away from the lifted leg, against standing."""
    verdict: RepVerdict

    @property
    def tempo_s(self) -> float:
        return round(self.end_s - self.start_s, 3)


@dataclass(frozen=True, slots=True)
class SetSummary:
    reps: tuple[Rep, ...]
    start_s: float
    end_s: float

    def count(self, side: Side) -> int:
        return sum(rep.side is side for rep in self.reps)

    def mean_range_deg(self, side: Side) -> float | None:
        values = [rep.peak_angle_deg for rep in self.reps if rep.side is side]
        return round(statistics.fmean(values), 1) if values else None

    def best_range_deg(self, side: Side) -> float | None:
        values = [rep.peak_angle_deg for rep in self.reps if rep.side is side]
        return round(max(values), 1) if values else None

    @property
    def clean_reps(self) -> int:
        return sum(rep.verdict is RepVerdict.CLEAN for rep in self.reps)

    @property
    def clean_fraction(self) -> float:
        if not self.reps:
            return 0.0
        return round(sum(rep.verdict is RepVerdict.CLEAN for rep in self.reps) / len(self.reps), 3)

    @property
    def range_difference_deg(self) -> float | None:
        """Mean range of the left leg minus the right's (None without reps on both sides)."""
        left, right = self.mean_range_deg(Side.LEFT), self.mean_range_deg(Side.RIGHT)
        return None if left is None or right is None else round(left - right, 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "reps": {"left": self.count(Side.LEFT), "right": self.count(Side.RIGHT)},
            "mean_range_deg": {"left": self.mean_range_deg(Side.LEFT), "right": self.mean_range_deg(Side.RIGHT)},
            "best_range_deg": {"left": self.best_range_deg(Side.LEFT), "right": self.best_range_deg(Side.RIGHT)},
            "clean_fraction": self.clean_fraction,
            "range_difference_deg": self.range_difference_deg,
            "verdicts": {v.value: sum(rep.verdict is v for rep in self.reps) for v in RepVerdict},
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
        }


@dataclass(frozen=True, slots=True)
class ExerciseStatus:
    """What the screen shows in exercise mode, frame by frame."""

    ready: bool
    """Counting: the person has stood in position long enough."""
    left: int
    right: int
    lifting: Side | None
    """The leg that is up now (a rep in progress)."""
    angle_deg: float | None
    """The lifting leg's angle now (else the larger of the two)."""
    hiking: bool
    """The pelvis is hiking toward the lifting leg beyond the threshold, now."""
    last_rep: Rep | None
    finished_set: SetSummary | None = None
    """The set just ended, once, on the frame where it ended."""
    feet_unseen: bool = False
    """A person is there, but the model is unsure of an ankle: no leg angle until the feet are in view."""
    lift_deg: float | None = None
    """The lifting leg's angle out from the body's axis now (the angle a rep's `peak_angle_deg` is
    the largest of): what the screen names the lift by."""
    still_first: bool = False
    """In view a while and not yet counting, because the person has not stood still: say so."""


class Stage(enum.StrEnum):
    """A stage of the kiosk loop whose time `bench` measures (LoopProbe), in the order a frame meets them."""

    CAPTURE = "capture"
    PREPROCESS = "preprocess"
    INVOKE = "invoke"
    INVOKE_WAIT = "invoke_wait"
    """The invokes' wall time beyond their thread's CPU time: waiting for the GIL, or for a core."""
    POSTPROCESS = "postprocess"
    """The model's keypoints read, the next crop chosen (the inference thread)."""
    JUDGE = "judge"
    """The gates, the tracker, the walk and the coach (the screen thread)."""
    RENDER = "render"
    FLIP = "flip"
    LATENCY = "latency"
    """From the frame's capture to its flip on the screen."""
    INTERVAL = "interval"
    """From one frame shown to the next."""
