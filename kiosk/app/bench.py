"""`beltline bench`: the real kiosk loop on a clip, measured stage by stage."""

from __future__ import annotations

import dataclasses
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.app.assembly import Kiosk
from kiosk.camera.pool import BufferPool
from kiosk.camera.sources import IMAGE_SUFFIXES, FrameSource, MemoryClipSource, decode_clip
from kiosk.core.errors import BeltlineError
from kiosk.core.types import Frame, Stage
from kiosk.flow.loop import View
from kiosk.settings.config import Mode

WARM_UP_FRAMES = 30
BARE_INVOKES = 300


def resident_mb() -> float:
    """Resident set size now, in MB (Linux /proc; the peak from getrusage elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * resource.getpagesize() / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


class LoopProbe:
    """Per-frame stage times and latency in seconds, for `bench`; the loop is the same without one.

    Samples go into arrays allocated up front, so measuring does not itself grow the process.
    """

    STAGES = tuple(Stage)
    """`latency`: capture to flip; `interval`: from one frame shown to the next (the frame time)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._values = {stage: np.full(capacity, np.nan) for stage in self.STAGES}  # touched now, not mid-run
        self._counts = dict.fromkeys(self.STAGES, 0)

    def record(self, stage: Stage, seconds: float) -> None:
        count = self._counts[stage]
        values = self._values[stage]
        if count < values.size:
            values[count] = seconds
            # One writer per stage (the capture thread writes only "capture"), so no lock is needed.
            self._counts[stage] = count + 1

    def clear(self) -> None:
        for stage in self.STAGES:
            self._counts[stage] = 0

    def samples(self, stage: Stage) -> np.ndarray:
        return self._values[stage][: self._counts[stage]]



class SideBySide:
    """N copies of a source's frames next to each other: N times the people in the picture.

    For `bench --side-by-side`, to measure group mode's cost per person on real footage.
    """

    def __init__(self, source: FrameSource, copies: int, pool: BufferPool | None = None) -> None:
        self._source = source
        self._copies = copies
        self._pool = pool or BufferPool()
        self.description = f"{source.description} x{copies} side by side"
        self.fps = source.fps
        size = getattr(source, "frame_size", None)
        if size is not None:
            self.frame_size = (size[0] * copies, size[1])

    def read(self) -> Frame | None:
        frame = self._source.read()
        if frame is None:
            return None
        height, width = frame.image.shape[:2]
        image = self._pool.acquire((height, width * self._copies, 3))
        for copy in range(self._copies):
            image[:, copy * width:(copy + 1) * width] = frame.image
        frame.release()
        return self._pool.frame(image, frame.index, frame.t_s)

    def close(self) -> None:
        self._source.close()


WORK_STAGES = (Stage.CAPTURE, Stage.PREPROCESS, Stage.INVOKE, Stage.POSTPROCESS, Stage.JUDGE, Stage.RENDER, Stage.FLIP)
"""The stages that are work (not waiting, not the latency or the frame time), compared in the loop and bare."""
BARE_STAGE_FRAMES = 300
"""Frames of the one-thread loop that measures each stage bare, after the loop's own run."""
MEMORY_FOR_CLIP_BYTES = 1 << 30
"""A clip up to this size is decoded ahead and played from memory, as a camera hands over frames."""


@dataclass(frozen=True)
class BenchInput:
    """What `bench` feeds the loop: a clip from memory (as a camera would), or as it decodes."""

    source: FrameSource
    name: str
    decoded_ahead: bool
    decode_ms_per_frame: float | None = None
    """Decoding one frame, measured while decoding ahead (None: decoded in the loop, or a photo)."""


