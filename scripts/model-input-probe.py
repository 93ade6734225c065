#!/usr/bin/env python3
"""Two machines' kiosks on one picture: is it the model, or what is fed to it?

    python scripts/model-input-probe.py PICTURE OUT.npz [--config FILE] [--model FILE] [--other THEIRS.npz]
    python scripts/model-input-probe.py --compare MINE.npz THEIRS.npz

The kiosk is built as `beltline analyze` builds it; the picture is prepared for the model as the
kiosk prepares a frame (the whole frame, a photo's first look), and the input tensor, the heatmap
and the model's output are saved.  Given the other machine's file (--other), its input tensor is
also run through this machine's model, so --compare can tell a difference in the input (decoding,
colour conversion, resizing) from a difference in the model's arithmetic.  scripts/pi-emulated-
install.sh runs it on both sides of its comparison.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from kiosk.app.assembly import Purpose, assemble
from kiosk.core.types import Frame
from kiosk.settings.config_file import load_config
from kiosk.settings.model_files import resolve_model_path


def probe(picture: Path, out: Path, config_path: Path | None, model: str | None, other: Path | None) -> None:
    config = load_config(config_path)
    kiosk = assemble(config, resolve_model_path(model, config.model.path), Purpose.ANALYZE)
    image = cv2.imread(str(picture))
    if image is None:
        raise SystemExit(f"model-input-probe: cannot read {picture}")
    prepared = kiosk.model.prepare(Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 0, 0.0))
    fields = kiosk.model.decoder_fields(prepared)
    if fields is None:
        raise SystemExit("model-input-probe: this model has no heatmap and offsets to read")
    saved = {"tensor": prepared.tensor.copy(), "heatmap": fields[0].heatmap, "plain": fields[0].plain_rows}
    if other is not None:
        prepared.tensor[...] = np.load(other)["tensor"]
        theirs = kiosk.model.decoder_fields(prepared)
        assert theirs is not None
        saved["their_tensor_heatmap"] = theirs[0].heatmap
        saved["their_tensor_plain"] = theirs[0].plain_rows
    prepared.release()
    np.savez(out, **saved)


def compare(mine: Path, theirs: Path) -> str:
    """One line: how the inputs differ, how the outputs differ, and the model on the same input.
    `mine` must have been made with --other `theirs`."""
    a, b = np.load(mine), np.load(theirs)
    diff = np.abs(a["tensor"].astype(np.int64) - b["tensor"].astype(np.int64))
    same_model = (np.array_equal(a["their_tensor_heatmap"], b["heatmap"])
                  and np.array_equal(a["their_tensor_plain"], b["plain"]))
    return (f"input tensor: {int((diff > 0).sum())} of {diff.size} values differ (at most by {int(diff.max())}); "
            f"model output differs by {float(np.abs(a['plain'][:, :2] - b['plain'][:, :2]).max()):.4f} of the "
            f"input at most; on the same input tensor the model's heatmap and output are "
            f"{'bit-identical' if same_model else 'DIFFERENT'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs=2, type=Path)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--other", type=Path)
    args = parser.parse_args()
    if args.compare:
        print(compare(*args.files))
    else:
        probe(args.files[0], args.files[1], args.config, args.model, args.other)
    return 0


if __name__ == "__main__":
    sys.exit(main())
