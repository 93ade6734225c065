"""The `beltline` command: argument parsing, logging, and the only place that exits.

Expected failures (BeltlineError) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# OpenCV and FFmpeg print their own warnings for every camera or clip that fails to open; our
# one-line errors say it better.  Set before cv2 is first imported; the environment can override.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

from kiosk import __version__
from kiosk.calibration import find_calibration
from kiosk.config import MODES, Config, load_config, resolve_config_path
from kiosk.errors import BeltlineError, ModelError
from kiosk.gait import GaitThresholds, walk_summary
from kiosk.group import GroupPipeline, NearestPersonLock
from kiosk.memory import freeze_startup_objects, tame_heap
from kiosk.model_files import resolve_model_path, sha256_of
from kiosk.notify import SystemdNotifier
from kiosk.pipeline import PelvisPipeline, Supervision, analyze_frames, run_mirror
from kiosk.pose import MoveNet
from kiosk.records import CsvRecorder, SummaryTally, write_steps_csv
from kiosk.sources import SideBySide, SourcePools, open_source
from kiosk.types import NoVerdict

log = logging.getLogger("beltline")

EXIT_OK = 0
EXIT_EXPECTED_FAILURE = 2
EXIT_INTERNAL_ERROR = 1
EXIT_CHECK_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beltline",
        description="A mirror with a virtual ruler through your belt loops: green when your pelvis is level, red when it drops.",
    )
    parser.add_argument("--version", action="version", version=f"beltline {__version__}")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="default: info for run (the kiosk's journal), warning otherwise")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--model", help="MoveNet SinglePose .tflite (else $BELTLINE_MODEL, config, models/)")
        sub.add_argument("--config", help="TOML config (else /etc/beltline/config.toml, ~/.config/beltline/config.toml)")

    def mode(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--mode", choices=MODES, help="single: one ruler on one person; group: a ruler for each "
                         "person (default: config people.mode)")

    run = commands.add_parser("run", help="the mirror kiosk")
    run.add_argument("--source", help="picamera, webcam:N, /dev/videoN, a clip or an image (default: config source.default)")
    common(run)
    mode(run)
    run.add_argument("--windowed", action="store_true", help="a window instead of the full screen")
    run.add_argument("--loop", action="store_true", help="loop a clip instead of stopping at its end")
    run.add_argument("--max-frames", type=_positive_int, help="stop after showing this many frames")
    run.add_argument("--snapshot", type=Path, help="save the last shown screen as this PNG on exit")

    analyze = commands.add_parser("analyze", help="every frame of a clip or image, no display: CSV and summary")
    analyze.add_argument("input", help="a clip or image")
    common(analyze)
    mode(analyze)
    analyze.add_argument("--csv", type=Path, help="per-frame CSV to write")
    analyze.add_argument("--summary", type=Path, help="summary JSON to write (default: printed)")
    analyze.add_argument("--steps", type=Path, help="per-step CSV to write (a walk toward the camera)")

    calibrate = commands.add_parser("calibrate", help="stand still a few seconds: your level becomes the ruler's level")
    calibrate.add_argument("--source", help="the camera (default: config source.default)")
    common(calibrate)
    calibrate.add_argument("--seconds", type=float, default=4.0, help="how long to stand still (default 4)")
    calibrate.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds (default 60)")
    calibrate.add_argument("--output", type=Path, help="where to save it (default: config pelvis.calibration_file, "
                           "else /etc/beltline/calibration.json as root, ~/.config/beltline/calibration.json otherwise)")
    calibrate.add_argument("--windowed", action="store_true")
    calibrate.add_argument("--snapshot", type=Path, help="save the last shown screen as this PNG on exit")

    check = commands.add_parser("check", help="can this machine run the kiosk? one line per part, OK or FAIL")
    check.add_argument("--source", help="the camera to try (default: config source.default)")
    common(check)
    check.add_argument("--windowed", action="store_true", help="open a window instead of the full screen")

    bench = commands.add_parser("bench", help="the real kiosk loop on a clip, measured stage by stage")
    bench.add_argument("input", help="a clip (looped as needed)")
    common(bench)
    mode(bench)
    bench.add_argument("--side-by-side", type=_positive_int, default=1, metavar="N",
                       help="show N copies of the clip next to each other (N times the people; group mode's cost per person)")
    bench.add_argument("--frames", type=_positive_int, default=600, help="frames to measure (default 600)")
    bench.add_argument("--json", type=Path, help="write the figures here as JSON")
    bench.add_argument("--sequential", action="store_true", help="capture, inference and drawing one after another")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = args.log_level or ("info" if args.command == "run" else "warning")
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        if args.command == "run":
            return command_run(args)
        if args.command == "bench":
            return command_bench(args)
        if args.command == "check":
            return command_check(args)
        if args.command == "calibrate":
            return command_calibrate(args)
        return command_analyze(args)
    except BeltlineError as error:
        print(f"beltline: {error}", file=sys.stderr)
        return EXIT_EXPECTED_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as error:
        # A bug still gets one line on stderr; the traceback goes to the debug log.
        log.debug("unexpected failure", exc_info=True)
        print(f"beltline: internal error: {type(error).__name__}: {error} (--log-level debug shows where)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


def _load(args: argparse.Namespace) -> tuple[Config, Path]:
    config = _with_mode(load_config(resolve_config_path(args.config)), args)
    return config, resolve_model_path(args.model, config.model.path)


def _with_mode(config: Config, args: argparse.Namespace) -> Config:
    """--mode overrides the config's people.mode."""
    if getattr(args, "mode", None) is None:
        return config
    return dataclasses.replace(config, people=dataclasses.replace(config.people, mode=args.mode))


