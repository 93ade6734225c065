#!/usr/bin/env python3
"""Verdict coverage, tilt spread and time per frame for every clip and photo in a folder.

    python scripts/clip-report.py ../shared/data [--model PATH] [--config PATH] [--set SECTION.KEY=VALUE ...]

Builds the kiosk as `beltline analyze` does, analyses each file with it (restarted between files),
and prints a Markdown table (for the README and closing notes) from the summaries and the
per-frame CSV rows.  Writes nothing unless --csv-dir is given.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
from pathlib import Path

from kiosk.app.analyze import analyze
from kiosk.app.assembly import Purpose, assemble
from kiosk.camera.sources import IMAGE_SUFFIXES
from kiosk.settings.config_file import load_config, with_overrides
from kiosk.settings.model_files import resolve_model_path

MEDIA_SUFFIXES = IMAGE_SUFFIXES | {".mp4", ".avi", ".gif", ".mov", ".mkv"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--csv-dir", type=Path, help="also write each file's per-frame CSV here")
    args = parser.parse_args()
    config = with_overrides(load_config(args.config), args.set)
    model_path = resolve_model_path(args.model, config.model.path)
    kiosk = assemble(config, model_path, Purpose.ANALYZE)  # as `beltline analyze` builds it
    if args.csv_dir:
        args.csv_dir.mkdir(parents=True, exist_ok=True)
    model = kiosk.model
    print(f"model {model_path.name}, runtime {model.runtime_name}, {model.threads} threads, "
          f"mirror averaging {model.mirror_choice}, keypoints {'refined' if model.refines_keypoints else 'plain'}, "
          f"hysteresis ±{config.pelvis.hysteresis_deg}°, tolerance {config.pelvis.tolerance_deg}°, "
          f"belt picture {config.pelvis.belt_picture.value}, "
          f"mode {kiosk.settings.mode.value}\n")
    print("| file | frames | verdict | level (of verdicts) | tilt mean | tilt sd | raw tilt sd | max abs tilt "
          "| no-verdict reasons | ms/frame |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in sorted(p for p in args.folder.iterdir() if p.suffix.lower() in MEDIA_SUFFIXES):
        kiosk = kiosk.restarted()
        rows = io.StringIO()
        source = kiosk.open_source(str(path))
        try:
            s = analyze(kiosk, source, str(path), rows).summary
        finally:
            source.close()
        if args.csv_dir:
            (args.csv_dir / f"{path.stem}.csv").write_text(rows.getvalue(), encoding="utf-8")
        # the frames the ruler showed its own reading on: the CSV rows with a tilt
        judged = [row for row in csv.DictReader(io.StringIO(rows.getvalue())) if row["tilt_deg"]]
        tilts = [float(row["tilt_deg"]) for row in judged]
        raws = [float(row["raw_tilt_deg"]) for row in judged]
        sd = f"{statistics.pstdev(tilts):.1f}" if len(tilts) > 1 else "–"
        raw_sd = f"{statistics.pstdev(raws):.1f}" if len(raws) > 1 else "–"
        mean = f"{statistics.fmean(tilts):+.1f}" if tilts else "–"
        level = f"{s['fraction_level']:.0%}" if s["fraction_level"] is not None else "–"
        worst = f"{s['max_abs_tilt_deg']:.1f}" if s["max_abs_tilt_deg"] is not None else "–"
        reasons = ", ".join(f"{k} {v}" for k, v in s["no_verdict_reasons"].items()) or "–"
        print(f"| {path.name} | {s['frames']} | {s['verdict_fraction']:.1%} | {level} | {mean} | {sd} | {raw_sd} "
              f"| {worst} | {reasons} | {s['ms_per_frame']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
