"""Every word the screen shows a person, in one place (pure: no pygame, testable with plain values)."""

from __future__ import annotations

from kiosk.core.types import FatigueTrend, NoVerdict, Pattern, Side, State, StepRecord, TiltSource, Verdict, WalkSummary

NO_VERDICT_WORDS = {
    NoVerdict.NO_PERSON: "Step in front of the mirror",
    NoVerdict.HIPS_OUT_OF_FRAME: "Step back so your hips are in view",
    NoVerdict.NOT_FACING: "Turn to face the mirror",
    NoVerdict.HIPS_ABOVE_FRAME: "The camera cannot see your hips: tilt it up",
}


SOURCE_WORDS = {
    TiltSource.MARKER: "marker",
    TiltSource.PICTURE: "belt line",
    TiltSource.POSE: "estimate",
}
"""The small mark under the ruler: which reading it shows (a worn marker, the belt line the
picture shows, or the pose's hips alone, which see a hip drop only in part)."""


PATTERN_WORDS = {
    Pattern.TRENDELENBURG: "hip drops on the swing side",
    Pattern.TRUNK_LEAN: "trunk leans over the standing leg",
    Pattern.HIP_DROP_SHIFT: "hip drops and swings sideways (\u201crunway\u201d walk)",
    Pattern.LEVEL: "mostly level",
}
"""A walk's (or a step's) pattern as the screen and the report both name it."""

PATTERN_MEANING = {
    Pattern.TRENDELENBURG: "the pelvis drops on the side of the leg in the air: weak hip abductors "
                           "(Trendelenburg gait)",
    Pattern.TRUNK_LEAN: "the pelvis is kept level by leaning the trunk over the standing leg (the lower back "
                        "does the hip's work)",
    Pattern.HIP_DROP_SHIFT: "the hip drops and the pelvis swings far sideways (a \u201crunway\u201d walk, "
                            "which loads the outer hip)",
    Pattern.LEVEL: "none of these: the belt line stays within the tolerance",
}
"""What each pattern means, for the report's notes."""


def drops_more_words(asymmetry_deg: float, short: bool = False) -> str:
    """The sign of a walk's asymmetry (mean left drop minus right) in words: 'left hip drops more, by
    1.2°'; `short`, for a table column that names it: 'left, by 1.2°'."""
    if round(abs(asymmetry_deg), 1) == 0:
        return "neither" if short else "both hips drop alike"
    side = "left" if asymmetry_deg > 0 else "right"
    return f"{side}, by {abs(asymmetry_deg):.1f}\u00b0" if short else \
        f"{side} hip drops more, by {abs(asymmetry_deg):.1f}\u00b0"


SIDE_WORDS = {Side.LEFT: "left", Side.RIGHT: "right"}


def plural(count: int, thing: str) -> str:
    """'1 step', '3 steps', '0 reps'."""
    return f"{count} {thing}" if count == 1 else f"{count} {thing}s"


def walk_summary_lines(summary: WalkSummary) -> list[str]:
    """The walk summary in a few plain lines for the screen, ending with how to go again."""
    drops = [f"{SIDE_WORDS[side]} hip {peak:.1f}\u00b0" for side, peak in
             ((Side.LEFT, summary.peak_left_drop_deg), (Side.RIGHT, summary.peak_right_drop_deg)) if peak is not None]
    level = round(100 * summary.level_step_fraction)
    return [
        f"{plural(summary.steps, 'step')}, {level} % of them level",
        f"Largest drop: {' and '.join(drops)} low" if drops else "No step dropped a hip",
        f"Pattern: {PATTERN_WORDS[summary.dominant_pattern]}",
        WALK_AGAIN,
    ]


WALK_AGAIN = "Walk toward the mirror again for another try"


def largest_drop_words(step: StepRecord) -> str:
    """The replay's stop on a walk's largest drop: 'Largest drop, step 5: left hip 6.2° low'."""
    hip = f"{SIDE_WORDS[step.drop_side]} hip {step.peak_drop_deg:.1f}\u00b0 low"
    return f"Largest drop, step\u00a0{step.index + 1}: {hip}"


def replay_words(speed: float) -> str:
    """The replay's label: 'Replay, 1/3 speed'."""
    if speed >= 0.95:
        return "Replay"
    part = round(1 / speed)
    return f"Replay, 1/{part} speed" if abs(part * speed - 1) < 0.05 else f"Replay, {speed:.2g}\u00d7 speed"


def fatigue_words(trend: FatigueTrend) -> str | None:
    """The one calm line when a hip's drop has grown over a long walk: 'Your left hip drops more
    now: from 3° to 6° in 6 minutes' (None: it has not)."""
    if trend.grown_side is None:
        return None
    minutes = max(1, round((trend.now_s - trend.since_s) / 60))
    change = f"from {trend.first_mean_deg:.0f}\u00b0 to {trend.last_mean_deg:.0f}\u00b0".replace(" ", "\u00a0")
    span = plural(minutes, "minute").replace(" ", "\u00a0")
    return f"Your {SIDE_WORDS[trend.grown_side]} hip drops more now: {change} in\u00a0{span}"


TREND_LEGEND = {Side.LEFT: "Left hip drop", Side.RIGHT: "Right hip drop"}


def last_step_words(step: StepRecord) -> str:
    """The walk corner's note on the last step: 'Last step: left hip 4.2° low'."""
    return f"Last step: {SIDE_WORDS[step.drop_side]} hip {step.peak_drop_deg:.1f}\u00b0 low"


