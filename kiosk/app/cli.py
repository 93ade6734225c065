"""The `beltline` command: argument parsing, logging, and the only place that exits.

Expected failures (BeltlineError) become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

# OpenCV and FFmpeg print their own warnings for every camera or clip that fails to open; our
# one-line errors say it better.  Set before cv2 is first imported; the environment can override.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
# A photo larger than this is refused before it is decoded (a 10000×10000 PNG took 708 MB);
# a 48-megapixel phone photo still opens.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS := 50_000_000))

from kiosk import __version__
from kiosk.app.assembly import Kiosk, Purpose, assemble, open_view, with_mode
from kiosk.app.notify import SystemdNotifier
from kiosk.camera.sources import SourcePools
from kiosk.core.errors import BeltlineError, CameraUnavailable, ModelError
from kiosk.core.files import atomic_writer, write_atomically
from kiosk.settings.config import MODES, Config
from kiosk.settings.config_file import load_config, resolve_config_path
from kiosk.settings.locations import calibrate_output_path
from kiosk.settings.model_files import resolve_model_path

if TYPE_CHECKING:
    from kiosk.app.video import ClipVideo

log = logging.getLogger("beltline")

EXIT_OK = 0
EXIT_EXPECTED_FAILURE = 2
EXIT_INTERNAL_ERROR = 1
EXIT_CHECK_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beltline",
        description="A mirror with a virtual ruler through your belt loops: green when your pelvis is level, "
                    "red when it drops.",
    )
    parser.add_argument("--version", action="version", version=f"beltline {__version__}")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="default: info for run (the kiosk's journal), warning otherwise")
    commands = parser.add_subparsers(dest="command", required=True)

    def subcommand(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, epilog=f"example:\n  {EXAMPLES[name]}",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--model", help="MoveNet SinglePose .tflite (else $BELTLINE_MODEL, config, models/)")
        sub.add_argument("--config",
                         help="TOML config (else /etc/beltline/config.toml, ~/.config/beltline/config.toml)")

    def mode(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--mode", choices=MODES, help="single: one ruler on one person; group: a ruler for each "
                         "person; exercise: the leg-lift coach for one person; treadmill: one person walking on a "
                         "treadmill, hips and legs in view (default: config people.mode)")

    run = subcommand("run", "the mirror kiosk")
    run.add_argument("--source",
                     help="picamera, webcam:N, /dev/videoN, a clip or an image (default: config source.default)")
    common(run)
    mode(run)
    run.add_argument("--windowed", action="store_true", help="a window instead of the full screen")
    run.add_argument("--loop", action="store_true", help="loop a clip instead of stopping at its end")
    run.add_argument("--max-frames", type=_positive_int, help="stop after showing this many frames")
    run.add_argument("--snapshot", type=Path, help="save the last shown screen as this PNG on exit")

    analyze = subcommand("analyze", "every frame of a clip or image, no display: CSV and summary")
    analyze.add_argument("input", help="a clip or image")
    common(analyze)
    mode(analyze)
    analyze.add_argument("--csv", type=Path, help="per-frame CSV to write")
    analyze.add_argument("--summary", type=Path, help="summary JSON to write (default: printed)")
    analyze.add_argument("--steps", type=Path, help="per-step CSV to write (a walk toward the camera)")
    analyze.add_argument("--reps", type=Path, help="per-rep CSV to write (exercise mode)")
    analyze.add_argument("--report", type=Path, help="an HTML report of this clip to write: the tilt over time with "
                         "the steps, the per-step table, the thresholds")
    analyze.add_argument("--db", type=Path, help="also record the clip's walks in this records database")
    analyze.add_argument("--video", type=Path, help="an MP4 of the clip with the ruler, the tilt, the verdict and "
                         "the steps drawn as the mirror draws them, one video frame per CSV frame")
    analyze.add_argument("--speed", type=float, default=1.0, help="the video's speed against the clip's (0.5: half "
                         "speed; default 1)")
    analyze.add_argument("--mirror", action="store_true", help="the video mirrored, as the kiosk shows it (default: "
                         "as others see the person)")

    report = subcommand("report", "an HTML report of the recorded walks (one or more kiosks)")
    report.add_argument("--db", type=Path, action="append", help="a records database; repeat to merge several "
                        "kiosks (default: config records.path, else the kiosk's own)")
    report.add_argument("--config", help="TOML config (for where the records are)")
    report.add_argument("--since", help="only walks from this day on (YYYY-MM-DD)")
    report.add_argument("--out", type=Path, default=Path("beltline-report.html"),
                        help="the HTML file to write (default beltline-report.html)")
    report.add_argument("--csv", type=Path, help="also write the walks, one row each, to this CSV")

    calibrate = subcommand("calibrate", "stand still a few seconds: your level becomes the ruler's level")
    calibrate.add_argument("--source", help="the camera (default: config source.default)")
    common(calibrate)
    calibrate.add_argument("--seconds", type=float, default=4.0, help="how long to stand still (default 4)")
    calibrate.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds (default 60)")
    calibrate.add_argument("--output", type=Path, help="where to save it (default: config pelvis.calibration_file, "
                           "else /etc/beltline/calibration.json as root, ~/.config/beltline/calibration.json "
                           "otherwise)")
    calibrate.add_argument("--windowed", action="store_true", help="a window instead of the full screen")
    calibrate.add_argument("--snapshot", type=Path, help="save the last shown screen as this PNG on exit")

    check = subcommand("check", "can this machine run the kiosk? one line per part, OK or FAIL")
    check.add_argument("--source", help="the camera to try (default: config source.default)")
    common(check)
    check.add_argument("--windowed", action="store_true", help="open a window instead of the full screen")

    bench = subcommand("bench", "the real kiosk loop on a clip, measured stage by stage")
    bench.add_argument("input", help="a clip (looped as needed)")
    common(bench)
    mode(bench)
    bench.add_argument("--side-by-side", type=_positive_int, default=1, metavar="N",
                       help="show N copies of the clip next to each other (N times the people; group mode's cost "
                            "per person)")
    bench.add_argument("--frames", type=_positive_int, default=600, help="frames to measure (default 600)")
    bench.add_argument("--json", type=Path, help="write the figures here as JSON")
    bench.add_argument("--sequential", action="store_true", help="capture, inference and drawing one after another")
    bench.add_argument("--decode-in-loop", action="store_true",
                       help="decode the clip while the loop runs (by default a clip up to 1 GB is decoded into "
                            "memory first and handed over frame by frame, as a camera does)")
    bench.add_argument("--records", action="store_true", help="with records off and on in alternating blocks of one "
                       "run, into a scratch database: the frame time of each")
    return parser


EXAMPLES = {
    "run": 'beltline run --source picamera\n  beltline run --windowed --source walk.mp4 --snapshot last.png',
    "analyze": 'beltline analyze walk.mp4 --csv walk.csv --report walk.html',
    "report": 'beltline report --since 2026-11-01 --out november.html',
    "calibrate": 'beltline calibrate --source picamera --seconds 4',
    "check": 'beltline check --source webcam:0',
    "bench": 'SDL_VIDEODRIVER=dummy beltline bench walk.mp4 --frames 600 --json bench.json',
}
"""The example under each subcommand's --help."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = args.log_level or ("info" if args.command == "run" else "warning")
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr,
        force=True,
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
        if args.command == "report":
            return command_report(args)
        return command_analyze(args)
    except BeltlineError as error:
        print(f"beltline: {error}", file=sys.stderr)
        return EXIT_EXPECTED_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as error:
        # A bug still gets one line on stderr; the traceback goes to the debug log.
        log.debug("unexpected failure", exc_info=True)
        print(f"beltline: internal error: {type(error).__name__}: {error} (--log-level debug shows where)",
              file=sys.stderr)
        return EXIT_INTERNAL_ERROR


