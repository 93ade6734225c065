#!/usr/bin/env python3
"""Beltline and its peer, side by side in one run, on the same cases, through the same CSV contract.

    python scripts/peers.py ../shared/data --mediapipe .venv-mediapipe/bin/python [--set KEY=VALUE ...]

It writes the cases (photos as PNG, sequences as lossless FFV1 clips) into a work folder, runs
Beltline on each exactly as `beltline analyze` does (kiosk.app.assembly and kiosk.app.analyze, in this
process, restarted for each case) and MediaPipe Pose through scripts/peer-mediapipe.py in its own
venv, then scores both sets of per-frame CSVs with the same code.  Each figure is given for the
part of the harness used for tuning and for the part held out of it:

- tuning: tfex_image1 (a frontal render), frames of frontal_walk_white_bg, frontal_one_leg_dance
  and frontal_dancer_walk_neon, the photo rustmovenet_pose_standing;
- held out: tfex_image2 (a man in a 3/4 view), frames of frontal_walk_outdoor_cane,
  outdoor_sit_walk_stand and back_view_people_one_by_one (a back view), the warrior-II photo.

Families: `static`, the annotated photos rotated by known angles, placed at three sizes and two
positions in a 1280×720 frame, and mirrored (error against the rotated ground truth); `rotation`,
real frames with no annotation, rotated by known angles, scaled and mirrored (error of the change
of tilt against the change of angle, so no keypoint truth is needed); `mirror`, every placement
with its mirror (the true tilts are exact opposites: the sum is the error); `gt`, the two photos
as they are; `walk`, a photo whose angle follows a gait while the person grows (RMSE, lag, state
agreement); `standing`, still with sensor noise, and `wander`, still with sub-pixel shifts and 1 %
scale changes (spread of the shown tilt, colour changes); `real`, real walks, where the noise of
the shown tilt is estimated from its second difference (no truth needed); `pelvis`, people on
plain backgrounds whose pelvis alone is turned by known angles (the region around the hips turned
about their midpoint while the trunk and the feet stay put, harness.pelvis_band_warp), placed at
two sizes: the share of the true change the ruler reads (the slope) and its error.  Its tuning
part is the black bodysuit (frontal_walk_white_bg) and tfex_image1; held out, the belted shirt
(rustmovenet_pose_standing) and tfex_image2.

A third part, `fresh`, is held out of tuning and of diagnosis alike: after the held-out part had
been looked at case by case (to find why the belt picture made it worse), two bases no figure had
used were added for `rotation` and `pelvis`, their frames chosen by rule, not by look: the first
frames' best-scoring torso of frontal_squats (a woman in a pink top) and tfex_image3 (a woman in
a tree pose); and, for `rotation` only (the keypoints file has no frames of it), the first frame
of frontal_single_leg_swing (a shirtless man in shorts), added after the soft gate was chosen.
Its figures say whether what was learnt from the held-out part carries over.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kiosk.app.analyze import analyze
from kiosk.app.assembly import Purpose, assemble
from kiosk.core.geometry import hip_tilt_deg
from kiosk.core.types import Frame, Keypoint
from kiosk.settings.config import Config
from kiosk.settings.config_file import load_config, with_overrides
from kiosk.settings.model_files import resolve_model_path

import articulated

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))  # fakes, harness
from harness import (
    FRAME_H,
    FRAME_W,
    Placement,
    SequenceFrame,
    TruthPhoto,
    load_truth_photos,
    pelvis_band_warp,
    render,
    standing_sequence,
    true_tilt_deg,
    turn_points,
    walking_sequence,
)

SPLITS = ("tune", "held", "fresh", "all")
TOLERANCE_DEG = 5.0
ANGLES = (-8.0, -4.0, 0.0, 4.0, 8.0)
HEIGHTS = (0.3, 0.6, 0.9)
CENTERS = (0.35, 0.6)
ROTATIONS = (-6.0, 0.0, 6.0)
SCALES = (0.7, 1.0)
FPS = 30.0


@dataclass(frozen=True)
class FrameBase:
    """A real frame with a person in it and no annotation; `facing` -1 for a back view."""

    name: str
    file: str
    frame: int
    split: str
    facing: int = 1


FRAME_BASES = (
    FrameBase("white_bg_150", "frontal_walk_white_bg.mp4", 150, "tune"),
    FrameBase("one_leg_40", "frontal_one_leg_dance.mp4", 40, "tune"),
    FrameBase("neon_30", "frontal_dancer_walk_neon.mp4", 30, "tune"),
    FrameBase("rustmovenet", "rustmovenet_pose_standing.jpg", 0, "tune"),
    FrameBase("cane_80", "frontal_walk_outdoor_cane.mp4", 80, "held"),
    FrameBase("sit_walk_527", "outdoor_sit_walk_stand.mp4", 527, "held"),
    FrameBase("back_view_350", "back_view_people_one_by_one.mp4", 350, "held", facing=-1),
    FrameBase("warrior", "tfjs_pose_warrior_beach.jpg", 0, "held"),
    FrameBase("squats_2", "frontal_squats.mp4", 2, "fresh"),
    FrameBase("tree", "tfex_image3.jpeg", 0, "fresh"),
    FrameBase("leg_swing_0", "frontal_single_leg_swing.mp4", 0, "fresh"),
)
PELVIS_BASES = (
    FrameBase("bodysuit_150", "frontal_walk_white_bg.mp4", 150, "tune"),
    FrameBase("image1", "tfex_image1.png", 0, "tune"),
    FrameBase("belted_shirt", "rustmovenet_pose_standing.jpg", 0, "held"),
    FrameBase("image2", "tfex_image2.jpeg", 0, "held"),
    FrameBase("squats_2", "frontal_squats.mp4", 2, "fresh"),
    FrameBase("tree", "tfex_image3.jpeg", 0, "fresh"),
)
PELVIS_ANGLES = (-8.0, -4.0, -2.0, 0.0, 2.0, 4.0, 8.0)
KEYPOINTS_FILE = "movenet_lightning_keypoints.json.gz"
"""Every frame's keypoints as the model saw them (../shared/data/SOURCES.md): where the hips are,
for placing the pelvis-only turn without running a model here."""
PHOTO_SPLIT = {"tfex_image1.png": "tune", "tfex_image2.jpeg": "held"}
REAL_WALKS = {"frontal_walk_white_bg.mp4": "tune", "frontal_walk_outdoor_cane.mp4": "held",
              "outdoor_sit_walk_stand.mp4": "held", "back_view_people_one_by_one.mp4": "held"}


@dataclass(frozen=True)
class Case:
    name: str
    family: str
    split: str
    path: Path
    truth_deg: float | None = None
    """Absolute truth (static, gt)."""
    group: str = ""
    """Cases that share everything but the angle (rotation) or the mirror (mirror pairs)."""
    angle_deg: float = 0.0
    expected_sign: int = -1
    """How the true tilt follows the rotation: -1 for a person facing the camera, unmirrored."""
    mirrored: bool = False
    truths: tuple[float, ...] = field(default=(), repr=False)
    """Per frame, for sequences."""


def read_base(data: Path, base: FrameBase) -> np.ndarray:
    path = data / base.file
    if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
        image = cv2.imread(str(path))
    else:
        capture = cv2.VideoCapture(str(path))
        capture.set(cv2.CAP_PROP_POS_FRAMES, base.frame)
        ok, image = capture.read()
        capture.release()
        if not ok:
            raise SystemExit(f"peers: cannot read frame {base.frame} of {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def place_frame(image: np.ndarray, angle_deg: float, scale: float, mirrored: bool) -> np.ndarray:
    """A real frame rotated about its centre, scaled to `scale` of the 1280×720 frame's height, on grey."""
    height, width = image.shape[:2]
    fit = scale * FRAME_H / height
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle_deg, fit)
    matrix[:, 2] += np.array([FRAME_W / 2, FRAME_H / 2]) - np.array([width / 2, height / 2])
    placed = cv2.warpAffine(image, matrix, (FRAME_W, FRAME_H), flags=cv2.INTER_AREA if fit < 1 else cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(96, 96, 96))
    return np.ascontiguousarray(placed[:, ::-1]) if mirrored else placed


