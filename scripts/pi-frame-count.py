#!/usr/bin/env python3
"""The Pi's cost of one whole kiosk frame, counted in emulated Arm instructions, stage by stage.

Wall time under emulation means nothing; the number of instructions QEMU executes does (see
../shared/piemu/README.md for the set-up: an arm64 Python userland, the aarch64 wheels, the
counting plugin).  This script has two halves:

    python scripts/pi-frame-count.py run [--cpu cortex-a72] [--frames 10] [--clip CLIP] [--json OUT]

on the host starts the other half under `qemu-aarch64 -cpu CPU -plugin libicount.so`, and sums
the plugin's counts; `guest` (what runs inside) builds the kiosk as `beltline bench` does
(kiosk.app.assembly, Purpose.BENCH; mirror averaging on, one interpreter thread, so both invokes are
counted apart), then for each frame marks: capture/decode (the clip's next frame), preprocess
(crop and scale into the model input), each invoke, decode and tracker (the rest of the
pipeline's step: vote decoding, gates, tracker, steps), render (pygame, SDL's dummy
driver: the drawing, not a real flip) and replay_keep (the frame kept, scaled down, for the walk's
replay: kiosk.flow.replay, on as shipped; `--replay off` leaves it out).  Bare invokes are
counted too, for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
MAGIC = 0x7E570000
STAGES = ("capture", "preprocess", "invoke_1", "invoke_2", "decode_and_tracker", "render", "replay_keep")
# Marks: frame k uses labels 1000 + 10 k + stage (0 start, 1 after capture, 2 after preprocess,
# 3/4 around the first invoke, 5/6 around the second, 7 after the pipeline, 8 after rendering,
# 9 after the replay's keeping).
BARE = 900


def mark(label: int) -> None:
    """Tell the counting plugin where we are (a harmless failing syscall without it)."""
    with contextlib.suppress(OSError):
        os.lseek(-1, MAGIC + label, 0)


class _MarkedInterpreter:
    """The model's interpreter, its invokes marked (everything else passes through)."""

    def __init__(self, interpreter: Any) -> None:
        self._interpreter = interpreter
        self.frame: int | None = None
        """The counted frame's number; None: not counted (warm-up); BARE: a bare invoke."""
        self.invokes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._interpreter, name)

    def invoke(self) -> None:
        if self.frame is None:
            self._interpreter.invoke()
            return
        base = BARE if self.frame == BARE else 1000 + 10 * self.frame + 3 + 2 * min(self.invokes, 1)
        mark(base)
        self._interpreter.invoke()
        mark(base + 1)
        self.invokes += 1


def guest(frames: int, clip: str, model: str, invokes: int, belt_picture: str, marker: str = "off",
          replay: str = "on") -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    sys.path.insert(0, str(PROJECT))
    from kiosk.app.assembly import Purpose, assemble, open_view
    from kiosk.settings.config_file import config_from_table

    config = config_from_table({"model": {"mirror_average": True if invokes == 2 else "alternate", "threads": 1},
                                "pelvis": {"belt_picture": belt_picture}, "records": {"enabled": False},
                                "marker": {"color": marker}, "replay": {"enabled": replay == "on"}})
    kiosk = assemble(config, Path(model), Purpose.BENCH)
    tensors = kiosk.model._tensors  # type: ignore[attr-defined]  # the one seam: count each invoke
    marked = _MarkedInterpreter(tensors._interpreter)
    tensors._interpreter = marked
    source = kiosk.open_source(clip)
    view = open_view(config, windowed=True)
    pipeline = kiosk.pipeline
    for k in range(-3, frames):  # three warm-up frames
        marked.frame, marked.invokes = (k if k >= 0 else None), 0
        base = 1000 + 10 * k
        if k >= 0:
            mark(base)
        frame = source.read()
        if frame is None:
            raise SystemExit("the clip ended")
        if k >= 0:
            mark(base + 1)
        captured = pipeline.prepare(frame)
        if k >= 0:
            mark(base + 2)
        result = pipeline.finish(captured)
        if k >= 0:
            mark(base + 7)
        view.show(result.frame, result.primary, walk=result.walk, exercise=result.exercise)
        if k >= 0:
            mark(base + 8)
        if kiosk.replays is not None:
            kiosk.replays.keep(result.frame, result.primary, time.monotonic())
        if k >= 0:
            mark(base + 9)
        captured.release()
    marked.frame = BARE
    kiosk.model.time_invokes(5)
    view.close()
    source.close()
    print("GUEST done", kiosk.model.runtime_name, kiosk.model.invokes_per_frame, "invokes/frame", flush=True)


