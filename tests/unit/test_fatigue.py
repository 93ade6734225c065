"""The fatigue trend of a long walk: each hip's first steps against its last, the detectable
change, the plot's window, and the one calm line."""

import pytest

from kiosk.body.fatigue import DETECTABLE_CHANGE_DEG, LONG_WALK_S, PLOT_S, TREND_STEPS, FatigueTracker
from kiosk.core.types import Pattern, Side, StepRecord
from kiosk.core.words import fatigue_words


def _walk(tracker, minutes, left_from, left_to, right=2.0, step_s=0.5):
    """Steps alternating hips every `step_s`; the left hip's drop going from `left_from` to `left_to`."""
    count = int(minutes * 60 / step_s)
    for k in range(count):
        side = Side.LEFT if k % 2 == 0 else Side.RIGHT
        drop = left_from + (left_to - left_from) * k / (count - 1) if side is Side.LEFT else right
        tracker.add(StepRecord(k, k * step_s, (k + 1) * step_s, side.other, drop, side, 0.0, 0.0, Pattern.LEVEL))
    return count * step_s


def test_a_hip_whose_drop_grew_by_more_than_the_detectable_change_is_named():
    tracker = FatigueTracker()
    end_s = _walk(tracker, 6, 3.0, 7.0)
    trend = tracker.trend(end_s)
    assert trend is not None and trend.grown_side is Side.LEFT
    # its first 20 steps are steps 0, 2, ..., 38 of 720: their mean is step 19's drop
    assert trend.first_mean_deg == pytest.approx(3.0 + 4.0 * 19 / 719, abs=0.05)
    assert trend.last_mean_deg > trend.first_mean_deg + DETECTABLE_CHANGE_DEG
    assert fatigue_words(trend) == (f"Your left hip drops more now: from\u00a0{trend.first_mean_deg:.0f}\u00b0\u00a0to"
                                    f"\u00a0{trend.last_mean_deg:.0f}\u00b0 in\u00a06\u00a0minutes")
    assert all(end_s - d.end_s <= PLOT_S for d in trend.recent)
    assert len(trend.recent) == PLOT_S / 0.5 + 1  # the last three minutes, both ends kept


@pytest.mark.parametrize("grown_deg", [0.0, 2.0, 2.6])
def test_a_change_within_the_detectable_change_says_nothing(grown_deg):
    tracker = FatigueTracker()
    # the means of 20 steps at each end differ by a little less than the whole walk's change
    end_s = _walk(tracker, 6, 3.0, 3.0 + grown_deg)
    trend = tracker.trend(end_s)
    assert trend is not None and trend.grown_side is None and fatigue_words(trend) is None


def test_a_short_walk_has_no_trend_unless_on_a_treadmill():
    walker, treadmill = FatigueTracker(), FatigueTracker(always=True)
    for tracker in (walker, treadmill):
        end_s = _walk(tracker, (LONG_WALK_S - 5) / 60, 3.0, 3.0)
    assert walker.trend(end_s) is None
    assert treadmill.trend(end_s) is not None
    assert walker.trend(LONG_WALK_S + 1) is not None  # the same walk, once it has lasted 30 s
    assert FatigueTracker(always=True).trend(0.0) is None  # no step yet


def test_too_few_steps_of_a_hip_to_compare_its_two_ends_say_nothing():
    tracker = FatigueTracker(always=True)
    end_s = _walk(tracker, (2 * TREND_STEPS * 2 - 4) * 0.5 / 60, 1.0, 9.0)  # under 40 left steps
    trend = tracker.trend(end_s)
    assert trend is not None and trend.grown_side is None
