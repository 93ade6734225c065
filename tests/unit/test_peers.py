"""The side-by-side harness's scoring (scripts/peers.py), on rows with a known answer."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def peers():
    import peers  # scripts/peers.py (conftest puts scripts/ on the path)

    return peers


def _rows(values):
    return [{"frame": str(i), "tilt_deg": "" if v is None else f"{v:.4f}", "raw_tilt_deg": "",
             "state": "none" if v is None else ("level" if abs(v) <= 5 else "tilted")} for i, v in enumerate(values)]


def test_the_second_difference_finds_white_noise_and_ignores_a_slow_swing(peers):
    rng = np.random.default_rng(0)
    t = np.arange(3000) / 30
    noisy = 4 * np.sin(2 * np.pi * 0.5 * t) + rng.normal(0, 0.5, t.size)  # a step a second, plus noise
    noise, frames = peers.second_difference_noise(_rows(noisy), "tilt_deg")
    assert noise == pytest.approx(0.5, rel=0.1) and frames == 3000
    smooth, _ = peers.second_difference_noise(_rows(4 * np.sin(2 * np.pi * 0.5 * t)), "tilt_deg")
    assert smooth < 0.05


def test_runs_without_a_verdict_break_the_second_difference(peers):
    values = [0.0] * 5 + [None] + [9.0] * 5  # a jump across the gap is not noise
    noise, _ = peers.second_difference_noise(_rows(values), "tilt_deg")
    assert noise == pytest.approx(0.0, abs=1e-9)


def test_colour_flips_count_changes_between_judged_frames(peers):
    assert peers.flips(_rows([1.0, 6.0, None, 6.5, 1.0, 1.0])) == 2


def test_the_lag_is_found_where_the_shown_tilt_best_follows_the_truth(peers):
    truth = np.sin(np.arange(300) / 30 * 2 * np.pi)
    shown = np.concatenate([np.zeros(2), truth[:-2]])  # two frames behind
    assert peers.lag_ms(truth, shown) == pytest.approx(2 * 1000 / 30, abs=1.0)


def test_the_lag_is_found_to_a_fraction_of_a_frame(peers):
    t_s = np.arange(300) / 30
    truth = np.sin(t_s * 2 * np.pi * 0.7)
    shown = np.sin((t_s - 0.075) * 2 * np.pi * 0.7)  # 75 ms behind: between two and three frames
    assert peers.lag_ms(truth, shown) == pytest.approx(75.0, abs=4.0)


def test_the_pelvis_slope_is_the_share_of_the_true_change_read(peers):
    from pathlib import Path

    cases, tilts = [], {}
    for group, offset in (("a", 1.0), ("b", -3.0)):
        for angle in (-4.0, 0.0, 2.0, 8.0):
            name = f"{group}{angle}"
            cases.append(peers.Case(name, "pelvis", "tune", Path(name), truth_deg=offset - angle, group=group,
                                    angle_deg=angle))
            tilts[name] = 10.0 + 0.25 * (offset - angle)  # reads a quarter of every change
    figures = peers.pelvis_figures(cases, tilts)
    assert figures["n"] == 6 and figures["slope"] == pytest.approx(0.25)
    assert figures["max"] == pytest.approx(0.75 * 8.0)
    tilts["b0.0"] = None  # no verdict on a group's untouched picture: that group cannot be scored
    assert peers.pelvis_figures(cases, tilts)["n"] == 3