def _build_pipeline(config: Config, model_path: Path, calibrated: bool = True,
                    keep_steps: bool = False) -> PelvisPipeline | GroupPipeline:
    calibration = find_calibration(config.pelvis.calibration_file) if calibrated else None
    if calibration is not None:
        log.info("calibrated standing tilt %.2f deg (camera roll %.2f deg) from %s", calibration.standing_tilt_deg,
                 calibration.camera_roll_deg, calibration.created)
    model = MoveNet(model_path, config.model.runtime, config.model.threads, config.model.crop_tracking,
                    config.model.mirror_average)
    baseline = calibration.standing_tilt_deg if calibration else None
    if config.people.mode == "group":
        return GroupPipeline(model, config.pelvis, config.people, baseline_deg=baseline, keep_steps=keep_steps)
    return PelvisPipeline(model, config.pelvis, baseline_deg=baseline, keep_steps=keep_steps,
                          lock=NearestPersonLock(model, config.people))


def command_run(args: argparse.Namespace) -> int:
    config = _with_mode(load_config(resolve_config_path(args.config)), args)
    tame_heap()  # before any thread: the kiosk runs for weeks
    spec = args.source or config.source.default
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    notifier = SystemdNotifier()
    pools = SourcePools()  # shared by every reopening of the camera
    source = open_source(spec, config.source, paced=True, repeat_stills=True, loop=args.loop or config.source.loop,
                         pools=pools)
    view = None
    try:
        from kiosk.view import MirrorView  # pygame only when there is something to show

        view = MirrorView(config.display, windowed=args.windowed)
        view.show_message("Starting\u2026")
        pipeline = _start_model_or_explain(args, config, view, stop)
        reopen = functools.partial(open_source, spec, config.source, paced=True, repeat_stills=True,
                                   loop=args.loop or config.source.loop, pools=pools)
        supervision = Supervision(reopen, config.source.stall_timeout_s, notifier)
        freeze_startup_objects()
        run_mirror(source, pipeline, view, max_frames=args.max_frames, stop=stop, supervision=supervision)
        faults = dict(pipeline.faults.totals)
        if faults:
            log.info("faults while running: %s", faults)
        if args.snapshot:
            view.save_snapshot(args.snapshot)
    except BaseException:
        if view is not None and args.snapshot:  # what the person saw when it failed
            with contextlib.suppress(BeltlineError):
                view.save_snapshot(args.snapshot)
        raise
    finally:
        notifier.stopping()
        source.close()
        if view is not None:
            view.close()
        notifier.close()
    return EXIT_OK


