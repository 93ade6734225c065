"""One typed configuration: frozen sections with their defaults, ranges and documentation.

Reading it from a TOML file (unknown keys and bad values rejected by name) is kiosk.settings.config_file.
Nothing here opens a camera, a model or a window.
"""

from __future__ import annotations

import colorsys
import enum
import re
import typing
from dataclasses import dataclass, field

ROTATIONS = (0, 90, 180, 270)


class Runtime(enum.StrEnum):
    AUTO = "auto"
    AI_EDGE_LITERT = "ai_edge_litert"
    TFLITE_RUNTIME = "tflite_runtime"
    TENSORFLOW = "tensorflow"


class MirrorAverage(enum.StrEnum):
    """How the model also looks at the mirrored crop; TOML takes true, "alternate" or "auto".
    (false, no mirrored look, measured worse than "alternate" at the same cost: docs/decisions.md.)"""

    AUTO = "auto"
    ON = "on"
    """Each frame twice, as it is and mirrored (twice the invokes)."""
    ALTERNATE = "alternate"
    """Every other frame mirrored, each look averaged with the one before (one invoke a frame)."""


class BeltPicture(enum.StrEnum):
    """Whether the ruler takes the belt line the picture shows (kiosk.body.belt) with the hip joints' line."""

    OFF = "off"
    FUSE = "fuse"


class Mode(enum.StrEnum):
    SINGLE = "single"
    GROUP = "group"
    EXERCISE = "exercise"
    """One person, the exercise coach: standing hip abduction counted per side, the pelvis checked."""
    TREADMILL = "treadmill"
    """One person walking on a treadmill facing the screen: only the hips and legs need to be in
    view (the waist at the picture's top edge is normal), steps told from the legs alone."""


MODES = tuple(mode.value for mode in Mode)


@dataclass(frozen=True)
class RemovedSetting:
    """A setting (or one value of it) that measured worse and was taken out; docs/decisions.md
    keeps the measurement and how to bring it back."""

    why: str
    value: object = None
    """Only this value was removed (None: the key itself)."""


REMOVED_SETTINGS = {
    "model.upright_crop": RemovedSetting("turning the crop upright measured worse on every tilt figure"),
    "model.crop_smoothing": RemovedSetting("a smoothed crop measured worse than a crop cut afresh"),
    "model.refine_weight": RemovedSetting("the heatmap's own weights measured best; the others are gone"),
    "model.refine_offset_share": RemovedSetting("the model's whole offset (share 1) measured best"),
    "model.refine_keypoints": RemovedSetting(
        "the keypoints are always refined from the heatmap when the model has one (it measured better)"),
    "pelvis.tilt_filter": RemovedSetting("the moving average measured worse than the One Euro filter"),
    "model.mirror_average": RemovedSetting("no mirrored look measured worse than \"alternate\" at the same cost",
                                           value=False),
}


def _coerce_enums(section: object) -> None:
    """Turn plain strings (or true/false for on/off) given for enum fields into the enum members."""
    for name, hint in typing.get_type_hints(type(section)).items():
        value = getattr(section, name)
        if isinstance(hint, type) and issubclass(hint, enum.Enum) and not isinstance(value, hint):
            if isinstance(value, bool):
                value = "on" if value else "off"
            object.__setattr__(section, name, hint(value))


@dataclass(frozen=True)
class ModelConfig:
    path: str = ""
    """A MoveNet SinglePose .tflite; empty: $BELTLINE_MODEL, else the first manifest model in models/."""
    runtime: Runtime = Runtime.AUTO
    """Which TFLite interpreter: auto (ai_edge_litert, then tflite_runtime, then tensorflow) or one of them."""
    threads: int = 0
    """Interpreter threads; 0 measures 1, 2 and (on 4 cores) 3 for a moment at start and keeps the fastest."""
    crop_tracking: bool = True
    """Crop the next frame around the person found in this one, so a far person fills the model input."""
    mirror_average: MirrorAverage = MirrorAverage.AUTO
    """Also run the model on the mirrored crop and average the two: true (twice the model time),
    "alternate" (every other frame mirrored and averaged with the frame before: one invoke a frame),
    or "auto": true while two invokes fit the camera's frame time, as the running loop's first
    looks measure an invoke (`analyze` and `check`: as a bare invoke measures it at start), else
    "alternate"."""
    refine_radius: int = 2
    """The keypoints are read from the model's own heatmap and offset field around the cell it
    chose, finer than its final int8 output (kiosk.model.decode): the cells on each side of the chosen
    one whose votes are averaged (2: a 5×5 window, measured against 1 in docs/accuracy.md)."""

    def __post_init__(self) -> None:
        _coerce_enums(self)

    def check(self) -> dict[str, str]:
        problems = {}
        if not 0 <= self.refine_radius <= 3:
            problems["refine_radius"] = "must be between 0 (the chosen cell alone) and 3"
        if not 0 <= self.threads <= 64:
            problems["threads"] = "must be between 0 (measure at start) and 64"
        return problems