def bench_input(kiosk: Kiosk, spec: str, decode_in_loop: bool = False) -> BenchInput:
    """The clip `spec` decoded into memory when it fits `MEMORY_FOR_CLIP_BYTES` (else, with
    `decode_in_loop`, or for a photo or camera: opened as the kiosk opens it)."""
    path = Path(spec).expanduser()
    if not decode_in_loop and path.suffix.lower() not in IMAGE_SUFFIXES and path.is_file():
        clip = decode_clip(path, MEMORY_FOR_CLIP_BYTES)
        if clip is not None:
            return BenchInput(MemoryClipSource(clip), path.name, True, round(1000 * clip.decode_s_per_frame, 3))
    return BenchInput(kiosk.open_source(spec), path.name, False)


@dataclass
class BenchReport:
    figures: dict[str, Any]
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    """Each stage's samples in seconds (not in the JSON)."""

    def as_text(self) -> str:
        f = self.figures
        fed = ("decoded ahead into memory: " + f"{f['decode_ms_per_frame']:.2f} ms a frame, not in the loop"
               if f["decoded_ahead"] else "decoded in the loop")
        lines = [
            (f"{f['mode']} loop on {f['input']} ({f['frame_size']}, {fed}), {f['frames_measured']} frames measured "
            f"after {WARM_UP_FRAMES} warm-up"),
            f"runtime {f['runtime']}, {f['threads']} threads, {f['invokes_per_frame']} invokes a look",
            (f"end-to-end: {f['fps']:.1f} fps; model-bound (bare invoke loop): {f['model_bound_fps']:.1f} fps "
            f"({f['bare_invoke_ms']['median']:.2f} ms median) -> {f['fps_vs_model_bound']:.0%} of it"),
            (f"for its work ({f['looks_per_frame']:.3f} looks a frame): model-bound "
             f"{f['model_bound_for_its_work_fps']:.1f} fps -> {f['fps_vs_model_bound_for_its_work']:.0%} of it"),
            (f"non-model time per frame: {f['non_model_ms_per_frame']:.2f} ms "
            f"(1000/fps minus the median invoke in the loop)"),
            "stage          median ms   p95 ms" + ("   bare ms  in loop/bare" if "stages_bare_ms" in f else ""),
        ]
        for stage in LoopProbe.STAGES:
            if stage in f["stages_ms"]:
                s = f["stages_ms"][stage]
                label = {"latency": "capture->flip", "interval": "frame time"}.get(stage, stage)
                line = f"{label:<14} {s['median']:>9.2f} {s['p95']:>8.2f}"
                bare = f.get("stages_bare_ms", {}).get(stage)
                if bare is not None and stage in WORK_STAGES:
                    ratio = f["stage_in_loop_vs_bare"].get(stage)
                    line += f" {bare['median']:>9.2f} {'' if ratio is None else f'{ratio:>9.2f}'}"
                lines.append(line)
        lines.append(f"CPU {f['cpu_percent']:.0f} % (of one core); RSS {f['rss_mb_start']:.1f} -> "
                     f"{f['rss_mb_end']:.1f} MB ({f['rss_growth_mb']:+.1f} MB); frames dropped as stale: "
                     f"{f['frames_dropped']}")
        if "group" in f:
            g = f["group"]
            lines.append(f"group mode: {g['people_followed_mean']:.2f} people followed on average, "
                         f"{g['model_runs_per_frame_mean']:.2f} model runs per frame, "
                         f"{g['ms_per_frame']} ms per frame, {g['ms_per_person']} ms per person")
        return "\n".join(lines)


def _summary(values: Any) -> dict[str, float]:
    ms = np.asarray(values, dtype=np.float64) * 1000.0
    if ms.size == 0:
        return {"median": float("nan"), "p95": float("nan"), "mean": float("nan")}
    return {"median": round(float(np.median(ms)), 3), "p95": round(float(np.percentile(ms, 95)), 3),
            "mean": round(float(np.mean(ms)), 3)}


class _AfterWarmUp(LoopProbe):
    """Drops the first frames' samples (interpreter warm-up, first allocations)."""

    def __init__(self, on_warm: Callable[[], None], capacity: int) -> None:
        super().__init__(capacity)
        self._on_warm = on_warm
        self._shown = 0

    def record(self, stage: Stage, seconds: float) -> None:
        if stage is Stage.LATENCY:
            self._shown += 1
            if self._shown == WARM_UP_FRAMES:
                self.clear()
                self._on_warm()
                return
        super().record(stage, seconds)


