#!/usr/bin/env python3
"""The loop's speed record: `bench`, a bare invoke loop, a plain sequential loop and MediaPipe, in one run.

    SDL_VIDEODRIVER=dummy python scripts/speed-record.py CLIP [--frames 600] [--invokes 2 1]
        [--set model.threads=1] [--repeat 2] [--mediapipe-python .venv-mediapipe/bin/python] [--json OUT]

For each invoke count (2: `model.mirror_average = "on"`, 1: `"alternate"`), in one process and one
after another so that whatever else the machine does falls on all of them alike:

- **bench**: the kiosk built as `beltline bench` builds it (kiosk.app.assembly, Purpose.BENCH), on
  the clip decoded ahead into memory (kiosk.app.bench.bench_input), pipelined, measured by
  `run_bench`, which also times the bare invoke loop (300 invokes on the last input) and each
  stage bare;
- **plain sequential**: the loop a first version would be, with no threads and nothing of
  Beltline's: the same frames copied as a camera hands them over, the whole frame area-scaled
  into the model's input, the same invokes on an interpreter built the same way, the keypoints
  read, the frame and a line drawn with pygame, a flip;
- **MediaPipe Pose** (with `--mediapipe-python`, a venv with mediapipe 0.10.14): its `process`
  call alone on the same clip (scripts/peer-mediapipe.py), so its rate is an upper bound for a
  MediaPipe kiosk.

It prints the three ratios the loop is judged by: to its model-bound rate (for the looks it took:
the nearest-person lock's look now and then is model work too), to the plain sequential loop, and
to MediaPipe; with `--json`, every figure.  The date, the machine and the versions go with them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from kiosk.app.assembly import Purpose, assemble, open_view  # noqa: E402
from kiosk.app.bench import WARM_UP_FRAMES, bench_input, run_bench  # noqa: E402
from kiosk.camera.sources import MemoryClipSource  # noqa: E402
from kiosk.model.runtime import build_interpreter, installed_runtimes  # noqa: E402
from kiosk.settings.config import Config, Runtime  # noqa: E402
from kiosk.settings.config_file import load_config, with_overrides  # noqa: E402
from kiosk.settings.model_files import resolve_model_path  # noqa: E402

MIRROR_FOR_INVOKES = {1: "alternate", 2: "on"}


def plain_sequential(config: Config, model_path: Path, source: MemoryClipSource, invokes: int, frames: int,
                     threads: int, runtime: str) -> dict[str, float]:
    """The plain loop (module docstring): frames per second over `frames` after a warm-up."""
    import pygame

    name, module = installed_runtimes(Runtime(runtime))[0]
    interpreter = build_interpreter(module, name, model_path.read_bytes(), str(model_path), threads)
    detail = interpreter.get_input_details()[0]
    size = int(detail["shape"][1])
    output = interpreter.get_output_details()[0]["index"]
    tensor = np.zeros(detail["shape"], dtype=detail["dtype"])
    width, height = source.frame_size
    pygame.display.init()
    screen = pygame.display.set_mode((width, height))
    shown = 0
    started = 0.0
    while shown < frames + WARM_UP_FRAMES:
        if shown == WARM_UP_FRAMES:
            started = time.perf_counter()
        frame = source.read()
        assert frame is not None
        cv2.resize(frame.image, (size, size), dst=tensor[0], interpolation=cv2.INTER_AREA)
        for _ in range(invokes):
            interpreter.set_tensor(detail["index"], tensor)
            interpreter.invoke()
        rows = interpreter.get_tensor(output)[0, 0]
        surface = pygame.image.frombuffer(frame.image, (width, height), "RGB")  # a pool buffer: contiguous
        screen.blit(surface, (0, 0))
        left = (float(rows[11, 1]) * width, float(rows[11, 0]) * height)
        right = (float(rows[12, 1]) * width, float(rows[12, 0]) * height)
        pygame.draw.line(screen, (0, 200, 0), left, right, 12)
        pygame.display.flip()
        pygame.event.pump()
        frame.release()
        shown += 1
    seconds = time.perf_counter() - started
    pygame.display.quit()
    return {"fps": round(frames / seconds, 2), "frames": frames}


def mediapipe_ms(python: str, clip: Path) -> float | None:
    """MediaPipe Pose's `process` call per frame on `clip` (scripts/peer-mediapipe.py), or None."""
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run([python, str(PROJECT / "scripts" / "peer-mediapipe.py"), "--csv-dir", scratch,
                               str(clip)], capture_output=True, text=True, check=False)
    match = re.search(r"\t([0-9.]+)\s*$", done.stdout)
    if done.returncode != 0 or match is None:
        print(f"speed-record: MediaPipe did not run: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(match.group(1))


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("ai-edge-litert", "tflite-runtime", "numpy", "opencv-python", "opencv-python-headless", "pygame"):
        try:
            from importlib.metadata import version
            versions[package] = version(package)
        except Exception:  # noqa: BLE001 -- not installed
            continue
    return {"date": datetime.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "versions": versions}


def record_one(config: Config, model_path: Path, clip: Path, invokes: int, frames: int,
               switch_interval_ms: float | None) -> dict[str, Any]:
    config = with_overrides(config, [f'model.mirror_average="{MIRROR_FOR_INVOKES[invokes]}"'], "speed-record")
    kiosk = assemble(config, model_path, Purpose.BENCH)
    fed = bench_input(kiosk, str(clip))
    if not isinstance(fed.source, MemoryClipSource):
        raise SystemExit(f"speed-record: {clip} is too large to decode into memory")
    view = open_view(config, windowed=True)
    previous = sys.getswitchinterval()
    if switch_interval_ms is not None:
        sys.setswitchinterval(switch_interval_ms / 1000)
    try:
        bench = run_bench(kiosk, fed, view, frames, False).figures
    finally:
        sys.setswitchinterval(previous)
        view.close()
        kiosk.close()
    plain = plain_sequential(config, model_path, fed.source, invokes, frames, bench["threads"], bench["runtime"])
    return {"invokes": invokes, "bench": bench, "plain_sequential": plain}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--invokes", type=int, nargs="+", default=[2, 1], choices=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every invoke count, interleaved")
    parser.add_argument("--set", action="append", default=["model.threads=1"], metavar="KEY=VALUE",
                        help="config overrides (default: model.threads=1, the thread count the ratios are judged at)")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--switch-interval-ms", type=float, help="sys.setswitchinterval during bench (a lever)")
    parser.add_argument("--mediapipe-python", help="a Python with mediapipe 0.10.14 installed")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = with_overrides(load_config(args.config), args.set, "--set")
    model_path = resolve_model_path(str(args.model) if args.model else None, config.model.path)
    rounds: list[dict[str, Any]] = []
    mediapipe: list[float] = []
    for _ in range(args.repeat):
        for invokes in args.invokes:
            rounds.append(record_one(config, model_path, args.clip, invokes, args.frames, args.switch_interval_ms))
        if args.mediapipe_python:
            ms = mediapipe_ms(args.mediapipe_python, args.clip)
            if ms is not None:
                mediapipe.append(ms)
    mediapipe_fps = 1000.0 / statistics.median(mediapipe) if mediapipe else None
    result = {"machine": machine(), "clip": args.clip.name, "frames": args.frames, "overrides": args.set,
              "switch_interval_ms": args.switch_interval_ms, "rounds": rounds,
              "mediapipe_process_ms": mediapipe, "mediapipe_fps": mediapipe_fps}
    m = result["machine"]
    print(f"{m['date']}, {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
          + ", ".join(f"{k} {v}" for k, v in m["versions"].items()))
    print(f"{args.clip.name}, {args.frames} frames, {' '.join(args.set)}"
          + (f", switch interval {args.switch_interval_ms} ms" if args.switch_interval_ms is not None else ""))
    print("invokes  bench fps  model-bound (its work)  x model-bound  plain seq. fps  x plain seq.  "
          "in-loop/bare invoke  x MediaPipe")
    for one in rounds:
        b = one["bench"]
        bare = b["stages_bare_ms"]["invoke"]["median"]
        seq = one["plain_sequential"]["fps"]
        vs_mp = f"{b['fps'] / mediapipe_fps:.2f}" if mediapipe_fps else "-"
        print(f"{one['invokes']:>7}  {b['fps']:>9.1f}  {b['model_bound_for_its_work_fps']:>22.1f}  "
              f"{b['fps_vs_model_bound_for_its_work']:>13.2f}  {seq:>14.1f}  {b['fps'] / seq:>12.2f}  "
              f"{b['stages_ms']['invoke']['median'] / bare:>19.2f}  {vs_mp:>11}")
    if mediapipe_fps:
        print(f"MediaPipe Pose 0.10.14, process() alone: {statistics.median(mediapipe):.1f} ms a frame "
              f"({mediapipe_fps:.1f} fps)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