def verdict_words(verdict: Verdict, short: bool = False) -> str:
    """What the banner says: 'Level 1.8°', 'Left hip low 6.2°', or an instruction; `short`, for
    the group panel: 'Level 2°', 'Left low 6°', 'Step back'."""
    if verdict.state is State.NONE or verdict.tilt_deg is None:
        words = SHORT_NO_VERDICT_WORDS if short else NO_VERDICT_WORDS
        return words[verdict.reason or NoVerdict.NO_PERSON]
    size = f"{abs(verdict.tilt_deg):.{0 if short else 1}f}\u00b0"
    gap = " " if short else "  "
    if verdict.state is State.LEVEL:
        return f"Level{gap}{size}"
    side = "Left" if verdict.tilt_deg > 0 else "Right"
    return f"{side} {'low' if short else 'hip low'}{gap}{size}"


SHORT_NO_VERDICT_WORDS = {
    NoVerdict.NO_PERSON: "Not found",
    NoVerdict.HIPS_OUT_OF_FRAME: "Step back",
    NoVerdict.NOT_FACING: "Face the mirror",
    NoVerdict.HIPS_ABOVE_FRAME: "Hips unseen",
}


def steps_words(steps: int) -> str:
    return plural(steps, "step")


STARTING = "Starting\u2026"
CAMERA_UNAVAILABLE = "Camera unavailable \u2014 retrying"
MODEL_MISSING = "Beltline cannot start: the pose model is missing or damaged"
CALIBRATION_LOST = "Calibration lost \u2014 hold both arms out for 2 s to calibrate"
CALIBRATION_LOST_GROUP = "Calibration lost \u2014 run beltline calibrate"


def stand_still_words(seconds_left: float) -> str:
    """Calibration's banner while the person stands still, with the seconds left."""
    return f"Stand still, facing the mirror  {seconds_left:.0f}"


CALIBRATED = "Your level is set. Walk toward the mirror."
"""The end of `calibrate`, in words: the signed standing tilt means nothing to the person in front
of the mirror, so it goes to the log and the command's output, not to the screen."""


# ---- the exercise coach (kiosk.body.exercise) ----------------------------------------------------------

EXERCISE_GET_READY = "Stand still, feet together, to start"
EXERCISE_STILL_FIRST = "Stand still for a moment first"
"""Instead of EXERCISE_GET_READY once a person has been in view for a while without standing still:
why the lifts do not count yet."""
EXERCISE_SHOW_FEET = "Step back so your feet are in view"
EXERCISE_LIFT = "Lift one leg out to the side"
HIKE_CUE = "Lift lower \u2014 keep your belt level"
LEAN_CUE = "Stand tall \u2014 keep your trunk upright"
SET_AGAIN = "Stand still to start another set"


def rep_counter_words(left: int, right: int) -> str:
    """The big counter: 'Left 6 · Right 5'."""
    return f"Left {left} \u00b7 Right {right}"


# One angle names a lift everywhere: the leg's angle out from the body's axis (the hip's own
# range, `Rep.peak_angle_deg`), live while it rises, for the rep just done, and in the set summary.

def lifting_words(side: Side, angle_deg: float) -> str:
    """Live, while a leg is up: 'Right leg out 24°'."""
    return f"{SIDE_WORDS[side].capitalize()} leg out {angle_deg:.0f}\u00b0"


def rep_words(side: Side, peak_angle_deg: float, pelvis_hike_deg: float, hiked: bool, leaned: bool) -> str:
    """The rep just done: 'Left leg out 27°, pelvis level', 'Right leg out 24°, pelvis hiked 6°'."""
    if hiked:
        pelvis = f"pelvis hiked {pelvis_hike_deg:.0f}\u00b0"
    elif leaned:
        pelvis = "trunk leaned"
    else:
        pelvis = "pelvis level"
    return f"{lifting_words(side, peak_angle_deg)}, {pelvis}"


def worst_rep_words(side: Side, peak_angle_deg: float, pelvis_hike_deg: float, hiked: bool, leaned: bool) -> str:
    """The replay's stop on a set's worst rep: 'Worst rep: right leg out 21°, pelvis hiked 6°'."""
    words = rep_words(side, peak_angle_deg, pelvis_hike_deg, hiked, leaned)
    return f"Worst rep: {words[0].lower()}{words[1:]}".replace("pelvis hiked ", "pelvis\u00a0hiked\u00a0")


def set_summary_lines(left: int, right: int, mean_left: float | None, mean_right: float | None,
                      best_left: float | None, best_right: float | None, clean: int,
                      difference_deg: float | None) -> list[str]:
    """The set's summary for the screen: each leg's reps and how far out, the clean reps, how to go on."""

    def leg(side: Side, reps: int, mean: float | None, best: float | None) -> str:
        name = f"{SIDE_WORDS[side].capitalize()} leg"
        if not reps or mean is None or best is None:
            return f"{name}: no reps"
        if reps == 1:
            return f"{name}: 1 rep, out\u00a0{best:.0f}\u00b0"
        # no-break spaces: a wrapped line never leaves a bare angle on a line of its own
        return f"{name}: {reps} reps, out\u00a0{mean:.0f}\u00b0 on average, best\u00a0{best:.0f}\u00b0"

    total = left + right
    lines = [
        leg(Side.LEFT, left, mean_left, best_left),
        leg(Side.RIGHT, right, mean_right, best_right),
        f"{clean} of {plural(total, 'rep')} clean: pelvis level, trunk upright",
    ]
    if difference_deg is not None and abs(difference_deg) >= 1:
        wider = "left" if difference_deg > 0 else "right"
        lines.append(f"The {wider} leg goes {abs(difference_deg):.0f}\u00b0 further out")
    elif difference_deg is not None:
        lines.append("Both legs go as far out")
    lines.append(SET_AGAIN)
    return lines
