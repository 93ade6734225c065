"""What the mirror says, in words: plurals, sides, one angle per lift, how to go again."""

from __future__ import annotations

from kiosk.core.types import Pattern, Side, StepRecord, WalkSummary
from kiosk.core.words import (
    SET_AGAIN,
    WALK_AGAIN,
    last_step_words,
    lifting_words,
    plural,
    rep_words,
    set_summary_lines,
    walk_summary_lines,
)


def _summary(steps: int, left: float | None, right: float | None) -> WalkSummary:
    return WalkSummary(steps, left, right, left or 0.0, right or 0.0, 0.0, 0.5, ((Pattern.LEVEL, steps),),
                       Pattern.LEVEL, 3.0)


def test_plurals():
    assert (plural(0, "rep"), plural(1, "rep"), plural(2, "step")) == ("0 reps", "1 rep", "2 steps")


def test_the_walk_summary_names_only_the_hips_that_dropped_and_says_how_to_go_again():
    lines = walk_summary_lines(_summary(1, 6.2, None))
    assert lines[0].startswith("1 step,")
    assert lines[1] == "Largest drop: left hip 6.2\u00b0 low"
    assert "\u2013" not in " ".join(lines)
    assert lines[-1] == WALK_AGAIN
    both = walk_summary_lines(_summary(4, 2.0, 3.5))
    assert both[1] == "Largest drop: left hip 2.0\u00b0 and right hip 3.5\u00b0 low"
    assert walk_summary_lines(_summary(4, None, None))[1] == "No step dropped a hip"


def test_the_last_step_is_said_in_words():
    step = StepRecord(3, 1.0, 1.5, Side.LEFT, 2.44, Side.RIGHT, 0.0, 0.0, Pattern.LEVEL)
    assert last_step_words(step) == "Last step: right hip 2.4\u00b0 low"


def test_a_lift_is_named_the_same_way_live_after_the_rep_and_in_the_summary():
    assert lifting_words(Side.RIGHT, 27.4) == "Right leg out 27\u00b0"
    assert rep_words(Side.RIGHT, 27.4, 0.5, False, False) == "Right leg out 27\u00b0, pelvis level"
    assert rep_words(Side.LEFT, 20.0, 6.2, True, False) == "Left leg out 20\u00b0, pelvis hiked 6\u00b0"
    lines = set_summary_lines(1, 0, 27.4, None, 27.4, None, 1, None)
    assert lines[0] == "Left leg: 1 rep, out\u00a027\u00b0"
    assert lines[1] == "Right leg: no reps"
    assert lines[2] == "1 of 1 rep clean: pelvis level, trunk upright"
    assert lines[-1] == SET_AGAIN
    both = set_summary_lines(2, 3, 24.0, 21.0, 27.0, 22.0, 4, 3.0)
    assert both[:2] == ["Left leg: 2 reps, out\u00a024\u00b0 on average, best\u00a027\u00b0",
                        "Right leg: 3 reps, out\u00a021\u00b0 on average, best\u00a022\u00b0"]
    assert both[2] == "4 of 5 reps clean: pelvis level, trunk upright"
    assert both[3] == "The left leg goes 3\u00b0 further out"
