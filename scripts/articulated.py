"""The articulated family of scripts/peers.py: rendered people whose pelvis rolls under an upright
trunk with the feet planted, made by scripts/render-bodies.py, with the hip-joint centres' truth.

Cases (each body's `split` comes from render-bodies.py: tuning or held out):

- `standing`: the pelvis rolled −8…+8° standing on both feet, with no marker, a strap or a stick;
- `hike`: on the left leg, the right side hiked 2–8° (the same roll the other way, on one leg);
- `lean`: the pelvis level on one leg, the trunk leaning 5–15° over it (the quadratus lumborum's
  compensation, which must not read as a drop);
- `rigid`: the level stand with the camera rolled ±4, ±8° (the whole picture turns);
- `walk`: a walk toward the camera with 0, 4 or 8° of drop added on the swing side.

A still pose is read as a person standing still in front of the kiosk: a clip of STILL_S seconds
at STILL_FPS of the same picture with a camera's sensor noise (so that the ruler's smoothing,
dwell and colour act as they do live); its figure is the shown tilt on its last frame.  Walks are
clips at the renders' frame rate.  A marker's cases run with `[marker] color` set to its paint.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kiosk.core.geometry import hip_tilt_deg

CONDITIONS = ("standing", "hike", "lean", "rigid", "walk")
STILL_S = 1.5
STILL_FPS = 15.0
NOISE_GREY = 2.0
"""The sensor noise added to a still pose's frames (standard deviation, grey levels)."""


@dataclass(frozen=True)
class ArtCase:
    """One rendered picture or walk."""

    name: str
    split: str
    path: Path
    body: str
    condition: str
    marker: str
    param_deg: float
    truths: tuple[float, ...]
    """The true tilt of each frame (analyze's sign: positive when the left hip is lower)."""
    overrides: tuple[str, ...] = ()
    """--set assignments this case runs with (the marker's colour)."""
    stance: tuple[str, ...] = field(default=(), repr=False)
    """Walks: the stance side of each frame."""
    times_s: tuple[float, ...] = field(default=(), repr=False)


def _truth(frame: dict[str, list[float]]) -> float:
    return hip_tilt_deg(np.array(frame["left_hip_px"]), np.array(frame["right_hip_px"]))


def make_cases(renders: Path, work: Path) -> list[ArtCase]:
    """The cases of `renders/truth.json`; walks are written into `work` as lossless FFV1 clips."""
    pictures = json.loads((renders / "truth.json").read_text())["pictures"]
    cases = []
    for entry in pictures:
        marker = entry["marker"]
        overrides = (f'marker.color="{entry["marker_color"]}"',) if entry["marker_color"] else ()
        truths = tuple(_truth(frame) for frame in entry["frames"])
        name = f'art_{entry["body"]}_{Path(entry["file"]).name.removesuffix(".png")}'
        if entry["condition"] != "walk":
            clip = work / f"{name}.avi"
            if not clip.exists():
                _still_clip(renders / entry["file"], clip)
            cases.append(ArtCase(name, entry["split"], clip, entry["body"], entry["condition"],
                                 marker, float(entry["param_deg"]), truths, overrides))
            continue
        clip = work / f"{name}.avi"
        frames_clip(renders / entry["file"], len(entry["frames"]), float(entry["fps"]), clip)
        cases.append(ArtCase(name, entry["split"], clip, entry["body"], "walk", marker, float(entry["param_deg"]),
                             truths, overrides, tuple(f["stance"] for f in entry["frames"]),
                             tuple(f["t_s"] for f in entry["frames"])))
    return cases


def frames_clip(folder: Path, count: int, fps: float, clip: Path) -> None:
    """A rendered sequence (`folder`/0000.png ...) as a lossless FFV1 clip, unless it was made before."""
    if clip.exists():
        return
    first = cv2.imread(str(folder / "0000.png"))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"FFV1"), fps, (first.shape[1], first.shape[0]))
    for index in range(count):
        writer.write(cv2.imread(str(folder / f"{index:04d}.png")))
    writer.release()


