"""`beltline run` on real photos and clips with SDL's dummy driver: look at what the screen shows.

The screen is checked against the person's hips found independently by the model, mirrored as
a mirror would: the ruler must be drawn in the state's colour there, and nowhere unmirrored.
"""

import cv2
import numpy as np

from kiosk.core.types import Frame, Keypoint
from kiosk.screen.draw import LEVEL_GREEN, TILTED_RED

from conftest import run_beltline, shared_file

SCREEN_W, SCREEN_H = 1280, 720


def _composite(tmp_path, photo: str, left_px: int = 60) -> tuple[str, np.ndarray]:
    """A real photo placed off-centre in a 1280x720 frame, so mirroring visibly moves the person."""
    image = cv2.imread(str(shared_file(photo)))
    canvas = np.full((SCREEN_H, SCREEN_W, 3), 30, dtype=np.uint8)
    top = (SCREEN_H - image.shape[0]) // 2
    canvas[top : top + image.shape[0], left_px : left_px + image.shape[1]] = image
    path = tmp_path / f"composite_{photo}.png"
    cv2.imwrite(str(path), canvas)
    return str(path), cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)


def _snapshot(tmp_path, model_path, source: str, *extra: str, frames: int = 12) -> np.ndarray:
    shot = tmp_path / "shot.png"
    result = run_beltline("run", "--source", source, "--model", str(model_path), "--windowed",
                          "--max-frames", str(frames), "--snapshot", str(shot), *extra)
    assert result.returncode == 0, result.stderr
    assert shot.is_file()
    image = cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2RGB)
    assert image.shape == (SCREEN_H, SCREEN_W, 3)
    return image


def _count(image: np.ndarray, colour, x0, x1, y0, y1) -> int:
    box = image[max(0, int(y0)) : int(y1), max(0, int(x0)) : int(x1)]
    return int(np.all(box == np.array(colour, dtype=np.uint8), axis=-1).sum())


def _torso_band(movenet, frame_rgb):
    movenet.forget_person()
    pose = movenet.estimate(Frame(frame_rgb, 0, 0.0))
    hip_mid = (pose.xy(Keypoint.LEFT_HIP) + pose.xy(Keypoint.RIGHT_HIP)) / 2
    shoulder_y = (pose.xy(Keypoint.LEFT_SHOULDER)[1] + pose.xy(Keypoint.RIGHT_SHOULDER)[1]) / 2
    return float(hip_mid[0]), float(shoulder_y), float(hip_mid[1])


def test_level_ruler_is_green_at_the_mirrored_hips(tmp_path, model_path, movenet):
    source, frame = _composite(tmp_path, "tfex_image1.png")
    hip_x, shoulder_y, hip_y = _torso_band(movenet, frame)
    screen = _snapshot(tmp_path, model_path, source)
    mirrored_x = SCREEN_W - hip_x
    assert _count(screen, LEVEL_GREEN, mirrored_x - 60, mirrored_x + 60, shoulder_y, hip_y + 10) > 300
    assert _count(screen, TILTED_RED, 0, SCREEN_W, 0, SCREEN_H) == 0
    # nothing drawn at the unmirrored position: the screen is a mirror
    assert _count(screen, LEVEL_GREEN, hip_x - 60, hip_x + 60, shoulder_y, hip_y + 10) == 0


def test_tilted_ruler_is_red(tmp_path, model_path, movenet):
    source, frame = _composite(tmp_path, "tfex_image2.jpeg")
    hip_x, shoulder_y, hip_y = _torso_band(movenet, frame)
    config = tmp_path / "strict.toml"
    config.write_text("[pelvis]\ntolerance_deg = 1.0\nhysteresis_deg = 0.5\n")  # image2's pelvis reads about -4°
    screen = _snapshot(tmp_path, model_path, source, "--config", str(config))
    mirrored_x = SCREEN_W - hip_x
    assert _count(screen, TILTED_RED, mirrored_x - 60, mirrored_x + 60, shoulder_y, hip_y + 10) > 300
    assert _count(screen, LEVEL_GREEN, 0, SCREEN_W, 0, SCREEN_H) == 0


def test_rotated_screen_turns_the_picture(tmp_path, model_path, movenet):
    source, frame = _composite(tmp_path, "tfex_image1.png")
    hip_x, shoulder_y, hip_y = _torso_band(movenet, frame)
    config = tmp_path / "upside.toml"
    config.write_text("[display]\nrotation = 180\n")
    screen = _snapshot(tmp_path, model_path, source, "--config", str(config))
    # mirrored, then turned half a turn: the ruler lands at the point reflection of the mirrored hips
    x = SCREEN_W - (SCREEN_W - hip_x)
    assert _count(screen, LEVEL_GREEN, x - 60, x + 60, SCREEN_H - hip_y - 10, SCREEN_H - shoulder_y) > 300


def test_empty_room_shows_no_ruler(tmp_path, model_path):
    screen = _snapshot(tmp_path, model_path, str(shared_file("back_view_people_one_by_one.mp4")), frames=3)
    assert _count(screen, LEVEL_GREEN, 0, SCREEN_W, 0, SCREEN_H) < 5
    assert _count(screen, TILTED_RED, 0, SCREEN_W, 0, SCREEN_H) < 5
    # the instruction is written in white across the middle of the screen
    middle = screen[SCREEN_H // 2 - 40 : SCREEN_H // 2 + 40]
    assert np.all(middle >= 245, axis=-1).sum() > 1000


def test_walking_clip_shows_a_ruler(tmp_path, model_path):
    screen = _snapshot(tmp_path, model_path, str(shared_file("frontal_walk_white_bg.mp4")), frames=40)
    drawn = _count(screen, LEVEL_GREEN, 0, SCREEN_W, 0, SCREEN_H) + _count(screen, TILTED_RED, 0, SCREEN_W, 0, SCREEN_H)
    assert drawn > 1000


def test_no_display_is_one_line(tmp_path, model_path):
    result = run_beltline("run", "--source", str(shared_file("tfex_image1.png")), "--model", str(model_path),
                          env={"SDL_VIDEODRIVER": "no-such-driver"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("beltline: no display")


def test_a_damaged_calibration_is_set_aside_and_the_screen_says_so(tmp_path, model_path):
    from kiosk.screen.draw import NOTICE_EDGE

    calibration = tmp_path / "calibration.json"
    calibration.write_text('{"standing_tilt_deg": NaN, "camera_roll_deg": 0.0, "samples": 60, "spread_deg": 0.2, '
                           '"created": "2026-12-05T03:00:00+0000"}')
    config = tmp_path / "config.toml"
    config.write_text(f'[pelvis]\ncalibration_file = "{calibration}"\n[records]\nenabled = false\n')
    source, _ = _composite(tmp_path, "tfex_image1.png")
    screen = _snapshot(tmp_path, model_path, source, "--config", str(config))
    # the amber-edged notice, top left; the ruler still shows, uncalibrated
    assert _count(screen, NOTICE_EDGE, 0, SCREEN_W // 2, 0, SCREEN_H // 6) > 200
    assert _count(screen, LEVEL_GREEN, 0, SCREEN_W, 0, SCREEN_H) > 300
    assert not calibration.exists() and len(list(tmp_path.glob("calibration.json.damaged-*"))) == 1
    cv2.imwrite(str(tmp_path / "notice.png"), cv2.cvtColor(screen, cv2.COLOR_RGB2BGR))