@dataclass(frozen=True)
class SourceConfig:
    default: str = "auto"
    """Used when `run` gets no --source: auto (Pi camera if picamera2 is installed, else webcam:0),
    picamera, webcam:N, /dev/videoN or a file path."""
    width: int = 1280
    """Requested camera width in pixels (cameras only)."""
    height: int = 720
    """Requested camera height in pixels (cameras only)."""
    fps: float = 30.0
    """Requested camera frame rate; also the pace at which a still image is repeated."""
    loop: bool = False
    """Loop a clip instead of stopping at its end (`run` only)."""
    stall_timeout_s: float = 2.0
    """`run`: no usable frame for this long shows "camera unavailable" and reconnects."""
    model_stream_width: int = 640
    """Pi camera only: the ISP also delivers a copy this wide (a multiple of 64) for the model;
    0 makes the model read the main stream."""

    def check(self) -> dict[str, str]:
        problems = {}
        if not 16 <= self.width <= 8192:
            problems["width"] = "must be between 16 and 8192"
        if not 16 <= self.height <= 8192:
            problems["height"] = "must be between 16 and 8192"
        if not 0.5 <= self.fps <= 240:
            problems["fps"] = "must be between 0.5 and 240"
        if not 0.2 <= self.stall_timeout_s <= 60:
            problems["stall_timeout_s"] = "must be between 0.2 and 60"
        if self.model_stream_width and not 64 <= self.model_stream_width <= 4096:
            problems["model_stream_width"] = "must be 0 or between 64 and 4096"
        elif self.model_stream_width % 64:
            problems["model_stream_width"] = "must be a multiple of 64 (the ISP pads other widths)"
        if not self.default.strip():
            problems["default"] = "must not be empty"
        return problems