def _still_clip(picture: Path, clip: Path) -> None:
    """A person standing still: the picture over and over with a little sensor noise, as a camera has."""
    image = cv2.imread(str(picture))
    rng = np.random.default_rng(7)
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"FFV1"), STILL_FPS, (image.shape[1], image.shape[0]))
    for _ in range(round(STILL_S * STILL_FPS)):
        writer.write(np.clip(image + rng.normal(0.0, NOISE_GREY, image.shape), 0, 255).astype(np.uint8))
    writer.release()


def _slope(true_changes: list[float], read_changes: list[float]) -> dict[str, float | int | None]:
    """The share of the true change that is read (slope through the origin) and the change's error."""
    if not true_changes:
        return {"n": 0, "slope": None, "mean": None, "max": None}
    x, y = np.array(true_changes), np.array(read_changes)
    errors = np.abs(y - x)
    return {"n": len(x), "slope": round(float(x @ y / (x @ x)), 3), "mean": round(float(errors.mean()), 2),
            "max": round(float(errors.max()), 2)}


def _tilts(rows: list[dict[str, str]], column: str = "tilt_deg") -> list[float | None]:
    return [float(r[column]) if r[column] else None for r in rows]


def figures(cases: list[ArtCase], rows_of: dict[str, list[dict[str, str]]],
            steps_of: dict[str, list[dict[str, object]]] | None = None) -> dict[str, object]:
    """Figures by condition and marker: slopes of the change against the level stand, errors
    against the truth, the lean's false drops, the walks' added drop and their per-step sides."""
    out: dict[str, object] = {}
    by_key = {(c.body, c.condition, c.marker, c.param_deg): c for c in cases}
    for marker in sorted({c.marker for c in cases}):
        mine = [c for c in cases if c.marker == marker]
        section: dict[str, object] = {}
        for condition in ("standing", "hike", "rigid"):
            members = [c for c in mine if c.condition == condition]
            if not members:
                continue
            section[condition] = {**_change_figures(members, by_key, rows_of, marker, "tilt_deg"),
                                  "raw_slope": _change_figures(members, by_key, rows_of, marker,
                                                               "raw_tilt_deg")["slope"],
                                  "picture_slope": _change_figures(members, by_key, rows_of, marker,
                                                                   "picture_tilt_deg")["slope"]}
        leans = [c for c in mine if c.condition == "lean"]
        if leans:
            errors, red = [], 0
            for c in leans:
                rows = rows_of[c.name]
                if rows and rows[-1]["tilt_deg"]:
                    errors.append(abs(float(rows[-1]["tilt_deg"]) - c.truths[0]))
                    red += rows[-1]["state"] == "tilted"
            section["lean"] = {"mean": round(float(np.mean(errors)), 2) if errors else None,
                               "max": round(float(np.max(errors)), 2) if errors else None,
                               "red": red, "judged": f"{len(errors)}/{len(leans)}"}
        walks = [c for c in mine if c.condition == "walk"]
        if walks:
            section["walk"] = _walk_figures(walks, by_key, rows_of, steps_of or {})
        out[marker] = section
    return out


def _change_figures(members: list[ArtCase], by_key: dict[tuple[str, str, str, float], ArtCase],
                    rows_of: dict[str, list[dict[str, str]]], marker: str, column: str) -> dict[str, object]:
    """One column's read change against the true change from the same body's level stand, and its
    error against the truth itself (each pose's last frame: a person standing still)."""
    true_changes, read_changes, absolute = [], [], []
    for c in members:
        level = by_key.get((c.body, "standing", marker, 0.0))
        read = _tilts(rows_of[c.name], column)[-1] if rows_of[c.name] else None
        if read is not None:
            absolute.append(abs(read - c.truths[0]))
        if level is None or level is c or read is None:
            continue
        read_level = _tilts(rows_of[level.name], column)[-1] if rows_of[level.name] else None
        if read_level is None:
            continue
        true_changes.append(c.truths[0] - level.truths[0])
        read_changes.append(read - read_level)
    return {**_slope(true_changes, read_changes), "abs_mae": round(float(np.mean(absolute)), 2) if absolute else None,
            "judged": f"{len(absolute)}/{len(members)}"}