def _config(args: argparse.Namespace) -> Config:
    return with_mode(load_config(resolve_config_path(args.config)), getattr(args, "mode", None))


def _assemble(args: argparse.Namespace, config: Config, purpose: Purpose, record_to: Path | None = None) -> Kiosk:
    return assemble(config, resolve_model_path(args.model, config.model.path), purpose, record_to=record_to)


def _stop_on_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set: the loops finish the frame at hand, release everything, exit 0."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


UNSEEN_DRIVERS = {"dummy", "offscreen"}
"""SDL video drivers nobody looks at: an error screen is not kept up on them."""


def command_run(args: argparse.Namespace) -> int:
    from kiosk.core.words import MODEL_MISSING, STARTING

    config = _config(args)
    stop = _stop_on_signals()
    notifier = SystemdNotifier()
    spec = args.source or config.source.default
    view = None
    source = None
    kiosk = None
    try:
        view = open_view(config, args.windowed)
        view.show_message(STARTING)
        try:
            kiosk = _assemble(args, config, Purpose.RUN)
        except ModelError:
            # Missing or damaged: say so on the screen (for a while, when somebody can see it), then
            # exit for systemd; `main` prints the error, once, for the journal.
            view.show_message(MODEL_MISSING)
            shown_s = 0.0 if view.driver in UNSEEN_DRIVERS else config.display.error_screen_s
            deadline = time.monotonic() + shown_s
            while time.monotonic() < deadline and not stop.is_set() and not view.quit_requested():
                stop.wait(0.1)
            raise
        pools = SourcePools()  # shared by every reopening of the camera
        try:
            source = kiosk.open_source(spec, pools, loop=args.loop)
        except CameraUnavailable as error:
            # A camera that comes late (USB enumeration, a loose ribbon) is a normal morning: the
            # loop shows the camera screen and opens it with back-off for as long as the service runs.
            log.warning("%s; waiting for the camera", error)
            source = None
        supervision = kiosk.supervision(kiosk.reopener(spec, pools, loop=args.loop), notifier)
        kiosk.run(source, view, max_frames=args.max_frames, stop=stop, supervision=supervision)
        faults = dict(kiosk.pipeline.faults.totals)
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
        if source is not None:
            source.close()
        if kiosk is not None:
            kiosk.close()  # the walks not yet written
        if view is not None:
            view.close()
        notifier.close()
    return EXIT_OK


