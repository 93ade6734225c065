#!/usr/bin/env python3
"""Soak test: the kiosk loop replays real clips at full speed for a long time while faults are injected.

    SDL_VIDEODRIVER=dummy python scripts/soak.py --minutes 40 --json soak.json ../shared/data/*.mp4

It builds the kiosk exactly as `beltline run` does (kiosk.app.assembly, with the defaults or
--config): the same model settings, lock, thread split and supervised loop, with clips read at
their own pace as a camera delivers them.  It only wraps two seams: the camera, made of the clips,
whose cable is pulled, whose reads hang and which sends garbage, and the model, which now and
then returns NaN.  It samples RSS, counts frames, faults and recoveries, and prints a report; it
writes no picture.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from kiosk.app.assembly import Kiosk, Purpose, assemble, open_view
from kiosk.app.bench import resident_mb
from kiosk.camera.sources import FrameSource, SourcePools
from kiosk.core.types import (
    ExerciseStatus,
    Frame,
    PersonVerdict,
    ReplayScreen,
    SetSummary,
    ShowTiming,
    Verdict,
    WalkStatus,
    WalkSummary,
)
from kiosk.core.words import CAMERA_UNAVAILABLE
from kiosk.flow.loop import View
from kiosk.settings.config import Config
from kiosk.settings.config_file import load_config
from kiosk.settings.model_files import resolve_model_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))  # fakes, harness
from fakes import GARBAGE_KINDS, GlitchingModel, UnpluggableCamera

RECOVERY_LIMIT_S = 3.0


class CountingView:
    """The real pygame view, counting what it shows."""

    def __init__(self, view: View) -> None:
        self._view = view
        self._lock = threading.Lock()
        self.frames = 0
        self.media_s = 0.0
        self.last_frame_at = 0.0
        self.messages = 0

    def show(self, frame: Frame, verdict: Verdict, fps: float | None = None,
             walk: WalkStatus | None = None, exercise: ExerciseStatus | None = None,
             notice: str | None = None) -> ShowTiming | None:
        timing = self._view.show(frame, verdict, fps, walk, exercise, notice)
        self._shown()
        return timing

    def show_group(self, frame: Frame, people: list[PersonVerdict], fps: float | None = None,
                   notice: str | None = None) -> ShowTiming | None:
        timing = self._view.show_group(frame, people, fps, notice)
        self._shown()
        return timing

    def _shown(self) -> None:
        with self._lock:
            self.frames += 1
            self.last_frame_at = time.monotonic()

    def show_message(self, words: str) -> None:
        self._view.show_message(words)
        with self._lock:
            self.messages += words == CAMERA_UNAVAILABLE

    def show_walk_summary(self, frame: Frame, summary: WalkSummary) -> None:
        # the summary screens show the live picture: a camera that came back shows here first
        self._view.show_walk_summary(frame, summary)
        self._shown()

    def show_set_summary(self, frame: Frame, summary: SetSummary) -> None:
        self._view.show_set_summary(frame, summary)
        self._shown()

    def show_replay(self, screen: ReplayScreen) -> None:
        # shown only while live frames keep arriving (each replay picture goes with one)
        self._view.show_replay(screen)
        self._shown()

    def show_calibration(self, frame: Frame, verdict: Verdict, words: str, progress: float) -> None:
        self._view.show_calibration(frame, verdict, words, progress)
        self._shown()

    def quit_requested(self) -> bool:
        return self._view.quit_requested()

    def save_snapshot(self, path: Path) -> None:
        self._view.save_snapshot(path)


class CountedClip:
    """A clip source that counts the frames and media time it delivers into its `ClipCycle`.

    A wrapper rather than a patched `read`: a closure over the source's own bound method would
    put every replaced source, with its decode buffer, in a reference cycle."""

    def __init__(self, clip: FrameSource, cycle: ClipCycle) -> None:
        self._clip = clip
        self._cycle = cycle
        self.description = clip.description
        self.fps = clip.fps

    def read(self) -> Frame | None:
        frame = self._clip.read()
        if frame is not None:
            self._cycle.frames_decoded += 1
            self._cycle.media_s += 1.0 / self.fps
        return frame

    def close(self) -> None:
        self._clip.close()


class ClipCycle:
    """Each (re)connection plays the next clip, looping, opened as `beltline run --loop` opens it."""

    def __init__(self, clips: list[Path], kiosk: Kiosk) -> None:
        self._clips = itertools.cycle(clips)
        self._kiosk = kiosk
        # Buffers shared by every reconnection, as `beltline run` shares them (one set per clip,
        # since a real camera keeps its frame size).
        self._pools = {clip: SourcePools() for clip in clips}
        self.frames_decoded = 0
        self.media_s = 0.0

    def open(self) -> CountedClip:
        path = next(self._clips)
        return CountedClip(self._kiosk.open_source(str(path), self._pools[path], loop=True), self)


def build_soak_kiosk(config: Config, model_path: Path) -> Kiosk:
    """`beltline run`'s kiosk with the model wrapped so that it can be told to return NaN."""
    return assemble(config, model_path, Purpose.RUN, wrap_model=GlitchingModel)