def _start_model_or_explain(args: argparse.Namespace, config: Config, view: Any, stop: threading.Event) -> PelvisPipeline:
    """Load the model; when it is missing or damaged, say so on the screen as well as in the journal."""
    try:
        return _build_pipeline(config, resolve_model_path(args.model, config.model.path))
    except ModelError as error:
        log.error("%s", error)
        view.show_message("Beltline cannot start: the pose model is missing or damaged")
        deadline = time.monotonic() + config.display.error_screen_s
        while time.monotonic() < deadline and not stop.is_set() and not view.quit_requested():
            stop.wait(0.1)
        raise


def command_analyze(args: argparse.Namespace) -> int:
    config, model_path = _load(args)
    source = open_source(args.input, config.source, paced=False, repeat_stills=False, loop=False)
    try:
        pipeline = _build_pipeline(config, model_path, keep_steps=True)
        tally = SummaryTally(config.pelvis.tolerance_deg)
        started = time.perf_counter()
        people: dict[str, Any] | None = None
        steps_by_person: dict[int, list] | None = None
        with _open_output(args.csv) as handle:
            recorder = CsvRecorder(handle) if handle else None
            if isinstance(pipeline, GroupPipeline):
                tallies = _analyze_group(source, pipeline, tally, recorder)
                steps_by_person = pipeline.end_walks()
                steps = [step for person_steps in steps_by_person.values() for step in person_steps]
                people = {str(person_id): person_tally.as_dict(walk=walk_summary(steps_by_person.get(person_id, []),
                                                                               config.pelvis.tolerance_deg))
                          for person_id, person_tally in sorted(tallies.items())}
            else:
                for frame, _pose, verdict in analyze_frames(source, pipeline):
                    tally.add(verdict)
                    if recorder:
                        recorder.add(frame, verdict)
                steps = pipeline.end_walk()
        seconds = time.perf_counter() - started
    finally:
        source.close()
    summary = tally.as_dict(
        input=str(args.input),
        hysteresis_deg=config.pelvis.hysteresis_deg,
        calibrated_standing_tilt_deg=pipeline.baseline_deg,
        min_dwell_s=config.pelvis.min_dwell_s,
        tilt_filter=config.pelvis.tilt_filter,
        mirror_average=config.model.mirror_average,
        runtime=pipeline.model.runtime_name,
        threads=pipeline.model.threads,
        model=str(model_path),
        model_sha256=sha256_of(model_path),
        seconds=round(seconds, 3),
        ms_per_frame=round(1000 * seconds / tally.frames, 2) if tally.frames else None,
        walk={**walk_summary(steps, config.pelvis.tolerance_deg),
              "thresholds": dataclasses.asdict(GaitThresholds(drop_deg=config.pelvis.tolerance_deg))},
        mode=config.people.mode,
        **({"people": people} if people is not None else {}),
    )
    if args.steps:
        with _open_output(args.steps) as handle:
            write_steps_csv(handle, steps, steps_by_person)
    text = json.dumps(summary, indent=2)
    if args.summary:
        _write_text(args.summary, text + "\n")
    else:
        print(text)
    return EXIT_OK


def _analyze_group(source: Any, pipeline: GroupPipeline, tally: SummaryTally,
                   recorder: CsvRecorder | None) -> dict[int, SummaryTally]:
    """Group mode's analysis: one CSV row per person per frame (one row saying nobody when
    nobody is there); the overall tally counts a frame as judged when anybody got a verdict.
    A person's own tally counts only frames where the model looked at them."""
    tallies: dict[int, SummaryTally] = {}
    while (frame := source.read()) is not None:
        people = pipeline.step(frame)
        tally.add(pipeline.primary(people))
        for person in people:
            if person.fresh:
                tallies.setdefault(person.person_id, SummaryTally(tally.tolerance_deg)).add(person.verdict)
            if recorder:
                recorder.add(frame, person.verdict, person.person_id)
        if recorder and not people:
            recorder.add(frame, pipeline.primary(people))
        frame.release()
    return tallies


