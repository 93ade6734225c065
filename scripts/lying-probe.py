#!/usr/bin/env python3
"""The pose model on a body lying on its side, with and without a crop turned upright (#31).

    python scripts/lying-probe.py --renders DIR [--json OUT]

A person lying on their side in front of the camera is, to the model, a person standing in a
picture turned by 90°: the same limbs, the same proportions, a quarter-turn away from everything
MoveNet learned on.  This probe makes that picture from the rendered standing bodies of
`scripts/render-bodies.py` (the `standing` stills, no marker, whose hip joints are known exactly):
each picture turned 90° one way and the other (head to the left, head to the right), the truth
turned with it.  Then, on the model as the kiosk builds it (`kiosk.app.assembly.build_model`):

- **as is**: one look at the whole turned picture, as the kiosk looks at a newcomer;
- **turned by the model's own first look**: the square around that look's keypoints, turned by
  its trunk axis (`kiosk.core.geometry.trunk_lean_deg`, hip midpoint to shoulder midpoint) so the
  trunk stands upright: what the kiosk could do with nothing but the picture;
- **turned both ways, the surer kept**: the whole picture turned a quarter each way, the look with
  the higher mean score kept (the model's confidence tells head-left from head-right);
- **then a crop around it**: the square around that look's keypoints, turned the same way (the
  kiosk's next frame, following the person);
- **turned by the truth**: the whole picture turned the right quarter (an upper bound).

Per way: the keypoints found (score ≥ 0.3, of 17), the hips' error against the truth (in hip
widths; a hip found on the wrong side counts as swapped), and how often both hips are found
within a quarter of a hip width.  Limits: the rooms turn with the bodies (the floor becomes a
wall), and a lying body's flesh and clothes do not sag as they would; the picture is otherwise
the rendered one.  For reference, **upright**: the same picture not turned at all (the body
standing), looked at whole.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.app.assembly import build_model
from kiosk.core.geometry import CropSquare, full_frame_square, trunk_lean_deg
from kiosk.core.types import Frame, Keypoint, Pose
from kiosk.settings.config import Config, MirrorAverage, ModelConfig
from kiosk.settings.model_files import resolve_model_path

FOUND_SCORE = 0.3
CLOSE_HIP_WIDTHS = 0.25
CROP_MARGIN = 1.25
"""The turned square's side: the keypoints' spread along the body times this."""


def turned(image: np.ndarray, hips: list[list[float]], clockwise: bool) -> tuple[np.ndarray, np.ndarray]:
    """The picture turned a quarter (clockwise or not) and the hips' truth with it."""
    height, width = image.shape[:2]
    points = np.array(hips, dtype=np.float64)
    if clockwise:
        out = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
        moved = np.stack([height - 1 - points[:, 1], points[:, 0]], axis=1)
    else:
        out = cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
        moved = np.stack([points[:, 1], width - 1 - points[:, 0]], axis=1)
    return out, moved


def square_around(pose: Pose, angle_deg: float) -> CropSquare:
    """The square, turned by `angle_deg`, around the keypoints the model was sure of."""
    sure = pose.xy_px[pose.scores >= FOUND_SCORE]
    points = sure if len(sure) >= 4 else pose.xy_px
    centre = points.mean(axis=0)
    side = CROP_MARGIN * float(np.ptp(points, axis=0).max()) or 100.0
    return CropSquare(float(centre[0] - side / 2), float(centre[1] - side / 2), side, angle_deg)


def judged(pose: Pose, truth: np.ndarray) -> dict[str, float | bool | int]:
    """Keypoints found, the hips' error in hip widths, and whether the two hips came out swapped."""
    found = int((pose.scores >= FOUND_SCORE).sum())
    left, right = pose.xy(Keypoint.LEFT_HIP), pose.xy(Keypoint.RIGHT_HIP)
    width = float(np.hypot(*(truth[0] - truth[1])))
    straight = max(float(np.hypot(*(left - truth[0]))), float(np.hypot(*(right - truth[1])))) / width
    crossed = max(float(np.hypot(*(left - truth[1]))), float(np.hypot(*(right - truth[0])))) / width
    hips_found = min(pose.score(Keypoint.LEFT_HIP), pose.score(Keypoint.RIGHT_HIP)) >= FOUND_SCORE
    return {"found": found, "hip_error_widths": round(min(straight, crossed), 3), "swapped": crossed < straight,
            "hips_close": hips_found and straight <= CLOSE_HIP_WIDTHS}


