#!/usr/bin/env python3
"""How well the picture's belt line (kiosk.body.belt) reads a tilt, beside the keypoints' reading.

    python scripts/belt-probe.py ../shared/data [--config FILE] [--set KEY=VALUE ...] [--json OUT]

It builds the side-by-side harness's `pelvis` and `rotation` cases (scripts/peers.py), runs
Beltline on them exactly as `beltline analyze` does, with the picture fused into the ruler
(`pelvis.belt_picture = "fuse"`), and reads the belt line in each picture around the hips the CSV
gives (kiosk.body.belt.read_belt_line).  Per split it prints, for the keypoints alone (the CSV's
raw_tilt_deg), the picture alone, and the ruler (the fused tilt_deg):

- pelvis: the share of a pelvis-only tilt read (slope of the read change against the true one)
  and the error of the change;
- rotation: the error of the change of tilt under a whole-picture turn;
- per base: the picture's edge energy, coherence and span at 0°.

(The picture alone is read here from the CSV's hips, with no arms left out: a diagnostic of the
window, not of the kiosk, whose own reading is the CSV's picture_tilt_deg.)

Then every clip in the folder, through `analyze` with the picture off and fused, from the fused
run's CSV: how often the picture was clear (attached to the reading as the kiosk attaches it) and
within the gate of the hip joints' line, how far it sits from that line (mean and sd), the median
hip width, and verdict coverage and the level share, off → fused (the failure modes, clip by clip).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from kiosk.app.analyze import analyze
from kiosk.app.assembly import Purpose, assemble
from kiosk.body.belt import read_belt_line
from kiosk.settings.config import Config
from kiosk.settings.config_file import load_config, with_overrides
from kiosk.settings.model_files import resolve_model_path

from peers import SPLITS, Case, make_cases, read_rows, run_beltline

CLIP_SUFFIXES = {".mp4", ".gif"}


def _hips(row: dict[str, str]) -> tuple[np.ndarray, np.ndarray] | None:
    if not row["left_hip_x"]:
        return None
    return (np.array([float(row["left_hip_x"]), float(row["left_hip_y"])]),
            np.array([float(row["right_hip_x"]), float(row["right_hip_y"])]))


def photo_readings(case: Case, out: Path) -> tuple[float | None, float | None, float, float, float | None, float]:
    """(keypoint tilt, picture tilt, edge energy, coherence, the ruler's tilt, span) of a one-frame case."""
    rows = read_rows(out, case)
    row = rows[-1] if rows else None
    hips = _hips(row) if row else None
    if row is None or hips is None or not row["tilt_deg"]:
        return None, None, math.nan, math.nan, None, math.nan
    image = cv2.cvtColor(cv2.imread(str(case.path)), cv2.COLOR_BGR2RGB)
    evidence = read_belt_line(image, *hips)
    keypoints, shown = float(row["raw_tilt_deg"]), float(row["tilt_deg"])
    if evidence is None:
        return keypoints, None, 0.0, 0.0, shown, 0.0
    return keypoints, evidence.tilt_deg, evidence.edge_energy, evidence.coherence, shown, evidence.span


def slope_and_error(true: list[float], read: list[float]) -> dict[str, float | int | None]:
    if not true:
        return {"n": 0, "slope": None, "mean": None}
    x, y = np.array(true), np.array(read)
    return {"n": len(x), "slope": round(float(x @ y / (x @ x)), 2), "mean": round(float(np.abs(y - x).mean()), 2)}


def score_photos(cases: list[Case], out: Path) -> dict[str, object]:
    readings = {c.name: photo_readings(c, out) for c in cases}
    report: dict[str, object] = {}
    for split in SPLITS:
        chosen = [c for c in cases if split == "all" or c.split == split]
        groups: dict[tuple[str, str, bool], dict[float, Case]] = defaultdict(dict)
        for c in chosen:
            groups[(c.family, c.group, c.mirrored)][c.angle_deg] = c
        changes: dict[str, dict[str, tuple[list[float], list[float]]]] = defaultdict(
            lambda: {"keypoints": ([], []), "picture": ([], []), "ruler": ([], [])})
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
                for way, index in (("keypoints", 0), ("picture", 1), ("ruler", 4)):
                    if now[index] is not None and ref[index] is not None:
                        changes[family][way][0].append(true)
                        changes[family][way][1].append(now[index] - ref[index])
        report[split] = {family: {way: slope_and_error(*pair) for way, pair in ways.items()}
                         for family, ways in changes.items()}
    bases = {}
    for c in cases:
        if c.angle_deg == 0.0 and not c.mirrored:
            _, picture, energy, coherence, _, span = readings[c.name]
            bases[c.group] = {"family": c.family, "split": c.split, "edge_energy": round(energy, 1),
                              "coherence": round(coherence, 3), "span": round(span, 3),
                              "picture_tilt_deg": picture}
    report["bases"] = bases
    return report


def clip_figures(fused: list[dict[str, str]], plain: dict[str, object], fused_summary: dict[str, object],
                 gate_deg: float) -> dict[str, object]:
    """One clip's failure-mode figures from the fused run's CSV: how often the picture was clear
    (attached to the reading, as the kiosk attaches it: arms left out, over the energy threshold),
    how far it sits from the hip joints' line, and what fusing it does to the verdicts."""
    judged_rows = [r for r in fused if r["raw_tilt_deg"]]
    hip_width = [float(np.hypot(*(hips[0] - hips[1]))) for r in judged_rows if (hips := _hips(r)) is not None]
    rel = np.array([float(r["picture_tilt_deg"]) - float(r["raw_tilt_deg"]) for r in judged_rows
                    if r["picture_tilt_deg"]])
    judged = len(judged_rows)

    def share(key: str, summary: dict[str, object]) -> float | None:
        value = summary[key]
        return None if value is None else round(100 * float(value), 1)  # type: ignore[arg-type]

    return {
        "frames_judged": judged,
        "hip_width_px_median": round(float(np.median(hip_width)), 1) if hip_width else None,
        "clear_pct": round(100 * len(rel) / judged, 1) if judged else None,
        "within_gate_pct": round(100 * float((np.abs(rel) <= gate_deg).sum()) / judged, 1) if judged else None,
        "picture_minus_hips_mean": round(float(rel.mean()), 2) if len(rel) else None,
        "picture_minus_hips_sd": round(float(rel.std()), 2) if len(rel) else None,
        "verdict_pct": [share("verdict_fraction", plain), share("verdict_fraction", fused_summary)],
        "level_pct": [share("fraction_level", plain), share("fraction_level", fused_summary)],
    }


def run_clips(data: Path, config: Config, model: str | None) -> dict[str, dict[str, object]]:
    """Every clip in `data` through `analyze` with the ruler as configured and with the picture fused."""
    fused_config = with_overrides(config, ["pelvis.belt_picture=fuse"])
    kiosks = {way: assemble(c, resolve_model_path(model, c.model.path), Purpose.ANALYZE)
              for way, c in (("plain", with_overrides(config, ["pelvis.belt_picture=off"])), ("fused", fused_config))}
    figures = {}
    for path in sorted(p for p in data.iterdir() if p.suffix.lower() in CLIP_SUFFIXES):
        summaries, fused_rows = {}, []
        for way, kiosk in kiosks.items():
            kiosk = kiosks[way] = kiosk.restarted()
            handle = io.StringIO()
            source = kiosk.open_source(str(path))
            try:
                summaries[way] = analyze(kiosk, source, str(path), handle).summary
            finally:
                source.close()
            if way == "fused":
                fused_rows = list(csv.DictReader(io.StringIO(handle.getvalue())))
        figures[path.name] = clip_figures(fused_rows, summaries["plain"], summaries["fused"],
                                          fused_config.pelvis.belt_picture_gate_deg)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = with_overrides(load_config(args.config), args.set)
    fused = with_overrides(config, ["pelvis.belt_picture=fuse"])
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        (work / "beltline").mkdir()
        cases = make_cases(args.data, work, {"pelvis", "rotation"})
        run_beltline(cases, work / "beltline", fused, args.model)
        report = score_photos(cases, work / "beltline")
    report["clips"] = run_clips(args.data, config, args.model)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
