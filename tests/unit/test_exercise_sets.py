"""The rendered-sets harness's scoring and threshold choice (scripts/exercise-sets.py), on reps with a known answer."""

import importlib
from pathlib import Path

import pytest

from kiosk.core.types import Rep, RepVerdict, Side


@pytest.fixture(scope="module")
def sets():
    return importlib.import_module("exercise-sets")  # scripts/ is on the path (conftest)


def _truth(sets, side, start_s, peak, hike=0.0, lean=0.0):
    return sets.TrueRep(side, start_s, start_s + 1.8, peak, hike, lean)


def _counted(index, side, start_s, hike=0.0, lean=0.0, verdict=RepVerdict.CLEAN):
    return Rep(index, side, start_s + 0.3, start_s + 1.5, 20.0, 25.0, 0.4, hike, lean, verdict)


def test_a_set_is_scored_rep_by_rep_by_time_and_side(sets):
    case = sets.SetCase("x", "body", "tune", "none", Path("x.avi"), (
        _truth(sets, Side.LEFT, 1.5, 30), _truth(sets, Side.RIGHT, 4.0, 12),  # the small one must not count
        _truth(sets, Side.RIGHT, 6.5, 30, hike=8), _truth(sets, Side.LEFT, 9.0, 30, lean=5)), ())
    counted = [_counted(0, Side.LEFT, 1.5), _counted(1, Side.RIGHT, 6.5, hike=7.0, verdict=RepVerdict.PELVIS_HIKED),
               _counted(2, Side.LEFT, 20.0)]  # long after every true rep: an extra one
    scored = sets.score(case, counted, 18.0)
    assert scored["true"] == {"left": 2, "right": 1} and scored["counted"] == {"left": 2, "right": 1}
    assert scored["exact"]  # the counts per side agree ...
    assert scored["extra"] == 1  # ... but one rep is nobody's
    small, hiked, leaned = scored["reps"][1], scored["reps"][2], scored["reps"][3]
    assert not small["due"] and not small["counted"]
    assert hiked["expected"] == "pelvis_hiked" and hiked["verdict"] == "pelvis_hiked" and hiked["read_hike_deg"] == 7.0
    assert leaned["expected"] is None and not leaned["counted"]  # a 5° lean is in between: not scored
    summary = sets.summarise([scored])
    assert (summary["due"], summary["counted_right_side"], summary["small_counted"]) == (3, 2, 0)
    assert summary["hike_read_deg"] == {"0": [0.0], "8": [7.0]}


def test_a_threshold_is_taken_in_the_middle_of_its_best_range_or_above_an_open_one(sets):
    steps = {2.0 + 0.5 * k: 0 for k in range(25)}
    bounded = {**steps, **{v: 5 for v in (5.0, 5.5, 6.0, 6.5, 7.0)}}
    assert sets._middle_of_best(bounded) == 6.0
    open_top = {**steps, **{v: 5 for v in steps if v >= 9.0}}
    assert sets._middle_of_best(open_top) == 9.0 + sets.EDGE_MARGIN_DEG