def probe(renders: Path, model_path: Path) -> dict[str, object]:
    truth = json.loads((renders / "truth.json").read_text())
    pictures = [p for p in truth["pictures"] if p["condition"] == "standing" and p["marker"] == "none"]
    config = Config(model=ModelConfig(mirror_average=MirrorAverage.ON, crop_tracking=False))
    model = build_model(config, model_path)
    rows: list[dict[str, object]] = []
    for picture in pictures:
        image = cv2.cvtColor(cv2.imread(str(renders / picture["file"])), cv2.COLOR_BGR2RGB)
        hips = picture["frames"][0]
        upright_truth = np.array([hips["left_hip_px"], hips["right_hip_px"]])
        standing = Frame(image, 0, 0.0)
        upright = model.look(standing, full_frame_square(standing.width_px, standing.height_px), [])
        upright_row = judged(upright, upright_truth)
        for clockwise in (True, False):
            lying, truth_xy = turned(image, [hips["left_hip_px"], hips["right_hip_px"]], clockwise)
            frame = Frame(lying, 0, 0.0)
            model.forget_person()
            square = full_frame_square(frame.width_px, frame.height_px)
            whole = model.look(frame, square, [])
            axis_deg = trunk_lean_deg(whole.hip_mid_px, whole.shoulder_mid_px)
            own = model.look(frame, square_around(whole, axis_deg), [])
            # both quarter turns of the whole picture; the model's own confidence picks one
            turns = {angle: model.look(frame, dataclasses.replace(square, angle_deg=angle), [])
                     for angle in (90.0, -90.0)}
            picked_deg = max(turns, key=lambda angle: float(np.mean(turns[angle].scores)))
            picked = turns[picked_deg]
            exact_deg = 90.0 if clockwise else -90.0
            closer = model.look(frame, square_around(picked, picked_deg), [])
            rows.append({"file": picture["file"], "body": picture["body"], "head": "left" if clockwise else "right",
                         "first_look_axis_deg": round(axis_deg, 1), "picked_turn_right": picked_deg == exact_deg,
                         "as_is": judged(whole, truth_xy), "turned_by_own_look": judged(own, truth_xy),
                         "turned_both_ways_picked": judged(picked, truth_xy),
                         "then_crop_around_it": judged(closer, truth_xy),
                         "turned_by_truth": judged(turns[exact_deg], truth_xy), "upright": upright_row})
    summary: dict[str, object] = {}
    for way in ("upright", "as_is", "turned_by_own_look", "turned_both_ways_picked", "then_crop_around_it",
                "turned_by_truth"):
        results = [row[way] for row in rows]
        summary[way] = {
            "keypoints_found_median": statistics.median(r["found"] for r in results),  # type: ignore[index]
            "hip_error_widths_median": round(statistics.median(r["hip_error_widths"] for r in results), 3),  # type: ignore[index]
            "hips_swapped": sum(bool(r["swapped"]) for r in results),  # type: ignore[index]
            "hips_close_share": round(sum(bool(r["hips_close"]) for r in results) / len(results), 3),  # type: ignore[index]
        }
    axis_errors = [abs(abs(float(row["first_look_axis_deg"])) - 90.0) for row in rows]  # type: ignore[arg-type]
    summary["first_look_axis_error_deg_median"] = round(statistics.median(axis_errors), 1)
    summary["first_look_axis_within_20_deg"] = sum(e <= 20 for e in axis_errors)
    summary["turn_picked_right"] = sum(bool(row["picked_turn_right"]) for row in rows)
    return {"pictures": len(rows), "summary": summary, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=Path, required=True, help="scripts/render-bodies.py's output folder")
    parser.add_argument("--model", help="MoveNet .tflite (else as the kiosk finds it)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.renders / "truth.json").is_file():
        print(f"lying-probe: {args.renders / 'truth.json'} does not exist: render the bodies first "
              "(scripts/render-bodies.py)", file=sys.stderr)
        return 2
    result = probe(args.renders, resolve_model_path(args.model, Config().model.path))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
