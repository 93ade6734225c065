"""The one way to build the kiosk from its `Config`: model, pipeline, lock, sources and the loop.

Every command (`run`, `analyze`, `calibrate`, `bench`, `check`) and every script builds through
`assemble`, so that a soak, a benchmark or an accuracy run measures the kiosk that ships.  A
script may wrap the model (`wrap_model`, to inject faults) or the sources it opens, nothing more.
What a purpose changes is written down in `KioskSettings`, which tests compare.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.body.calibration import (
    Calibration,
    CalibrationDamaged,
    find_calibration,
    save_calibration,
    set_aside,
)
from kiosk.body.exercise import ExerciseCoach
from kiosk.body.gesture import arms_out_gesture, hands_up_gesture
from kiosk.body.reading import PelvisReader, resolve_marker_color
from kiosk.camera.sources import FrameSource, SourcePools, open_source
from kiosk.core.errors import ConfigError
from kiosk.core.memory import freeze_startup_objects, tame_heap
from kiosk.core.words import CALIBRATION_LOST, CALIBRATION_LOST_GROUP
from kiosk.flow.activity import ActivityState
from kiosk.flow.group import GroupPipeline
from kiosk.flow.lock import NearestPersonLock
from kiosk.flow.loop import Notifier, RunStats, Supervision, View, run_mirror
from kiosk.flow.person import WalkSink
from kiosk.flow.pipeline import PelvisPipeline, Pipeline
from kiosk.flow.replay import ReplayKeeper, ReplayRecorder
from kiosk.flow.threads import StageProbe
from kiosk.model.decode import VoteDecoder
from kiosk.model.pose import MoveNet, PoseModel
from kiosk.recording.store import RecordWriter, WalkContext, kiosk_name
from kiosk.settings.config import Config, Mode
from kiosk.settings.locations import gesture_calibration_path, records_path

if TYPE_CHECKING:
    from kiosk.screen.view import MirrorView

log = logging.getLogger(__name__)


class Purpose(enum.Enum):
    RUN = "run"
    """The kiosk: sources paced like a camera, supervised, the calibration in force."""
    ANALYZE = "analyze"
    """Every frame in order as fast as it goes; every step kept."""
    CALIBRATE = "calibrate"
    """One person standing still: single mode, no calibration in force."""
    BENCH = "bench"
    """The kiosk's loop on a looped clip, each frame handed over the moment the loop can take it."""
    CHECK = "check"
    """Can this machine run it: the model built as `run` builds it."""


@dataclass(frozen=True, slots=True)
class KioskSettings:
    """Everything a purpose decides about the kiosk, beside the `Config` it was built from."""

    purpose: Purpose
    mode: Mode
    lock: bool
    """Single mode's nearest-person lock."""
    keep_steps: bool
    calibrated: bool
    """Whether a calibration file is looked for and put in force."""
    paced: bool
    """Clips are read at their own speed (like a camera), not as fast as they decode."""
    repeat_stills: bool
    """A photo becomes a still stream (else it is one frame)."""
    loops: bool | None
    """Clips start again at their end; None: as `run --loop` or `source.loop` say."""
    on_demand: bool
    """Capture reads the next frame only when the loop has taken the last (bench)."""
    decoder_threads: int
    supervised: bool
    """A failing or stalled camera is reopened instead of ending the loop."""
    records: bool
    """Every finished walk goes to the records database (kiosk.recording.store); `analyze --db` asks for it too."""
    replay: bool
    """The frames shown are kept in memory for a walk's slow-motion replay (kiosk.flow.replay): the
    kiosk and its benchmark, single and exercise modes, when `replay.enabled`."""


def settings_for(config: Config, purpose: Purpose) -> KioskSettings:
    mode = Mode.SINGLE if purpose is Purpose.CALIBRATE else config.people.mode
    return KioskSettings(
        purpose=purpose,
        mode=mode,
        lock=mode is not Mode.GROUP,
        keep_steps=purpose is Purpose.ANALYZE,
        calibrated=purpose not in (Purpose.CALIBRATE, Purpose.CHECK),
        paced=purpose in (Purpose.RUN, Purpose.CALIBRATE),
        repeat_stills=purpose in (Purpose.RUN, Purpose.CALIBRATE, Purpose.BENCH),
        loops=None if purpose is Purpose.RUN else purpose in (Purpose.CALIBRATE, Purpose.BENCH),
        on_demand=purpose is Purpose.BENCH,
        decoder_threads=1 if purpose is Purpose.BENCH else 0,
        supervised=purpose is Purpose.RUN,
        records=purpose is Purpose.RUN and config.records.enabled,
        replay=purpose in (Purpose.RUN, Purpose.BENCH) and config.replay.enabled and mode is not Mode.GROUP,
    )


