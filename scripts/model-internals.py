#!/usr/bin/env python3
"""Where MoveNet's hips come from, read inside the model: its heatmap and its offset head apart.

    python scripts/model-internals.py ../shared/data [--config FILE] [--model FILE] [--json OUT]

For each annotated photo (tfex_image1.png, tfex_image2.jpeg, with the official keypoints), as
it is and placed level at the accuracy harness's three sizes in a 1280×720 frame, the kiosk as
`beltline analyze` builds it looks at the photo (the whole frame, then the crop around the
person it found), and the decoder's own fields for that crop are read for the crop and its
mirror (kiosk.model.pose.MoveNet.decoder_fields).  Each hip is then placed five ways, all from the
same invoke:

- plain: the model's final output (one cell's vote, re-quantized to 1/244 of the input);
- cell vote: the chosen cell plus its own offset vector, not re-quantized;
- votes: the shipped decoding (kiosk.model.decode: the heatmap-weighted votes around the chosen cell);
- heatmap centroid: the same window's cells weighted by the heatmap, no offset vectors at all;
- heatmap peak fit: a parabola through the chosen cell and its four neighbours, no offsets.

For each way it prints the mirror-averaged hip line over the 25 crops (degrees, the ruler's
sign): its bias against the annotation, which no averaging over frames removes, and its spread,
which a filter has to remove.  A decoding can only choose among what these two heads say: when
every way is biased, the error is the model's.

With `--renders DIR` (scripts/render-bodies.py's pictures) it asks the same of the articulated
bodies: for each body standing with no marker, its pelvis rolled −8…+8° under an upright trunk
with the feet planted, the five ways' mean hip lines against the projected hip joints, and the
slope of each against the truth (1: the head places the hips with the pelvis; 0: it does not).

Then, for the crop the kiosk follows, it changes 17 of the input's 110 592 values by one grey
level (random places and signs, 25 draws; far less than a camera's noise, and as many as the area
resize of a mirrored picture rounds differently) and prints how far the shipped hip line moves.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from kiosk.app.assembly import Purpose, assemble
from kiosk.core.geometry import CropSquare, hip_tilt_deg
from kiosk.core.types import Frame, Keypoint
from kiosk.model.decode import VoteDecoder
from kiosk.model.follow import crop_around
from kiosk.model.inputs import PreparedInput
from kiosk.model.pose import MIRROR_ORDER, MoveNet
from kiosk.model.tensors import DecoderFields
from kiosk.settings.config_file import load_config
from kiosk.settings.model_files import resolve_model_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))  # fakes, harness
from harness import Placement, load_truth_photos, render, true_tilt_deg

HIPS = (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)
GREY_LEVEL_VALUES = 17
GREY_LEVEL_DRAWS = 25


def peak_fit(fields: DecoderFields) -> np.ndarray:
    """(K, 2) y, x in cells: a parabola through the chosen cell and its neighbours, per axis."""
    heat = fields.heatmap
    grid = heat.shape[0]
    out = np.empty((heat.shape[2], 2))
    for k in range(heat.shape[2]):
        row, col = divmod(int(fields.cells[k]), grid)
        for axis, (r0, c0, dr, dc) in enumerate(((row, col, 1, 0), (row, col, 0, 1))):
            centre = heat[r0, c0, k]
            before = heat[max(r0 - dr, 0), max(c0 - dc, 0), k]
            after = heat[min(r0 + dr, grid - 1), min(c0 + dc, grid - 1), k]
            curvature = before - 2 * centre + after
            shift = 0.5 * (before - after) / curvature if curvature < 0 else 0.0
            out[k, axis] = (row if axis == 0 else col) + float(np.clip(shift, -0.5, 0.5))
    return out


def placements(fields: DecoderFields, decoder: VoteDecoder) -> dict[str, np.ndarray]:
    """Each way's (K, 2) y, x in 0..1 of the input square."""
    grid = fields.heatmap.shape[0]
    args = (fields.heatmap, fields.offsets, fields.cells)
    return {
        "plain": fields.plain_rows[:, :2],
        "cell vote": VoteDecoder(radius=0).decode(*args) / grid,
        "votes": decoder.decode(*args) / grid,
        # the votes without their offsets: the heatmap's weighted centroid around the chosen cell
        "heatmap centroid": decoder.decode(fields.heatmap, np.zeros_like(fields.offsets), fields.cells) / grid,
        "heatmap peak fit": peak_fit(fields) / grid,
    }


