#!/usr/bin/env python3
"""Reps counted and hands-up gestures fired on every clip and photo, in every mode.

    python scripts/exercise-check.py [--model PATH] [--json OUT] ../shared/data

Each file goes through `beltline analyze`'s own kiosk (kiosk.app.assembly, Purpose.ANALYZE) in
single, group and exercise mode.  What it should find on media of people walking, standing,
dancing and squatting: no gesture anywhere, and no rep outside the leg-lift clips.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kiosk.app.analyze import analyze
from kiosk.app.assembly import Purpose, assemble, with_mode
from kiosk.settings.config import Mode
from kiosk.settings.config_file import load_config
from kiosk.settings.model_files import resolve_model_path

MEDIA = (".mp4", ".gif", ".jpg", ".jpeg", ".png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--mode", action="append", choices=[m.value for m in Mode], help="only these modes (repeat)")
    args = parser.parse_args()
    config = load_config(args.config)
    model_path = resolve_model_path(args.model, config.model.path)
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in MEDIA)
    rows = []
    for mode in [Mode(m) for m in args.mode] if args.mode else Mode:
        kiosk = assemble(with_mode(config, mode), model_path, Purpose.ANALYZE)
        for path in files:
            fresh = kiosk.restarted()
            source = fresh.open_source(str(path))
            try:
                summary = analyze(fresh, source, path.name).summary
            finally:
                source.close()
            reps = summary.get("exercise", {}).get("reps", {"left": 0, "right": 0})
            rows.append({"file": path.name, "mode": mode.value, "frames": summary["frames"],
                         "gestures": summary["gestures"], "reps_left": reps["left"], "reps_right": reps["right"]})
            print(f"{mode.value:<9} {path.name:<36} {summary['frames']:>5} frames  gestures {summary['gestures']}  "
                  f"reps L{reps['left']} R{reps['right']}", flush=True)
    gestures = sum(r["gestures"] for r in rows)
    frames = sum(r["frames"] for r in rows)
    print(f"total: {len(rows)} runs, {frames} frames, {gestures} gestures fired")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "gestures": gestures, "frames": frames}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