@dataclass(frozen=True)
class PelvisConfig:
    tolerance_deg: float = 5.0
    """|tilt| at or below this is level (green); above it, tilted (red).  See README for the measurement."""
    min_hip_score: float = 0.3
    """Both hips must score at least this."""
    min_shoulder_score: float = 0.3
    """Both shoulders must score at least this (they tell a frontal view from a side view)."""
    edge_margin_frac: float = 0.02
    """Hips closer than this fraction of the frame to an edge count as outside (the model extrapolates)."""
    min_shoulder_width_ratio: float = 0.45
    """Shoulder width / torso length below this is a side view: no verdict (frontal walkers: 0.55 and up)."""
    min_hip_width_ratio: float = 0.25
    """Hip width / torso length below this is a side view: no verdict (frontal walkers: 0.3 and up)."""
    max_nose_offset_ratio: float = 0.5
    """The nose further than this many shoulder widths beside the shoulders' midpoint is a head in
    profile, so a side view (measured: frontal and back views 0.23 at most, side views that pass
    the width ratios 0.65-0.9).  0 turns the check off."""
    smoothing_s: float = 0.15
    """Time constant of the ruler's position smoothing, in seconds (its tilt: the One Euro filter below)."""
    one_euro_min_cutoff_hz: float = 1.0
    """The tilt's One Euro filter (it smooths hard at rest, little while moving): cutoff at rest;
    lower is smoother and slower."""
    one_euro_beta: float = 0.05
    """One Euro filter: how fast the cutoff rises with the tilt's speed (per degree per second)."""
    hysteresis_deg: float = 1.0
    """Turn red above tolerance + this, green again below tolerance - this (0: one threshold)."""
    min_dwell_s: float = 0.1
    """The colour changes only after the new side has held this long."""
    calibration_file: str = ""
    """A file written by `beltline calibrate`; empty: /etc/beltline/calibration.json or
    ~/.config/beltline/calibration.json when one exists, else no calibration."""
    max_jump_hip_widths: float = 1.5
    """A hip midpoint that jumps further than this many hip widths between frames is someone else:
    the smoothing starts afresh instead of blending two people."""
    forget_after_s: float = 0.5
    """A person unseen for this long starts afresh (no smoothing across two people)."""
    hold_s: float = 0.15
    """A frame the gates refuse this soon after a verdict keeps showing that verdict, so that one
    doubtful frame does not flash an instruction over the ruler (0: never)."""
    belt_raise_frac: float = 0.1
    """The belt sits this fraction of the hip-to-shoulder distance above the hip joints."""
    ruler_extension: float = 1.0
    """The ruler runs past each hip by this multiple of the hip width."""
    belt_picture: BeltPicture = BeltPicture.FUSE
    """off: the tilt is the hip joints' line; fuse: the belt line read from the picture around the
    hips moves it (kiosk.body.belt, kiosk.body.tracker.BeltFusion; README, "The belt line from the picture")."""
    belt_picture_weight: float = 1.0
    """With fuse: the share of the picture's difference from the hip joints' line that is taken."""
    belt_picture_gate_deg: float = 15.0
    """With fuse: a picture further than this from its baseline is left out (a hand, a seated
    thigh); it counts fully within two thirds of it (10°), easing between (kiosk.body.tracker.gate_trust)."""
    belt_picture_baseline_s: float = 5.0
    """With fuse: the time constant of the picture's own baseline for this person (0: it stays where
    it starts, at 0 or at the calibration's belt offset)."""
    belt_picture_steady_s: float = 0.3
    """With fuse: how long the picture's belt line must hold steady (with belt_picture_steady_deg)."""
    belt_picture_steady_deg: float = 2.0
    """With fuse: the picture counts only while its belt line's readings over the last
    belt_picture_steady_s lie within belt_picture_steady_deg of each other (not folds or a hem
    swinging with each step)."""
    belt_picture_min_energy: float = 530.0
    """With fuse: a window whose near-horizontal edges are fainter than this (grey levels² per
    pixel) says nothing (a plain bodysuit, a dark suit's folds).  530 is about one step of 13–14
    grey levels right across the window, and the geometric middle of the harness's tuning photos:
    at most 31 on the black bodysuit and the dancer on one leg, at least 9116 on the patterned top
    and the belted shirt."""

    def __post_init__(self) -> None:
        _coerce_enums(self)

    def check(self) -> dict[str, str]:
        problems = {}
        if not 0 < self.tolerance_deg < 45:
            problems["tolerance_deg"] = "must be above 0 and below 45"
        for name in ("min_hip_score", "min_shoulder_score"):
            if not 0 <= getattr(self, name) <= 1:
                problems[name] = "must be between 0 and 1"
        if not 0 <= self.edge_margin_frac < 0.5:
            problems["edge_margin_frac"] = "must be at least 0 and below 0.5"
        for name in ("min_shoulder_width_ratio", "min_hip_width_ratio", "max_nose_offset_ratio"):
            if not 0 <= getattr(self, name) <= 2:
                problems[name] = "must be between 0 and 2"
        if not 0 <= self.smoothing_s <= 5:
            problems["smoothing_s"] = "must be between 0 and 5"
        if not 0.01 <= self.one_euro_min_cutoff_hz <= 30:
            problems["one_euro_min_cutoff_hz"] = "must be between 0.01 and 30"
        if not 0 <= self.one_euro_beta <= 10:
            problems["one_euro_beta"] = "must be between 0 and 10"
        if not 0 <= self.hysteresis_deg < self.tolerance_deg:
            problems["hysteresis_deg"] = "must be at least 0 and below tolerance_deg"
        if not 0 <= self.min_dwell_s <= 5:
            problems["min_dwell_s"] = "must be between 0 and 5"
        if not 0.1 <= self.max_jump_hip_widths <= 100:
            problems["max_jump_hip_widths"] = "must be between 0.1 and 100"
        if not 0 <= self.hold_s <= 2:
            problems["hold_s"] = "must be between 0 and 2"
        if not 0 < self.forget_after_s <= 60:
            problems["forget_after_s"] = "must be above 0 and at most 60"
        if not 0 <= self.belt_raise_frac <= 1:
            problems["belt_raise_frac"] = "must be between 0 and 1"
        if not 0 <= self.ruler_extension <= 5:
            problems["ruler_extension"] = "must be between 0 and 5"
        if not 0 <= self.belt_picture_weight <= 1:
            problems["belt_picture_weight"] = "must be between 0 and 1"
        if not 0 < self.belt_picture_gate_deg <= 45:
            problems["belt_picture_gate_deg"] = "must be above 0 and at most 45"
        if not 0 <= self.belt_picture_baseline_s <= 3600:
            problems["belt_picture_baseline_s"] = "must be between 0 and 3600"
        if not 0 <= self.belt_picture_steady_s <= 1:
            problems["belt_picture_steady_s"] = "must be between 0 and 1"
        if not 0 < self.belt_picture_steady_deg <= 45:
            problems["belt_picture_steady_deg"] = "must be above 0 and at most 45"
        if self.belt_picture_min_energy < 0:
            problems["belt_picture_min_energy"] = "must be at least 0"
        return problems


