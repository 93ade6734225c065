#!/usr/bin/env python3
"""The peer to beat, behind `beltline analyze`'s CSV contract: MediaPipe Pose's hip line.

    python3 -m venv .venv-mediapipe && .venv-mediapipe/bin/pip install mediapipe==0.10.14
    .venv-mediapipe/bin/python scripts/peer-mediapipe.py --csv-dir OUT INPUT...

MediaPipe is never a dependency of the kiosk: it runs in a venv of its own.  0.10.14's wheel
ships the BlazePose GHUM "full" model (float32, 256 px input), so the legacy `solutions.pose`
API runs offline.  Each input (a clip or a photo) gets a fresh `Pose` with MediaPipe's own
landmark smoothing; the hips are landmarks 23 (the person's left) and 24; the state is level
within the same 5° tolerance as Beltline's, with no hysteresis (MediaPipe has none).  One CSV per
input, named after it, with exactly `beltline analyze`'s columns (kiosk/recording/outputs.py), and one
line per input on stdout with its milliseconds per frame.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import cv2

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from kiosk.recording.outputs import CSV_COLUMNS  # noqa: E402 -- the contract's columns, from the kiosk's one place

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
LEFT_HIP, RIGHT_HIP = 23, 24
MIN_VISIBILITY = 0.5


def frames(path: Path):
    """(index, t_s, RGB image) of a photo (one frame) or a clip."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path))
        if image is None:
            raise SystemExit(f"peer-mediapipe: cannot read {path}")
        yield 0, 0.0, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        return
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        yield index, index / fps, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        index += 1
    capture.release()


def analyze(path: Path, out: Path, tolerance_deg: float, complexity: int) -> float:
    import mediapipe as mp

    count = 0
    seconds = 0.0
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=complexity, smooth_landmarks=True) as pose, \
            open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for index, t_s, image in frames(path):
            started = time.perf_counter()
            result = pose.process(image)
            seconds += time.perf_counter() - started
            count += 1
            row = dict.fromkeys(CSV_COLUMNS, "")
            row["frame"], row["time_s"] = str(index), f"{t_s:.3f}"
            marks = result.pose_landmarks.landmark if result.pose_landmarks else None
            if marks is None or min(marks[LEFT_HIP].visibility, marks[RIGHT_HIP].visibility) < MIN_VISIBILITY:
                row["state"], row["reason"] = "none", "no_person"
            else:
                height, width = image.shape[:2]
                lx, ly = marks[LEFT_HIP].x * width, marks[LEFT_HIP].y * height
                rx, ry = marks[RIGHT_HIP].x * width, marks[RIGHT_HIP].y * height
                tilt = math.degrees(math.atan2(ly - ry, abs(lx - rx)))  # kiosk.core.geometry.hip_tilt_deg's formula
                row.update(person="0", state="level" if abs(tilt) <= tolerance_deg else "tilted",
                           tilt_deg=f"{tilt:.2f}", raw_tilt_deg=f"{tilt:.2f}",
                           left_hip_x=f"{lx:.1f}", left_hip_y=f"{ly:.1f}", right_hip_x=f"{rx:.1f}",
                           right_hip_y=f"{ry:.1f}",
                           hip_score=f"{min(marks[LEFT_HIP].visibility, marks[RIGHT_HIP].visibility):.3f}")
            writer.writerow(row)
    return 1000.0 * seconds / max(count, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--csv-dir", type=Path, required=True)
    parser.add_argument("--tolerance-deg", type=float, default=5.0)
    parser.add_argument("--model-complexity", type=int, default=1, help="1: BlazePose GHUM full (the default)")
    args = parser.parse_args()
    args.csv_dir.mkdir(parents=True, exist_ok=True)
    for path in args.inputs:
        ms = analyze(path, args.csv_dir / f"{path.name}.csv", args.tolerance_deg, args.model_complexity)
        print(f"{path.name}\t{ms:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
