#!/usr/bin/env python3
"""Where MoveNet's hips come from, read inside the model: its heatmap and its offset head apart.

    python scripts/model-internals.py ../shared/data [--config FILE] [--model FILE] [--json OUT]

For each annotated photo (tfex_image1.png, tfex_image2.jpeg, with the official keypoints), as
it is and placed level at the accuracy harness's three sizes in a 1280×720 frame, the kiosk as
`beltline analyze` builds it looks at the photo (the whole frame, then the crop around the
person it found), and the decoder's own fields for that crop are read for the crop and its
mirror (kiosk.pose.MoveNet.decoder_fields).  Each hip is then placed five ways, all from the
same invoke:

- plain: the model's final output (one cell's vote, re-quantized to 1/244 of the input);
- cell vote: the chosen cell plus its own offset vector, not re-quantized;
- votes: the shipped decoding (kiosk.decode: the heatmap-weighted votes around the chosen cell);
- heatmap centroid: the same window's cells weighted by the heatmap, no offset vectors at all;
- heatmap peak fit: a parabola through the chosen cell and its four neighbours, no offsets.

It prints each way's hip positions against the annotation (frame pixels) and the hip line it
gives (degrees, the ruler's sign), for the crop, its mirror and their mean (mirror averaging).
When the heatmap and the offset head disagree about the hip line, this shows which one the error
comes from; a decoding can only choose among what these two heads say.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from kiosk.assembly import Purpose, assemble
from kiosk.config_file import load_config
from kiosk.decode import VoteDecoder
from kiosk.geometry import hip_tilt_deg
from kiosk.model_files import resolve_model_path
from kiosk.model_io import DecoderFields
from kiosk.pose import MIRROR_ORDER, MoveNet
from kiosk.types import Frame, Keypoint

from harness import Placement, load_truth_photos, render, true_tilt_deg

HIPS = (Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)


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
        "heatmap centroid": VoteDecoder(radius=decoder.radius, weight=decoder.weight,
                                        offset_share=0.0).decode(*args) / grid,
        "heatmap peak fit": peak_fit(fields) / grid,
    }


def offset_spread_px(fields: DecoderFields, keypoint: int, size_px: int) -> float:
    """How far the offset votes of the 3×3 cells around the chosen one scatter (sd, input px)."""
    grid = fields.heatmap.shape[0]
    row, col = divmod(int(fields.cells[keypoint]), grid)
    votes = [(r + fields.offsets[r, c, 2 * keypoint], c + fields.offsets[r, c, 2 * keypoint + 1])
             for r in range(max(row - 1, 0), min(row + 2, grid)) for c in range(max(col - 1, 0), min(col + 2, grid))]
    return float(np.linalg.norm(np.std(np.array(votes), axis=0)) * size_px / grid)


def look_inside(model: MoveNet, decoder: VoteDecoder, frame: Frame, keypoints_px: np.ndarray,
                name: str) -> dict[str, object] | None:
    model.forget_person()
    model.infer(model.prepare(frame))  # the whole frame: the crop around the person is followed
    prepared = model.prepare(frame)  # that crop, the one analyze's second look reads
    both = model.decoder_fields(prepared)
    prepared.release()
    if both is None:
        return None
    own, mirrored = (placements(fields, decoder) for fields in both)
    truth = keypoints_px[list(HIPS)]
    truth_deg = true_tilt_deg(keypoints_px)
    heat = both[0].heatmap.reshape(-1, 17)
    print(f"\n{name}: annotated hip line {truth_deg:+.2f} deg; crop {prepared.mapping.scale_x:.2f} frame px "
          f"per input px; hip heatmap peaks {', '.join(f'{heat[both[0].cells[k], k]:.2f}' for k in HIPS)}; "
          f"offset votes of the 3x3 cells scatter by "
          f"{', '.join(f'{offset_spread_px(both[0], k, model.input_size_px):.1f}' for k in HIPS)} input px")
    print(f"  {'way':<17} {'crop':>8} {'mirror':>8} {'mean':>8}   hip errors of the mean, frame px")
    rows: dict[str, object] = {}
    for way in own:
        lines = {}
        for label, yx in (("crop", own[way]), ("mirror", mirrored[way])):
            xy = yx[:, ::-1] * model.input_size_px
            if label == "mirror":  # back to the crop's side, left and right swapped
                xy[:, 0] = model.input_size_px - xy[:, 0]
                xy = xy[MIRROR_ORDER]
            lines[label] = prepared.mapping.to_frame(xy)[list(HIPS)]
        lines["mean"] = (lines["crop"] + lines["mirror"]) / 2
        tilts = {label: hip_tilt_deg(hips[0], hips[1]) for label, hips in lines.items()}
        errors = np.linalg.norm(lines["mean"] - truth, axis=1)
        rows[way] = {"tilt_deg": {k: round(v, 2) for k, v in tilts.items()},
                     "hip_error_px": [round(float(e), 1) for e in errors]}
        print(f"  {way:<17} {tilts['crop']:+8.2f} {tilts['mirror']:+8.2f} {tilts['mean']:+8.2f}   "
              f"left {errors[0]:.1f}, right {errors[1]:.1f}")
    return {"truth_deg": round(truth_deg, 2), "ways": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = load_config(args.config)
    kiosk = assemble(config, resolve_model_path(args.model, config.model.path), Purpose.ANALYZE)
    model = kiosk.model
    decoder = VoteDecoder(config.model.refine_radius, config.model.refine_weight)
    report: dict[str, object] = {}
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