@dataclass(frozen=True)
class DisplayConfig:
    fullscreen: bool = True
    """Fill the screen; --windowed overrides it."""
    window_width: int = 1280
    """The window's width in pixels (with --windowed, or fullscreen = false)."""
    window_height: int = 720
    """The window's height in pixels."""
    rotation: int = 0
    """Clockwise screen rotation in degrees (0, 90, 180, 270) for portrait-mounted monitors."""
    mirror: bool = True
    """Show the camera image mirrored, as a mirror would."""
    show_fps: bool = False
    """Show the frame rate in a corner (for setting up, not for patients)."""
    error_screen_s: float = 10.0
    """How long `run` shows why it cannot start (a missing model) before it exits for systemd to retry."""

    def check(self) -> dict[str, str]:
        problems = {}
        if not 0 <= self.error_screen_s <= 3600:
            problems["error_screen_s"] = "must be between 0 and 3600"
        if self.rotation not in ROTATIONS:
            problems["rotation"] = "must be 0, 90, 180 or 270"
        if not 64 <= self.window_width <= 8192:
            problems["window_width"] = "must be between 64 and 8192"
        if not 64 <= self.window_height <= 8192:
            problems["window_height"] = "must be between 64 and 8192"
        return problems


@dataclass(frozen=True)
class PeopleConfig:
    mode: Mode = Mode.SINGLE
    """single: one ruler, locked on one person until they leave (home, hallway); group: a ruler
    for each person in front of the screen (coach-led sessions); exercise: the leg-lift coach
    for one person (kiosk.body.exercise); treadmill: one person walking on a treadmill facing
    the screen, only the hips and legs in view, with the drop's trend over minutes."""
    challenge_every_s: float = 1.0
    """Single mode: how often the rest of the frame is checked for somebody nearer the screen
    than the person who has the ruler (0: never)."""
    takeover_size_ratio: float = 1.5
    """Single mode: somebody this many times taller in the picture than the person who has the
    ruler is nearer the screen and takes it over (a walker arriving while the ruler is on a
    figure far behind); bystanders further away never do."""
    max_people: int = 6
    """Group mode: at most this many people are followed at once."""
    model_runs_per_frame: int = 3
    """Group mode: the model's budget per frame.  With more people than this, they are updated in
    turn (each ruler then moves at a fraction of the frame rate) instead of the screen slowing down."""
    search_every_s: float = 0.25
    """Group mode: how often the whole frame is searched for somebody not yet followed."""
    min_torso_score: float = 0.3
    """Group mode: a pose counts as a person when its shoulders and hips score this on average."""
    forget_after_s: float = 1.0
    """Group mode: a person not found again for this long has left; their number is not reused."""

    def __post_init__(self) -> None:
        _coerce_enums(self)

    def check(self) -> dict[str, str]:
        problems = {}
        if not 0.0 <= self.challenge_every_s <= 60:
            problems["challenge_every_s"] = "must be between 0 (never) and 60"
        if not 1.0 < self.takeover_size_ratio <= 10:
            problems["takeover_size_ratio"] = "must be above 1 and at most 10"
        if not 1 <= self.max_people <= 12:
            problems["max_people"] = "must be between 1 and 12"
        if not 1 <= self.model_runs_per_frame <= 12:
            problems["model_runs_per_frame"] = "must be between 1 and 12"
        if not 0.0 <= self.search_every_s <= 10:
            problems["search_every_s"] = "must be between 0 and 10"
        if not 0.05 <= self.min_torso_score <= 0.95:
            problems["min_torso_score"] = "must be between 0.05 and 0.95"
        if not 0.1 <= self.forget_after_s <= 30:
            problems["forget_after_s"] = "must be between 0.1 and 30"
        return problems


