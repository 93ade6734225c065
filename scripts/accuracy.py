#!/usr/bin/env python3
"""Accuracy harness: how close is the ruler to the truth?  Prints the figures the README quotes.

    python scripts/accuracy.py ../shared/data [--config PATH] [--model PATH] [--json OUT]

Truth comes from the official ground-truth keypoints of two real photos, carried through exact
rotations, scalings and mirrors (tests/support/harness.py), never from a model.  Every case runs through
the kiosk as `beltline analyze` builds it (kiosk.app.assembly: model, crop tracking, the single-mode
lock, gates, smoothing, verdict), restarted for each case.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from kiosk.app.assembly import Kiosk, Purpose, assemble
from kiosk.core.types import Frame, Image, State, Verdict
from kiosk.settings.config_file import load_config, with_overrides
from kiosk.settings.model_files import resolve_model_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))  # fakes, harness
from harness import (
    Placement,
    TruthPhoto,
    load_truth_photos,
    render,
    standing_sequence,
    true_tilt_deg,
    walking_sequence,
)

STILL_FRAMES = 12
ANGLES = (-8.0, -4.0, 0.0, 4.0, 8.0)
HEIGHTS = (0.15, 0.3, 0.6, 0.9)
CENTERS = (0.35, 0.6)


def verdict_of(kiosk: Kiosk, frame: Frame) -> Verdict:
    """The kiosk's verdict on one frame of a single person."""
    return kiosk.pipeline.step(frame)[0].verdict


def run_still(kiosk: Kiosk, image: Image) -> tuple[float | None, list[float]]:
    """A still picture shown for a moment: the tilt the ruler ends on, and each frame's raw tilt."""
    kiosk = kiosk.restarted()
    shown: float | None = None
    raw: list[float] = []
    for index in range(STILL_FRAMES):
        verdict = verdict_of(kiosk, Frame(image, index, index / 30, still=True))
        shown = verdict.tilt_deg
        if verdict.raw_tilt_deg is not None:
            raw.append(verdict.raw_tilt_deg)
    return shown, raw


def static_cases(kiosk: Kiosk, photos: list[TruthPhoto]) -> dict:
    rows = []
    for photo in photos:
        for height in HEIGHTS:
            for center in CENTERS:
                for angle in ANGLES:
                    pair = {}
                    for mirrored in (False, True):
                        image, truth = render(photo, Placement(angle, height, center, mirrored))
                        shown, _ = run_still(kiosk, image)
                        pair[mirrored] = shown
                        rows.append({"photo": photo.name, "height": height, "center": center, "angle": angle,
                                     "mirrored": mirrored, "truth": true_tilt_deg(truth), "shown": shown})
                    if pair[False] is not None and pair[True] is not None:
                        rows[-1]["mirror_sum"] = pair[False] + pair[True]
    # Calibrated: the same person stood level on the same spot first (angle 0), and the ruler shows
    # the change from there; the truth is then the change of the true tilt from angle 0.
    standing = {(r["photo"], r["height"], r["center"], r["mirrored"]): r for r in rows if r["angle"] == 0.0}
    for row in rows:
        level = standing[(row["photo"], row["height"], row["center"], row["mirrored"])]
        if row["angle"] != 0.0 and row["shown"] is not None and level["shown"] is not None:
            row["calibrated_error"] = abs((row["shown"] - level["shown"]) - (row["truth"] - level["truth"]))

    def summary(selected):
        judged = [r for r in selected if r["shown"] is not None]
        errors = [abs(r["shown"] - r["truth"]) for r in judged]
        sums = [abs(r["mirror_sum"]) for r in selected if "mirror_sum" in r]
        signs = [r for r in selected if "mirror_sum" in r]
        calibrated = [r["calibrated_error"] for r in selected if "calibrated_error" in r]
        return {
            "cases": len(selected),
            "judged": len(judged),
            "mean_error_deg": round(statistics.fmean(errors), 2) if errors else None,
            "max_error_deg": round(max(errors), 2) if errors else None,
            "mirror_pairs": len(signs),
            "mirror_pairs_within_0_5": sum(s <= 0.5 for s in sums),
            "mirror_sum_mean_deg": round(statistics.fmean(sums), 2) if sums else None,
            "calibrated_mean_error_deg": round(statistics.fmean(calibrated), 2) if calibrated else None,
            "calibrated_max_error_deg": round(max(calibrated), 2) if calibrated else None,
        }
    return {
        "person >= 1/4 frame height": summary([r for r in rows if r["height"] >= 0.25]),
        "far (0.15 of frame height)": summary([r for r in rows if r["height"] < 0.25]),
    }


def lag_ms(truth: np.ndarray, shown: np.ndarray, fps: float) -> float:
    """The delay that best lines the shown tilt up with the truth (cross-correlation, up to 0.5 s)."""
    best, best_lag = -math.inf, 0
    for lag in range(int(0.5 * fps) + 1):
        a, b = truth[: len(truth) - lag], shown[lag:]
        if a.std() == 0 or b.std() == 0:
            continue
        corr = float(np.corrcoef(a, b)[0, 1])
        if corr > best:
            best, best_lag = corr, lag
    return 1000.0 * best_lag / fps


def colour_flips(states: list[State]) -> int:
    judged = [s for s in states if s is not State.NONE]
    return sum(1 for a, b in itertools.pairwise(judged) if a is not b)


