"""The `beltline` command line, run as a child process on the real model and media."""

import csv
import itertools
import json
import os

import pytest

from conftest import run_beltline, shared_file

CSV_MUST_HAVE = ("frame,time_s,person,state,tilt_deg,raw_tilt_deg,left_hip_x,left_hip_y,right_hip_x,right_hip_y,"
                 "hip_score")


def _analyze(tmp_path, model_path, clip):
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "summary.json"
    result = run_beltline("analyze", str(shared_file(clip)), "--model", str(model_path), "--csv", str(out_csv),
                          "--summary", str(out_json))
    assert result.returncode == 0, result.stderr
    assert {oct(path.stat().st_mode & 0o777) for path in (out_csv, out_json)} == {"0o600"}  # about a person's walk
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows, json.loads(out_json.read_text()), out_csv.read_text().splitlines()[0]


def test_analyze_gives_a_verdict_on_the_frontal_walk(tmp_path, model_path):
    rows, summary, header = _analyze(tmp_path, model_path, "frontal_walk_white_bg.mp4")
    assert header.startswith(CSV_MUST_HAVE)
    assert len(rows) == 375 == summary["frames"]
    judged = [r for r in rows if r["state"] != "none"]
    assert len(judged) / len(rows) >= 0.95
    assert summary["frames_with_verdict"] == len(judged)
    assert summary["tolerance_deg"] == 5.0
    assert summary["model_sha256"] == "cd7cc22fa946e5d146a7b98d496853e1923e22828d3972d579973f27f91bb105"
    assert summary["runtime"] in {"ai_edge_litert", "tflite_runtime", "tensorflow"}
    # a person walking normally toward the camera is mostly level
    assert summary["fraction_level"] >= 0.9
    tolerance, band = summary["tolerance_deg"], summary["hysteresis_deg"]
    for before, row in itertools.pairwise(judged):
        size = abs(float(row["tilt_deg"]))
        assert size <= 90
        # the colour changes only beyond the hysteresis band (the CSV rounds to 0.01 degrees)
        if before["state"] == "level" and row["state"] == "tilted":
            assert size > tolerance + band - 0.01
        if before["state"] == "tilted" and row["state"] == "level":
            assert size < tolerance - band + 0.01
    for row in judged:
        # facing the camera: the person's left hip is on the image's right
        assert float(row["left_hip_x"]) > float(row["right_hip_x"])
        assert 0 <= float(row["left_hip_y"]) < 720
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times) and times[1] == pytest.approx(1 / 25, abs=1e-3)


def test_analyze_leaves_numeric_fields_empty_without_a_verdict(tmp_path, model_path):
    rows, summary, _ = _analyze(tmp_path, model_path, "group_three_people_standing.gif")
    # framed from the waist up: MoveNet guesses hips below the edge, which must not become verdicts
    assert summary["frames_with_verdict"] <= 0.05 * summary["frames"]
    none_rows = [r for r in rows if r["state"] == "none"]
    assert none_rows
    for row in none_rows:
        assert row["tilt_deg"] == row["raw_tilt_deg"] == row["left_hip_x"] == row["hip_score"] == ""
        assert row["reason"] in {"no_person", "hips_out_of_frame", "not_facing"}


def test_analyze_refuses_side_views_most_of_the_time(tmp_path, model_path):
    _, summary, _ = _analyze(tmp_path, model_path, "side_walk_limping.mp4")
    assert summary["frames_with_verdict"] <= 0.15 * summary["frames"]
    assert summary["no_verdict_reasons"]["not_facing"] >= 0.8 * summary["frames"]


def test_analyze_of_a_photo_is_one_frame(tmp_path, model_path):
    rows, summary, _ = _analyze(tmp_path, model_path, "tfex_image2.jpeg")
    assert len(rows) == 1 and summary["frames"] == 1
    assert float(rows[0]["raw_tilt_deg"]) < 0


