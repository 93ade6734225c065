"""`beltline check`: every part OK on a good set-up, and each broken part named with its fix."""

from pathlib import Path

from conftest import run_beltline, shared_file


def _clip() -> str:
    """A real clip as the source (the tests that use it are marked shared by their model_path)."""
    return str(shared_file("frontal_walk_white_bg.mp4"))


def _still(tmp_path: Path) -> str:
    """A picture made here, as a source for the tests that do not look at the camera's line."""
    import cv2
    import numpy as np

    path = tmp_path / "still.png"
    cv2.imwrite(str(path), np.full((48, 64, 3), 128, np.uint8))
    return str(path)


def _lines(result):
    return {line.split(":")[0].split()[-1]: line for line in result.stdout.splitlines() if line[:4] in ("OK  ", "FAIL")}


def test_all_parts_ok(model_path):
    result = run_beltline("check", "--source", _clip(), "--model", str(model_path), "--windowed")
    lines = _lines(result)
    assert result.returncode == 0, result.stdout
    assert set(lines) == {"config", "model", "runtime", "camera", "display", "records"}
    assert all(line.startswith("OK") for line in lines.values())
    assert "sha256 matches movenet-lightning-int8" in lines["model"]
    assert "594x720" in lines["camera"]


def test_bad_config_is_named(tmp_path, model_path):
    config = tmp_path / "config.toml"
    config.write_text("[display]\nrotation = 45\n")
    result = run_beltline("check", "--config", str(config), "--source", _clip(), "--model", str(model_path),
                          "--windowed")
    assert result.returncode == 1
    line = _lines(result)["config"]
    assert line.startswith("FAIL") and "display.rotation" in line and "fix:" in line
    assert _lines(result)["camera"].startswith("OK")  # the other parts are still checked


def test_missing_model(tmp_path):
    result = run_beltline("check", "--source", _still(tmp_path), "--model", str(tmp_path / "gone.tflite"), "--windowed")
    assert result.returncode == 1
    assert _lines(result)["model"].startswith("FAIL") and "fetch-models" in _lines(result)["model"]
    assert _lines(result)["runtime"].startswith("FAIL")


def test_damaged_model(tmp_path, model_path):
    damaged = tmp_path / "model.tflite"
    data = bytearray(model_path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the weights
    damaged.write_bytes(bytes(data))
    result = run_beltline("check", "--source", _clip(), "--model", str(damaged), "--windowed")
    assert result.returncode == 1
    line = _lines(result)["model"]
    assert line.startswith("FAIL") and "no manifest lists" in line and "fetch-models" in line


def test_missing_camera(model_path):
    result = run_beltline("check", "--source", "webcam:57", "--model", str(model_path), "--windowed")
    assert result.returncode == 1
    line = _lines(result)["camera"]
    assert line.startswith("FAIL") and "webcam:57" in line and "/dev/video" in line


def test_no_display(model_path):
    result = run_beltline("check", "--source", _clip(), "--model", str(model_path), "--windowed",
                          env={"SDL_VIDEODRIVER": "no-such-driver"})
    assert result.returncode == 1
    line = _lines(result)["display"]
    assert line.startswith("FAIL") and "fix:" in line
    assert "Traceback" not in result.stderr


def test_the_display_line_names_the_sdl_drivers_and_a_pygame_without_kmsdrm(tmp_path):
    from kiosk.screen.view import sdl_video_drivers

    # In a process that has imported pygame: the SDL it loaded is found and asked.
    drivers = sdl_video_drivers()
    assert "dummy" in drivers and "offscreen" in drivers
    result = run_beltline("check", "--source", _still(tmp_path), "--model", "/nonexistent.tflite",
                          env={"SDL_VIDEODRIVER": "kmsdrm"})
    line = _lines(result)["display"]
    assert f"SDL offers {', '.join(drivers)}" in line
    if "kmsdrm" not in map(str.lower, drivers):  # pip's wheel: the console kiosk needs apt's pygame
        assert line.startswith("FAIL") and "python3-pygame" in line


def test_records_say_where_they_go_and_a_corrupt_file_is_named_with_its_fix(tmp_path, model_path):
    db = tmp_path / "state" / "records.sqlite"
    config = tmp_path / "config.toml"
    config.write_text(f'[records]\npath = "{db}"\n')
    args = ("check", "--config", str(config), "--source", _clip(), "--model", str(model_path), "--windowed")
    line = _lines(run_beltline(*args))["records"]
    assert line.startswith("OK") and f"{db} is created at the first walk" in line
    assert not db.exists()  # check creates nothing
    db.parent.mkdir()
    db.write_bytes(b"not a database" * 100)
    result = run_beltline(*args)
    line = _lines(result)["records"]
    assert result.returncode == 1
    assert line.startswith("FAIL") and "corrupt" in line and f"mv {db} {db}.bad" in line


def test_the_genuine_model_is_known_outside_the_checkout(tmp_path, model_path):
    # A model file with no manifest beside it, checked from a folder that is not the checkout: the
    # manifest installed with the package still knows its sha256.
    import os
    import shutil
    import subprocess
    import sys

    from kiosk.settings.model_files import PACKAGED_MANIFEST

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = shutil.copy(model_path, elsewhere / "movenet.tflite")
    result = subprocess.run([sys.executable, "-m", "kiosk", "check", "--source", _clip(), "--model", str(copy),
                             "--windowed"], capture_output=True, text=True, timeout=300, cwd=elsewhere, check=False,
                            env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    line = _lines(result)["model"]
    assert line.startswith("OK") and "sha256 matches movenet-lightning-int8" in line
    assert PACKAGED_MANIFEST.read_text() == (Path(__file__).resolve().parents[2] / "models/manifest.toml").read_text()