SHIFTS_INPUT_PX = (-1.0, -0.5, 0.0, 0.5, 1.0)
"""The crop moved by these fractions of a model-input pixel, across and down: 25 crops, as a crop
that follows each frame's keypoints wanders."""


def look_inside(model: MoveNet, decoder: VoteDecoder, frame: Frame, keypoints_px: np.ndarray,
                name: str) -> dict[str, object] | None:
    """Each way's mirror-averaged hip line over 25 crops around the person: its mean (the bias no
    averaging over frames removes) and its spread (the noise a filter has to remove)."""
    model.forget_person()
    base = crop_around(model.infer(model.prepare(frame)))  # the crop the kiosk follows after one look
    step_px = base.side_px / model.input_size_px
    truth_deg = true_tilt_deg(keypoints_px)
    tilts: dict[str, list[float]] = {}
    for dx, dy in itertools.product(SHIFTS_INPUT_PX, SHIFTS_INPUT_PX):
        crop = dataclasses.replace(base, left_px=base.left_px + dx * step_px, top_px=base.top_px + dy * step_px)
        prepared = model.prepare(frame, crop)
        both = model.decoder_fields(prepared)
        prepared.release()
        if both is None:
            return None
        own, mirrored = (placements(fields, decoder) for fields in both)
        for way in own:
            xy = own[way][:, ::-1] * model.input_size_px
            back = mirrored[way][:, ::-1] * model.input_size_px
            back[:, 0] = model.input_size_px - back[:, 0]  # back to the crop's side, left and right swapped
            hips = prepared.mapping.to_frame((xy + back[MIRROR_ORDER]) / 2)[list(HIPS)]
            tilts.setdefault(way, []).append(hip_tilt_deg(hips[0], hips[1]))
    grey = grey_level_moves(model, decoder, frame, base)
    print(f"\n{name}: annotated hip line {truth_deg:+.2f} deg; {len(SHIFTS_INPUT_PX) ** 2} crops of "
          f"{base.side_px:.0f} px, moved by up to {max(SHIFTS_INPUT_PX):.0f} input px ({step_px:.1f} frame px)")
    print(f"  {'way':<17} {'mean':>7} {'bias':>7} {'spread':>7} {'worst':>7}   (deg; mirror-averaged)")
    rows: dict[str, object] = {}
    for way, values in tilts.items():
        errors = np.array(values) - truth_deg
        rows[way] = {"mean_deg": round(float(np.mean(values)), 2), "bias_deg": round(float(np.mean(errors)), 2),
                     "spread_deg": round(float(np.std(values)), 2),
                     "worst_error_deg": round(float(np.abs(errors).max()), 2)}
        print(f"  {way:<17} {np.mean(values):+7.2f} {np.mean(errors):+7.2f} {np.std(values):7.2f} "
              f"{np.abs(errors).max():7.2f}")
    print(f"  {GREY_LEVEL_VALUES} input values one grey level off ({GREY_LEVEL_DRAWS} draws): the votes' hip line "
          f"moves {grey.std():.2f} deg (sd), {np.abs(grey).max():.2f} deg at most")
    return {"truth_deg": round(truth_deg, 2), "ways": rows,
            "grey_levels": {"values": GREY_LEVEL_VALUES, "draws": GREY_LEVEL_DRAWS,
                            "spread_deg": round(float(grey.std()), 2),
                            "worst_deg": round(float(np.abs(grey).max()), 2)}}


def _votes_tilt_deg(model: MoveNet, decoder: VoteDecoder, prepared: PreparedInput) -> float:
    """The shipped decoding's mirror-averaged hip line for a prepared input, as it stands."""
    both = model.decoder_fields(prepared)
    assert both is not None
    own, mirrored = (placements(fields, decoder)["votes"] for fields in both)
    xy, back = own[:, ::-1] * model.input_size_px, mirrored[:, ::-1] * model.input_size_px
    back[:, 0] = model.input_size_px - back[:, 0]
    hips = prepared.mapping.to_frame((xy + back[MIRROR_ORDER]) / 2)[list(HIPS)]
    return hip_tilt_deg(hips[0], hips[1])