@dataclass(frozen=True)
class ExerciseConfig:
    enter_deg: float = 15.0
    """A leg lifted out to the side above this angle (the whole leg from the picture's vertical, less its
    standing angle) starts a rep.  Fitted on rendered sets (docs/coach.md): a true 18° lift reads about 15–16°."""
    exit_deg: float = 10.0
    """... and back below this one counts it (the gap keeps a leg hovering at a threshold from counting twice)."""
    min_rep_s: float = 0.5
    """Shorter lifts are twitches, not reps."""
    max_rep_s: float = 10.0
    """Longer ones are not a rep (the leg was held out, or the person did something else)."""
    ready_s: float = 1.0
    """Counting starts once the person has stood still in position, both feet down, this long."""
    still_hip_widths: float = 0.3
    """Standing still: the hip midpoint stays within this many hip widths of where it was (walking does not)."""
    hike_deg: float = 5.0
    """The belt line tilting up toward the lifted leg by this much (against standing) marks a rep: pelvis
    hiked; read from a worn marker."""
    hike_unmarked_deg: float = 4.5
    """The same without a marker (the belt line from the hip keypoints and the picture, which a lifted thigh
    drags up by a few degrees even with the pelvis level: docs/coach.md)."""
    lean_deg: float = 6.5
    """The trunk leaning away from the lifted leg by this much (against standing) marks a rep: trunk leaned."""
    rest_s: float = 20.0
    """No rep for this long ends the set (its summary is shown); stepping away ends it too."""
    leave_s: float = 2.0
    """Nobody seen for this long: they stepped away, and the set ends."""
    hold_band_deg: float = 5.0
    """A rep's time at the top: how long the leg stayed within this many degrees of its peak."""
    gesture_hold_s: float = 2.0
    """Both hands held above the head this long switches between walking and exercise (0: never)."""

    def check(self) -> dict[str, str]:
        problems = {}
        if not 5.0 <= self.enter_deg <= 80:
            problems["enter_deg"] = "must be between 5 and 80"
        if not 0.0 <= self.exit_deg < self.enter_deg:
            problems["exit_deg"] = "must be at least 0 and below exercise.enter_deg"
        if not 0.1 <= self.min_rep_s <= 5:
            problems["min_rep_s"] = "must be between 0.1 and 5"
        if not self.min_rep_s < self.max_rep_s <= 60:
            problems["max_rep_s"] = "must be above exercise.min_rep_s and at most 60"
        if not 0.0 <= self.ready_s <= 10:
            problems["ready_s"] = "must be between 0 and 10"
        if not 0.05 <= self.still_hip_widths <= 2:
            problems["still_hip_widths"] = "must be between 0.05 and 2"
        if not 0.2 <= self.leave_s <= 30:
            problems["leave_s"] = "must be between 0.2 and 30"
        if not 0.5 <= self.hold_band_deg <= 30:
            problems["hold_band_deg"] = "must be between 0.5 and 30"
        if not 1.0 <= self.hike_deg <= 30:
            problems["hike_deg"] = "must be between 1 and 30"
        if not 1.0 <= self.hike_unmarked_deg <= 30:
            problems["hike_unmarked_deg"] = "must be between 1 and 30"
        if not 1.0 <= self.lean_deg <= 45:
            problems["lean_deg"] = "must be between 1 and 45"
        if not 3.0 <= self.rest_s <= 600:
            problems["rest_s"] = "must be between 3 and 600"
        if self.gesture_hold_s and not 1.0 <= self.gesture_hold_s <= 10:
            problems["gesture_hold_s"] = "must be 0 (never) or between 1 and 10"
        return problems


