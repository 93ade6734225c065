#!/usr/bin/env python3
"""How well the picture's belt line (kiosk.belt) reads a tilt, beside the keypoints' reading.

    python scripts/belt-probe.py ../shared/data [--config FILE] [--set KEY=VALUE ...] [--json OUT]

It builds the side-by-side harness's `pelvis`, `rotation` and `real` cases (scripts/peers.py),
runs Beltline on them exactly as `beltline analyze` does, and then reads the belt line in each
picture around the hips the CSV gives (kiosk.belt.read_belt_line).  Per split it prints:

- pelvis: the share of a pelvis-only tilt read (slope of the read change against the true one)
  and the error of the change, for the keypoints and for the picture;
- rotation: the error of the change of tilt under a whole-picture turn, for both;
- per base: the picture's edge energy and coherence at 0° (what a fusion would weigh);
- real walks: each reading's frame-to-frame noise (from its second difference) and how far the
  picture's reading sits from the keypoints' (mean and sd of the difference).

Nothing here changes the ruler: it measures the evidence before it is fused.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from kiosk.belt import read_belt_line
from kiosk.config_file import load_config, with_overrides

from peers import Case, make_cases, read_rows, run_beltline, second_difference_noise


def _hips(row: dict[str, str]) -> tuple[np.ndarray, np.ndarray] | None:
    if not row["left_hip_x"]:
        return None
    return (np.array([float(row["left_hip_x"]), float(row["left_hip_y"])]),
            np.array([float(row["right_hip_x"]), float(row["right_hip_y"])]))


def photo_readings(case: Case, out: Path) -> tuple[float | None, float | None, float, float]:
    """(keypoint tilt, picture tilt, edge energy, coherence) of a one-frame case."""
    rows = read_rows(out, case)
    row = rows[-1] if rows else None
    hips = _hips(row) if row else None
    if row is None or hips is None or not row["tilt_deg"]:
        return None, None, math.nan, math.nan
    image = cv2.cvtColor(cv2.imread(str(case.path)), cv2.COLOR_BGR2RGB)
    evidence = read_belt_line(image, *hips)
    if evidence is None:
        return float(row["tilt_deg"]), None, 0.0, 0.0
    return float(row["raw_tilt_deg"]), evidence.tilt_deg, evidence.edge_energy, evidence.coherence


def slope_and_error(true: list[float], read: list[float]) -> dict[str, float | int | None]:
    if not true:
        return {"n": 0, "slope": None, "mean": None}
    x, y = np.array(true), np.array(read)
    return {"n": len(x), "slope": round(float(x @ y / (x @ x)), 2), "mean": round(float(np.abs(y - x).mean()), 2)}


def score_photos(cases: list[Case], out: Path) -> dict[str, object]:
    readings = {c.name: photo_readings(c, out) for c in cases}
    report: dict[str, object] = {}
    for split in ("tune", "held", "all"):
        chosen = [c for c in cases if split == "all" or c.split == split]
        groups: dict[tuple[str, str, bool], dict[float, Case]] = defaultdict(dict)
        for c in chosen:
            groups[(c.family, c.group, c.mirrored)][c.angle_deg] = c
        changes: dict[str, dict[str, tuple[list[float], list[float]]]] = defaultdict(
            lambda: {"keypoints": ([], []), "picture": ([], [])})
        for (family, _, _), members in groups.items():
            reference = members.get(0.0)
            if reference is None:
                continue
            ref = readings[reference.name]
            for angle, c in members.items():
                if not angle:
                    continue
                now = readings[c.name]
                true = (c.truth_deg - reference.truth_deg if family == "pelvis" and c.truth_deg is not None
                        and reference.truth_deg is not None else c.expected_sign * angle)
                for way, index in (("keypoints", 0), ("picture", 1)):
                    if now[index] is not None and ref[index] is not None:
                        changes[family][way][0].append(true)
                        changes[family][way][1].append(now[index] - ref[index])
        report[split] = {family: {way: slope_and_error(*pair) for way, pair in ways.items()}
                         for family, ways in changes.items()}
    bases = {}
    for c in cases:
        if c.angle_deg == 0.0 and not c.mirrored:
            _, picture, energy, coherence = readings[c.name]
            bases[c.group] = {"family": c.family, "split": c.split, "edge_energy": round(energy, 1),
                              "coherence": round(coherence, 3), "picture_tilt_deg": picture}
    report["bases"] = bases
    return report


def score_real(case: Case, out: Path) -> dict[str, object]:
    """The two readings over a real clip, frame by frame, where the keypoints gave a verdict."""
    rows = {int(r["frame"]): r for r in read_rows(out, case) if r["raw_tilt_deg"]}
    capture = cv2.VideoCapture(str(case.path))
    pairs: list[dict[str, str]] = []
    index = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        row = rows.get(index)
        hips = _hips(row) if row else None
        picture = ""
        if row is not None and hips is not None:
            evidence = read_belt_line(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), *hips)
            picture = f"{evidence.tilt_deg:.4f}" if evidence else ""
        pairs.append({"frame": str(index), "keypoints": row["raw_tilt_deg"] if row else "", "picture": picture})
        index += 1
    capture.release()
    both = [(float(p["keypoints"]), float(p["picture"])) for p in pairs if p["keypoints"] and p["picture"]]
    difference = np.array([b - a for a, b in both]) if both else np.array([np.nan])
    return {"frames": len(pairs), "read_by_picture": len(both),
            "keypoint_noise": round(second_difference_noise(pairs, "keypoints")[0], 2),
            "picture_noise": round(second_difference_noise(pairs, "picture")[0], 2),
            "picture_minus_keypoints_mean": round(float(np.mean(difference)), 2),
            "picture_minus_keypoints_sd": round(float(np.std(difference)), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = with_overrides(load_config(args.config), args.set)
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        (work / "beltline").mkdir()
        cases = make_cases(args.data, work, {"pelvis", "rotation", "real"})
        run_beltline(cases, work / "beltline", config, args.model)
        report = score_photos([c for c in cases if c.family in ("pelvis", "rotation")], work / "beltline")
        report["real"] = {c.name: score_real(c, work / "beltline") for c in cases if c.family == "real"}
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