def summarize(log: str, frames: int) -> dict[str, Any]:
    marks: dict[int, list[int]] = {}
    for label, insns in re.findall(r"ICOUNT mark (\d+) vcpu=\d+ insns=(\d+)", log):
        marks.setdefault(int(label) - MAGIC if int(label) > MAGIC else int(label), []).append(int(insns))
    at = {label: values[-1] for label, values in marks.items()}
    per_stage: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "frame")}
    for k in range(frames):
        b = 1000 + 10 * k
        m = {i: at[b + i] for i in range(10) if b + i in at}
        if not all(i in m for i in (0, 1, 2, 3, 4, 7, 8)):
            continue
        per_stage["capture"].append(m[1] - m[0])
        per_stage["preprocess"].append(m[2] - m[1])
        per_stage["invoke_1"].append(m[4] - m[3])
        second = m[6] - m[5] if 5 in m and 6 in m else 0
        if second:
            per_stage["invoke_2"].append(second)
        per_stage["decode_and_tracker"].append((m[7] - m[2]) - (m[4] - m[3]) - second)
        per_stage["render"].append(m[8] - m[7])
        if 9 in m:
            per_stage["replay_keep"].append(m[9] - m[8])
        per_stage["frame"].append(m[9 if 9 in m else 8] - m[0])
    bare_starts, bare_ends = marks.get(BARE, []), marks.get(BARE + 1, [])
    bare = [e - s for s, e in zip(bare_starts, bare_ends, strict=False)]
    return {
        "frames": len(per_stage["frame"]),
        "median_minstr": {stage: round(statistics.median(v) / 1e6, 2) for stage, v in per_stage.items() if v},
        "bare_invoke_minstr": round(statistics.median(bare) / 1e6, 2) if bare else None,
    }


def run(args: argparse.Namespace) -> int:
    root = Path(args.piemu) / f"root{'a72' if args.cpu == 'cortex-a72' else 'a76'}"
    site = Path(args.piemu) / "wheels" / "site"
    plugin = Path(args.piemu) / "plugin" / "libicount.so"
    for needed in (root / "usr/bin/python3.11", site, plugin):
        if not needed.exists():
            print(f"pi-frame-count: {needed} is missing: set it up as ../shared/piemu/README.md says", file=sys.stderr)
            return 2
    env = {**os.environ, "PYTHONPATH": str(site), "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENCV_FOR_THREADS_NUM": "1"}
    command = ["qemu-aarch64", "-cpu", args.cpu, "-L", str(root), "-plugin", str(plugin), "-d", "plugin",
               str(root / "usr/bin/python3.11"), str(Path(__file__).resolve()), "guest", "--frames", str(args.frames),
               "--clip", str(Path(args.clip).resolve()), "--model", str(Path(args.model).resolve()),
               "--invokes", str(args.invokes), "--belt-picture", args.belt_picture, "--marker", args.marker,
               "--replay", args.replay]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    log = result.stdout + result.stderr
    if result.returncode != 0 or "GUEST done" not in log:
        print(log[-3000:], file=sys.stderr)
        return 1
    figures = {"cpu": args.cpu, "clip": Path(args.clip).name, "invokes_per_frame": args.invokes,
               "belt_picture": args.belt_picture, "marker": args.marker, "replay": args.replay,
               **summarize(log, args.frames)}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role", required=True)
    host = sub.add_parser("run")
    host.add_argument("--cpu", default="cortex-a72", choices=["cortex-a72", "cortex-a76"])
    host.add_argument("--frames", type=int, default=10)
    host.add_argument("--invokes", type=int, default=2, choices=[1, 2], help="2: mirror averaging on")
    host.add_argument("--clip", default=str(PROJECT.parent / "shared/data/frontal_walk_white_bg.mp4"))
    host.add_argument("--model", default=str(PROJECT.parent / "shared/models/"
                                               "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"))
    host.add_argument("--piemu", default=os.environ.get("PIEMU_DIR", "/tmp/piemu"))
    host.add_argument("--belt-picture", default="fuse", choices=["fuse", "off"],
                      help="pelvis.belt_picture (the belt line read from the picture, in decode and tracker)")
    host.add_argument("--marker", default="off", help='[marker] color: "off", or the #RRGGBB looked for (a '
                      "marker read on every frame, in decode and tracker)")
    host.add_argument("--replay", default="on", choices=["on", "off"],
                      help="[replay] enabled: each shown frame kept for the walk's replay (on as shipped)")
    host.add_argument("--json", type=Path)
    inside = sub.add_parser("guest")
    inside.add_argument("--frames", type=int, required=True)
    inside.add_argument("--clip", required=True)
    inside.add_argument("--model", required=True)
    inside.add_argument("--invokes", type=int, default=2)
    inside.add_argument("--belt-picture", default="fuse")
    inside.add_argument("--marker", default="off")
    inside.add_argument("--replay", default="on")
    args = parser.parse_args()
    if args.role == "guest":
        guest(args.frames, args.clip, args.model, args.invokes, args.belt_picture, args.marker, args.replay)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