@dataclass(frozen=True)
class RecordsConfig:
    enabled: bool = True
    """`run` keeps an anonymous record of every walk (numbers only: no picture, no name) in a local
    database; `beltline report` reads it.  `analyze` records only with --db."""
    path: str = ""
    """The database file; empty: $STATE_DIRECTORY/records.sqlite under systemd (StateDirectory=),
    else ~/.local/share/beltline/records.sqlite."""
    keep_days: int = 365
    """Walks older than this are deleted (at start and once a day); 0 keeps them forever."""
    kiosk_name: str = ""
    """Written with each walk, so the reports of several kiosks can be told apart; empty: the host name."""

    def check(self) -> dict[str, str]:
        problems = {}
        if not 0 <= self.keep_days <= 36500:
            problems["keep_days"] = "must be between 0 (keep forever) and 36500"
        if len(self.kiosk_name) > 64:
            problems["kiosk_name"] = "must be at most 64 characters"
        return problems


@dataclass(frozen=True)
class ReplayConfig:
    enabled: bool = True
    """After a walk of four or more steps, the mirror plays it again in slow motion from memory
    (single mode; never in group mode).  The frames stay in memory only: never on disk, never sent."""
    speed: float = 0.33
    """The replay's speed against real time (0.33: a third)."""
    span_s: float = 12.0
    """The longest stretch of the walk kept for the replay, in seconds."""
    memory_mb: int = 64
    """The memory the kept frames may take; the frames are scaled down to fit `span_s` in it."""
    freeze_s: float = 2.0
    """How long the replay stops on the step with the largest drop."""

    def check(self) -> dict[str, str]:
        problems = {}
        if not 0.05 <= self.speed <= 1.0:
            problems["speed"] = "must be between 0.05 and 1 (a third is 0.33)"
        if not 2.0 <= self.span_s <= 60.0:
            problems["span_s"] = "must be between 2 and 60 seconds"
        if not 8 <= self.memory_mb <= 512:
            problems["memory_mb"] = "must be between 8 and 512"
        if not 0.0 <= self.freeze_s <= 10.0:
            problems["freeze_s"] = "must be between 0 and 10 seconds"
        return problems


MARKER_AUTO = "auto"
MARKER_OFF = "off"
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def marker_hsv(text: str) -> tuple[float, float, float]:
    """A marker colour "#RRGGBB" as hue (degrees), saturation and value (0..1); ValueError for
    anything else, or for a colour too grey or too dark to tell from clothing and shade."""
    if not _HEX_COLOR.match(text):
        raise ValueError(f"{text!r} is not of the form #RRGGBB")
    hue, saturation, value = colorsys.rgb_to_hsv(*(int(text[i:i + 2], 16) / 255 for i in (1, 3, 5)))
    if saturation < 0.4 or value < 0.25:
        raise ValueError(f"{text} is too grey or too dark (saturation {saturation:.0%}, brightness {value:.0%}; "
                         "a marker needs a strong colour, such as hi-vis yellow or orange)")
    return 360.0 * hue, saturation, value


MARKER_FULL_ABOVE = 0.3
"""A marker reading counts fully this far above `marker.min_confidence`."""


@dataclass(frozen=True)
class MarkerConfig:
    color: str = MARKER_AUTO
    """The worn marker's colour: "#RRGGBB" (a strap or a stick of one strong colour at the belt
    line, kiosk.body.marker), "off", or "auto": the colour a calibration found on the person standing
    still (none without a calibration, so that nothing is read that nobody wears)."""
    min_confidence: float = 0.4
    """A marker reading this sure or less (0..1: a thin, straight band across the body) is not used;
    above it the ruler takes the marker's line in proportion, fully from min_confidence + 0.3."""

    def check(self) -> dict[str, str]:
        problems = {}
        if self.color not in (MARKER_AUTO, MARKER_OFF):
            try:
                marker_hsv(self.color)
            except ValueError as error:
                problems["color"] = f"must be \"auto\", \"off\" or a strong colour #RRGGBB: {error}"
        if not 0 <= self.min_confidence <= 0.7:
            problems["min_confidence"] = "must be between 0 and 0.7"
        return problems


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    pelvis: PelvisConfig = field(default_factory=PelvisConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    people: PeopleConfig = field(default_factory=PeopleConfig)
    exercise: ExerciseConfig = field(default_factory=ExerciseConfig)
    records: RecordsConfig = field(default_factory=RecordsConfig)
    marker: MarkerConfig = field(default_factory=MarkerConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