def command_analyze(args: argparse.Namespace) -> int:
    from kiosk.app.analyze import analyze
    from kiosk.recording.outputs import write_steps_csv

    if args.video is None and (args.speed != 1.0 or args.mirror):
        raise BeltlineError("--speed and --mirror are for --video; add --video OUT.mp4")
    if args.video is not None:
        from kiosk.app.video import check_video_path

        check_video_path(args.video, args.speed)
    kiosk = _assemble(args, _config(args), Purpose.ANALYZE, record_to=args.db)
    try:
        source = kiosk.open_source(args.input)
        try:
            with _open_output(args.csv) as handle, _open_video(args, kiosk, source.fps) as video:
                analysis = analyze(kiosk, source, str(args.input), handle, video)
        finally:
            source.close()
    finally:
        kiosk.close()
    if kiosk.records is not None and (kiosk.records.problem is not None or kiosk.records.lost):
        raise BeltlineError(f"{kiosk.records.lost} walks were not recorded: "
                            f"{kiosk.records.problem or 'the database refused them'}")
    if args.report:
        from kiosk.app.report import walk_report, write_html

        write_html(args.report, walk_report(analysis, Path(args.input).name))
    if args.reps:
        from kiosk.recording.outputs import write_reps_csv

        with _open_output(args.reps) as handle:
            assert handle is not None
            write_reps_csv(handle, analysis.sets)
    if args.steps:
        with _open_output(args.steps) as handle:
            assert handle is not None
            write_steps_csv(handle, analysis.steps, analysis.steps_by_person)
    text = json_text(analysis.summary)
    if args.summary:
        _write_text(args.summary, text + "\n")
    else:
        print(text)
    return EXIT_OK


def command_calibrate(args: argparse.Namespace) -> int:
    from kiosk.body.calibration import save_calibration
    from kiosk.core.words import CALIBRATED
    from kiosk.flow.calibrating import collect_calibration

    config = _config(args)
    output = args.output or calibrate_output_path(config.pelvis.calibration_file, as_root=os.geteuid() == 0)
    stop = _stop_on_signals()
    kiosk = _assemble(args, config, Purpose.CALIBRATE)
    source = kiosk.open_source(args.source or config.source.default)
    view = None
    try:
        view = open_view(config, args.windowed)
        calibration = collect_calibration(source, kiosk.pipeline, view, args.seconds, args.timeout, stop)
        try:
            save_calibration(calibration, output)
        except (OSError, ValueError) as error:
            raise BeltlineError(f"cannot write calibration {output}: {getattr(error, 'strerror', None) or error}") \
                from error
        view.show_message(CALIBRATED)
        stop.wait(min(2.0, config.display.error_screen_s))
        if args.snapshot:
            view.save_snapshot(args.snapshot)
    finally:
        source.close()
        if view is not None:
            view.close()
    belt = ("no clear belt line" if calibration.belt_offset_deg is None
            else f"belt line {calibration.belt_offset_deg:+.2f} deg from the hips")
    belt += f", marker {calibration.marker_color}" if calibration.marker_color else ", no marker"
    print(f"calibrated: standing tilt {calibration.standing_tilt_deg:+.2f} deg, camera roll "
          f"{calibration.camera_roll_deg:+.2f} deg, spread {calibration.spread_deg:.2f} deg over "
          f"{calibration.samples} frames, {belt}; saved to {output}")
    return EXIT_OK