@dataclass(frozen=True)
class _Measured:
    probe: LoopProbe
    wall_s: float
    cpu_s: float
    rss_mb_start: float
    frames_dropped: int


def _measure(kiosk: Kiosk, source: FrameSource, view: View, frames: int, sequential: bool,
             close_walks: bool) -> _Measured:
    """The loop for `frames` frames after the warm-up (whose samples and counts are dropped)."""
    marks: dict[str, float] = {}
    counts = kiosk.pipeline.counts

    def warm() -> None:
        marks.update(wall=time.monotonic(), cpu=time.process_time(), rss=resident_mb())
        counts.clear()

    probe = _AfterWarmUp(warm, capacity=frames + WARM_UP_FRAMES + 8)
    stats = kiosk.run(source, view, max_frames=frames + WARM_UP_FRAMES, sequential=sequential, probe=probe,
                      close_walks=close_walks)
    if not marks:
        raise BeltlineError(f"the clip ended before the {WARM_UP_FRAMES} warm-up frames were shown")
    return _Measured(probe, time.monotonic() - marks["wall"], time.process_time() - marks["cpu"], marks["rss"],
                     stats.frames_dropped)


def run_bench(kiosk: Kiosk, source: FrameSource | BenchInput, view: View, frames: int, sequential: bool,
              input_name: str | None = None, close_walks: bool = True, bare_stages: bool = True) -> BenchReport:
    """The kiosk's loop for `frames` frames after a warm-up, measured; then (`bare_stages`, for the
    pipelined loop) each stage bare: the same kiosk's one-thread loop on the same input, nothing
    beside it.  BeltlineError when the clip is too short to warm up."""
    fed = source if isinstance(source, BenchInput) else BenchInput(source, input_name or source.description, False)
    pipeline = kiosk.pipeline
    model = pipeline.model
    counts = pipeline.counts
    measured = _measure(kiosk, fed.source, view, frames, sequential, close_walks)
    probe = measured.probe
    wall, cpu = measured.wall_s, measured.cpu_s
    rss_end = resident_mb()
    shown = len(probe.samples(Stage.LATENCY))
    looks_per_frame = counts.model_runs / counts.frames if counts.frames else 1.0
    bare = model.time_invokes(BARE_INVOKES)
    stages = {stage: _summary(probe.samples(stage)) for stage in LoopProbe.STAGES if len(probe.samples(stage))}
    fps = shown / wall if wall > 0 else 0.0
    bare_ms = _summary(bare)
    invokes = model.invokes_per_frame  # with mirror averaging every look takes two invokes
    model_bound_fps = 1000.0 / (invokes * bare_ms["median"]) if bare else float("nan")
    own_bound_fps = model_bound_fps / looks_per_frame if looks_per_frame > 0 else float("nan")
    frame_size = "?"
    if hasattr(fed.source, "frame_size"):
        frame_size = "x".join(str(v) for v in fed.source.frame_size)
    figures: dict[str, Any] = {
        "mode": "sequential" if sequential else "pipelined",
        "input": fed.name,
        "decoded_ahead": fed.decoded_ahead,
        "decode_ms_per_frame": fed.decode_ms_per_frame,
        "frame_size": frame_size,
        "frames_measured": shown,
        "seconds": round(wall, 3),
        "fps": round(fps, 2),
        "model_bound_fps": round(model_bound_fps, 2),
        "invokes_per_frame": invokes,
        "fps_vs_model_bound": round(fps / model_bound_fps, 3) if bare else None,
        "looks_per_frame": round(looks_per_frame, 4),
        "model_bound_for_its_work_fps": round(own_bound_fps, 2),
        "fps_vs_model_bound_for_its_work": round(fps / own_bound_fps, 3) if bare else None,
        "non_model_ms_per_frame": round(1000.0 / fps - stages[Stage.INVOKE]["median"], 3) if fps else None,
        "bare_invoke_ms": bare_ms,
        "stages_ms": stages,
        "cpu_percent": round(100.0 * cpu / wall, 1) if wall > 0 else None,
        "rss_mb_start": round(measured.rss_mb_start, 1),
        "rss_mb_end": round(rss_end, 1),
        "rss_growth_mb": round(rss_end - measured.rss_mb_start, 2),
        "frames_dropped": measured.frames_dropped,
        "runtime": model.runtime_name,
        "threads": model.threads,
        "mirror_choice": model.mirror_choice,
        "startup_measurement": [list(t) for t in getattr(getattr(model, "runtime_choice", None), "tried", ())],
    }
    if not sequential and bare_stages:
        alone = _measure(kiosk.restarted(), fed.source, view, min(frames, BARE_STAGE_FRAMES), True, close_walks)
        bare_stages_ms = {stage: _summary(alone.probe.samples(stage)) for stage in LoopProbe.STAGES
                          if len(alone.probe.samples(stage))}
        bare_stages_ms[Stage.INVOKE] = {key: round(value * invokes, 3)
                                        for key, value in bare_ms.items()}  # the bare invoke loop's, per look
        figures["stages_bare_ms"] = bare_stages_ms
        figures["stage_in_loop_vs_bare"] = {
            stage: round(stages[stage]["median"] / bare_stages_ms[stage]["median"], 3)
            for stage in WORK_STAGES if stage in stages and stage in bare_stages_ms
            and bare_stages_ms[stage]["median"] > 0.05}
    if pipeline.mode is Mode.GROUP and counts.frames:  # (the bare stages ran on a restarted pipeline)
        people = counts.people / counts.frames
        figures["group"] = {
            "people_followed_mean": round(people, 2),
            "model_runs_per_frame_mean": round(counts.model_runs / counts.frames, 2),
            "ms_per_frame": round(1000.0 / fps, 2) if fps else None,
            "ms_per_person": round(1000.0 / fps / people, 2) if fps and people else None,
        }
    return BenchReport(figures, {stage: probe.samples(stage).copy() for stage in LoopProbe.STAGES})