def build_model(config: Config, model_path: Path, live: bool = False) -> MoveNet:
    """MoveNet as the config asks for it (raises ModelError naming the cause); `live`: for a
    running loop, where `mirror_average = "auto"` decides from the loop's own first invokes."""
    m = config.model
    return MoveNet(model_path, m.runtime, m.threads, m.crop_tracking, m.mirror_average, VoteDecoder(m.refine_radius),
                   frame_time_s=1.0 / config.source.fps, decide_in_loop=live)


@dataclass(frozen=True)
class Kiosk:
    """The kiosk built for one purpose.  `model` is what the pipeline calls (a script's wrapper, if any)."""

    config: Config
    settings: KioskSettings
    model_path: Path
    model: PoseModel
    pipeline: Pipeline
    calibration: Calibration | None
    records: RecordWriter | None = None
    """Where finished walks are written, when this kiosk records them."""
    replays: ReplayKeeper | None = None
    """The frames kept for a walk's replay, when this kiosk keeps them."""

    def restarted(self, baseline_deg: float | None = None) -> Kiosk:
        """The same model with a fresh pipeline, as if the kiosk had just started on a new scene:
        nothing carried over from what it saw.  `baseline_deg` puts a calibration in force
        (None: the kiosk's own, if any); for harnesses that run many cases on one model."""
        self.model.forget_person()
        belt_offset_deg = None
        if baseline_deg is None and self.calibration is not None:
            baseline_deg, belt_offset_deg = self.calibration.standing_tilt_deg, self.calibration.belt_offset_deg
        learned = self.calibration.marker_color if self.calibration is not None else None
        pipeline = build_pipeline(self.config, self.settings, self.model, baseline_deg, self.records, belt_offset_deg,
                                  learned)
        return dataclasses.replace(self, pipeline=pipeline)

    def open_source(self, spec: str, pools: SourcePools | None = None, loop: bool = False) -> FrameSource:
        """Open a clip, photo or camera as this purpose reads it (`loop`: `run --loop`)."""
        s = self.settings
        loops = s.loops if s.loops is not None else loop or self.config.source.loop
        return open_source(spec, self.config.source, paced=s.paced, repeat_stills=s.repeat_stills, loop=loops,
                           decoder_threads=s.decoder_threads, pools=pools)

    def supervision(self, reopen: Callable[[], FrameSource], notifier: Notifier | None = None) -> Supervision:
        """How `run` survives a camera that fails or stalls."""
        return Supervision(reopen, self.config.source.stall_timeout_s, notifier)

    def reopener(self, spec: str, pools: SourcePools, loop: bool = False) -> Callable[[], FrameSource]:
        return functools.partial(self.open_source, spec, pools, loop)

    def run(self, source: FrameSource | None, view: View, *, max_frames: int | None = None,
            stop: threading.Event | None = None, supervision: Supervision | None = None,
            probe: StageProbe | None = None, sequential: bool = False, close_walks: bool = True) -> RunStats:
        """The kiosk loop until the source ends, a quit key, `stop` or `max_frames`; then the walk
        in progress is closed (and recorded), unless `close_walks` is False (bench's blocks).
        `source` None: a camera that is not there yet, which `supervision` opens when it comes."""
        if self.settings.supervised and supervision is None:
            raise ValueError("the kiosk runs supervised: pass kiosk.supervision(...)")
        if source is None and (supervision is None or sequential):
            raise ValueError("without a source, the loop needs supervision to open one")
        freeze_startup_objects()  # start-up is done: later collections walk only what comes after
        stats = run_mirror(source, self.pipeline, view, max_frames, stop, sequential=sequential,
                           on_demand=self.settings.on_demand, probe=probe, supervision=supervision,
                           replays=None if sequential else self.replays)
        if close_walks:
            self.pipeline.end_walks()  # a clean stop (the clip ended, SIGTERM) still records the walk in progress
        return stats

    def close(self) -> None:
        """Write the records still queued and stop their thread."""
        if self.records is not None:
            self.records.close()


def assemble(config: Config, model_path: Path, purpose: Purpose, *,
             wrap_model: Callable[[MoveNet], PoseModel] | None = None, record_to: Path | None = None) -> Kiosk:
    """Build the kiosk for `purpose` from `config`; `wrap_model` wraps the real model (fault
    injection); `record_to` records the walks in that database whatever the purpose (`analyze --db`)."""
    settings = settings_for(config, purpose)
    if record_to is not None:
        settings = dataclasses.replace(settings, records=True)
    if purpose in (Purpose.RUN, Purpose.BENCH):
        tame_heap()  # before any thread starts: the kiosk runs for weeks, and bench measures it
    calibration, notice = _calibration(config, settings) if settings.calibrated else (None, None)
    if calibration is not None:
        log.info("calibrated standing tilt %.2f deg (camera roll %.2f deg) from %s", calibration.standing_tilt_deg,
                 calibration.camera_roll_deg, calibration.created)
    real = build_model(config, model_path, live=purpose in (Purpose.RUN, Purpose.BENCH))
    model: PoseModel = wrap_model(real) if wrap_model is not None else real
    baseline = calibration.standing_tilt_deg if calibration else None
    records = None
    if settings.records:
        context = WalkContext(kiosk_name(config.records), settings.mode, config.pelvis.tolerance_deg, baseline)
        records = RecordWriter(record_to or records_path(config.records), context, config.records.keep_days)
    pipeline = build_pipeline(config, settings, model, baseline, records,
                              calibration.belt_offset_deg if calibration else None,
                              calibration.marker_color if calibration else None)
    pipeline.notice = notice
    replays = (ReplayKeeper(ReplayRecorder(config.replay, config.source.fps), config.pelvis.tolerance_deg)
               if settings.replay else None)
    return Kiosk(config, settings, model_path, model, pipeline, calibration, records, replays)