def command_report(args: argparse.Namespace) -> int:
    from kiosk.app.report import load_records, parse_since, records_report, write_html, write_walks_csv
    from kiosk.settings.locations import records_path

    since = parse_since(args.since)
    paths = args.db or [records_path(load_config(resolve_config_path(args.config)).records)]
    records = load_records(paths, since)
    write_html(args.out, records_report(records, since))
    if args.csv:
        with _open_output(args.csv) as handle:
            assert handle is not None
            write_walks_csv(handle, records.walks)
    read = len(records.sources)
    left_out = f" ({len(records.unreadable)} left out: cannot be read)" if records.unreadable else ""
    print(f"{len(records.walks)} walks from {read} database{'s' if read != 1 else ''}{left_out}: {args.out}")
    return EXIT_OK


def command_check(args: argparse.Namespace) -> int:
    from kiosk.app.selfcheck import report, run_checks

    text, all_ok = report(run_checks(args.config, args.model, args.source, args.windowed))
    print(text)
    return EXIT_OK if all_ok else EXIT_CHECK_FAILED


def command_bench(args: argparse.Namespace) -> int:
    import tempfile

    from kiosk.app.bench import BenchInput, SideBySide, bench_input, run_bench, run_records_bench

    scratch = tempfile.TemporaryDirectory(prefix="beltline-bench-") if args.records else None
    record_to = Path(scratch.name) / "records.sqlite" if scratch else None
    kiosk = _assemble(args, _config(args), Purpose.BENCH, record_to=record_to)
    fed = bench_input(kiosk, args.input, args.decode_in_loop)
    if args.side_by_side > 1:
        fed = BenchInput(SideBySide(fed.source, args.side_by_side), f"{fed.name} x{args.side_by_side} side by side",
                         fed.decoded_ahead, fed.decode_ms_per_frame)
    source = fed.source
    view = None
    try:
        view = open_view(kiosk.config, windowed=True)
        if args.records:
            figures = run_records_bench(kiosk, source, view, args.frames, fed.name)
            text = _records_bench_text(figures)
        else:
            report = run_bench(kiosk, fed, view, args.frames, args.sequential)
            figures, text = report.figures, report.as_text()
    finally:
        source.close()
        kiosk.close()
        if view is not None:
            view.close()
        if scratch is not None:
            scratch.cleanup()
    print(text)
    if args.json:
        _write_text(args.json, json_text(figures) + "\n")
    return EXIT_OK


def _records_bench_text(figures: dict[str, Any]) -> str:
    lines = [f"records off and on, {figures['blocks']} alternating blocks on {figures['input']}",
             "records  frames   fps   frame time median / p95 / max ms   capture->flip median / p95 ms"]
    for which in ("off", "on"):
        f = figures[f"records_{which}"]
        t = f["frame_time_ms"]
        lines.append(f"{which:<8} {f['frames_measured']:>6} {f['fps']:>5.1f}   {t['median']:>8.2f} / {t['p95']:.2f} / "
                     f"{t['max']:<8.2f}       {f['latency_ms']['median']:>8.2f} / {f['latency_ms']['p95']:.2f}")
    lines.append(f"walks that finished and were written while recording: {figures['walks_written']} "
                 f"(the longest write {figures['write_ms_max']:.1f} ms, in the records thread)"
                 + (f" (records failed: {figures['records_problem']})" if figures["records_problem"] else ""))
    return "\n".join(lines)


def json_text(value: object) -> str:
    """JSON as the standard has it: a number that is not finite (NaN is not JSON) is written null."""
    def finite(item: object) -> object:
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {key: finite(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [finite(inner) for inner in item]
        return item
    return json.dumps(finite(value), indent=2, allow_nan=False)


@contextlib.contextmanager
def _open_output(path: Path | None) -> Iterator[IO[str] | None]:
    """A CSV the command writes: whole or not at all, readable by its owner only (kiosk.core.files)."""
    if path is None:
        yield None
        return
    try:
        with atomic_writer(path) as handle:
            yield handle
    except OSError as error:
        raise BeltlineError(f"cannot write {path}: {error.strerror or error}") from error


@contextlib.contextmanager
def _open_video(args: argparse.Namespace, kiosk: Kiosk, clip_fps: float) -> Iterator[ClipVideo | None]:
    """`analyze --video`: the MP4 the frames are drawn into, whole or not at all."""
    if args.video is None:
        yield None
        return
    from kiosk.app.video import clip_video

    try:
        with clip_video(args.video, kiosk.config.display, kiosk.settings.mode, clip_fps, args.speed,
                        args.mirror) as video:
            yield video
    except OSError as error:
        raise BeltlineError(f"cannot write {args.video}: {error.strerror or error}") from error


def _write_text(path: Path, text: str) -> None:
    try:
        write_atomically(path, text)
    except OSError as error:
        raise BeltlineError(f"cannot write {path}: {error.strerror or error}") from error


if __name__ == "__main__":
    raise SystemExit(main())