def base_keypoints(data: Path, base: FrameBase) -> np.ndarray:
    """(17, 2) the model's keypoints of a base frame, in its own pixels (from KEYPOINTS_FILE)."""
    with gzip.open(data / KEYPOINTS_FILE, "rt") as handle:
        frames = json.load(handle)["files"][base.file]["frames"]
    points = dict((index, rows) for index, rows in frames)[base.frame]
    return np.array(points, dtype=np.float64)[:, :2]


def pelvis_only(image: np.ndarray, keypoints_px: np.ndarray, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The base with its pelvis alone turned by `angle_deg`, and the hips where that puts them."""
    hips = keypoints_px[[Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP]]
    centre = hips.mean(axis=0)
    ankles = keypoints_px[[Keypoint.LEFT_ANKLE, Keypoint.RIGHT_ANKLE], 1].mean()
    body_height_px = (ankles - keypoints_px[Keypoint.NOSE, 1]) / 0.9  # the head's top above the nose
    return pelvis_band_warp(image, centre, body_height_px, angle_deg), turn_points(hips, centre, angle_deg)


def write_png(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def write_clip(path: Path, frames: Iterator[SequenceFrame]) -> tuple[float, ...]:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), FPS, (FRAME_W, FRAME_H))
    truths = []
    for item in frames:
        writer.write(cv2.cvtColor(item.frame.image, cv2.COLOR_RGB2BGR))
        truths.append(item.true_tilt_deg)
    writer.release()
    return tuple(truths)


def wandering_sequence(photo: TruthPhoto, seconds: float = 10.0) -> Iterator[SequenceFrame]:
    """Standing still while the picture wanders by less than a pixel and scales by up to 1 %, as a
    crop that follows each frame's keypoints does."""
    rng = np.random.default_rng(11)
    base, truth = render(photo, Placement(0.0, 0.6))
    for index in range(int(seconds * FPS)):
        dx, dy = rng.uniform(-0.5, 0.5, 2)
        scale = 1.0 + rng.uniform(-0.01, 0.01)
        matrix = cv2.getRotationMatrix2D((FRAME_W / 2, FRAME_H / 2), 0.0, scale)
        matrix[:, 2] += (dx, dy)
        image = cv2.warpAffine(base, matrix, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        yield SequenceFrame(Frame(image, index, index / FPS), true_tilt_deg(truth))


def make_cases(data: Path, work: Path, families: set[str] | None = None) -> list[Case]:
    """Every case of the harness, or of the `families` named (only those are written)."""

    def wanted(family: str) -> bool:
        return families is None or family in families

    cases: list[Case] = []
    photos = load_truth_photos(data)
    for photo in photos:
        split = PHOTO_SPLIT[photo.name]
        for height, center, angle, mirrored in itertools.product(HEIGHTS, CENTERS, ANGLES, (False, True)):
            if not wanted("static"):
                break
            image, truth = render(photo, Placement(angle, height, center, mirrored))
            name = f"static_{Path(photo.name).stem}_h{height}_c{center}_a{angle:+.0f}{'_m' if mirrored else ''}"
            write_png(work / f"{name}.png", image)
            cases.append(Case(name, "static", split, work / f"{name}.png", true_tilt_deg(truth),
                              group=f"{photo.name}_h{height}_c{center}", angle_deg=angle, mirrored=mirrored))
        if wanted("gt"):
            write_png(work / f"gt_{Path(photo.name).stem}.png", photo.image)
            cases.append(Case(f"gt_{photo.name}", "gt", split, work / f"gt_{Path(photo.name).stem}.png",
                              true_tilt_deg(photo.keypoints_px)))
        for family, sequence in (("walk", walking_sequence(photo)), ("standing", standing_sequence(photo)),
                                 ("wander", wandering_sequence(photo))):
            if not wanted(family):
                continue
            path = work / f"{family}_{Path(photo.name).stem}.avi"
            cases.append(Case(f"{family}_{photo.name}", family, split, path, truths=write_clip(path, sequence)))
    for base in FRAME_BASES if wanted("rotation") else ():
        image = read_base(data, base)
        for scale, angle, mirrored in itertools.product(SCALES, ROTATIONS, (False, True)):
            name = f"rotation_{base.name}_s{scale}_a{angle:+.0f}{'_m' if mirrored else ''}"
            write_png(work / f"{name}.png", place_frame(image, angle, scale, mirrored))
            sign = -base.facing * (-1 if mirrored else 1)
            cases.append(Case(name, "rotation", base.split, work / f"{name}.png", group=f"{base.name}_s{scale}",
                              angle_deg=angle, expected_sign=sign, mirrored=mirrored))
    for base in PELVIS_BASES if wanted("pelvis") else ():
        image, keypoints = read_base(data, base), base_keypoints(data, base)
        for scale, angle in itertools.product(SCALES, PELVIS_ANGLES):
            turned, hips = pelvis_only(image, keypoints, angle)
            name = f"pelvis_{base.name}_s{scale}_a{angle:+.0f}"
            write_png(work / f"{name}.png", place_frame(turned, 0.0, scale, False))
            cases.append(Case(name, "pelvis", base.split, work / f"{name}.png", hip_tilt_deg(hips[0], hips[1]),
                              group=f"{base.name}_s{scale}", angle_deg=angle))
    for clip, split in REAL_WALKS.items() if wanted("real") else ():
        cases.append(Case(f"real_{clip}", "real", split, data / clip))
    return cases


def run_beltline(cases: list[Case], out: Path, config: Config, model: str | None) -> dict[str, object]:
    """Every case through `beltline analyze`'s own code; the ms per frame of each real walk."""
    kiosk = assemble(config, resolve_model_path(model, config.model.path), Purpose.ANALYZE)
    timing: dict[str, object] = {"model": f"{kiosk.model.runtime_name}, {kiosk.model.threads} threads, mirror "
                                          f"averaging {kiosk.model.mirror_choice}, keypoints "
                                          f"{'refined' if kiosk.model.refines_keypoints else 'plain'}"}
    for case in cases:
        kiosk = kiosk.restarted()
        source = kiosk.open_source(str(case.path))
        try:
            with open(out / f"{case.path.name}.csv", "w", newline="") as handle:
                summary = analyze(kiosk, source, str(case.path), handle).summary
        finally:
            source.close()
        if case.family == "real":
            timing[case.name] = summary["ms_per_frame"]
    return timing


def run_articulated(cases: list[articulated.ArtCase], out: Path, config: Config, model: str | None) -> None:
    """The rendered people through `beltline analyze`'s own code, each marker case with its
    `[marker] color`; each case's per-frame CSV and its steps (JSON)."""
    by_overrides: dict[tuple[str, ...], list[articulated.ArtCase]] = defaultdict(list)
    for case in cases:
        by_overrides[case.overrides].append(case)
    for overrides, members in by_overrides.items():
        settings = with_overrides(config, list(overrides))
        kiosk = assemble(settings, resolve_model_path(model, settings.model.path), Purpose.ANALYZE)
        for case in members:
            kiosk = kiosk.restarted()
            source = kiosk.open_source(str(case.path))
            try:
                with open(out / f"{case.path.name}.csv", "w", newline="") as handle:
                    steps = analyze(kiosk, source, str(case.path), handle).steps
            finally:
                source.close()
            (out / f"{case.path.name}.steps.json").write_text(json.dumps(
                [{"start_s": s.start_s, "end_s": s.end_s, "stance_side": s.stance_side.value,
                  "drop_side": s.drop_side.value, "peak_drop_deg": s.peak_drop_deg} for s in steps]))


def articulated_scores(cases: list[articulated.ArtCase], out: Path, steps: bool = True) -> dict[str, object]:
    """The articulated family's figures per split."""
    rows = {}
    step_rows = {}
    for case in cases:
        with open(out / f"{case.path.name}.csv", newline="") as handle:
            rows[case.name] = list(csv.DictReader(handle))
        steps_file = out / f"{case.path.name}.steps.json"
        step_rows[case.name] = json.loads(steps_file.read_text()) if steps and steps_file.exists() else []
    return {split: articulated.figures([c for c in cases if split == "all" or c.split == split], rows, step_rows)
            for split in ("tune", "held", "all") if any(split == "all" or c.split == split for c in cases)}


def run_mediapipe(cases: list[Case], out: Path, python: str) -> dict[str, float]:
    script = Path(__file__).resolve().parent / "peer-mediapipe.py"
    result = subprocess.run([python, str(script), "--csv-dir", str(out), *(str(c.path) for c in cases)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"peers: the MediaPipe peer failed: {result.stderr.strip().splitlines()[-1:]}")
    by_file = dict(line.split("\t") for line in result.stdout.splitlines() if "\t" in line)
    return {c.name: float(by_file[c.path.name]) for c in cases
            if getattr(c, "family", "") == "real" and c.path.name in by_file}


def read_rows(out: Path, case: Case) -> list[dict[str, str]]:
    with open(out / f"{case.path.name}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def tilt_of(rows: list[dict[str, str]]) -> float | None:
    """The shown tilt of a photo (its one row), None without a verdict."""
    return float(rows[-1]["tilt_deg"]) if rows and rows[-1]["tilt_deg"] else None


def _stats(values: list[float]) -> dict[str, float | int | None]:
    return {"n": len(values), "mean": round(statistics.fmean(values), 2) if values else None,
            "max": round(max(values), 2) if values else None}


def lag_ms(truth: np.ndarray, shown: np.ndarray) -> float:
    """How far the shown tilt trails the truth: the shift that correlates them best, to a fraction
    of a frame (a parabola through the correlations at the best whole frame and its neighbours;
    whole frames alone are 33 ms steps, too coarse for an 80 ms target)."""
    correlations = []
    for lag in range(int(0.5 * FPS) + 1):
        a, b = truth[: len(truth) - lag], shown[lag:]
        correlations.append(float(np.corrcoef(a, b)[0, 1]) if a.std() and b.std() else -math.inf)
    best = int(np.argmax(correlations))
    shift = 0.0
    if 0 < best < len(correlations) - 1 and math.isfinite(correlations[best - 1] + correlations[best + 1]):
        before, at, after = correlations[best - 1], correlations[best], correlations[best + 1]
        curvature = before - 2 * at + after
        if curvature < 0:
            shift = 0.5 * (before - after) / curvature
    return 1000.0 * (best + shift) / FPS


def pelvis_figures(cases: list[Case], tilts: dict[str, float | None]) -> dict[str, object]:
    """How much of a pelvis-only turn is read: the slope of the read change of tilt against the
    true change (through the origin; 1 reads all of it, 0 none), and the error of the change."""
    true_changes, read_changes = [], []
    groups: dict[str, dict[float, Case]] = defaultdict(dict)
    for c in cases:
        groups[c.group][c.angle_deg] = c
    for members in groups.values():
        reference = members.get(0.0)
        read_reference = tilts.get(reference.name) if reference else None
        if reference is None or read_reference is None or reference.truth_deg is None:
            continue
        for angle, c in members.items():
            read = tilts.get(c.name)
            if angle and read is not None and c.truth_deg is not None:
                true_changes.append(c.truth_deg - reference.truth_deg)
                read_changes.append(read - read_reference)
    if not true_changes:
        return {"n": 0, "slope": None, "mean": None, "max": None}
    x, y = np.array(true_changes), np.array(read_changes)
    errors = np.abs(y - x)
    return {"n": len(x), "slope": round(float(x @ y / (x @ x)), 2), "mean": round(float(errors.mean()), 2),
            "max": round(float(errors.max()), 2)}


def flips(rows: list[dict[str, str]]) -> int:
    states = [r["state"] for r in rows if r["state"] != "none"]
    return sum(a != b for a, b in itertools.pairwise(states))


def second_difference_noise(rows: list[dict[str, str]], column: str) -> tuple[float, int]:
    """The per-frame noise of a tilt, from its second difference over runs of consecutive frames
    with a value (for white noise of sd s, the second difference has sd s·√6)."""
    diffs = []
    run: list[float] = []
    for row in [*rows, {"frame": "-1", column: ""}]:
        if row[column]:
            run.append(float(row[column]))
            continue
        diffs.extend(run[i + 1] - 2 * run[i] + run[i - 1] for i in range(1, len(run) - 1))
        run = []
    return (float(np.std(diffs)) / math.sqrt(6) if len(diffs) > 2 else float("nan")), len(diffs) + 2


def score(cases: list[Case], out: Path) -> dict[str, dict[str, object]]:
    """Figures per split ("tune", "held", "fresh", "all")."""
    by_split: dict[str, dict[str, object]] = {}
    for split in SPLITS:
        chosen = [c for c in cases if split == "all" or c.split == split]
        tilts = {c.name: tilt_of(read_rows(out, c)) for c in chosen
                 if c.family in ("static", "rotation", "gt", "pelvis")}
        static = [abs(t - c.truth_deg) for c in chosen if c.family == "static" and (t := tilts[c.name]) is not None
                  and c.truth_deg is not None]
        static_cases = sum(c.family == "static" for c in chosen)
        rotation = []
        groups = defaultdict(dict)
        for c in chosen:
            if c.family == "rotation":
                groups[(c.group, c.mirrored)][c.angle_deg] = (c, tilts[c.name])
        for members in groups.values():
            reference = members.get(0.0, (None, None))[1]
            for angle, (c, tilt) in members.items():
                if angle and tilt is not None and reference is not None:
                    rotation.append(abs((tilt - reference) - c.expected_sign * angle))
        mirror = []
        pairs = defaultdict(dict)
        for c in chosen:
            if c.family in ("static", "rotation"):
                pairs[(c.group, c.angle_deg)][c.mirrored] = tilts[c.name]
        for pair in pairs.values():
            if pair.get(False) is not None and pair.get(True) is not None:
                mirror.append(abs(pair[False] + pair[True]))
        gt = [abs(tilts[c.name] - c.truth_deg) for c in chosen if c.family == "gt" and tilts[c.name] is not None]
        pelvis = pelvis_figures([c for c in chosen if c.family == "pelvis"], tilts)
        walks, standing, wander, real = {}, {}, {}, {}
        for c in chosen:
            rows = read_rows(out, c)
            if c.family == "walk":
                pairs_ = [(c.truths[i], float(r["tilt_deg"])) for i, r in enumerate(rows) if r["tilt_deg"]]
                if pairs_:
                    t, s = (np.array(v) for v in zip(*pairs_, strict=True))
                    judged_states = [r["state"] for r in rows if r["tilt_deg"]]
                    state_truth = ["level" if abs(x) <= TOLERANCE_DEG else "tilted" for x in t]
                    agree = float(np.mean([a == b for a, b in zip(judged_states, state_truth, strict=True)]))
                    walks[c.name] = {"rmse": round(float(np.sqrt(np.mean((s - t) ** 2))), 2),
                                     "lag_ms": round(lag_ms(t, s)), "agreement": round(agree, 3),
                                     "judged": f"{len(pairs_)}/{len(rows)}"}
            elif c.family in ("standing", "wander"):
                shown = [float(r["tilt_deg"]) for r in rows if r["tilt_deg"]]
                target = standing if c.family == "standing" else wander
                target[c.name] = {"spread": round(float(np.std(shown)), 2) if shown else None, "flips": flips(rows),
                                  "judged": f"{len(shown)}/{len(rows)}"}
            elif c.family == "real":
                shown_noise, n = second_difference_noise(rows, "tilt_deg")
                raw_noise, _ = second_difference_noise(rows, "raw_tilt_deg")
                real[c.name] = {"shown_noise": round(shown_noise, 2), "raw_noise": round(raw_noise, 2),
                                "frames": n, "flips_per_min": round(flips(rows) / (len(rows) / FPS / 60), 1)}
        by_split[split] = {
            "static": {**_stats(static), "judged": f"{len(static)}/{static_cases}"},
            "rotation": _stats(rotation), "mirror": _stats(mirror), "gt": _stats(gt), "pelvis": pelvis,
            "walk": walks, "standing": standing, "wander": wander, "real": real,
        }
    return by_split


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--mediapipe", help="the python of a venv with mediapipe==0.10.14 (leave out: Beltline only)")
    parser.add_argument("--model")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--work", type=Path, help="keep the cases and CSVs here (default: a temporary folder)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", help="a comma-separated list of families to run (for a quick sweep; the "
                        "figures of a full run need every family)")
    parser.add_argument("--renders", type=Path, help="the articulated family: the folder scripts/render-bodies.py "
                        "wrote (its truth.json and pictures)")
    args = parser.parse_args()
    config = load_config(args.config)
    config = with_overrides(config, args.set)
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work or Path(temporary)
        (work / "beltline").mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        families = set(args.only.split(",")) if args.only else None
        cases = make_cases(args.data, work, families)
        art = (articulated.make_cases(args.renders, work) if args.renders and (families is None
               or "articulated" in families) else [])
        report = {"settings": args.set, "cases": len(cases) + len(art)}
        timing = run_beltline(cases, work / "beltline", config, args.model)
        report["beltline"] = {"ms_per_frame": timing, **score(cases, work / "beltline")}
        if art:
            run_articulated(art, work / "beltline", config, args.model)
            report["beltline"]["articulated"] = articulated_scores(art, work / "beltline")
        if args.mediapipe:
            (work / "mediapipe").mkdir(exist_ok=True)
            timing = run_mediapipe(cases, work / "mediapipe", args.mediapipe) if cases else {}
            report["mediapipe"] = {"ms_per_frame": timing, **score(cases, work / "mediapipe")}
            plain = [c for c in art if c.marker == "none"]  # MediaPipe reads no marker
            if plain:
                run_mediapipe(plain, work / "mediapipe", args.mediapipe)  # type: ignore[arg-type]
                report["mediapipe"]["articulated"] = articulated_scores(plain, work / "mediapipe", steps=False)
        report["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
