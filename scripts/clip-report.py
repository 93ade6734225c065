#!/usr/bin/env python3
"""Verdict coverage, tilt spread and time per frame for every clip and photo in a folder.

    python scripts/clip-report.py ../shared/data [--model PATH] [--config PATH]

Runs the same code as `beltline analyze` and prints a Markdown table (for the README and
closing notes).  Writes nothing unless --csv-dir is given.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

from kiosk.config import load_config
from kiosk.group import NearestPersonLock
from kiosk.model_files import resolve_model_path
from kiosk.pipeline import PelvisPipeline, analyze_frames
from kiosk.pose import MoveNet
from kiosk.records import CsvRecorder, SummaryTally
from kiosk.sources import IMAGE_SUFFIXES, open_source

MEDIA_SUFFIXES = IMAGE_SUFFIXES | {".mp4", ".avi", ".gif", ".mov", ".mkv"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--csv-dir", type=Path, help="also write each file's per-frame CSV here")
    args = parser.parse_args()
    config = load_config(args.config)
    model_path = resolve_model_path(args.model, config.model.path)
    model = MoveNet(model_path, config.model.runtime, config.model.threads, config.model.crop_tracking,
                    config.model.mirror_average)
    if args.csv_dir:
        args.csv_dir.mkdir(parents=True, exist_ok=True)
    print(f"model {model_path.name}, runtime {model.runtime_name}, {model.threads} threads, "
          f"mirror averaging {config.model.mirror_average}, tilt filter {config.pelvis.tilt_filter}, "
          f"hysteresis ±{config.pelvis.hysteresis_deg}°, tolerance {config.pelvis.tolerance_deg}°\n")
    print("| file | frames | verdict | level (of verdicts) | tilt mean | tilt sd | raw tilt sd | max abs tilt | no-verdict reasons | ms/frame |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in sorted(p for p in args.folder.iterdir() if p.suffix.lower() in MEDIA_SUFFIXES):
        model.forget_person()
        # single mode, as `beltline analyze` builds it
        pipeline = PelvisPipeline(model, config.pelvis, lock=NearestPersonLock(model, config.people))
        tally = SummaryTally(config.pelvis.tolerance_deg)
        tilts: list[float] = []
        raws: list[float] = []
        with contextlib.ExitStack() as closing:
            source = open_source(str(path), config.source, paced=False, repeat_stills=False, loop=False)
            closing.callback(source.close)
            csv_path = args.csv_dir / f"{path.stem}.csv" if args.csv_dir else None
            recorder_file = closing.enter_context(open(csv_path, "w", newline="")) if csv_path else None
            recorder = CsvRecorder(recorder_file) if recorder_file else None
            started = time.perf_counter()
            for frame, _pose, verdict in analyze_frames(source, pipeline):
                tally.add(verdict)
                if recorder:
                    recorder.add(frame, verdict)
                if verdict.tilt_deg is not None and verdict.raw_tilt_deg is not None:
                    tilts.append(verdict.tilt_deg)
                    raws.append(verdict.raw_tilt_deg)
            seconds = time.perf_counter() - started
        s = tally.as_dict()
        sd = f"{statistics.pstdev(tilts):.1f}" if len(tilts) > 1 else "–"
        raw_sd = f"{statistics.pstdev(raws):.1f}" if len(raws) > 1 else "–"
        mean = f"{statistics.fmean(tilts):+.1f}" if tilts else "–"
        level = f"{s['fraction_level']:.0%}" if s["fraction_level"] is not None else "–"
        worst = f"{s['max_abs_tilt_deg']:.1f}" if s["max_abs_tilt_deg"] is not None else "–"
        reasons = ", ".join(f"{k} {v}" for k, v in s["no_verdict_reasons"].items()) or "–"
        print(f"| {path.name} | {s['frames']} | {s['verdict_fraction']:.1%} | {level} | {mean} | {sd} | {raw_sd} | {worst} | {reasons} | {1000 * seconds / s['frames']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