def _walk_figures(walks: list[ArtCase], by_key: dict[tuple[str, str, str, float], ArtCase],
                  rows_of: dict[str, list[dict[str, str]]],
                  steps_of: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    true_changes, read_changes, squared, raw_changes = [], [], [], []
    sides_right = sides_all = 0
    step_errors = []
    for c in walks:
        shown = _tilts(rows_of[c.name])
        squared.extend((s - t) ** 2 for s, t in zip(shown, c.truths, strict=False) if s is not None)
        if c.param_deg:
            base = by_key.get((c.body, "walk", c.marker, 0.0))
            if base is not None:
                base_shown = _tilts(rows_of[base.name])
                for s, b, t, tb in zip(shown, base_shown, c.truths, base.truths, strict=False):
                    if s is not None and b is not None:
                        true_changes.append(t - tb)
                        read_changes.append(s - b)
                raw, raw_base = _tilts(rows_of[c.name], "raw_tilt_deg"), _tilts(rows_of[base.name], "raw_tilt_deg")
                raw_changes.extend((r - rb) for r, rb in zip(raw, raw_base, strict=False)
                                   if r is not None and rb is not None)
            for step in steps_of.get(c.name, []):
                # the swing side is the one not standing at the step's middle frame
                middle = (float(step["start_s"]) + float(step["end_s"])) / 2  # type: ignore[arg-type]
                index = int(np.argmin(np.abs(np.array(c.times_s) - middle)))
                swing = "right" if c.stance[index] == "left" else "left"
                sides_all += 1
                sides_right += step["drop_side"] == swing
                window = [abs(t) for t, time_s in zip(c.truths, c.times_s, strict=True)
                          if float(step["start_s"]) <= time_s <= float(step["end_s"])]  # type: ignore[arg-type]
                if window:
                    step_errors.append(abs(float(step["peak_drop_deg"]) - max(window)))  # type: ignore[arg-type]
    return {"added_drop": _slope(true_changes, read_changes),
            "rmse": round(math.sqrt(float(np.mean(squared))), 2) if squared else None,
            "steps_on_swing_side": f"{sides_right}/{sides_all}",
            "step_peak_error": round(float(np.mean(step_errors)), 2) if step_errors else None}


def table(report: dict[str, dict[str, object]], split: str) -> str:
    """A markdown table of one split's figures, one row per reading: the markers, the ruler without
    one (and the keypoints and the picture alone, from the same run's CSV columns), and any peer."""
    rows = ["| reading | standing roll: slope / MAE | hike: slope | rigid turn: slope | lean: error / red "
            "| walks: added-drop slope / RMSE | steps on the swing side |",
            "|---|---|---|---|---|---|---|"]

    def num(value: object, digits: int = 2) -> str:
        return "—" if value is None else f"{value:.{digits}f}" if isinstance(value, float | int) else str(value)

    for analyzer, sections in report.items():
        figures = sections.get(split)
        if not isinstance(figures, dict):
            continue
        for marker, section in figures.items():
            name = f"{analyzer}, {'no marker' if marker == 'none' else marker}"
            s, h, r = (section.get(k, {}) for k in ("standing", "hike", "rigid"))
            lean, walk = section.get("lean", {}), section.get("walk", {})
            drop = walk.get("added_drop", {}) if walk else {}
            rows.append(f"| {name} | {num(s.get('slope'))} / {num(s.get('abs_mae'))}° | {num(h.get('slope'))} "
                        f"| {num(r.get('slope'))} | {num(lean.get('mean'))}° / {num(lean.get('red'))} "
                        f"| {num(drop.get('slope'))} / {num(walk.get('rmse'))}° "
                        f"| {num(walk.get('steps_on_swing_side'))} |")
            if marker in ("none", "belt") and analyzer == "Beltline":
                for column, label in (("raw_slope", "the hip keypoints alone"), ("picture_slope", "the picture alone")):
                    rows.append(f"| {analyzer}, {marker}: {label} | {num(s.get(column))} | {num(h.get(column))} "
                                f"| {num(r.get(column))} | | | |")
    return "\n".join(rows)