def rss_growth(rss: list[tuple[float, float]], warmup_s: float, sample_every_s: float) -> dict[str, float | None]:
    """Growth after warm-up: the median of the last five minutes' samples against the median of the
    first five (single samples swing by several MB as frames come and go), and the fitted trend."""
    warm = [(t, mb) for t, mb in rss if t >= warmup_s]
    if len(warm) < 2:
        return {"rss_growth_mb": None, "rss_trend_mb_per_hour": None}
    window = max(1, min(len(warm) // 2, round(300 / sample_every_s)))
    first = statistics.median(mb for _, mb in warm[:window])
    last = statistics.median(mb for _, mb in warm[-window:])
    times, sizes = zip(*warm, strict=True)
    trend = statistics.linear_regression(times, sizes).slope * 3600
    return {"rss_mb_after_warmup": round(first, 2), "rss_mb_last_5_min": round(last, 2),
            "rss_growth_mb": round(last - first, 2), "rss_trend_mb_per_hour": round(trend, 2)}


def wait_for_frames_after(view: CountingView, t: float, limit_s: float) -> float | None:
    deadline = time.monotonic() + limit_s + 2.0
    while time.monotonic() < deadline:
        if view.last_frame_at > t:
            return view.last_frame_at - t
        time.sleep(0.01)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--minutes", type=float, default=120.0, help="wall-clock length (default 120)")
    parser.add_argument("--fault-every-s", type=float, default=30.0, help="seconds between injected faults")
    parser.add_argument("--sample-every-s", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--warmup-minutes", type=float, default=5.0,
                        help="RSS growth is counted from here on: the decoder, pools and model have settled")
    parser.add_argument("--model")
    parser.add_argument("--config", type=Path, help="as `beltline run --config` (default: the defaults)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args()

    config = load_config(args.config)
    if config.records.enabled and not config.records.path:
        # The kiosk records as `run` does, into a scratch database rather than this machine's own.
        scratch = Path(tempfile.mkdtemp(prefix="beltline-soak-")) / "records.sqlite"
        config = dataclasses.replace(config, records=dataclasses.replace(config.records, path=str(scratch)))
    kiosk = build_soak_kiosk(config, resolve_model_path(args.model, config.model.path))
    model = kiosk.model
    assert isinstance(model, GlitchingModel)
    pipeline = kiosk.pipeline
    cycle = ClipCycle(args.clips, kiosk)
    camera = UnpluggableCamera(cycle.open)
    view = CountingView(open_view(config, windowed=True))
    stop = threading.Event()
    supervision = kiosk.supervision(camera.open)
    failure: list[BaseException] = []

    def loop() -> None:
        try:
            kiosk.run(camera.open(), view, stop=stop, supervision=supervision)
        except BaseException as error:  # noqa: BLE001 -- whatever ended the loop is the soak's finding
            failure.append(error)

    runner = threading.Thread(target=loop, name="soak-loop", daemon=True)
    started = time.monotonic()
    runner.start()
    faults = itertools.cycle(["unplug", "hang", "garbage", "nan"])
    events: list[dict] = []
    rss: list[tuple[float, float]] = []
    next_fault = started + args.fault_every_s
    next_sample = started
    end = started + args.minutes * 60
    while time.monotonic() < end and runner.is_alive():
        now = time.monotonic()
        if now >= next_sample:
            rss.append((round(now - started, 1), round(resident_mb(), 2)))
            next_sample += args.sample_every_s
        if now >= next_fault:
            kind = next(faults)
            event = {"t_s": round(now - started, 1), "fault": kind}
            if kind == "unplug":
                camera.unplug()
                time.sleep(1.5)
                camera.plug_in()
                recovery = wait_for_frames_after(view, time.monotonic(), RECOVERY_LIMIT_S)
            elif kind == "hang":
                camera.stall(3.0)
                time.sleep(3.0)
                recovery = wait_for_frames_after(view, time.monotonic(), RECOVERY_LIMIT_S)
            elif kind == "garbage":
                camera.send_garbage(list(GARBAGE_KINDS) * 5)
                recovery = wait_for_frames_after(view, time.monotonic() + 0.5, RECOVERY_LIMIT_S)
            else:
                model.glitch(10)
                recovery = wait_for_frames_after(view, time.monotonic() + 0.5, RECOVERY_LIMIT_S)
            event["recovered_in_s"] = None if recovery is None else round(recovery, 3)
            event["recovered"] = recovery is not None and recovery <= RECOVERY_LIMIT_S
            events.append(event)
            next_fault = time.monotonic() + args.fault_every_s
        time.sleep(0.05)
    stop.set()
    runner.join(timeout=5)
    kiosk.close()
    wall_s = time.monotonic() - started
    growth = rss_growth(rss, args.warmup_minutes * 60, args.sample_every_s)
    report = {
        "wall_minutes": round(wall_s / 60, 1),
        "media_hours_replayed": round(cycle.media_s / 3600, 2),
        "frames_decoded": cycle.frames_decoded,
        "frames_shown": view.frames,
        "faults_injected": {k: sum(e["fault"] == k for e in events) for k in ("unplug", "hang", "garbage", "nan")},
        "faults_recovered": sum(e["recovered"] for e in events),
        "faults_not_recovered": [e for e in events if not e["recovered"]],
        "recovery_s_max_camera": max((e["recovered_in_s"] or 99) for e in events if e["fault"] in ("unplug", "hang"))
        if any(e["fault"] in ("unplug", "hang") for e in events) else None,
        "camera_unavailable_screens": view.messages,
        "fault_counts": dict(pipeline.faults.totals),
        "camera_opens": camera.opens,
        "rss_mb_start": rss[0][1] if rss else None,
        "rss_mb_end": rss[-1][1] if rss else None,
        "rss_mb_max": max(mb for _, mb in rss) if rss else None,
        **growth,
        "loop_crashed": repr(failure[0]) if failure else None,
        "records": None if kiosk.records is None else {
            "path": str(kiosk.records.path), "walks_written": kiosk.records.written,
            "walks_lost": kiosk.records.lost, "problem": kiosk.records.problem},
        "rss_samples": rss,
        "events": events,
    }
    text = json.dumps({k: v for k, v in report.items() if k not in ("rss_samples", "events")}, indent=2)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    ok = not failure and not report["faults_not_recovered"] and (report["rss_growth_mb"] or 0) < 5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