def run_records_bench(kiosk: Kiosk, source: FrameSource, view: View, frames: int, input_name: str,
                      blocks: int = 6) -> dict[str, Any]:
    """The loop with records off and on, in alternating blocks of one run (so that whatever else
    the machine does falls on both alike): the frame time and latency of each, and the walks
    that finished, and were written, while the records were on.  `kiosk` records; its twin
    without records shares its model.  A walk in progress at a block's end is not recorded."""
    records = kiosk.records
    if records is None:
        raise BeltlineError("bench --records needs a kiosk that records")
    twin = dataclasses.replace(kiosk, records=None).restarted()
    recording = kiosk.restarted()
    runs: dict[str, list[BenchReport]] = {"off": [], "on": []}
    for block in range(blocks):
        which = "off" if block % 2 == 0 else "on"
        runs[which].append(run_bench(twin if which == "off" else recording, source, view,
                                     max(frames // blocks, 60), False, input_name, close_walks=False,
                                     bare_stages=False))
    kiosk.close()
    figures: dict[str, Any] = {"input": input_name, "blocks": blocks}
    for which, reports in runs.items():
        merged = {stage: np.concatenate([r.samples[stage] for r in reports]) for stage in ("interval", "latency")}
        figures[f"records_{which}"] = {
            "frames_measured": int(sum(r.figures["frames_measured"] for r in reports)),
            "fps": round(float(np.mean([r.figures["fps"] for r in reports])), 2),
            "frame_time_ms": {**_summary(merged["interval"]), "max": round(float(merged["interval"].max()) * 1e3, 3)},
            "latency_ms": _summary(merged["latency"]),
        }
    figures["walks_written"] = records.written
    figures["write_ms_max"] = round(records.write_s_max * 1e3, 2)
    figures["records_problem"] = records.problem
    return figures