def _calibration(config: Config, settings: KioskSettings) -> tuple[Calibration | None, str | None]:
    """The calibration in force, and a line for the screen.  The kiosk does not stop on a damaged
    calibration (a power cut mid-write, a hand-edited file): it sets the file aside, says so once in
    the journal and on the screen until the next calibration, and runs uncalibrated; the other
    commands refuse it in one line.  A configured file the kiosk finds missing is one it has set
    aside, or one the gesture will write."""
    try:
        return find_calibration(config.pelvis.calibration_file), None
    except CalibrationDamaged as error:
        if settings.purpose is not Purpose.RUN:
            raise
        aside = set_aside(error.path)
        where = f"set aside as {aside.name}" if aside else "it cannot be moved aside (a read-only folder)"
        log.error("%s; %s; running uncalibrated until the next calibration", error, where)
        return None, CALIBRATION_LOST_GROUP if settings.mode is Mode.GROUP else CALIBRATION_LOST
    except ConfigError as error:
        if settings.purpose is not Purpose.RUN:
            raise
        log.warning("%s; running uncalibrated", error)
        return None, None


def build_pipeline(config: Config, settings: KioskSettings, model: PoseModel, baseline_deg: float | None,
                   records: RecordWriter | None = None, belt_offset_deg: float | None = None,
                   marker_color: str | None = None) -> Pipeline:
    """The pipeline of the mode; with `records`, every finished walk and exercise set goes to them.
    `baseline_deg`, `belt_offset_deg` and `marker_color` (the marker it found) are a calibration's
    (kiosk.body.calibration.Calibration)."""
    on_walk: WalkSink | None = records.submit if records else None
    reader = PelvisReader(config.pelvis, config.marker, resolve_marker_color(config.marker, marker_color),
                          legs_only=settings.mode is Mode.TREADMILL)
    if settings.mode is Mode.GROUP:
        return GroupPipeline(model, config.pelvis, config.people, baseline_deg=baseline_deg,
                             belt_offset_deg=belt_offset_deg, reader=reader,
                             keep_steps=settings.keep_steps, on_walk=on_walk)
    lock = NearestPersonLock(model, config.people) if settings.lock else None
    e = config.exercise
    coach = ExerciseCoach(e)
    # Calibration stands still: no gesture switches it into anything.
    gesture = calibrate_gesture = None
    if e.gesture_hold_s and settings.purpose is not Purpose.CALIBRATE:
        gesture, calibrate_gesture = hands_up_gesture(e.gesture_hold_s), arms_out_gesture(e.gesture_hold_s)
    # Only the kiosk keeps a calibration made by the gesture; `analyze` puts it in force for the clip alone.
    on_calibration = (functools.partial(_keep_calibration, gesture_calibration_path(config.pelvis.calibration_file),
                                        records) if settings.purpose is Purpose.RUN else None)
    activity = ActivityState(settings.mode is Mode.EXERCISE, gesture, calibrate_gesture)
    return PelvisPipeline(model, config.pelvis, baseline_deg=baseline_deg, keep_steps=settings.keep_steps, lock=lock,
                          on_walk=on_walk, coach=coach, activity=activity, on_calibration=on_calibration,
                          on_set=records.submit_set if records else None, belt_offset_deg=belt_offset_deg,
                          reader=reader)


def _keep_calibration(path: Path, records: RecordWriter | None, calibration: Calibration) -> None:
    """Save a calibration made by the gesture (one small file, once; a failure is one log line), and
    record it with the walks and sets that follow."""
    if records is not None:
        records.recalibrated(calibration.standing_tilt_deg)
    try:
        save_calibration(calibration, path)
        log.info("calibration saved to %s", path)
    except (OSError, ValueError) as error:  # ValueError: a value that is not a finite number
        log.warning("calibration not saved to %s: %s (in force until the kiosk restarts)", path,
                    getattr(error, "strerror", None) or error)


def open_view(config: Config, windowed: bool) -> MirrorView:
    """The screen (pygame is imported only now, when there is something to show)."""
    from kiosk.screen.view import MirrorView

    return MirrorView(config.display, windowed=windowed)


def with_mode(config: Config, mode: Mode | None) -> Config:
    """The config with `people.mode` replaced (the command line's --mode)."""
    if mode is None:
        return config
    return dataclasses.replace(config, people=dataclasses.replace(config.people, mode=Mode(mode)))