def grey_level_moves(model: MoveNet, decoder: VoteDecoder, frame: Frame, crop: CropSquare) -> np.ndarray:
    """How far the shipped hip line moves when a few input values change by one grey level."""
    rng = np.random.default_rng(0)
    prepared = model.prepare(frame, crop)
    tensor = prepared.tensor
    original = tensor.copy()
    info = np.iinfo(tensor.dtype)
    mirror = prepared.mirror_tensor

    def tilt_deg() -> float:  # the mirrored look made from this very input, so both see the change
        if mirror is not None:
            cv2.flip(tensor[0], 1, dst=mirror[0])
        return _votes_tilt_deg(model, decoder, prepared)

    reference = tilt_deg()
    moves = []
    for _ in range(GREY_LEVEL_DRAWS):
        places = rng.choice(tensor.size, GREY_LEVEL_VALUES, replace=False)
        flat = original.reshape(-1).astype(np.int64)
        flat[places] = np.clip(flat[places] + rng.choice((-1, 1), GREY_LEVEL_VALUES), info.min, info.max)
        tensor[...] = flat.reshape(tensor.shape)
        moves.append(tilt_deg() - reference)
    prepared.release()
    return np.array(moves)


def articulated(model: MoveNet, decoder: VoteDecoder, renders: Path) -> dict[str, object]:
    """Each way's slope against the truth over each body's standing roll (no marker)."""
    pictures = json.loads((renders / "truth.json").read_text())["pictures"]
    out: dict[str, object] = {}
    for body in sorted({p["body"] for p in pictures}):
        standing = sorted((p for p in pictures if p["body"] == body and p["condition"] == "standing"
                           and p["marker"] == "none"), key=lambda p: p["param_deg"])
        truths, means = [], {}
        for picture in standing:
            frame = picture["frames"][0]
            truth = np.zeros((17, 2))
            truth[Keypoint.LEFT_HIP], truth[Keypoint.RIGHT_HIP] = frame["left_hip_px"], frame["right_hip_px"]
            image = cv2.cvtColor(cv2.imread(str(renders / picture["file"])), cv2.COLOR_BGR2RGB)
            result = look_inside(model, decoder, Frame(image, 0, 0.0), truth, f"{body} {picture['file']}")
            if result is None:
                continue
            truths.append(true_tilt_deg(truth))
            for way, row in result["ways"].items():  # type: ignore[union-attr]
                means.setdefault(way, []).append(row["mean_deg"])
        x = np.array(truths) - np.mean(truths)
        slopes = {way: round(float(x @ (np.array(v) - np.mean(v)) / (x @ x)), 3) for way, v in means.items()}
        print(f"\n{body}: slope of each way's hip line against the hip joints' roll "
              f"({len(truths)} pictures, {min(truths):+.1f}..{max(truths):+.1f} deg): {slopes}")
        out[body] = slopes
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--renders", type=Path, help="scripts/render-bodies.py's folder: the articulated bodies")
    args = parser.parse_args()
    config = load_config(args.config)
    kiosk = assemble(config, resolve_model_path(args.model, config.model.path), Purpose.ANALYZE)
    model = kiosk.model
    decoder = VoteDecoder(config.model.refine_radius)
    report: dict[str, object] = {}
    if args.renders:
        report["articulated"] = articulated(model, decoder, args.renders)
        if args.json:
            args.json.write_text(json.dumps(report, indent=1) + "\n")
        return 0
    for photo in load_truth_photos(args.data):
        views = [(f"{photo.name} as it is", photo.image, photo.keypoints_px)]
        for height in (0.3, 0.6, 0.9):
            image, truth_px = render(photo, Placement(0.0, height, 0.6))
            views.append((f"{photo.name} at {height:.0%} of the frame's height", image, truth_px))
        for name, image, keypoints_px in views:
            result = look_inside(model, decoder, Frame(image, 0, 0.0), keypoints_px, name)
            if result is None:
                print("model-internals: this model has no heatmap and offsets to read", file=sys.stderr)
                return 2
            report[name] = result
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