def dynamic_cases(kiosk: Kiosk, photos: list[TruthPhoto]) -> dict:
    tolerance = kiosk.config.pelvis.tolerance_deg
    out = {}
    for photo in photos:
        walk = kiosk.restarted()
        truth, shown, agree, judged = [], [], 0, 0
        for item in walking_sequence(photo):
            verdict = verdict_of(walk, item.frame)
            if verdict.tilt_deg is None:
                continue
            judged += 1
            truth.append(item.true_tilt_deg)
            shown.append(verdict.tilt_deg)
            true_state = State.LEVEL if abs(item.true_tilt_deg) <= tolerance else State.TILTED
            agree += verdict.state is true_state
        t, s = np.array(truth), np.array(shown)
        stand = kiosk.restarted()
        standing, states = [], []
        for item in standing_sequence(photo):
            verdict = verdict_of(stand, item.frame)
            states.append(verdict.state)
            if verdict.tilt_deg is not None:
                standing.append(verdict.tilt_deg)
        # Calibrated: `beltline calibrate` stores the mean standing tilt; the ruler then shows the
        # walk's tilt from it, and the truth is the walk's true tilt from the standing truth.
        standing_truth = true_tilt_deg(render(photo, Placement(0.0, 0.6))[1])
        calibrated = _calibrated_walk(kiosk, photo, float(np.mean(standing)), standing_truth) if standing else {}
        out[photo.name] = {
            **calibrated,
            "walk_frames_judged": f"{judged}/300",
            "walk_rmse_deg": round(float(np.sqrt(np.mean((s - t) ** 2))), 2) if judged else None,
            "walk_lag_ms": round(lag_ms(t, s, 30.0)) if judged else None,
            "walk_state_agreement": round(agree / judged, 3) if judged else None,
            "standing_spread_deg": round(float(np.std(standing)), 2) if standing else None,
            "standing_bias_deg": round(float(np.mean(standing)) - standing_truth, 2) if standing else None,
            "standing_colour_flips_per_min": round(colour_flips(states) / (len(states) / 30 / 60), 1),
        }
    return out


def _calibrated_walk(kiosk: Kiosk, photo: TruthPhoto, baseline_deg: float, standing_truth_deg: float) -> dict:
    walk = kiosk.restarted(baseline_deg=baseline_deg)
    tolerance = kiosk.config.pelvis.tolerance_deg
    truth, shown, agree = [], [], 0
    for item in walking_sequence(photo):
        verdict = verdict_of(walk, item.frame)
        if verdict.tilt_deg is None:
            continue
        true_drop = item.true_tilt_deg - standing_truth_deg
        truth.append(true_drop)
        shown.append(verdict.tilt_deg)
        agree += verdict.state is (State.LEVEL if abs(true_drop) <= tolerance else State.TILTED)
    if not truth:
        return {}
    t, s = np.array(truth), np.array(shown)
    return {"calibrated_walk_rmse_deg": round(float(np.sqrt(np.mean((s - t) ** 2))), 2),
            "calibrated_walk_state_agreement": round(agree / len(truth), 3)}


def placement_spread(kiosk: Kiosk, photos: list[TruthPhoto]) -> dict:
    """The model's floor: one photo at one true tilt, only moved and scaled to 15 places in the
    frame.  A still picture leaves a filter nothing to average, so this spread is the model's."""
    out = {}
    for photo in photos:
        for angle in (0.0, 4.0):
            errors = []
            for height in (0.3, 0.45, 0.6, 0.75, 0.9):
                for center in (0.35, 0.5, 0.6):
                    image, truth = render(photo, Placement(angle, height, center))
                    shown, _ = run_still(kiosk, image)
                    if shown is not None:
                        errors.append(shown - true_tilt_deg(truth))
            out[f"{photo.name} at {angle:+.0f} deg"] = {
                "placements_judged": len(errors),
                "error_mean_deg": round(statistics.fmean(errors), 2) if errors else None,
                "error_sd_deg": round(statistics.pstdev(errors), 2) if errors else None,
                "error_range_deg": round(max(errors) - min(errors), 2) if errors else None,
            }
    return out


def ground_truth_photos(kiosk: Kiosk, photos: list[TruthPhoto]) -> dict:
    out = {}
    for photo in photos:
        shown, _raw = run_still(kiosk, photo.image)
        truth = true_tilt_deg(photo.keypoints_px)
        out[photo.name] = {"truth_deg": round(truth, 2), "shown_deg": None if shown is None else round(shown, 2),
                           "error_deg": None if shown is None else round(abs(shown - truth), 2)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the folder with tfex_image1.png, tfex_image2.jpeg and the truth CSV")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a config value for this run (a lever), e.g. model.crop_tracking=false")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = load_config(args.config)
    config = with_overrides(config, args.set)
    kiosk = assemble(config, resolve_model_path(args.model, config.model.path), Purpose.ANALYZE)
    photos = load_truth_photos(args.data)
    started = time.perf_counter()
    report = {
        "settings": {"overrides": args.set, "tolerance_deg": config.pelvis.tolerance_deg,
                     "smoothing_s": config.pelvis.smoothing_s, "crop_tracking": config.model.crop_tracking,
                     "mirror_average": config.model.mirror_average},
        "ground_truth_photos": ground_truth_photos(kiosk, photos),
        "static": static_cases(kiosk, photos),
        "dynamic": dynamic_cases(kiosk, photos),
        "placement_spread": placement_spread(kiosk, photos),
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