def test_model_from_the_environment_variable(tmp_path, model_path):
    result = run_beltline("analyze", str(shared_file("tfex_image1.png")), env={"BELTLINE_MODEL": str(model_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["frames_with_verdict"] == 1


def _one_line_error(result):
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    ours = [line for line in result.stderr.splitlines() if line.startswith("beltline: ")]
    assert len(ours) == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == ours[0]
    return ours[0]


@pytest.mark.shared
def test_missing_model_is_one_line(tmp_path):
    line = _one_line_error(run_beltline("analyze", str(shared_file("tfex_image1.png")), "--model",
                                        str(tmp_path / "none.tflite")))
    assert "none.tflite" in line and "does not exist" in line


@pytest.mark.shared
def test_corrupt_model_is_one_line(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer at all" * 10)
    line = _one_line_error(run_beltline("analyze", str(shared_file("tfex_image1.png")), "--model", str(bad)))
    assert "bad.tflite" in line and "cannot be loaded" in line


def test_unreadable_clip_is_one_line(tmp_path, model_path):
    clip = tmp_path / "broken.mp4"
    clip.write_text("this is not a video")
    line = _one_line_error(run_beltline("analyze", str(clip), "--model", str(model_path)))
    assert "broken.mp4" in line


def test_missing_clip_is_one_line(tmp_path, model_path):
    line = _one_line_error(run_beltline("analyze", str(tmp_path / "gone.mp4"), "--model", str(model_path)))
    assert "gone.mp4" in line and "does not exist" in line


def test_unknown_config_key_is_one_line(tmp_path, model_path):
    config = tmp_path / "config.toml"
    config.write_text("[pelvis]\ntolerance = 4\n")
    line = _one_line_error(run_beltline("analyze", str(shared_file("tfex_image1.png")), "--model", str(model_path),
                                        "--config", str(config)))
    assert "pelvis.tolerance" in line


@pytest.mark.parametrize(("text", "meant"), [("[pelvis]\ntolerence_deg = 4\n", "'pelvis.tolerance_deg'"),
                                             ("[pelvs]\ntolerance_deg = 4\n", "'pelvis'")])
def test_a_misspelt_config_key_or_section_gets_the_near_one_suggested(tmp_path, text, meant):
    from kiosk.core.errors import ConfigError
    from kiosk.settings.config_file import load_config

    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=f"did you mean {meant}"):
        load_config(config)
    config.write_text("[pelvis]\nwobble = 4\n")
    with pytest.raises(ConfigError) as nothing_near:
        load_config(config)
    assert "did you mean" not in str(nothing_near.value)


@pytest.mark.parametrize(("spec", "meant"), [("webcam0", "webcam:0"), ("cam 1", "webcam:1"),
                                             ("dev/video2", "webcam:2"), ("picamra", "picamera")])
def test_a_camera_name_a_little_off_gets_the_right_one_suggested(spec, meant):
    from kiosk.camera.sources import open_source
    from kiosk.core.errors import SourceError
    from kiosk.settings.config import SourceConfig

    with pytest.raises(SourceError, match=f"did you mean '{meant}'"):
        open_source(spec, SourceConfig(), paced=False, repeat_stills=False, loop=False)


@pytest.mark.shared
def test_no_command_prints_the_runtimes_info_line_unless_debugging(model_path):
    photo = str(shared_file("tfex_image1.png"))
    quiet = run_beltline("analyze", photo, "--model", str(model_path))
    assert quiet.returncode == 0 and "XNNPACK" not in quiet.stderr and "INFO:" not in quiet.stderr
    debug = run_beltline("--log-level", "debug", "analyze", photo, "--model", str(model_path))
    assert debug.returncode == 0 and "XNNPACK" in debug.stderr  # the line is the runtime's: only hidden


@pytest.mark.shared
def test_run_with_no_model_says_so_once(tmp_path):
    result = run_beltline("run", "--source", str(shared_file("frontal_walk_white_bg.mp4")), "--model",
                          str(tmp_path / "none.tflite"))
    assert result.returncode == 2
    assert result.stderr.count("none.tflite does not exist") == 1, result.stderr


def test_every_subcommand_shows_an_example_in_its_help():
    from kiosk.app.cli import EXAMPLES, build_parser

    parser = build_parser()
    subcommands = next(action for action in parser._actions if action.dest == "command").choices
    assert set(subcommands) == set(EXAMPLES)
    for name, sub in subcommands.items():
        text = sub.format_help()
        assert "example:" in text and f"beltline {name}" in text
        assert all(action.help for action in sub._actions), f"{name} has an option without help"


def test_a_missing_camera_is_waited_for_not_given_up_on(tmp_path, model_path):
    # A camera that is not there at start may come (USB enumeration, a loose ribbon): `run` shows the
    # camera screen and keeps retrying until it is stopped, and a stop is a clean exit.
    import signal
    import subprocess
    import sys
    import time

    snapshot = tmp_path / "waiting.png"
    child = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run", "--source", "webcam:57", "--model", str(model_path), "--windowed",
         "--snapshot", str(snapshot)],
        env={**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(12)
    assert child.poll() is None, f"run gave up on the camera: {child.communicate()[1]}"
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    assert "webcam:57" in stderr and "waiting for the camera" in stderr
    assert "Traceback" not in stderr
    assert snapshot.exists()


def test_analyze_on_a_missing_camera_fails_at_once(model_path):
    line = _one_line_error(run_beltline("analyze", "webcam:57", "--model", str(model_path)))
    assert "webcam:57" in line


def test_pi_camera_without_picamera2_is_one_line(model_path):
    line = _one_line_error(run_beltline("run", "--source", "picamera", "--model", str(model_path), "--windowed"))
    assert "picamera2" in line


def test_python_dash_m_and_version():
    result = run_beltline("--version")
    assert result.returncode == 0 and result.stdout.startswith("beltline ")


def test_bench_reports_every_stage(tmp_path, model_path):
    out = tmp_path / "bench.json"
    result = run_beltline("bench", str(shared_file("frontal_walk_two_people.gif")), "--model", str(model_path),
                          "--frames", "60", "--json", str(out))
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["mode"] == "pipelined"
    assert figures["frames_measured"] == 60
    assert figures["fps"] > 0 and figures["model_bound_fps"] > 0
    assert figures["decoded_ahead"] and figures["decode_ms_per_frame"] > 0  # a clip plays from memory
    # the lock's search now and then is model work too: its looks raise the bar the loop is judged by
    assert figures["looks_per_frame"] >= 1
    assert figures["model_bound_for_its_work_fps"] == pytest.approx(
        figures["model_bound_fps"] / figures["looks_per_frame"], rel=0.01)
    for stage in ("capture", "preprocess", "invoke", "invoke_wait", "postprocess", "judge", "render", "flip",
                  "latency", "interval"):
        assert figures["stages_ms"][stage]["median"] >= 0
        assert figures["stages_ms"][stage]["p95"] >= figures["stages_ms"][stage]["median"]
    for stage in ("preprocess", "invoke", "judge", "render"):  # each stage also run bare, one thread alone
        assert figures["stages_bare_ms"][stage]["median"] > 0
        assert figures["stage_in_loop_vs_bare"][stage] == pytest.approx(
            figures["stages_ms"][stage]["median"] / figures["stages_bare_ms"][stage]["median"], abs=0.002)
    assert figures["runtime"] in {"ai_edge_litert", "tflite_runtime", "tensorflow"}
    assert figures["rss_mb_end"] > 0 and figures["cpu_percent"] > 0
    assert "fps" in result.stdout and "capture->flip" in result.stdout


def test_bench_with_records_off_and_on_in_one_run(tmp_path, model_path):
    out = tmp_path / "bench.json"
    result = run_beltline("bench", str(shared_file("frontal_walk_outdoor_cane.mp4")), "--model", str(model_path),
                          "--records", "--frames", "360", "--json", str(out))
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    for which in ("records_off", "records_on"):
        assert figures[which]["frames_measured"] == 180  # three blocks of 60 each
        assert figures[which]["frame_time_ms"]["p95"] >= figures[which]["frame_time_ms"]["median"] > 0
    # The looped walker never leaves for long enough to finish a walk here; the writer ran, and failed at nothing.
    assert figures["walks_written"] == 0 and figures["records_problem"] is None
    assert "frame time" in result.stdout and "walks that finished" in result.stdout


def test_bench_sequential(tmp_path, model_path):
    out = tmp_path / "bench.json"
    result = run_beltline("bench", str(shared_file("frontal_walk_two_people.gif")), "--model", str(model_path),
                          "--frames", "40", "--sequential", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["mode"] == "sequential"


@pytest.mark.shared
@pytest.mark.parametrize("half", ["look", "judge"])
def test_a_bug_in_a_worker_thread_exits_1_with_one_line_and_the_traceback_only_in_debug(monkeypatch, capsys,
                                                                                         model_path, half):
    """An expected fault exits 2; a bug (here: the per-frame work raising in the inference thread,
    or in the screen thread's half) exits 1."""
    from kiosk.app import cli
    from kiosk.flow.pipeline import PelvisPipeline

    def broken(self, captured):
        raise KeyError("a bug")

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setattr(PelvisPipeline, half, broken)
    clip = str(shared_file("frontal_walk_white_bg.mp4"))
    assert cli.main(["bench", clip, "--frames", "5", "--model", str(model_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["beltline: internal error: KeyError: 'a bug' (--log-level debug shows where)"]
    assert cli.main(["--log-level", "debug", "bench", clip, "--frames", "5", "--model", str(model_path)]) == 1
    debug = capsys.readouterr().err
    assert "Traceback" in debug and "in broken" in debug


def test_json_has_no_nan():
    from kiosk.app.cli import json_text

    text = json_text({"tilt_deg": float("nan"), "peaks": [1.5, float("inf")], "nested": {"x": -float("inf")}})
    assert json.loads(text) == {"tilt_deg": None, "peaks": [1.5, None], "nested": {"x": None}}
    assert "NaN" not in text and "Infinity" not in text


def test_a_folder_given_as_the_model_or_the_clip_is_called_a_folder(tmp_path, model_path):
    line = _one_line_error(run_beltline("analyze", str(shared_file("tfex_image1.png")), "--model", str(tmp_path)))
    assert str(tmp_path) in line and "is a folder, not a file" in line
    line = _one_line_error(run_beltline("analyze", str(tmp_path), "--model", str(model_path)))
    assert "is a folder, not a file" in line


def test_a_clip_that_cannot_be_read_says_why(model_path):
    # As root every file is readable: read as an unprivileged user, for whom this clip is not.
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="beltline-perm-"))
    try:
        os.chmod(folder, 0o755)
        clip = folder / "walk.mp4"
        shutil.copy(shared_file("frontal_walk_white_bg.mp4"), clip)
        model = folder / "model.tflite"
        shutil.copy(model_path, model)
        os.chmod(model, 0o644)
        os.chmod(clip, 0o600 if os.geteuid() == 0 else 0o000)
        command = [sys.executable, "-m", "kiosk", "analyze", str(clip), "--model", str(model)]
        if os.geteuid() == 0:
            command = [shutil.which("setpriv"), "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                                env={**os.environ, "MPLCONFIGDIR": str(folder), "HOME": str(folder)}, cwd=folder)
    finally:
        shutil.rmtree(folder)
    line = _one_line_error(result)
    assert "walk.mp4 cannot be read: permission denied" in line


def _odd_images(folder):
    import cv2
    import numpy as np

    rng = np.random.default_rng(28)
    made = {}
    for name, image in (("one_pixel.png", np.zeros((1, 1, 3), np.uint8)),
                        ("a_line.png", rng.integers(0, 255, (1, 5000, 3), dtype=np.uint8)),
                        ("tall.png", rng.integers(0, 255, (6000, 3, 3), dtype=np.uint8)),
                        ("grey.png", rng.integers(0, 255, (300, 200), dtype=np.uint8)),
                        ("sixteen_bit.png", rng.integers(0, 65535, (300, 200, 3), dtype=np.uint16)),
                        ("with_alpha.png", rng.integers(0, 255, (300, 200, 4), dtype=np.uint8)),
                        ("huge.png", np.zeros((10000, 10000, 3), np.uint8))):
        cv2.imwrite(str(folder / name), image)
        made[name] = True
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.jpg").write_text("not a picture")
    photo = shared_file("tfex_image2.jpeg").read_bytes()
    (folder / "truncated.jpeg").write_bytes(photo[: len(photo) // 3])
    return sorted(p.name for p in folder.iterdir())


def test_odd_images_give_a_verdict_or_one_line(tmp_path, model_path):
    for name in _odd_images(tmp_path):
        result = run_beltline("analyze", str(tmp_path / name), "--model", str(model_path))
        assert result.returncode in (0, 2), (name, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (name, result.stderr)
        if result.returncode == 2:
            assert result.stderr.strip().splitlines()[-1].startswith(f"beltline: image {tmp_path / name}"), name
        else:
            assert json.loads(result.stdout)["frames"] == 1, name
    huge = run_beltline("analyze", str(tmp_path / "huge.png"), "--model", str(model_path))
    assert "larger than 50 megapixels" in huge.stderr


def test_check_names_the_fix_for_the_camera_auto_picks_here(monkeypatch):
    from kiosk.app import selfcheck
    from kiosk.camera import sources

    monkeypatch.setattr(sources, "picamera2_available", lambda: False)  # a PC with a webcam
    assert "ls /dev/video" in selfcheck._camera_fix("auto") and "ribbon" not in selfcheck._camera_fix("auto")
    monkeypatch.setattr(sources, "picamera2_available", lambda: True)  # a Pi
    assert "ribbon" in selfcheck._camera_fix("auto")


def test_treadmill_mode_judges_a_legs_only_walker_counts_the_steps_and_never_says_step_back(tmp_path, model_path):
    """treadmill_legs_frontal.mp4: a low camera facing a treadmill, the waist at the top edge.  By
    eye (a contact sheet of every third frame's feet, in the closing note of #30) the lead foot
    changes every 15 frames or so, from frame 15 to 351: 23 changes, 24 steps with the two partial
    ones at the ends."""
    out_csv, steps_csv = tmp_path / "tm.csv", tmp_path / "steps.csv"
    clip = str(shared_file("treadmill_legs_frontal.mp4"))
    single = run_beltline("analyze", clip, "--model", str(model_path))
    assert single.returncode == 0, single.stderr
    assert json.loads(single.stdout)["frames_with_verdict"] == 0  # single mode: "step back", all along
    result = run_beltline("analyze", clip, "--model", str(model_path), "--mode", "treadmill", "--csv", str(out_csv),
                          "--steps", str(steps_csv))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["mode"] == "treadmill"
    # 339 of 361 here: the rest are hips the model lost at the picture's very edge (refused)
    assert summary["frames_with_verdict"] >= 0.9 * summary["frames"]
    assert summary["max_abs_tilt_deg"] <= 20
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert not [r for r in rows if r["reason"] == "hips_out_of_frame"]
    assert 23 <= summary["walk"]["steps"] <= 25  # 24 by eye
    with open(steps_csv, newline="") as handle:
        steps = list(csv.DictReader(handle))
    sides = [s["stance_side"] for s in steps]
    assert all(a != b for a, b in itertools.pairwise(sides))  # the legs alternate
    assert {s["trunk_lean_deg"] for s in steps} == {"0.0"}  # no shoulders in view: no lean read