def command_calibrate(args: argparse.Namespace) -> int:
    from kiosk.calibration import DEFAULT_CALIBRATION_PATHS, CalibrationCollector, save_calibration
    from kiosk.view import NO_VERDICT_WORDS, MirrorView

    config, model_path = _load(args)
    if args.output:
        output = args.output
    elif config.pelvis.calibration_file:
        output = Path(config.pelvis.calibration_file).expanduser()
    else:
        output = DEFAULT_CALIBRATION_PATHS[0] if os.geteuid() == 0 else DEFAULT_CALIBRATION_PATHS[1].expanduser()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    spec = args.source or config.source.default
    source = open_source(spec, config.source, paced=True, repeat_stills=True, loop=True)
    view = None
    try:
        view = MirrorView(config.display, windowed=args.windowed)
        pipeline = _build_pipeline(config, model_path, calibrated=False)
        collector = CalibrationCollector(args.seconds)
        progress = 0.0
        deadline = time.monotonic() + args.timeout
        while progress < 1.0 and not stop.is_set() and time.monotonic() < deadline and not view.quit_requested():
            frame = source.read()
            if frame is None:
                break
            pose, verdict = pipeline.step(frame)
            progress = collector.add(verdict.reading, pose if verdict.reading is not None else None, frame.t_s)
            if verdict.reading is None:
                words = NO_VERDICT_WORDS[verdict.reason or NoVerdict.NO_PERSON]
            else:
                words = f"Stand still, facing the mirror  {max(0.0, args.seconds * (1 - progress)):.0f}"
            view.show_calibration(frame, verdict, words, progress)
            frame.release()
        if progress < 1.0:
            raise BeltlineError(f"calibration did not finish: nobody stood still in view for {args.seconds:g} s")
        calibration = collector.result()
        try:
            save_calibration(calibration, output)
        except OSError as error:
            raise BeltlineError(f"cannot write calibration {output}: {error.strerror}") from error
        view.show_message(f"Done \u2014 your level is {calibration.standing_tilt_deg:+.1f}\u00b0")
        stop.wait(min(2.0, config.display.error_screen_s))
        if args.snapshot:
            view.save_snapshot(args.snapshot)
    finally:
        source.close()
        if view is not None:
            view.close()
    print(f"calibrated: standing tilt {calibration.standing_tilt_deg:+.2f} deg, camera roll "
          f"{calibration.camera_roll_deg:+.2f} deg, spread {calibration.spread_deg:.2f} deg over "
          f"{calibration.samples} frames; saved to {output}")
    return EXIT_OK


def command_check(args: argparse.Namespace) -> int:
    from kiosk.selfcheck import report, run_checks

    text, all_ok = report(run_checks(args.config, args.model, args.source, args.windowed))
    print(text)
    return EXIT_OK if all_ok else EXIT_CHECK_FAILED


def command_bench(args: argparse.Namespace) -> int:
    config, model_path = _load(args)
    tame_heap()  # as `run` does, so the figures are the kiosk's
    source = open_source(args.input, config.source, paced=False, repeat_stills=True, loop=True, decoder_threads=1)
    if args.side_by_side > 1:
        source = SideBySide(source, args.side_by_side)
    view = None
    try:
        pipeline = _build_pipeline(config, model_path)
        from kiosk.bench import run_bench
        from kiosk.view import MirrorView

        view = MirrorView(config.display, windowed=True)
        name = Path(args.input).name + (f" x{args.side_by_side} side by side" if args.side_by_side > 1 else "")
        report = run_bench(source, pipeline, view, args.frames, args.sequential, name)
    except ValueError as error:
        raise BeltlineError(str(error)) from error
    finally:
        source.close()
        if view is not None:
            view.close()
    print(report.as_text())
    if args.json:
        _write_text(args.json, json.dumps(report.figures, indent=2) + "\n")
    return EXIT_OK


def _open_output(path: Path | None) -> contextlib.AbstractContextManager:
    if path is None:
        return contextlib.nullcontext()
    try:
        return open(path, "w", newline="", encoding="utf-8")
    except OSError as error:
        raise BeltlineError(f"cannot write {path}: {error.strerror}") from error


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise BeltlineError(f"cannot write {path}: {error.strerror}") from error


if __name__ == "__main__":
    raise SystemExit(main())
